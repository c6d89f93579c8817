"""Hot-issue clustering and heat on complaints written for these tests (names invented)."""

import datetime as dt

import pytest

from enrichers.hot_issues import HotIssueClusterer, HotLead, complaint_terms, cosine, heat
from enrichers.hot_issues_settings import HeatWeights, HotIssueSettings
from schemas.hot_issues import repeats_of

T0 = dt.datetime(2024, 5, 1, 9, 0, tzinfo=dt.UTC)

MIXING = [
    ("翠湖新城小区旁边建搅拌站，噪音扰民", "翠湖新城附近新建的混凝土搅拌站日夜施工，噪音很大，粉尘满天飞，孩子晚上睡不着。"),
    ("投诉翠湖新城附近搅拌站噪音扰民", "我是翠湖新城的业主，小区旁边的搅拌站凌晨还在作业，噪音和粉尘严重，请环保部门查一查。"),
    ("翠湖新城小区搅拌站粉尘污染严重", "搅拌站的运渣车进出扬尘，粉尘落满阳台，噪音吵得老人心脏不舒服，要求搅拌站搬走。"),
    ("翠湖新城的搅拌站是否合法", "翠湖新城小区百米内建搅拌站，噪音扰民，这个搅拌站有没有环评，有没有审批？"),
]
ROAD = ("翠湖新城二期门口道路坑坑洼洼", "翠湖新城二期门口的道路一下雨全是积水和泥巴，坑坑洼洼，电动车经常摔倒，希望尽快铺沥青。")
PARKING = ("蓝天景园滨江苑捆绑销售车位", "购买蓝天景园滨江苑的商品房，开发商要求必须捆绑购买车位，不买车位不给办手续。")


def lead(i, title, text, days=0.0, case_id=None, author=None, likes=0):
    return HotLead(str(i), title, text, T0 + dt.timedelta(days=days), case_id, author, likes)


def test_different_words_about_one_problem_make_one_hot_issue():
    clusterer = HotIssueClusterer()
    placed = [clusterer.add(lead(i, t, x, days=i)) for i, (t, x) in enumerate(MIXING)]
    assert {p.issue_id for p in placed} == {"0"}
    (issue,) = clusterer.top()
    assert issue.lead_ids == ["0", "1", "2", "3"]
    assert issue.title().startswith("翠湖新城") and "搅拌站" in issue.title()


def test_same_estate_other_complaint_is_another_hot_issue():
    clusterer = HotIssueClusterer()
    for i, (t, x) in enumerate(MIXING):
        clusterer.add(lead(i, t, x, days=i))
    road = clusterer.add(lead("r", *ROAD, days=2))
    assert road.issue_id == "r"


def test_other_estate_same_words_is_another_hot_issue():
    clusterer = HotIssueClusterer()
    clusterer.add(lead("a", *MIXING[0]))
    other = clusterer.add(lead("b", "金桂花园旁边建搅拌站，噪音扰民", "金桂花园附近新建的混凝土搅拌站日夜施工，噪音很大，粉尘满天飞。", days=1))
    assert other.issue_id == "b"


def test_outside_the_window_starts_a_new_hot_issue():
    clusterer = HotIssueClusterer(HotIssueSettings(window_days=10, anchor_window_days=10))
    clusterer.add(lead("a", *MIXING[0]))
    assert clusterer.add(lead("b", *MIXING[1], days=5)).issue_id == "a"
    assert clusterer.add(lead("c", *MIXING[2], days=14)).issue_id == "a"  # sliding: 9 days after b
    assert clusterer.add(lead("d", *MIXING[3], days=40)).issue_id == "d"


def test_a_lead_without_an_entity_joins_no_hot_issue_unless_its_case_is_in_one():
    clusterer = HotIssueClusterer()
    clusterer.add(lead("a", *MIXING[0], case_id="case-1"))
    vague = ("小区旁边搅拌站太吵了", "我们小区旁边的搅拌站太吵了，晚上睡不着。")
    assert clusterer.add(lead("b", *vague, days=1)).issue_id is None
    assert clusterer.add(lead("c", *vague, days=1, case_id="case-1")).issue_id == "a"
    assert clusterer.issues["a"].case_ids == ["case-1"]


