"""Corrections from the search engine (issue 21): cases recategorized through the API on OpenSearch are
read back through the engine's read store, and `leadhub model train --corrections` learns from them.
The embedded store's half: tests/unit/test_model_corrections.py."""

from __future__ import annotations

import io
import time
from contextlib import redirect_stdout

import pytest

from enrichers.model_card import read_card
from enrichers.model_versions import versions
from leadhub.cli import main
from leadhub.corrections import read_corrections
from tests import api_env

pytestmark = pytest.mark.integration

RECATEGORIZE = {"action": "recategorize", "level1": "环境保护", "level2": "环境污染", "department": api_env.api_data.ENVIRONMENT}
REPORTS = {  # three reports a case: a class needs three training rows, and one case may be all that is trained on
    "fumes-a": [("hotline", "稠城街道一家烧烤店每天晚上排放大量油烟，熏得居民不敢开窗。"), ("forum", "烧烤店油烟太大了，整栋楼都是烟味。"),
                ("news", "居民反映烧烤店油烟扰民问题持续一个月。")],
    "fumes-b": [("hotline", "江东街道河道有人偷排污水，水面发黑发臭。"), ("forum", "河里的水又黑又臭，是不是有工厂偷排？"),
                ("news", "江东河道污水直排问题再次被曝光。")],
    "fumes-c": [("hotline", "城西街道工地夜间焚烧垃圾，浓烟刺鼻。"), ("forum", "半夜有人烧垃圾，烟味飘进小区。"),
                ("news", "工地焚烧垃圾污染空气，居民投诉。")],
}  # fmt: skip


def _decided(client, env, cid: str, timeout_s: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        case = client.get(f"/api/v1/cases/{cid}", headers=env.headers("admin")).json()
        if case.get("category_source") == "human" or time.monotonic() > deadline:
            return case
        time.sleep(0.3)


def test_recategorized_cases_on_the_engine_are_training_rows(client, env, tmp_path):
    made = {}
    for name, texts in REPORTS.items():
        leads, case = api_env.make_case(env, name, texts)
        answer = client.post(f"/api/v1/cases/{case.case_id}/events", json=RECATEGORIZE, headers=env.headers("officer"))
        assert answer.status_code in (201, 202), answer.text
        made[case.case_id] = leads
    for cid in made:
        assert _decided(client, env, cid)["category_source"] == "human"

    # A search sees a change after the index's next refresh (search.refresh_interval), a GET at once.
    deadline = time.monotonic() + 10
    while True:
        rows = [r for r in read_corrections(env.context.store) if r.case_id in made]
        if {r.case_id for r in rows} == set(made) or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert {(r.case_id, r.lead_id) for r in rows} == {(cid, lead.lead_id) for cid, leads in made.items() for lead in leads}
    assert {r.label for r in rows} == {"环境保护"} and {r.actor for r in rows} == {"officer-housing"}

    data = tmp_path / "base.csv"
    data.write_text("\n".join(["title,text,label"] + [f"电梯{i},小区电梯坏了物业不修第{i}次,城乡建设\n工资{i},公司拖欠工资第{i}个月,劳动和社会保障"
                                                      for i in range(30)]), encoding="utf-8")  # fmt: skip
    args = [*env.cli_args, "--set", f"search.url={env.settings.search.url}", "--set", f"routing.model_dir={tmp_path / 'models'}",
            "--set", "routing.model=none", "model", "train", "--data", str(data), "--text-col", "title,text",
            "--label-col", "label", "--corrections"]  # fmt: skip
    with redirect_stdout(io.StringIO()):
        assert main(args) == 0
    (version,) = versions(tmp_path / "models")
    corrections = read_card(version.path.with_name("classifier.card.json"))["corrections"]
    assert corrections["cases"] >= 3 and corrections["held_out_cases"] >= 1 and corrections["trained_on"] >= 3
    assert "环境保护" in corrections["labels"]
