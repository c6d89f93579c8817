"""Personal-data masking: recall on written variants of each kind, changes to real messages.

    python -m benchmarks.pii_quality [--per-kind 300] [--seed 7] [--real 2000]

Recall: for each kind, ``--per-kind`` variants written by code (fixed seed) the way people write them
in complaints (glued to letters, split by dots or slashes, lower-case plates, "(at)" e-mail, ids after
QQ/微信, IDs with a typo in the check digit…), each inside a realistic Chinese sentence that also holds
a date, an amount or an order number. A variant counts as masked when no 5-character piece of it is
left in the masked text (target >= 99 %). The same sentences must keep their date/amount/order number.

False positives: ``--real`` messages drawn (fixed seed) from ../shared/data/teddy2020/board_messages.csv
(their personal data was already starred out by the publisher, so almost every change is a false
positive). Reported: how many messages changed, by kind, examples to read, and how many dates, amounts
and order/work-order numbers in them survive masking.
"""

from __future__ import annotations

import argparse
import random
import re
from collections import Counter
from collections.abc import Callable

from benchmarks.common import print_table, read_csv, write_json
from enrichers.pii import _ID_CHECK, _ID_WEIGHTS, mask_pii
from enrichers.text import normalize_text

# --- building blocks -----------------------------------------------------------------------------

PLACES = ["稠城街道", "北苑街道", "江东街道", "佛堂镇", "廿三里街道", "福田街道", "后宅街道", "义亭镇", "苏溪镇", "上溪镇"]
ISSUES = ["小区门口占道经营", "楼下烧烤油烟扰民", "路灯坏了一个月", "工地夜间施工噪音", "电动车充电桩损坏",
          "排水沟堵塞发臭", "物业乱收停车费", "公交站台被拆", "垃圾清运不及时", "窨井盖缺失"]  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "秀英", "晓东", "建华"]
PINYIN = ["wang", "li", "zhang", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou", "xu", "sun", "ma", "zhu", "lin"]
GIVEN_PINYIN = ["wei", "fang", "na", "min", "jing", "li", "qiang", "lei", "yang", "yan", "yong", "jun", "jie", "tao", "ming"]
MOBILE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "157",
                   "158", "159", "166", "170", "176", "177", "178", "180", "181", "186", "187", "188", "189", "191", "199"]  # fmt: skip
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
REGIONS = ["330782", "330702", "330726", "110105", "310115", "440304", "320102", "510107", "420106", "360102"]


def _date(rng: random.Random) -> str:
    y, m, d = rng.randint(2019, 2025), rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice([f"{y}年{m}月{d}日", f"{y}-{m:02d}-{d:02d}", f"{y}/{m}/{d}", f"{y}.{m:02d}.{d:02d}", f"{m}月{d}日"])


def _amount(rng: random.Random) -> str:
    return rng.choice([f"{rng.randint(20, 9000)}元", f"{rng.randint(1, 500)}.{rng.randint(0, 99):02d}元",
                       f"{rng.randint(1, 90)}万元", f"¥{rng.randint(100, 99999)}", f"{rng.randint(1000, 999999):,}元"])  # fmt: skip


def _order(rng: random.Random) -> str:
    digits = "".join(rng.choices("0123456789", k=rng.choice([12, 14, 16, 20])))
    return rng.choice([f"订单号{digits}", f"工单号：YW{digits[:12]}", f"快递单号 SF{digits[:13]}", f"编号{digits[:10]}"])


def _context(rng: random.Random) -> tuple[str, str, list[str]]:
    """Text before and after the datum, and the date/amount/order number in it that must survive."""
    date, amount, order = _date(rng), _amount(rng), _order(rng)
    place, issue = rng.choice(PLACES), rng.choice(ISSUES)
    before = rng.choice([
        f"{date}我在{place}反映{issue}，{order}，已垫付{amount}。如需核实请联系",
        f"本人住{place}，{issue}，{date}已投诉过（{order}），损失约{amount}，",
        f"{place}{issue}问题一直没人管，{date}花了{amount}自己找人修，{order}。",
        f"关于{issue}：{order}，{date}至今未处理，涉及金额{amount}，请回复",
    ])  # fmt: skip
    after = rng.choice(["，谢谢！", "。", "，请尽快处理。", " 盼复", "，工作日都可以联系。", "\n谢谢"])
    return before, after, [date, amount, order]