def test_cases_keep_their_identity_inside_a_hot_issue():
    clusterer = HotIssueClusterer()
    clusterer.add(lead("a", *MIXING[0], case_id="a"))
    clusterer.add(lead("a2", *MIXING[0], days=0.1, case_id="a"))  # a re-post: same case
    clusterer.add(lead("b", *MIXING[1], days=1, case_id="b"))
    (issue,) = clusterer.top()
    assert issue.lead_ids == ["a", "a2", "b"] and issue.case_ids == ["a", "b"]


def test_min_leads_hides_single_lead_issues():
    clusterer = HotIssueClusterer()
    clusterer.add(lead("p", *PARKING))
    assert clusterer.top() == []
    assert clusterer.top() == [] and len(clusterer.issues) == 1


def test_heat_follows_its_formula():
    clusterer = HotIssueClusterer()
    for i, (t, x) in enumerate(MIXING[:3]):
        clusterer.add(lead(i, t, x, days=2 * i, author="same" if i < 2 else "other", likes=3))
    (issue,) = clusterer.top()
    import math

    weights = HeatWeights()
    expected = (
        weights.leads * math.log1p(3) + weights.reporters * math.log1p(2) + weights.likes * math.log1p(9)
        + weights.span * math.log1p(4) + weights.growth * math.log1p(3)  # all three within the last 7 days
    )  # fmt: skip
    assert abs(heat(issue, weights, clusterer.newest, 7.0) - expected) < 1e-9


def test_more_reporters_and_likes_make_more_heat():
    def issue_heat(authors, likes):
        clusterer = HotIssueClusterer()
        for i, (t, x) in enumerate(MIXING[:2]):
            clusterer.add(lead(i, t, x, days=i, author=authors[i], likes=likes))
        return clusterer.heat(clusterer.top()[0])

    assert issue_heat(["x", "y"], 0) > issue_heat(["x", "x"], 0)
    assert issue_heat(["x", "x"], 50) > issue_heat(["x", "x"], 0)


def test_hottest_first():
    clusterer = HotIssueClusterer()
    for i, (t, x) in enumerate(MIXING):
        clusterer.add(lead(f"m{i}", t, x, days=i))
    for i in range(2):
        clusterer.add(lead(f"p{i}", *PARKING, days=i))
    assert [i.issue_id for i in clusterer.top()] == ["m0", "p0"]
    assert [i.issue_id for i in clusterer.top(1)] == ["m0"]


def test_the_raised_again_list_puts_one_person_writing_again_and_again_first():
    clusterer = HotIssueClusterer()
    for i, (t, x) in enumerate(MIXING):  # four people, once each: the hotter issue
        clusterer.add(lead(f"m{i}", t, x, days=i, author=f"resident{i}"))
    for i in range(3):  # one person, three times
        clusterer.add(lead(f"p{i}", *PARKING, days=i, author="buyer"))
    clusterer.add(lead("r0", *ROAD, days=1))  # no author: each such lead is its own reporter, never a repeat
    clusterer.add(lead("r1", *ROAD, days=2))
    assert [i.issue_id for i in clusterer.top()][:2] == ["m0", "p0"]
    assert [i.issue_id for i in clusterer.top(order="repeats")] == ["p0"]  # 3 leads, 1 reporter: 2 repeats
    assert repeats_of(3, 1) == 2 and repeats_of(4, 4) == 0
    clusterer.add(lead("m4", *MIXING[0], days=4, author="resident0"))  # a resident writes again: 1 repeat
    assert [i.issue_id for i in clusterer.top(order="repeats")] == ["p0", "m0"]
    strict = HotIssueClusterer(HotIssueSettings(min_repeats=2))
    for i in range(2):
        strict.add(lead(f"p{i}", *PARKING, days=i, author="buyer"))
    assert strict.top(order="repeats") == [] and [i.issue_id for i in strict.top()] == ["p0"]
    with pytest.raises(ValueError, match="heat, repeats"):
        clusterer.top(order="likes")  # type: ignore[arg-type]


def test_complaint_terms_leave_out_the_entity_and_generic_words():
    terms = complaint_terms(*MIXING[0], [], 12)
    assert "搅拌站" in terms and "噪音" in terms
    assert not {"问题", "小区", "A2"} & set(terms)
    assert abs(sum(w * w for w in terms.values()) - 1.0) < 1e-9


