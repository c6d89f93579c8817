import pytest

from enrichers.pii import classify_number, is_resident_id, mask_pii


@pytest.mark.parametrize(
    "text, masked, kinds",
    [
        ("我的电话是13812345678，请回电", "我的电话是[PHONE]，请回电", ["mobile"]),
        ("电话 138 1234 5678 或 138-1234-5678", "电话 [PHONE] 或 [PHONE]", ["mobile"]),
        ("+86 138 1234 5678", "[PHONE]", ["mobile"]),
        ("8613812345678", "[PHONE]", ["mobile"]),
        ("座机0579-85123456", "座机[PHONE]", ["landline"]),
        ("(0579)85123456", "[PHONE]", ["landline"]),
        ("tel 0579 8512 3456", "tel [PHONE]", ["landline"]),
        ("身份证11010519491231002X", "身份证[ID]", ["id_number"]),
        ("身份证号 11010519491231002x。", "身份证号 [ID]。", ["id_number"]),
        ("身份证 110105 19491231 002X", "身份证 [ID]", ["id_number"]),
        ("旧身份证110105491231002", "旧身份证[ID]", ["id_number"]),
        ("卡号6222 0212 3456 7890 128", "卡号[BANKCARD]", ["bank_card"]),
        ("card 4111-1111-1111-1111", "card [BANKCARD]", ["bank_card"]),
        ("邮箱 wang.li+x@163.com 谢谢", "邮箱 [EMAIL] 谢谢", ["email"]),
        ("车牌浙G12345被刮", "车牌[PLATE]被刮", ["licence_plate"]),
        ("新能源车浙GD12345", "新能源车[PLATE]", ["licence_plate"]),
        ("浙G·A1234挡住消防通道", "[PLATE]挡住消防通道", ["licence_plate"]),
        ("13812345678 2024年反映过", "[PHONE] 2024年反映过", ["mobile"]),
        # Glued to letters or "_", split by dots or slashes, with +86 / 0086 in front.
        ("tel13842345678", "tel[PHONE]", ["mobile"]),
        ("user_13842345678_home", "user_[PHONE]_home", ["mobile"]),
        ("A13812345678", "A[PHONE]", ["mobile"]),
        ("手机138.4234.5678或138/4234/5678", "手机[PHONE]或[PHONE]", ["mobile"]),
        ("0086 138 4234 5678，(+86)138-4234-5678", "[PHONE]，[PHONE]", ["mobile"]),
        ("+86 - 138 - 4234 - 5678", "[PHONE]", ["mobile"]),
        # A local number only after a word that says it is one.
        ("电话85212345", "电话[PHONE]", ["landline"]),
        ("座机：8521-2345，联系电话是 852 1234", "座机：[PHONE]，联系电话是 [PHONE]", ["landline"]),
        ("浙G 12345、浙g12345、浙 G·d12345、浙G12345F", "[PLATE]、[PLATE]、[PLATE]、[PLATE]", ["licence_plate"]),
        ("邮箱是王小明@163.com谢谢", "邮箱是[EMAIL]谢谢", ["email"]),
        ("发到wangli(at)163.com或li [at] qq.com", "发到[EMAIL]或[EMAIL]", ["email"]),
        ("email: li.ming at gmail dot com", "email: [EMAIL]", ["email"]),
        ("邮箱 wang @ 163.com 或 用户@例子.中国", "邮箱 [EMAIL] 或 [EMAIL]", ["email"]),
        ("QQ:123456789，qq号 12345", "QQ:[QQ]，qq号 [QQ]", ["qq"]),
        ("微信：wxid_abc123，VX li-ming88，微信wangxiaoming", "微信：[WECHAT]，VX [WECHAT]，微信[WECHAT]", ["wechat"]),
        ("WeChat ID: lucy2023", "WeChat ID: [WECHAT]", ["wechat"]),
        # After 身份证 a typo in the check digit or the date is still an ID.
        ("身份证110105194912310021", "身份证[ID]", ["id_number"]),
        ("身份证号：110105 19491231 0021", "身份证号：[ID]", ["id_number"]),
        ("身份证号码330782199913450011", "身份证号码[ID]", ["id_number"]),
        ("老身份证号330782991345001", "老身份证号[ID]", ["id_number"]),
    ],
)
def test_masks(text, masked, kinds):
    assert mask_pii(text) == (masked, kinds)


@pytest.mark.parametrize(
    "text",
    [
        "110105194912310021无效",  # wrong check digit, and no 身份证 before it
        "110105194913310028",  # month 13
        "110105209912310025",  # born in the future
        "订单号202405011234567890123",  # a long run: no number is taken out of it
        "工单号 1381234567812",  # 13 digits that only start like a mobile
        "A1381234567890",  # inside a code
        "订单号3989877226430460，编号0812027799",  # references, even when shaped like a card or a landline
        "联系时间20190512，联系了12345678元，拨打12345热线",  # a date, an amount, a hotline
        "I contacted them on WeChat yesterday and by QQ twice",
        "沪 Sunday market, 京A级景区",
        "2024.05.01 10:00 至 2024/05/03，金额1,380.42元",
        "2024-05-01 10:00 报修",  # dates and times
        "0579-12345",  # too short for a landline
        "卡号 6222 0212 3456 7890 123",  # fails Luhn
        "12345热线、110、120",  # public service numbers
        "温度<5度，共3层楼，门牌号12-3",
    ],
)
def test_leaves_what_is_not_personal_data(text):
    assert mask_pii(text) == (text, [])


def test_reporter_contact_is_masked_wherever_it_appears():
    text, kinds = mask_pii("联系人王小明，备注 wxm_1990", ("王小明", "wxm_1990"))
    assert text == "联系人[CONTACT]，备注 [CONTACT]" and kinds == ["contact"]
    # Where a kind of its own covers the same words, that kind's mask is used.
    assert mask_pii("微信 wxm_1990", ("wxm_1990",)) == ("微信 [WECHAT]", ["wechat"])


def test_several_kinds_report_each_once():
    text, kinds = mask_pii("13812345678、13912345678、a@b.cn")
    assert kinds == ["email", "mobile"] and text.count("[PHONE]") == 2


def test_id_checks():
    assert is_resident_id("11010519491231002X")
    assert not is_resident_id("11010519491231002")
    assert classify_number("13812345678") == "mobile"
    assert classify_number("12345") is None