def _mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + "".join(rng.choices("0123456789", k=8))


def mobile_glued(rng: random.Random) -> tuple[str, str]:
    number = _mobile(rng)
    if rng.random() < 0.5:
        number = rng.choice(["+86", "86", "0086"]) * (rng.random() < 0.3) + number
    lead = rng.choice(["tel", "Tel", "TEL", "phone", "mobile", "Mob", "_", "user_", "id_", "sj", "dh", "call",
                       "telephone:", "TEL_", "wx_", "name_"])  # fmt: skip
    tail = rng.choice(["", "", "", "_", "_home"])
    return f"{lead}{number}{tail}", number


def mobile_split(rng: random.Random) -> tuple[str, str]:
    n = _mobile(rng)
    shape = rng.choice([(3, 4, 4), (3, 4, 4), (3, 3, 5), (4, 3, 4), (3, 8)])
    parts, i = [], 0
    for size in shape:
        parts.append(n[i : i + size])
        i += size
    sep = rng.choice([".", "/", " ", "-", " - ", " / ", ". ", "  "])
    prefix = rng.choice(["", "", "", "+86 ", "+86-", "0086 ", "(+86)", "+86.", "86 "])
    return prefix + sep.join(parts), n


def landline_local(rng: random.Random) -> tuple[str, str]:
    first = rng.choice("2345689")
    number = first + "".join(rng.choices("0123456789", k=rng.choice([6, 7])))
    if len(number) == 8 and rng.random() < 0.6:
        number = number[:4] + rng.choice(["-", " ", "", "."]) + number[4:]
    elif len(number) == 7 and rng.random() < 0.5:
        number = number[:3] + "-" + number[3:]
    cue = rng.choice(["电话", "座机", "联系电话", "固话", "联系方式", "办公电话", "拨打", "致电", "联系", "家里电话",
                      "电话号码", "Tel"])  # fmt: skip
    gap = rng.choice(["", "：", ":", " ", "是", "为", "： ", "是 "])
    return f"{cue}{gap}{number}", number


def licence_plate(rng: random.Random) -> tuple[str, str]:
    province, letter = rng.choice(PROVINCES), rng.choice(PLATE_LETTERS)
    kind = rng.random()
    if kind < 0.5:
        letters = rng.sample(PLATE_LETTERS, k=rng.choice([0, 0, 1, 2]))
        serial = list("".join(rng.choices("0123456789", k=5 - len(letters))) + "".join(letters))
        rng.shuffle(serial)
        serial = "".join(serial)
    elif kind < 0.8:  # new energy, small car: D/F then five digits
        serial = rng.choice("DF") + "".join(rng.choices("0123456789", k=5))
    else:  # new energy, large vehicle: five digits then D/F
        serial = "".join(rng.choices("0123456789", k=5)) + rng.choice("DF")
    if rng.random() < 0.4:
        letter, serial = letter.lower(), serial.lower()
    sep = rng.choice(["", "", " ", "·", "-", " ", "."])
    lead = rng.choice(["", " "]) if rng.random() < 0.15 else ""
    plate = f"{province}{lead}{letter}{sep}{serial}"
    return rng.choice(["车牌", "车牌号", "一辆", "车牌号码为", "牌照"]) + rng.choice(["", "：", " "]) + plate, plate


def email(rng: random.Random) -> tuple[str, str]:
    surname = rng.randrange(len(PINYIN))
    local = rng.choice([
        PINYIN[surname] + rng.choice(GIVEN_PINYIN),
        PINYIN[surname] + "." + rng.choice(GIVEN_PINYIN) + str(rng.randint(1, 99)),
        PINYIN[surname] + "_" + str(rng.randint(1970, 2005)),
        str(rng.randint(10000, 9999999999)),
        SURNAMES[surname % len(SURNAMES)] + rng.choice(GIVEN),
        rng.choice(GIVEN_PINYIN) + "-" + PINYIN[surname],
    ])  # fmt: skip
    domain = rng.choice(["163.com", "126.com", "qq.com", "sina.com", "gmail.com", "yiwu.gov.cn", "foxmail.com",
                         "outlook.com", "例子.中国", "义乌商城.com", "mail.zj.edu.cn"])  # fmt: skip
    at = rng.choice(["@", "@", "(at)", "[at]", " at ", " @ ", "@ ", " AT ", "(AT)"])
    if at.strip().lower() == "at" and rng.random() < 0.5:
        domain = domain.replace(".", rng.choice([" dot ", "(dot)", "[dot]"]))
    value = f"{local}{at}{domain}"
    cue = rng.choice(["邮箱", "邮箱：", "电子邮箱 ", "email: ", "E-mail：", "材料请发到", "发邮件至 ", "邮箱是"])
    return cue + value, value


