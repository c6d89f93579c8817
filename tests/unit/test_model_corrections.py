"""Corrections are training data (issue 21): recategorized cases in an embedded store become weighted
training rows of a new model version, whose card compares it with the model in use on the same
validation rows and on the corrections it was not trained on. The base data is written here, tiny."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from enrichers.classifier import TextClassifier, train
from enrichers.model_card import read_card
from enrichers.model_versions import model_file, versions
from leadhub.cli import main
from leadhub.corrections import Correction, hold_out, label_of, learnable, read_corrections
from leadhub.embedded import EmbeddedPipeline, EmbeddedPublisher
from leadhub.settings import build_settings, parse_overrides
from schemas.cases import CaseEvent
from schemas.leads import RawLead
from tests.train_data import two_class_csv

# Restaurant fumes and noise: a class the base data below never saw; officers file each case under 环境保护.
FUMES = [
    ("饭店油烟扰民", "楼下新开的烧烤店每天晚上排放大量油烟，熏得我们家不敢开窗"),
    ("餐馆油烟直排", "小吃街一家面馆没有装油烟净化器，油烟直接排到居民楼道里"),
    ("排油烟管道噪声", "饭店的排烟风机半夜还在轰轰响，油烟味道也很重，影响休息"),
    ("火锅店油烟", "商铺里的火锅店油烟管道接到住宅阳台下面，夏天油烟熏人"),
    ("烧烤摊油烟", "夜市烧烤摊露天炭火烧烤，烟雾油烟飘进小区，老人孩子咳嗽"),
    ("快餐店排烟", "快餐店厨房排烟口正对人行道，路过满身油烟味，请环保部门查处"),
]
OTHER = ("公交站牌损坏", "北苑街道公交站的站牌被车撞歪了，一直没人修理，晚上看不清线路")


def _base_csv(tmp: Path) -> Path:
    return two_class_csv(tmp / "base.csv")


def _overrides(tmp: Path) -> list[str]:
    return ["mode=embedded", f"embedded.path={tmp / 'e.sqlite'}", f"routing.model_dir={tmp / 'models'}", "routing.model=none"]


@pytest.fixture(scope="module")
def store_with_corrections(tmp_path_factory) -> Path:
    """An embedded store: six fumes cases recategorized to 环境保护 (one twice: the last one counts),
    one case whose department only was changed, one left alone."""
    tmp = tmp_path_factory.mktemp("corrections")
    pipeline = EmbeddedPipeline(build_settings(overrides=parse_overrides(_overrides(tmp))))
    publisher = EmbeddedPublisher(pipeline)
    leads = [RawLead(source="forum-yiwu", channel="forum", external_id=f"f{i}", title=t, body=b) for i, (t, b) in enumerate(FUMES)]
    other = RawLead(source="forum-yiwu", channel="forum", external_id="bus", title=OTHER[0], body=OTHER[1])
    alone = RawLead(source="forum-yiwu", channel="forum", external_id="lift", title="电梯停运", body="幸福小区电梯坏了一周物业不修")
    pipeline.submit_raw([*leads, other, alone])
    case_of = {lead.external_id: pipeline.store.get("leads", lead.lead_id)["case_id"] for lead in [*leads, other, alone]}
    assert len(set(case_of.values())) == 8  # every report its own case
    publisher.publish_event(CaseEvent(case_id=case_of["f0"], action="recategorize", actor="调度员甲", level1="交通运输"))
    for i in range(len(FUMES)):
        publisher.publish_event(
            CaseEvent(case_id=case_of[f"f{i}"], action="recategorize", actor="调度员乙", level1="环境保护", level2="大气污染")
        )
    publisher.publish_event(CaseEvent(case_id=case_of["bus"], action="recategorize", actor="调度员甲", department="市交通运输局"))
    pipeline.close()
    return tmp


def test_corrections_are_read_from_the_store_with_the_last_category_set(store_with_corrections):
    pipeline = EmbeddedPipeline(build_settings(overrides=parse_overrides(_overrides(store_with_corrections))))
    try:
        rows = read_corrections(pipeline.store)
    finally:
        pipeline.close()
    fumes = [r for r in rows if r.actor == "调度员乙"]
    assert len(fumes) == len(FUMES) and {r.label for r in fumes} == {"环境保护"}
    assert sorted(r.text.split("\n")[0] for r in fumes) == sorted(t for t, _ in FUMES)  # title and (normalized) text
    assert len({r.case_id for r in fumes}) == len(FUMES)
    # The department-only case is a row too, labelled with the class the officer kept; the one left alone is none.
    (kept,) = [r for r in rows if r.actor == "调度员甲"]
    assert kept.text.split("\n")[0] == OTHER[0] and kept.label
    assert len(rows) == len(FUMES) + 1


def test_a_department_only_recategorize_confirms_the_category_it_kept():
    case = {"history": [
        {"action": "recategorize", "category": {"level1": "城乡建设", "level2": None}, "actor": "b", "at": "t2",
         "from_category": {"level1": "城乡建设", "level2": None}, "department": "市交通运输局", "from_department": "市住建局"},
    ]}  # fmt: skip
    assert label_of(case) == ("城乡建设", "b", "t2")  # a person read it and kept the class
    assert label_of({"history": [{"action": "recategorize", "category": {"level1": None}}]}) is None  # no class to keep
    assert label_of({"history": [{"action": "note", "actor": "x"}]}) is None
    # The last recategorize decides: a class set earlier, then kept while the department moved.
    case["history"].insert(0, {"action": "recategorize", "category": {"level1": "交通运输"}, "from_category": None,
                               "department": "市交通运输局", "from_department": None, "actor": "a", "at": "t"})  # fmt: skip
    case["history"][1]["category"] = case["history"][1]["from_category"] = {"level1": "交通运输"}
    case["history"].append({"action": "note", "actor": "x"})
    assert label_of(case) == ("交通运输", "b", "t2")


def test_hold_out_is_by_case_stable_and_keeps_both_sides():
    rows = [Correction(f"case{i // 2}", f"lead{i}", f"text {i}", "环境保护", "a", "t") for i in range(20)]
    trained, held = hold_out(rows, 0.2)
    assert {r.case_id for r in trained}.isdisjoint({r.case_id for r in held})
    assert held and trained and len(trained) + len(held) == 20
    assert hold_out(list(reversed(rows)), 0.2)[1] == list(reversed(held))  # the same cases, whatever the order
    two = rows[:4]  # two cases: one each side, whatever the hash says
    assert len({r.case_id for r in hold_out(two, 0.9)[1]}) == 1 and len({r.case_id for r in hold_out(two, 0.01)[1]}) == 1


def test_train_with_corrections_writes_a_version_whose_card_compares_it_with_the_model_in_use(store_with_corrections):
    tmp = store_with_corrections
    args = ["model", "train", "--data", str(_base_csv(tmp)), "--text-col", "title,text", "--label-col", "label",
            "--corrections", "--corrections-weight", "4", "--corrections-holdout", "0.34"]  # fmt: skip
    out = io.StringIO()
    with redirect_stdout(out):
        assert main([*[a for o in _overrides(tmp) for a in ("--set", o)], *args]) == 0
    assert "corrections from" in out.getvalue() and "held-out corrections" in out.getvalue()
    (version,) = versions(tmp / "models")
    card = read_card(version.path.with_name("classifier.card.json"))
    corrections = card["corrections"]
    # The fumes cases, and the bus case whose department only was moved (its kept class is a row too;
    # one row of a class the base data lacks waits for more: too few to learn).
    assert corrections["cases"] == len(FUMES) + 1 and corrections["labels"] == ["交通运输", "环境保护"]
    assert corrections["too_few_labels"] == ["交通运输"] and corrections["too_few_to_learn"] + corrections["held_out"] >= 1
    assert corrections["held_out"] >= 1 and corrections["trained_on"] >= 1
    assert corrections["trained_on"] + corrections["held_out"] + corrections["too_few_to_learn"] == len(FUMES) + 1
    assert corrections["holdout_share"] == 0.34
    assert "--corrections --corrections-weight 4.0" in card["training"]["command"]
    assert card["data"]["train_rows"] == 60 + corrections["trained_on"]

    comparison = card["comparison"]
    assert comparison["in_use"] == "rules"
    assert comparison["validation"]["rows"] == card["validation"]["validation_size"] == 12
    held = comparison["held_out_corrections"]
    assert held["rows"] == corrections["held_out"]
    # The new model learnt the class from the corrections alone: it gets the fumes cases it never saw right.
    assert held["new"]["accuracy"] == 1.0
    model = TextClassifier.load(model_file(tmp / "models", version.name))
    assert "环境保护" in model.labels
    shown = io.StringIO()
    with redirect_stdout(shown):
        assert main(["model", "card", str(version.path)]) == 0
    assert f"version    {version.name}" in shown.getvalue() and "held-out corrections: this model macro-F1" in shown.getvalue()


def test_without_corrections_in_the_store_the_command_says_so(tmp_path, capsys):
    EmbeddedPipeline(build_settings(overrides=parse_overrides(_overrides(tmp_path)))).close()
    args = ["model", "train", "--data", str(_base_csv(tmp_path)), "--text-col", "title,text", "--label-col", "label", "--corrections"]
    assert main([*[a for o in _overrides(tmp_path) for a in ("--set", o)], *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no recategorized cases") and len(err.strip().splitlines()) == 1


def test_corrections_weigh_what_the_flag_says():
    """The weight reaches the classifier: a correction that contradicts the base data wins only when it
    weighs more than the rows it contradicts."""
    texts = [f"小区电梯坏了物业不修第{i}次" for i in range(20)] + [f"公司拖欠工资第{i}个月" for i in range(20)]
    labels = ["城乡建设"] * 20 + ["劳动和社会保障"] * 20
    extra = [f"电梯维修基金被挪用第{i}回" for i in range(3)]
    light = train(texts, labels, validation_share=0, extra_texts=extra, extra_labels=["经济管理"] * 3, extra_weights=[0.05] * 3)
    heavy = train(texts, labels, validation_share=0, extra_texts=extra, extra_labels=["经济管理"] * 3, extra_weights=[30.0] * 3)
    probe = ["电梯维修基金被挪用第9回"]
    assert heavy.predict_proba(probe)[0]["经济管理"] > light.predict_proba(probe)[0]["经济管理"]
    with pytest.raises(ValueError, match="one weight per extra row"):
        train(texts, labels, validation_share=0, extra_texts=extra, extra_labels=["经济管理"] * 3, extra_weights=[1.0])


def test_a_class_with_fewer_than_three_training_rows_waits_and_is_counted():
    def rows(label: str, n: int) -> list[Correction]:
        return [Correction(f"{label}{i}", f"{label}-lead{i}", f"text {i}", label, "a", "t") for i in range(n)]

    base = ["城乡建设"] * 10 + ["交通运输"] * 2  # 交通运输: one row left for training after a 0.2 validation share
    kept, too_few = learnable(rows("环境保护", 3) + rows("民政", 2) + rows("城乡建设", 1) + rows("交通运输", 1), base, 0.2)
    assert sorted({c.label for c in kept}) == ["城乡建设", "环境保护"]  # 城乡建设: the base has plenty of it
    assert sorted(c.label for c in too_few) == ["交通运输", "民政", "民政"]


def test_training_on_too_few_rows_of_a_class_is_a_one_line_error(tmp_path, capsys):
    data = tmp_path / "tiny.csv"
    data.write_text("title,text,label\n" + "\n".join(f"电梯{i},电梯坏了{i},城乡建设" for i in range(10)) + "\n工资,拖欠工资,劳动和社会保障\n", encoding="utf-8")
    args = ["--set", f"routing.model_dir={tmp_path / 'models'}", "model", "train", "--data", str(data), "--text-col", "title,text", "--label-col", "label"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: cannot train on this data") and "Traceback" not in "".join(err)
    assert [line for line in err if line.startswith("error:")] == err[-1:]  # after the progress line, one error line
    assert not (tmp_path / "models" / "v0001").exists()  # no empty version folder left behind