def test_a_title_naming_the_issues_entity_reopens_it_months_later():
    settings = HotIssueSettings(window_days=10, anchor_window_days=200)
    clusterer = HotIssueClusterer(settings)
    clusterer.add(lead("a", *MIXING[0]))
    clusterer.add(lead("b", *MIXING[1], days=3))
    # 120 days later, the estate named in the title, the same complaint: the same hot issue.
    assert clusterer.add(lead("c", *MIXING[2], days=123)).issue_id == "a"
    # Past anchor_window_days it is a new one.
    assert clusterer.add(lead("d", *MIXING[3], days=400)).issue_id == "d"


def test_a_lead_naming_the_entity_only_in_its_text_keeps_the_short_window():
    clusterer = HotIssueClusterer(HotIssueSettings(window_days=10, anchor_window_days=200))
    clusterer.add(lead("a", *MIXING[0]))
    untitled = ("搅拌站噪音粉尘扰民", "翠湖新城小区旁边的搅拌站凌晨还在作业，噪音和粉尘严重，请环保部门查一查。")
    assert clusterer.add(lead("b", *untitled, days=60)).issue_id == "b"


def test_an_anchored_lead_needs_only_the_anchor_similarity():
    near = ("翠湖新城搅拌站的审批", "请问翠湖新城旁边那个站的环评和规划许可是谁批的，运渣车扬尘。")
    strict = HotIssueSettings(min_term_similarity=0.99, anchor_similarity=0.99)
    lenient = HotIssueSettings(min_term_similarity=0.99, anchor_similarity=0.01)
    results = []
    for settings in (strict, lenient):
        clusterer = HotIssueClusterer(settings)
        clusterer.add(lead("a", *MIXING[0]))
        results.append(clusterer.add(lead("b", *near, days=1)).issue_id)
    assert results == ["b", "a"]


def test_only_the_most_recent_issues_of_an_entity_are_compared():
    clusterer = HotIssueClusterer(HotIssueSettings(window_days=1, anchor_window_days=1, max_issues_per_entity=2))
    for k in range(3):  # three issues of 翠湖新城, far apart
        clusterer.add(lead(f"old{k}", *MIXING[0], days=10 * k))
    # A lead at the time of the first issue can no longer reach it: only the two most recent are compared.
    assert clusterer.add(lead("late", *MIXING[1], days=0.5)).issue_id == "late"


def test_a_case_grouping_one_text_about_two_estates_is_split_by_estate():
    template = "小区底层有几家餐馆，油烟严重影响居民生活，晚上营业到凌晨三点，炒菜噪声大。"
    split, kept = HotIssueClusterer(), HotIssueClusterer(HotIssueSettings(split_cases_by_entity=False))
    for clusterer in (split, kept):
        clusterer.add(lead("a", "森林家园餐馆油烟扰民", "森林家园" + template, case_id="c1"))
        clusterer.add(lead("b", "翠湖新城餐馆油烟扰民", "翠湖新城" + template, days=0.1, case_id="c1"))  # dedup: same case
    assert split.issues["a"].lead_ids == ["a"] and split.issues["b"].lead_ids == ["b"]
    assert kept.issues["a"].lead_ids == ["a", "b"]
    # A lead of the case naming the first estate (or none) still follows the case.
    assert split.add(lead("c", "森林家园餐馆油烟", "森林家园" + template, days=0.2, case_id="c1")).issue_id == "a"


def test_a_lead_whose_title_names_another_station_does_not_join_through_a_shared_road():
    text = "地铁5号线{}站的出入口都在青枫路东侧，居民过青枫路去坐地铁很不安全，请增设出入口。"
    clusterer = HotIssueClusterer()
    clusterer.add(lead("a", "地铁5号线桃溪湖站出入口设置不合理", text.format("桃溪湖")))
    other = clusterer.add(lead("b", "地铁5号线枫林桥站出入口设置不合理", text.format("枫林桥"), days=1))
    same = clusterer.add(lead("c", "地铁5号线桃溪湖站出入口太少", text.format("桃溪湖"), days=2))
    assert other.issue_id == "b" and same.issue_id == "a"
    merged = HotIssueClusterer(HotIssueSettings(distinct_title_kinds=[]))
    merged.add(lead("a", "地铁5号线桃溪湖站出入口设置不合理", text.format("桃溪湖")))
    assert merged.add(lead("b", "地铁5号线枫林桥站出入口设置不合理", text.format("枫林桥"), days=1)).issue_id == "a"