def qq(rng: random.Random) -> tuple[str, str]:
    number = str(rng.randint(1, 9)) + "".join(rng.choices("0123456789", k=rng.randint(4, 10)))
    cue = rng.choice(["QQ", "qq", "QQ号", "qq号", "QQ号码", "扣扣", "Qq", "QQ群"])
    gap = rng.choice(["", ":", "：", " ", "是", "是 ", ": "])
    return rng.choice(["", "加我", "我的"]) + cue + gap + number, number


def wechat(rng: random.Random) -> tuple[str, str]:
    surname = rng.randrange(len(PINYIN))
    value = rng.choice([
        PINYIN[surname] + rng.choice(GIVEN_PINYIN) + str(rng.randint(1, 9999)),
        "wxid_" + "".join(rng.choices("abcdefghijkmnpqrstuvwxyz0123456789", k=rng.randint(8, 14))),
        PINYIN[surname] + "_" + rng.choice(GIVEN_PINYIN) + rng.choice(["", "88", "_yw", "1990"]),
        rng.choice(GIVEN_PINYIN).capitalize() + "-" + PINYIN[surname] + str(rng.randint(10, 99)),
        PINYIN[surname] + rng.choice(GIVEN_PINYIN) + rng.choice(GIVEN_PINYIN),
        str(rng.randint(1, 9)) + "".join(rng.choices("0123456789", k=rng.randint(6, 9))),
    ])  # fmt: skip
    value = value if len(value) >= 6 else value + str(rng.randint(10, 99))  # WeChat ids have 6-20 characters
    cue = rng.choice(["微信", "微信号", "VX", "vx", "wx", "WX", "WeChat", "wechat ID", "V信", "威信", "微信ID"])
    letters_only = value.isalpha()
    gaps = [":", "：", "是", ": ", "： "] if letters_only and not re.match(r"[\u4e00-\u9fff]", cue[-1]) else ["", ":", "：", " ", "是", ": "]
    gap = rng.choice(gaps)
    if letters_only and gap == " ":
        gap = ":"
    return rng.choice(["", "加", "我的"]) + cue + gap + value, value


def _id_body(rng: random.Random, year_digits: int) -> str:
    region = rng.choice(REGIONS)
    year = rng.randint(1950, 2005)
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    born = f"{year:04d}" if year_digits == 4 else f"{year % 100:02d}"
    return f"{region}{born}{month:02d}{day:02d}{rng.randint(0, 999):03d}"


def id_bad_check(rng: random.Random) -> tuple[str, str]:
    body = _id_body(rng, 4)
    right = _ID_CHECK[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]
    wrong = rng.choice([c for c in "0123456789X" if c != right])
    if wrong == "X" and rng.random() < 0.3:
        wrong = "x"
    number = body + wrong
    if rng.random() < 0.25:
        number = f"{number[:6]} {number[6:14]} {number[14:]}"
    cue = rng.choice(["身份证", "身份证号", "身份证号码", "身份证号：", "身份证号码：", "证件号", "证件号码", "身份证 ", "ID: "])
    return cue + rng.choice(["", "是", "为", " "]) * (not cue.endswith((":", "：", " "))) + number, number


def id_old15(rng: random.Random) -> tuple[str, str]:
    number = _id_body(rng, 2)
    cue = rng.choice(["身份证", "老身份证号", "旧身份证号码：", "身份证号 ", "", "", "持证人"])
    return cue + number, number


GENERATORS: dict[str, Callable[[random.Random], tuple[str, str]]] = {
    "mobile_glued": mobile_glued,
    "mobile_split": mobile_split,
    "landline_local": landline_local,
    "licence_plate": licence_plate,
    "email": email,
    "qq": qq,
    "wechat": wechat,
    "id_bad_check": id_bad_check,
    "id_old15": id_old15,
}


