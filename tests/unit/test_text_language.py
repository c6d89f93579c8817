import pytest

from enrichers.language import detect_language
from enrichers.text import content_key, normalize_text, strip_html


def test_html_is_stripped_and_paragraphs_kept():
    html = "<div><p>第一段：电梯坏了。</p><p>第二段&nbsp;&amp;&nbsp;物业不管<br>换行</p><script>alert(1)</script></div>"
    assert normalize_text(html) == "第一段:电梯坏了。\n\n第二段 & 物业不管\n换行"


def test_text_that_only_looks_like_html_is_kept():
    assert strip_html("温度<5度，水压>3") == "温度<5度，水压>3"
    assert normalize_text("a &lt; b") == "a < b"


def test_full_width_forms_whitespace_and_control_characters():
    assert normalize_text("ＡＢＣ１２３　　全角\t\t空格\x00\x07") == "ABC123 全角 空格"
    assert normalize_text("a\r\n\r\n\r\n\r\nb\u200b") == "a\n\nb"
    assert normalize_text("  emoji 🚧 stays  ") == "emoji 🚧 stays"


def test_content_key_ignores_punctuation_and_case():
    assert content_key("Title!", "电梯，坏了。") == content_key("title", "电梯坏了")


@pytest.mark.parametrize(
    "text, lang",
    [
        ("稠城街道某小区电梯停运一周，物业不管。", "zh"),
        ("在浙里办app上传PDF一直失败", "zh"),
        ("I waited three hours at the service centre and the staff were rude to us.", "en"),
        ("Went to 市行政服务中心 twice, they asked for the same papers again.", "en"),
        ("J'ai attendu trois heures au guichet sans aucune réponse.", "other"),
        ("駅のエレベーターが止まっています", "other"),
        ("12345 !!!", "other"),
    ],
)
def test_language(text, lang):
    assert detect_language(text) == lang