def test_a_template_copy_about_an_unnamed_school_does_not_follow_its_case():
    template = "，学校强制学生寒假去工厂实习，不去就不给毕业证，学生和家长都很无奈。"
    clusterer = HotIssueClusterer()
    clusterer.add(lead("a", "A市翠湖外语学院强制学生实习", "翠湖外语学院" + template, case_id="c1"))
    copy = clusterer.add(lead("b", "A市经济学院强制学生实习", "经济学院" + template, days=0.1, case_id="c1"))
    assert copy.issue_id is None and clusterer.issues["a"].lead_ids == ["a"]
    # A copy naming no other school still follows its case.
    vague = clusterer.add(lead("c", "强制学生实习", template, days=0.2, case_id="c1"))
    assert vague.issue_id == "a"


def test_prepare_leaves_out_terms_for_a_lead_naming_no_entity_and_places_it_the_same():
    from enrichers.hot_issues import prepare

    vague = ("小区旁边搅拌站太吵了", "我们小区旁边的搅拌站太吵了，晚上睡不着。")
    assert prepare(*vague, 12).weights is None
    assert prepare(*MIXING[0], 12).weights
    with_hint, without = HotIssueClusterer(), HotIssueClusterer()
    for clusterer, hinted in ((with_hint, True), (without, False)):
        clusterer.add(lead("a", *MIXING[0], case_id="c1"), prepare(*MIXING[0], 12) if hinted else None)
        placed = clusterer.add(lead("b", *vague, days=1, case_id="c1"), prepare(*vague, 12) if hinted else None)
        assert placed.issue_id == "a"
    assert with_hint.issues["a"].terms == without.issues["a"].terms


def test_a_title_naming_a_company_by_its_brand_is_about_that_company():
    from enrichers.entities import brand

    name = brand("翠鸟汇普惠投资有限公司", "company")
    assert name is not None and len(name) >= 2 and "翠鸟汇普惠投资有限公司".startswith(name)
    assert brand("物业管理有限公司", "company") is None and brand("翠湖新城小区", "estate") is None
    text = "我是翠鸟汇普惠投资有限公司的出借人，平台停止兑付，不让提现，经侦立案后毫无进展。"
    clusterer = HotIssueClusterer()
    clusterer.add(lead("a", "翠鸟汇普惠投资有限公司涉嫌诈骗", text))
    # Months later, beyond the window: the title says only the brand, yet names the issue's company.
    later = clusterer.add(lead("b", "翠鸟汇网诈骗案毫无进展", text + "翠鸟汇网的出借人还在等。", days=120))
    assert later.issue_id == "a"


def test_an_issue_sharing_more_than_a_road_wins_over_one_sharing_only_that_road():
    clusterer = HotIssueClusterer()
    exits = "地铁5号线桃溪湖站的出入口都在青枫路东侧，西侧居民去坐地铁要横穿马路，很不安全，请增设出入口。"
    clusterer.add(lead("a", "地铁5号线桃溪湖站出入口设置不合理", exits))
    clusterer.add(lead("b", "翠湖新城片区没有地铁，请规划地铁支线", "翠湖新城几万居民没有地铁，去市区要一个多小时，建议规划一条地铁支线到翠湖新城设站。"))
    text = "翠湖新城的居民坐地铁要横穿青枫路，很不安全，建议地铁支线延伸到翠湖新城设站，在东侧西侧都设出入口。"
    # Its words are more like the station's exits (it shares only 青枫路 with that issue, an address), but it
    # shares its estate with the branch-line request: that one wins.
    terms = complaint_terms("翠湖新城居民坐地铁很不安全", text, clusterer.dictionary.extract("翠湖新城居民坐地铁很不安全\n" + text), 12)
    assert cosine(terms, clusterer.issues["a"].terms) > cosine(terms, clusterer.issues["b"].terms) > 0.15
    assert clusterer.add(lead("c", "翠湖新城居民坐地铁很不安全", text, days=1)).issue_id == "b"
    # With no other issue to join, a road alone still links alike leads (a company's messages may share only its address).
    alone = HotIssueClusterer()
    alone.add(lead("a", "地铁5号线桃溪湖站出入口设置不合理", exits))
    assert alone.add(lead("d", "青枫路西侧居民坐地铁不安全", "青枫路西侧居民去坐地铁要横穿马路，出入口都在东侧，请增设出入口。", days=1)).issue_id == "a"