def sentence(kind: str, rng: random.Random) -> tuple[str, str, list[str]]:
    """A sentence holding one variant of ``kind``: (sentence, the personal datum as written, must-survive)."""
    before, after, keep = _context(rng)
    written, value = GENERATORS[kind](rng)
    return f"{before}{written}{after}", value, keep


_ALNUM = re.compile(r"[^\w]|_")


def leaked(masked: str, value: str, context: str, width: int = 5) -> bool:
    """Whether a ``width``-character piece of ``value`` (letters and digits only) is still in ``masked``
    where the surrounding ``context`` does not explain it."""
    mine, rest, around = _ALNUM.sub("", value), _ALNUM.sub("", masked), _ALNUM.sub("", context)
    pieces = [mine[i : i + width] for i in range(max(1, len(mine) - width + 1))]
    return any(p in rest and p not in around for p in pieces)


# --- real messages -------------------------------------------------------------------------------

_MASK = re.compile(r"\[(?:PHONE|ID|BANKCARD|EMAIL|PLATE|QQ|WECHAT|CONTACT)\]")
_KEEP = {
    "date": re.compile(r"\d{4}[年/.-]\d{1,2}[月/.-]\d{1,2}日?|\d{1,2}月\d{1,2}[日号]"),
    "amount": re.compile(r"\d+(?:[.,]\d+)*\s*(?:万元|元|块|万)"),
    "order_no": re.compile(r"(?:订单|工单|单|编|流水|合同|案件|运单|发票)号(?:码)?[:：]?\s*[A-Za-z]*\d[\dA-Za-z-]{5,}"),
}


def real_messages(count: int, seed: int) -> list[str]:
    rows = read_csv("board_messages.csv")
    random.Random(seed).shuffle(rows)
    return [normalize_text(f"{r['留言主题']}\n{r['留言详情']}") for r in rows[:count]]


def _snippet(text: str, masked: str) -> tuple[str, str]:
    m = _MASK.search(masked)
    at = m.start() if m else 0
    return text[max(0, at - 20) : at + 40].replace("\n", " "), masked[max(0, at - 20) : at + 30].replace("\n", " ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-kind", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--real", type=int, default=2000)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    recall_rows, misses = [], {}
    for kind in GENERATORS:
        caught, kept_ok, kept_all, missed = 0, 0, 0, []
        for _ in range(args.per_kind):
            text, value, keep = sentence(kind, rng)
            masked, _kinds = mask_pii(text)
            context = text.replace(value, " ")
            if leaked(masked, value, context):
                missed.append(text)
            else:
                caught += 1
            kept_all += len(keep)
            kept_ok += sum(k in masked for k in keep)
        recall_rows.append({"kind": kind, "variants": args.per_kind, "masked": caught,
                            "recall": caught / args.per_kind, "context_kept": kept_ok / kept_all})  # fmt: skip
        misses[kind] = missed[:5]
    print_table(f"Recall on written variants (seed {args.seed}, {args.per_kind} each)", recall_rows)
    for kind, missed in misses.items():
        for text in missed:
            print(f"  missed {kind}: {text}")

    texts = real_messages(args.real, args.seed)
    changed, by_kind, examples = 0, Counter(), []
    kept = {name: [0, 0] for name in _KEEP}
    for text in texts:
        masked, kinds = mask_pii(text)
        for name, pattern in _KEEP.items():
            found = pattern.findall(text)
            kept[name][0] += len(found)
            kept[name][1] += sum(f in masked for f in found)
        if kinds:
            changed += 1
            by_kind.update(kinds)
            before, after = _snippet(text, masked)
            examples.append({"kinds": ",".join(kinds), "before": before, "after": after})
    fp_rows = [{"messages": len(texts), "changed": changed, "changed_share": changed / max(1, len(texts)),
                **{f"{k}_kept": f"{v[1]}/{v[0]}" for k, v in kept.items()}}]  # fmt: skip
    print_table("Real board messages (personal data already starred out by the publisher)", fp_rows)
    print_table("Changed messages by kind", [{"kind": k, "messages": n} for k, n in by_kind.most_common()])
    print_table("Examples of changed messages", examples[:25])

    write_json("pii_quality", {
        "seed": args.seed, "per_kind": args.per_kind, "recall": recall_rows, "missed_examples": misses,
        "real": {**fp_rows[0], "by_kind": dict(by_kind), "examples": examples[:50]},
    })  # fmt: skip


if __name__ == "__main__":
    main()
