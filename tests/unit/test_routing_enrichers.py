import datetime as dt

import pytest

from enrichers.categorize import Categorizer
from enrichers.dedup import DedupConfig, Deduplicator, MemoryDedupState, anchors, fingerprint, similarity
from enrichers.places import GazetteerError, load_gazetteer, parse_gazetteer
from enrichers.priority import assess_priority
from enrichers.taxonomy import TaxonomyError, load_taxonomy, parse_taxonomy

POST = (
    "稠城街道幸福小区3号楼的电梯已经停运一周了，物业一直说在等配件，楼里很多老人上下楼非常困难，"
    "希望有关部门督促物业尽快维修电梯。"
)


@pytest.fixture(scope="module")
def categorizer():
    return Categorizer(load_taxonomy())


def test_default_taxonomy_covers_the_board_classes_and_government_service():
    names = load_taxonomy().level1_names
    assert len(names) == 16 and "政务服务" in names and "城乡建设" in names and "劳动和社会保障" in names


@pytest.mark.parametrize(
    "title, text, level1, department_part",
    [
        ("小区电梯停运", POST, "城乡建设", "住房"),
        ("", "公司拖欠我们农民工工资三个月了，劳动监察大队一直不处理", "劳动和社会保障", "人力资源"),
        ("", "在市行政服务中心办营业执照，跑了三趟，每次都让重复提交材料", "政务服务", "政务服务"),
        ("", "I waited 3 hours in the queue at the service center and the staff were rude", "政务服务", "服务"),
        ("", "化工厂夜里偷排废水，河水发黑发臭", "环境保护", "生态环境"),
    ],
)
def test_rules_categorize_chinese_and_english(categorizer, title, text, level1, department_part):
    result = categorizer.categorize(title, text)
    assert result.category == level1
    assert department_part in result.department
    assert not result.needs_triage


def test_nothing_recognizable_needs_triage(categorizer):
    result = categorizer.categorize("", "今天天气不错")
    assert result.category is None and result.needs_triage and result.confidence == 0


def test_english_keywords_match_whole_words_only(categorizer):
    assert "bus" not in categorizer.rule_scores("", "my business license renewal")[1]


def test_invalid_taxonomy_files_are_refused():
    with pytest.raises(TaxonomyError, match="pattern"):
        parse_taxonomy({"categories": [{"name": "a", "department": "d", "subcategories": [{"name": "s", "patterns": ["(("]}]}]})
    with pytest.raises(TaxonomyError, match="Extra inputs"):
        parse_taxonomy({"categories": [{"name": "a", "department": "d", "subcategories": [{"name": "s"}]}], "colour": 1})
    with pytest.raises(TaxonomyError, match="does not exist"):
        load_taxonomy("/nonexistent/taxonomy.yaml")


def test_places():
    gazetteer = load_gazetteer()
    here = gazetteer.locate("稠城街道绣湖社区旁边的路灯坏了")
    assert (here.town, here.community) == ("稠城街道", "绣湖社区") and here.lat is not None
    market = gazetteer.locate("国际商贸城附近停车难")
    assert market.town == "福田街道" and market.address == "国际商贸城"
    road = gazetteer.locate("佛堂镇工人路12号有人乱倒垃圾")
    assert road.town == "佛堂镇" and road.address == "佛堂镇工人路12号"
    assert gazetteer.locate("北京某地").town is None
    with pytest.raises(GazetteerError):
        parse_gazetteer({"city": "x", "landmarks": [{"name": "某市场", "town": "不存在镇"}]})


def test_priority_reasons():
    calm = assess_priority("路灯不亮")
    assert calm.priority == 10 and calm.reasons == ()
    hot = assess_priority("小区电梯困人，里面有老人，情况紧急！", report_count=4)
    assert hot.priority == 10 + 35 + 15 + 10 + 12
    assert set(hot.reasons) == {"safety:困人", "vulnerable:老人", "urgent:紧急", "reports:4"}
    assert "recurred_after_close" in assess_priority("again", recurred_after_close=True).reasons
    assert assess_priority("fire! gas leak! elderly children urgent", report_count=10_000, recurred_after_close=True).priority == 100


def dedup():
    return Deduplicator(MemoryDedupState(), DedupConfig())


