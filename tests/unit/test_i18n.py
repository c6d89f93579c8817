"""The pages' two languages: every message exists in both, every key the pages ask for exists, and the
language is chosen the way a reader expects (the switch, then the browser, then Chinese)."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest

from enrichers.pii import MASKS
from leadhub.access import ROLE_PERMISSIONS
from leadhub.api import i18n
from leadhub.queries import FACETS, Interval, Sort
from schemas.cases import Action, Status
from schemas.leads import Channel

TEMPLATES = Path(i18n.__file__).parent / "templates"
PY_SOURCES = Path(i18n.__file__).parent


def test_every_message_has_chinese_and_english():
    for key, entry in i18n.catalog().items():
        assert set(entry) == {"zh", "en"}, key
        assert entry["zh"].strip() and entry["en"].strip(), key


# The search examples stay Chinese in English too: the leads are Chinese, and so are the words that find them.
HAN_IN_ENGLISH = {"search.placeholder"}


def test_the_chinese_side_is_chinese_and_the_english_side_is_not():
    han = re.compile(r"[\u4e00-\u9fff]")
    for key, entry in i18n.catalog().items():
        assert key in HAN_IN_ENGLISH or not han.search(entry["en"]), f"{key}: English text holds Chinese: {entry['en']}"
        if entry["en"] != "—" and "{" not in entry["zh"]:
            assert han.search(entry["zh"]) or entry["zh"] == entry["en"], f"{key}: Chinese text is not Chinese"


def _template_keys() -> set[str]:
    keys: set[str] = set()
    for path in TEMPLATES.glob("*.html"):
        keys |= set(re.findall(r"""\bt\(\s*["']([\w.]+)["']\s*[,)]""", path.read_text(encoding="utf-8")))
    for path in PY_SOURCES.glob("*.py"):
        keys |= set(re.findall(r"""\b(?:translate|tr)\(\s*\w+\s*,\s*["']([\w.]+)["']""", path.read_text(encoding="utf-8")))
    return keys


def test_every_key_the_pages_ask_for_exists():
    keys = _template_keys()
    assert len(keys) > 30  # the scan itself works
    missing = sorted(k for k in keys if k not in i18n.catalog())
    assert not missing, f"keys used by pages but missing from messages.yaml: {missing}"


@pytest.mark.parametrize(
    ("kind", "values"),
    [
        ("status", [s.value for s in Status]),
        ("action", [a.value for a in Action]),
        ("channel", list(typing.get_args(Channel))),
        ("role", list(ROLE_PERMISSIONS)),
        ("sort", [s.value for s in Sort]),
        ("interval", [i.value for i in Interval]),
        ("facet", sorted({name for facets in FACETS.values() for name in facets})),
        ("pii", list(MASKS)),
    ],
)
def test_every_enum_value_has_words_in_both_languages(kind, values):
    for value in values:
        assert f"{kind}.{value}" in i18n.catalog(), f"{kind}.{value}"
        assert i18n.label("en", kind, value) != i18n.label("zh", kind, value) or kind == "facet"


@pytest.mark.parametrize(
    ("cookie", "header", "expected"),
    [
        (None, None, "zh"),
        (None, "", "zh"),
        (None, "en-US,en;q=0.9", "en"),
        (None, "en-GB", "en"),
        (None, "zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        (None, "fr-FR,fr;q=0.9,en;q=0.5", "en"),  # a French officer's browser: English is the language both share
        (None, "de", "zh"),
        (None, "zh;q=0.2,en;q=0.8", "en"),  # quality wins over order
        (None, "en;q=0,zh", "zh"),  # q=0 means "not this"
        (None, "en;q=abc", "zh"),  # a broken quality is not a preference
        ("en", "zh-CN", "en"),  # the remembered switch wins over the browser
        ("zh", "en-US", "zh"),
        ("xx", "en-US", "en"),  # a forged cookie is ignored
    ],
)
def test_language_choice(cookie, header, expected):
    assert i18n.choose(cookie, header) == expected


def test_translation_fills_values_and_unknown_values_show_as_stored():
    assert i18n.translate("en", "who.as", name="王芳", role="officer") == "王芳 (officer)"
    assert i18n.translate("zh", "who.as", name="王芳", role="办理人员") == "王芳（办理人员）"
    assert i18n.label("en", "status", "in_progress") == "in progress"
    assert i18n.label("zh", "status", "in_progress") == "办理中"
    assert i18n.label("en", "status", "something_new") == "something_new"
    assert i18n.label("en", "status", None) == "—"


def test_every_shipped_category_department_and_town_has_an_english_name():
    import yaml

    from enrichers.taxonomy import DEFAULT_TAXONOMY

    taxonomy = yaml.safe_load(Path(DEFAULT_TAXONOMY).read_text(encoding="utf-8"))
    gazetteer = yaml.safe_load((Path(DEFAULT_TAXONOMY).parent / "gazetteer.yaml").read_text(encoding="utf-8"))
    departments = {c["department"] for c in taxonomy["categories"]} | {
        s["department"] for c in taxonomy["categories"] for s in c.get("subcategories", []) if "department" in s
    }
    names = i18n.data_names()
    assert {c["name"] for c in taxonomy["categories"]} <= set(names["categories"])
    assert departments <= set(names["departments"])
    assert {t["name"] for t in gazetteer["towns"]} <= set(names["towns"])
    assert i18n.data_name("en", "departments", "市教育局") == "Education Bureau"
    assert i18n.data_name("zh", "departments", "市教育局") == "市教育局"
    assert i18n.data_name("en", "departments", "某新设部门") == "某新设部门"  # a city's own department shows as stored


def test_every_query_text_problem_has_words_in_both_languages():
    from leadhub.queries import ENGLISH_TEXT_PROBLEMS, TextLimits, text_problem

    assert set(ENGLISH_TEXT_PROBLEMS) == {k.removeprefix("query.") for k in i18n.catalog() if k.startswith("query.")}
    problem = text_problem(" ".join(f"-词{i}" for i in range(9)), TextLimits())
    assert problem is not None and str(problem).startswith("q excludes 9 words")
    assert "9" in i18n.translate("zh", f"query.{problem.code}", **problem.values)
    assert "at most 8" in i18n.translate("en", f"query.{problem.code}", **problem.values)
