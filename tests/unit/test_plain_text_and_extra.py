"""Plain-text channels keep "<" and ">" as written; every string a lead stores outside ``contact``
(its ``extra`` too) is masked."""

import json

import pytest

from enrichers.normalize import normalize_lead
from enrichers.text import normalize_text
from leadhub.intake import FieldReport, report_to_raw_lead
from schemas.leads import RawLead

LESS_GREATER = ["a<b 且 x>y", "等候时间<5分钟…实际>2小时", "<p>不是标签</p> & &amp; 原样"]


@pytest.mark.parametrize("written", LESS_GREATER)
def test_plain_text_keeps_less_and_greater_than_literally(written):
    # NFKC still folds "…" to "..." (as it folds full-width forms): only markup handling differs.
    assert normalize_text(written, html=False) == written.replace("…", "...")


@pytest.mark.parametrize("channel", ["officer", "hotline"])
def test_plain_text_channels_keep_what_was_written(channel):
    raw = RawLead(source="s", channel=channel, external_id="1", title="等候时间<5分钟…实际>2小时", body="a<b 且 x>y <b>照原样</b>")
    lead = normalize_lead(raw)
    assert lead.title == "等候时间<5分钟...实际>2小时" and lead.text == "a<b 且 x>y <b>照原样</b>"


@pytest.mark.parametrize("channel", ["forum", "news", "complaint_platform", "department"])
def test_html_channels_still_strip_markup(channel):
    raw = RawLead(source="s", channel=channel, external_id="1", title="t", body="<p>电梯<b>坏了</b></p><script>alert(1)</script>")
    assert normalize_lead(raw).text == "电梯坏了"


def test_an_officers_field_report_keeps_its_words_and_masks_them_everywhere():
    report = FieldReport(
        title="排队<5分钟的承诺没兑现", place="义乌市行政服务中心", visited_at="2024-05-02 10:00",
        tried="办居住证，取号时留了tel13842345678", lang="zh",
        went_wrong="承诺等候<5分钟，实际>2小时。窗口让加微信：wxid_abc123，座机：8521-2345，身份证110105194912310021",
    )  # fmt: skip
    lead = normalize_lead(report_to_raw_lead(report, "officer-7"))
    assert "实际>2小时" in lead.text and "承诺等候<5分钟" in lead.text and lead.title == "排队<5分钟的承诺没兑现"
    stored = lead.model_dump_json(exclude={"contact"})
    for secret in ("13842345678", "wxid_abc123", "8521-2345", "110105194912310021"):
        assert secret not in stored
    assert lead.extra["tried"] == "办居住证，取号时留了tel[PHONE]"
    assert "[WECHAT]" in lead.extra["went_wrong"] and "实际>2小时" in lead.extra["went_wrong"]
    assert lead.extra["report_id"] == report.report_id
    assert set(lead.pii_types) == {"mobile", "wechat", "landline", "id_number"}


def test_every_string_in_extra_is_masked_at_any_depth_and_other_values_kept():
    raw = RawLead(
        source="board", channel="complaint_platform", external_id="1", title="t", body="路灯坏了",
        contact={"name": "王小明", "phone": "13900001111"},
        attachments=[{"url": "https://example.org/a.jpg", "name": "王小明13812345678.jpg"}],
        extra={"reply": "已联系王小明（13900001111），QQ 12345678", "views": 10, "ok": True, "none": None,
               "thread": [{"floor": 2, "text": "我也是，电话 138.4234.5678"}, ["邮箱 li(at)163.com"]]},
    )  # fmt: skip
    lead = normalize_lead(raw)
    assert lead.extra["reply"] == "已联系[CONTACT]（[PHONE]），QQ [QQ]"  # a kind of its own wins over [CONTACT]
    assert lead.extra["thread"] == [{"floor": 2, "text": "我也是，电话 [PHONE]"}, ["邮箱 [EMAIL]"]]
    assert (lead.extra["views"], lead.extra["ok"], lead.extra["none"]) == (10, True, None)
    assert lead.attachments[0].name == "[CONTACT][PHONE].jpg" and lead.attachments[0].url == "https://example.org/a.jpg"
    stored = json.loads(lead.model_dump_json(exclude={"contact"}))
    assert "13900001111" not in json.dumps(stored, ensure_ascii=False) and "王小明" not in json.dumps(stored, ensure_ascii=False)
    assert set(lead.pii_types) == {"contact", "qq", "mobile", "email"}
    assert raw.extra["reply"].startswith("已联系王小明")  # the RawLead itself is not changed


def test_the_web_pages_escape_what_plain_text_keeps():
    from leadhub.api.web import TEMPLATES

    env = TEMPLATES.env
    assert env.autoescape is True or env.autoescape("case.html")
    assert env.from_string("{{ text }}").render(text="a<b 且 x>y <script>") == "a&lt;b 且 x&gt;y &lt;script&gt;"
