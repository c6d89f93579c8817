"""A case named by a typed id (leadhub/case_lookup.py): its whole id, the first characters the tables
show, or a lead's id open the case page from the search box, the /cases/ address and `leadhub search`;
an id start that names nothing is searched as words (one several cases share: tests/api_suite.py, on
both stores). On the embedded store with leads that went through the real pipeline (their ids are
hashes)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from leadhub.case_lookup import case_id_for, looks_like_id
from schemas.leads import RawLead

AT = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def looked_up(tmp_path_factory):
    """An embedded leadhub with two cases of hashed ids: a lift (two leads) and a street light."""
    from fastapi.testclient import TestClient

    from leadhub.api.app import create_app
    from tests import api_env

    env = api_env.start_embedded(tmp_path_factory.mktemp("lookup"))
    raws = [
        RawLead(source="hotline-12345", channel="hotline", external_id="w1", title="幸福小区电梯停运",
                body="稠城街道幸福小区3号楼电梯停运一周了，物业一直拖着不修。", published_at=AT),
        RawLead(source="hotline-12345", channel="hotline", external_id="w2", title="幸福小区电梯停运",
                body="稠城街道幸福小区3号楼电梯停运一周了，物业一直拖着不修。", published_at=AT + dt.timedelta(hours=1)),
        RawLead(source="hotline-12345", channel="hotline", external_id="w3", title="江滨路路灯不亮",
                body="江滨路南段的路灯晚上一直不亮，行人过马路很危险。", published_at=AT),
    ]  # fmt: skip
    env.pipeline.submit_raw(raws)
    store = env.context.store
    leads = {hit["external_id"]: hit for hit in store.search(_leads_request()).hits}
    with TestClient(create_app(env.context)) as client:
        yield env, client, leads
    env.close()


def _leads_request():
    from leadhub.queries import Filters, SearchRequest

    return SearchRequest(kind="leads", filters=Filters(source=["hotline-12345"]), size=50, facets=False)


def test_only_six_or_more_hex_characters_look_like_an_id():
    assert looks_like_id("7fb8526c8c") and looks_like_id(" 7FB852 ") and looks_like_id("a" * 32)
    assert not looks_like_id("7fb85") and not looks_like_id("电梯") and not looks_like_id("a" * 33) and not looks_like_id("7fb8-26c8c")
    assert not looks_like_id("202612") and not looks_like_id("3220001") and looks_like_id("20261207")  # one kind alone: 8+
    assert not looks_like_id("facade") and looks_like_id("fa3ade")


def test_a_case_id_its_start_or_a_leads_id_name_the_case(looked_up):
    env, _, leads = looked_up
    store = env.context.store
    lift, second, light = leads["w1"], leads["w2"], leads["w3"]
    assert lift["case_id"] == second["case_id"] != light["case_id"]
    case = lift["case_id"]
    assert case_id_for(store, case) == case
    assert case_id_for(store, case[:10]) == case and case_id_for(store, case[:10].upper()) == case
    assert case_id_for(store, second["lead_id"][:10]) == case  # a later lead's id: its case
    assert case_id_for(store, "ffffff0000") is None  # nothing starts so
    assert case_id_for(store, "幸福小区") is None


def test_the_search_box_and_the_case_address_open_the_case(looked_up):
    env, client, leads = looked_up
    case = leads["w1"]["case_id"]
    headers = {"accept": "text/html", **env.headers("analyst")}
    typed = client.get("/search", params={"q": case[:10]}, headers=headers, follow_redirects=False)
    assert typed.status_code == 303 and typed.headers["location"] == f"/cases/{case}"
    short = client.get(f"/cases/{case[:10]}", headers=headers, follow_redirects=False)
    assert short.status_code == 303 and short.headers["location"] == f"/cases/{case}"
    by_lead = client.get(f"/cases/{leads['w2']['lead_id']}", headers=headers, follow_redirects=False)
    assert by_lead.status_code == 303 and by_lead.headers["location"] == f"/cases/{case}"
    assert client.get(f"/cases/{case}", headers=headers).status_code == 200
    # nothing by that id: still the search, and still the case page's 404
    words = client.get("/search", params={"q": "ffffff0000"}, headers=headers, follow_redirects=False)
    assert words.status_code == 200
    missing = client.get("/cases/ffffff0000", headers=headers, follow_redirects=False)
    assert missing.status_code == 404
    # page 2 of a search is a search, whatever its words
    assert client.get("/search", params={"q": case[:10], "page": 2}, headers=headers, follow_redirects=False).status_code == 200


def test_leadhub_search_shows_the_case_a_typed_id_names(looked_up, capsys):
    from leadhub.cli import main

    env, _, leads = looked_up
    case = leads["w1"]["case_id"]
    assert main([*env.cli_args, "search", case[:10], "--json"]) == 0
    captured = capsys.readouterr()
    assert [hit["case_id"] for hit in json.loads(captured.out)["hits"]] == [case]
    assert f"names case {case}" in captured.err
    assert main([*env.cli_args, "search", case[:10], "--kind", "leads", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert sorted(hit["lead_id"] for hit in hits) == sorted([leads["w1"]["lead_id"], leads["w2"]["lead_id"]])
