"""Corrections teach level-2 classes and departments (issue 21): a version trained with --corrections
carries a department map and a level-2 model learned from the officers' recategorize events, and
routes with them; below the support threshold nothing is learned; promote/rollback carry the map.
The base data, the city's taxonomy and the corrections are written here, tiny."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from enrichers.learned_routing import TAXONOMY, RoutingFact, learn, learn_departments
from enrichers.model_card import card_path, read_card
from enrichers.model_versions import promote, rollback
from enrichers.taxonomy import DEFAULT_TAXONOMY
from leadhub.commands.offline_cmd import train_model
from leadhub.embedded import EmbeddedPipeline, EmbeddedPublisher
from leadhub.settings import build_settings, parse_overrides
from schemas.cases import CaseEvent
from schemas.leads import RawLead
from streams.pipeline import build_categorizer

POLICE = "市公安局交通警察大队"
PROPERTY_DEPT = "市物业管理中心"
UNIONS = "市总工会"
# Bus stops: the rules file them under 交通运输 (市交通运输局); this city's officers move them to the police.
BUS = [
    ("公交站牌损坏", "北苑街道公交站的站牌被车撞歪了，一直没人修理"),
    ("公交车站台破损", "稠城街道公交车站台的顶棚塌了一半，下雨没地方躲"),
    ("公交线路站牌", "江东街道新开的公交线路站牌写错了站名"),
    ("公交站候车亭", "后宅街道公交站候车亭的座椅坏了好几个月"),
]
# Property management: a new level-2 class of 城乡建设 in the city's taxonomy, with no keywords.
PROPERTY = [
    ("物业乱收费", "小区物业公司今年突然涨了物业费，还乱收停车管理费"),
    ("物业不作为", "物业公司对小区楼道堆放杂物不管不问，业主投诉没人理"),
    ("物业服务差", "物业保安晚上不巡逻，小区门禁坏了物业也不修"),
    ("物业费争议", "物业公司拿业主的公共收益不公开，物业费却年年涨"),
]
# Wages: only two cases moved to the unions, fewer than the support threshold (3).
WAGES = [("拖欠工资", "建筑工地老板拖欠农民工工资三个月"), ("工资不发", "工厂停工后拖欠工人工资不发")]


def _city_taxonomy(tmp: Path) -> Path:
    anchor = "      - name: 住房保障与房地产\n"
    text = DEFAULT_TAXONOMY.read_text(encoding="utf-8")
    path = tmp / "taxonomy.yaml"
    path.write_text(text.replace(anchor, f"      - name: 物业管理\n        department: {PROPERTY_DEPT}\n        keywords: []\n" + anchor), encoding="utf-8")
    return path


def _base_csv(tmp: Path) -> Path:
    rows = ["title,text,label"]
    for i in range(30):
        rows.append(f"道路{i},小区门口道路破损第{i}处没人修,城乡建设")
        rows.append(f"工资{i},公司拖欠工资第{i}个月,劳动和社会保障")
        rows.append(f"公交{i},公交车晚点第{i}次司机态度差,交通运输")
    path = tmp / "base.csv"
    path.write_text("\n".join(rows), encoding="utf-8")
    return path


def _settings(tmp: Path, model: str = "none"):
    overrides = ["mode=embedded", f"embedded.path={tmp / 'e.sqlite'}", f"routing.model_dir={tmp / 'models'}",
                 f"routing.model={model}", f"routing.taxonomy={tmp / 'taxonomy.yaml'}"]  # fmt: skip
    return build_settings(overrides=parse_overrides(overrides))


def _train(tmp: Path, *, corrections: bool) -> Path:
    with redirect_stdout(io.StringIO()):
        return train_model(data=tmp / "base.csv", text_col="title,text", label_col="label", out=None, seed=0,
                           corrections=corrections, corrections_holdout=0.0, settings=_settings(tmp))  # fmt: skip


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Path:
    """A store where officers moved four bus-stop cases' department only, filed four property cases
    under the new 城乡建设/物业管理, and moved two wage cases to the unions; v0001 is trained without
    corrections, v0002 with them."""
    tmp = tmp_path_factory.mktemp("city")
    _city_taxonomy(tmp)
    _base_csv(tmp)
    pipeline = EmbeddedPipeline(_settings(tmp))
    publisher = EmbeddedPublisher(pipeline)
    kinds = {"bus": BUS, "property": PROPERTY, "wages": WAGES}
    leads = {kind: [RawLead(source="forum-yiwu", channel="forum", external_id=f"{kind}{i}", title=t, body=b)
                    for i, (t, b) in enumerate(rows)] for kind, rows in kinds.items()}  # fmt: skip
    pipeline.submit_raw([lead for group in leads.values() for lead in group])
    case_of = {lead.external_id: pipeline.store.get("leads", lead.lead_id)["case_id"] for group in leads.values() for lead in group}
    assert len(set(case_of.values())) == len(case_of)  # every report its own case
    for i in range(len(BUS)):
        publisher.publish_event(CaseEvent(case_id=case_of[f"bus{i}"], action="recategorize", actor="调度员", department=POLICE))
    for i in range(len(PROPERTY)):
        publisher.publish_event(CaseEvent(case_id=case_of[f"property{i}"], action="recategorize", actor="调度员",
                                          level1="城乡建设", level2="物业管理", department=PROPERTY_DEPT))  # fmt: skip
    for i in range(len(WAGES)):
        publisher.publish_event(CaseEvent(case_id=case_of[f"wages{i}"], action="recategorize", actor="调度员", department=UNIONS))
    pipeline.close()
    _train(tmp, corrections=False)
    _train(tmp, corrections=True)
    return tmp


def _route(tmp: Path, model: str, title: str, text: str):
    return build_categorizer(_settings(tmp, model).routing).categorize(title, text)


def test_a_department_only_correction_changes_routing_after_training(city):
    bus = ("公交站牌歪了", "佛堂镇公交站的站牌歪倒在路边")
    before = _route(city, str(city / "models" / "v0001" / "classifier.pkl"), *bus)
    after = _route(city, str(city / "models" / "v0002" / "classifier.pkl"), *bus)
    assert before.category == after.category == "交通运输"
    assert before.department == "市交通运输局" and after.department == POLICE


def test_a_new_level2_class_without_keywords_is_learned(city):
    lead = ("物业公司乱收费", "我们小区物业公司乱收电梯维修费，物业费也涨了")
    before = _route(city, str(city / "models" / "v0001" / "classifier.pkl"), *lead)
    after = _route(city, str(city / "models" / "v0002" / "classifier.pkl"), *lead)
    assert before.subcategory != "物业管理"
    assert (after.category, after.subcategory, after.department) == ("城乡建设", "物业管理", PROPERTY_DEPT)
    # A 城乡建设 lead of another kind keeps the rules' level-2 and department.
    road = _route(city, str(city / "models" / "v0002" / "classifier.pkl"), "道路破损", "小区门口道路破损好几处没人修")
    assert road.category == "城乡建设" and road.subcategory != "物业管理" and road.department != PROPERTY_DEPT


def test_below_the_support_threshold_nothing_changes(city):
    wage = ("拖欠工资", "老板拖欠我们三个月工资")
    after = _route(city, str(city / "models" / "v0002" / "classifier.pkl"), *wage)
    assert after.category == "劳动和社会保障" and after.department == "市人力资源和社会保障局"
    learned = read_card(card_path(city / "models" / "v0002" / "classifier.pkl"))["learned"]
    assert learned["department_support"]["劳动和社会保障"] == {UNIONS: 2}  # counted, not learned
    assert "劳动和社会保障" not in learned["departments"]


def test_the_card_records_what_was_learned(city):
    learned = read_card(card_path(city / "models" / "v0002" / "classifier.pkl"))["learned"]
    assert learned["departments"]["交通运输"] == POLICE
    assert learned["level2_classes"] == {"城乡建设/物业管理": len(PROPERTY)}
    # The property cases went where the city's taxonomy sends 物业管理: no department lesson for 城乡建设.
    assert learned["department_support"]["城乡建设/物业管理"] == {TAXONOMY: len(PROPERTY)}
    assert "城乡建设" not in learned["departments"]
    assert read_card(card_path(city / "models" / "v0001" / "classifier.pkl")).get("learned") is None


def test_promote_and_rollback_carry_the_map(city):
    bus = ("公交站牌歪了", "佛堂镇公交站的站牌歪倒在路边")
    models = city / "models"
    promote(models, "v0001")
    assert _route(city, "default", *bus).department == "市交通运输局"
    promote(models, "v0002")
    assert _route(city, "default", *bus).department == POLICE
    rollback(models)
    assert _route(city, "default", *bus).department == "市交通运输局"


def test_department_map_needs_a_clear_majority():
    def fact(department: str, level2: str | None = None) -> RoutingFact:
        return RoutingFact("c", ("t",), "交通运输", level2, department)

    def default(level1: str, level2: str | None) -> str:
        return "市交通运输局"

    split = [fact(POLICE)] * 3 + [fact("市城管局")] * 2
    assert learn_departments(split, 3, default)[0] == {}
    clear = [fact(POLICE, "出租车管理")] * 4 + [fact("市交通运输局", "出租车管理")]
    assert learn_departments(clear, 3, default)[0] == {"交通运输": POLICE, "交通运输/出租车管理": POLICE}


def test_level2_classes_of_two_families_are_each_found_by_their_subject_among_long_texts():
    """A sparse model per learned class: the subject word decides, however much else a message says."""
    filler = "，".join(["我们小区门口的情况已经持续很久了", "希望有关部门尽快处理", "多次反映没有结果"] * 4)
    facts = [RoutingFact(f"p{i}", (f"物业公司第{i}次乱收费{filler}",), "城乡建设", "物业管理", None) for i in range(4)]
    facts += [RoutingFact(f"t{i}", (f"出租车第{i}次拒载{filler}",), "交通运输", "出租车管理", None) for i in range(4)]
    base_texts = [f"道路第{i}处破损{filler}" for i in range(20)] + [f"公交第{i}次晚点{filler}" for i in range(20)]
    base_labels = ["城乡建设"] * 20 + ["交通运输"] * 20
    learned = learn(facts, base_texts, base_labels, default_department=lambda *_: None, min_support=3)
    assert set(learned.level2_classes) == {"城乡建设/物业管理", "交通运输/出租车管理"}
    found = learned.level2_many([f"物业又乱收费{filler}", f"出租车又拒载{filler}", f"道路又破损{filler}"])
    assert found[0][:2] == ("城乡建设", "物业管理") and found[0][2] >= learned.level2_threshold
    assert found[1][:2] == ("交通运输", "出租车管理") and found[1][2] >= learned.level2_threshold
    assert found[2][2] < learned.level2_threshold  # a road lead is neither