def test_a_road_anchors_the_long_window_but_not_the_lower_similarity():
    lenient = HotIssueSettings(window_days=10, anchor_window_days=200, min_term_similarity=0.99, anchor_similarity=0.01)
    works = ("青枫路旧房改造何时启动", "青枫路的几排旧房改造两年前被叫停，至今没有动工，请问何时启动改造。")
    clusterer = HotIssueClusterer(lenient)
    clusterer.add(lead("a", *works))
    # Months later, a title naming the road: the long window holds, but it needs the usual similarity.
    assert clusterer.add(lead("b", "青枫路路灯太暗", "青枫路晚上路灯太暗，行人看不清路，请改造路灯。", days=60)).issue_id == "b"
    assert clusterer.add(lead("c", *works, days=90)).issue_id == "a"
    # An estate in the title needs only the anchor similarity (see above): a road says less about which problem.
    estate = HotIssueClusterer(lenient)
    estate.add(lead("a", *MIXING[0]))
    assert estate.add(lead("b", "翠湖新城搅拌站的审批", "请问翠湖新城旁边那个站的环评和规划许可是谁批的。", days=60)).issue_id == "a"


VILLAGE_WATER = [
    ("义亭镇柳塘村自来水发黄有异味", "义亭镇柳塘村的自来水最近一个星期发黄，烧开了还有一股怪味，村里老人孩子都不敢喝。"),
    ("柳塘村自来水发黄", "我家在柳塘村，自来水放出来是黄的，有异味，打电话给水务也没人来看。"),
    ("柳塘村的自来水有异味", "柳塘村自来水发黄发臭一个星期了，希望自来水公司尽快查查水管。"),
]


def test_reports_about_one_village_s_water_make_one_hot_issue_titled_by_the_village():
    clusterer = HotIssueClusterer()
    placed = [clusterer.add(lead(i, t, x, days=i, author=f"村民{i}")) for i, (t, x) in enumerate(VILLAGE_WATER)]
    assert {p.issue_id for p in placed} == {"0"}
    (issue,) = clusterer.top()
    assert issue.title().startswith("柳塘村") and "自来水" in issue.title()


def test_another_problem_of_the_same_village_is_another_hot_issue():
    clusterer = HotIssueClusterer()
    for i, (t, x) in enumerate(VILLAGE_WATER):
        clusterer.add(lead(i, t, x, days=i))
    road = ("义亭镇柳塘村进村道路坑坑洼洼", "柳塘村进村的道路坑坑洼洼，一下雨全是泥水，电动车经常摔倒，希望尽快硬化。")
    assert clusterer.add(lead("r", *road, days=2)).issue_id == "r"


def test_a_factory_named_with_its_village_titles_the_issue():
    # The village is an area: named as often as the factory, the factory is what the issue is about.
    clusterer = HotIssueClusterer()
    wages = [
        ("柳塘村针织厂拖欠工资", "柳塘村针织厂拖欠我们四十多名工人两个月工资，老板电话打不通。"),
        ("柳塘村针织厂两个月不发工资", "我们在柳塘村针织厂上班，工资拖欠两个月了，劳动监察能不能管一管。"),
    ]
    for i, (t, x) in enumerate(wages):
        clusterer.add(lead(i, t, x, days=i))
    (issue,) = clusterer.top()
    assert issue.entity() == "针织厂"


def test_two_estates_of_one_community_are_two_hot_issues_however_alike_their_complaints():
    clusterer = HotIssueClusterer()
    first = ("青枫社区翠湖新城物业乱收停车费", "青枫社区翠湖新城的物业公司地面停车乱收费，每月收三百元，业主意见很大。")
    other = ("青枫社区金桂花园物业乱收停车费", "青枫社区金桂花园的物业公司地面停车乱收费，每月收三百元，业主意见很大。")
    clusterer.add(lead("a", *first))
    assert clusterer.add(lead("b", *other, days=1)).issue_id == "b"
    # A lead naming only the community still joins the issue about its fees.
    only_area = ("青枫社区物业乱收停车费", "青枫社区物业地面停车乱收费，每月三百元，业主意见很大。")
    assert clusterer.add(lead("c", *only_area, days=2)).issue_id in ("a", "b")
