"""Personal data written in full-width forms (a Chinese input method's default for digits and @) is
masked wherever a lead keeps text: title, body, location, every string of extra, and the author."""

import pytest

from enrichers.normalize import normalize_lead
from schemas.leads import Contact, RawLead

# (written, what must not survive anywhere in the stored lead)
FORMS = [
    ("电话１３８１２３４５６７８请回电", "１３８１２３４５６７８"),
    ("手机：１３８ １２３４ ５６７８", "５６７８"),
    ("手机１３８－１２３４－５６７８", "５６７８"),
    ("ＱＱ：１２３４５６７８９", "１２３４５６７８９"),
    ("身份证３３０７２５１９９００３０７１２３ｘ", "１９９００３０７"),
    ("身份证33072519900307123ｘ", "19900307123"),
    ("邮箱ｚｈａｎｇ＋ｔａｇ＠ｑｑ．ｃｏｍ", "ｚｈａｎｇ"),
    ("邮箱 zhang.san+tag@example.com", "zhang.san"),
    ("座机０５７９－８５１２３４５６", "８５１２３４５６"),
    ("车牌浙Ｇ１２３４５", "１２３４５"),
]


def lead_with(text: str, where: str):
    fields = {"title": "t", "body": "正文"}
    extra = {}
    author = None
    if where == "extra":
        extra = {"tried": text, "nested": {"went_wrong": [text]}}
    elif where == "author":
        author = text[:300]
    else:
        fields[where] = text
    raw = RawLead(source="officer", channel="officer", external_id="w1", extra=extra, author=author, **fields)
    return normalize_lead(raw)


@pytest.mark.parametrize("where", ["title", "body", "extra", "author"])
@pytest.mark.parametrize(("text", "secret"), FORMS)
def test_full_width_personal_data_is_masked_everywhere(text, secret, where):
    stored = lead_with(text, where).model_dump_json()
    folded_secret = __import__("unicodedata").normalize("NFKC", secret)
    assert secret not in stored and folded_secret not in stored, stored


def test_the_author_column_holding_the_reporters_name_is_masked_like_the_text():
    raw = RawLead(source="h", channel="hotline", external_id="a1", title="t", body="路灯坏了", author="王小明",
                  contact=Contact(name="王小明", phone="13812345678"))  # fmt: skip
    assert "王小明" not in normalize_lead(raw).model_dump_json(exclude={"contact"})