def test_exact_and_near_duplicates_join_the_first_leads_case():
    d = dedup()
    assert d.assign("a", "电梯停运一周无人修", POST).is_primary
    assert d.assign("b", "电梯停运一周无人修", POST).kind == "exact"
    near = d.assign("c", "", "【转帖】" + POST + "求扩散")
    assert (near.case_id, near.kind) == ("a", "near")
    summary = d.assign("d", "", "市民来电反映：稠城街道幸福小区3号楼的电梯已经停运一周了，物业一直说在等配件。")
    assert summary.case_id == "a"
    preview = d.assign("e", "电梯停运一周无人修", POST[:50] + "…")
    assert preview.case_id == "a"


def test_different_complaints_about_the_same_estate_stay_apart():
    d = dedup()
    d.assign("a", "电梯停运", POST)
    parking = d.assign("p", "幸福小区停车难", "稠城街道幸福小区停车位严重不足，晚上车辆乱停乱放，消防通道被堵，希望物业规划停车位。")
    noise = d.assign("n", "幸福小区噪音", "稠城街道幸福小区旁边工地夜间施工，噪音很大，老人孩子无法休息，希望有关部门管一管。")
    assert parking.case_id == "p" and noise.case_id == "n"


def test_time_window_and_replays():
    d = Deduplicator(MemoryDedupState(), DedupConfig(window_days=30))
    first = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    d.assign("a", "t", POST, first)
    assert d.assign("b", "t", POST, first + dt.timedelta(days=60)).case_id == "b"
    assert d.assign("c", "t", POST, first + dt.timedelta(days=10)).case_id == "a"
    assert d.assign("a", "t", POST, first).case_id == "a"  # replay: same answer


def test_anchor_helpers():
    cfg = DedupConfig()
    assert anchors("", POST, cfg) == anchors("", POST, cfg)  # stable, not salted
    a, b = anchors("", POST, cfg), anchors("", POST[:40], cfg)
    jac, cont = similarity(a, b)
    assert cont == 1.0 and jac < 1.0
    assert fingerprint("T", "电梯，坏了") == fingerprint("t", "电梯坏了")


def test_a_popular_case_keeps_attracting_its_reports():
    # 150 reports of one problem must not crowd the case out of its own anchors' postings.
    d = dedup()
    d.assign("first", "电梯停运", POST)
    for i in range(150):
        assert d.assign(f"r{i}", "", f"【第{i}次反映】{POST}").case_id == "first"
    late = d.assign("late", "", "市民来电反映：稠城街道幸福小区3号楼的电梯已经停运一周了，物业一直说在等配件。")
    assert late.case_id == "first"


def test_a_repost_joins_even_when_every_anchor_of_its_original_is_common():
    # In a large state nearly every anchor is common to many cases. Each half of POST appears in 70
    # other complaints (with enough text of their own to be different cases), so every anchor of
    # POST has a long posting; the original is still among each posting's newest and must be found.
    import random

    rng = random.Random(3)
    d = dedup()
    halves = (POST[: len(POST) // 2], POST[len(POST) // 2 :])
    for i in range(140):
        filler = "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(200))
        assert d.assign(f"f{i}", "", halves[i % 2] + filler).kind == "new"
    d.assign("original", "电梯停运", POST)
    assert d.assign("repost", "", "【转帖】" + POST + "求扩散").case_id == "original"


def test_dedup_state_candidates_are_ranked_by_shared_anchors_within_the_kept_postings():
    from enrichers.dedup import Sketch

    state = MemoryDedupState()
    state.put(Sketch("a", "a", "fa", [1, 2, 3, 4], None), max_postings=2)
    state.put(Sketch("b", "b", "fb", [1, 2, 3], None), max_postings=2)
    state.put(Sketch("c", "c", "fc", [1, 2], None), max_postings=2)
    # Anchors 1 and 2 keep only their two newest leads (b, c): a is found through 3 and 4 alone.
    assert [s.lead_id for s in state.candidates([1, 2, 3, 4], floor=1, limit=10, votes=100)] == ["b", "c", "a"]  # a, c tie: newer first
    assert [s.lead_id for s in state.candidates([1, 2, 3, 4], floor=3, limit=10, votes=100)] == ["b"]
    assert [s.lead_id for s in state.candidates([1, 2], floor=2, limit=1, votes=100)] == ["c"]
    assert state.candidates([9], floor=1, limit=10, votes=100) == []
    # A small budget reads the rarest anchor's posting first: 4 (only a ever had it).
    assert [s.lead_id for s in state.candidates([1, 2, 3, 4], floor=1, limit=10, votes=1)] == ["a"]
    assert state.lead_with_fingerprint("fb") == "b" and state.get("c").case_id == "c" and len(state) == 3
