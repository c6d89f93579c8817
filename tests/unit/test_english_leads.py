"""English leads (foreign experience officers) get a category, a department and a place."""

import pytest

from enrichers.categorize import Categorizer
from enrichers.places import load_gazetteer
from enrichers.taxonomy import load_taxonomy


@pytest.mark.parametrize("text, town", [
    ("A seller at Futian market overcharged me", "福田街道"),
    ("The queue at the International Trade City gate", "福田街道"),
    ("street lights off in CHOUCHENG", "稠城街道"),
    ("farmers in Chi'an have no subsidy", "赤岸镇"),
    ("义乌福田街道路灯坏了", "福田街道"),  # Chinese unchanged
])  # fmt: skip
def test_english_and_pinyin_place_names_are_found_whatever_their_case(text, town):
    assert load_gazetteer().locate(text).town == town


def test_latin_place_names_match_whole_words_only():
    assert load_gazetteer().locate("Suxiang bakery near the ring road").town is None


@pytest.mark.parametrize("title, text, level1, department", [
    ("Fake goods", "A shop sold me fake goods and refuses a refund.", "商贸旅游", "市市场监督管理局"),
    ("Salary not paid", "Our factory has not paid wages for three months.", "劳动和社会保障", "市人力资源和社会保障局"),
    ("Zheliban app crash", "The app crashes at face recognition, I cannot log in.", "政务服务", "市政务服务管理办公室"),
    ("Black smoke", "A factory burns waste at night, black smoke everywhere.", "环境保护", "金华市生态环境局义乌分局"),
])  # fmt: skip
def test_english_leads_are_categorized_and_routed(title, text, level1, department):
    result = Categorizer(load_taxonomy()).categorize(title, text)
    assert (result.category, result.department) == (level1, department) and not result.needs_triage
