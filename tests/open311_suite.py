"""Open311 GeoReport v2 as a standard client reads it, for both stores: a small client written from
the spec (``api_key`` in the query, XML first, errors as ``<errors><error>``) against leadhub. Its
halves: tests/unit/test_open311_api_embedded.py (embedded SQLite) and
tests/integration/test_open311_api.py (Kafka + OpenSearch); this module is not collected on its own."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from urllib.parse import urlsplit

import defusedxml.ElementTree as SafeET
import pytest

from schemas.cases import Case
from schemas.leads import Category, GeoPoint, Lead, Place, RawLead
from tests import api_data, api_env
from tests.photo_suite import photo

NOW = api_data.NOW


class SpecClient:
    """What the GeoReport v2 spec tells a client to do, and nothing leadhub-specific: GET with
    ``api_key`` as a query parameter, ``.xml`` or ``.json`` by suffix, errors read from the body."""

    def __init__(self, http, key: str | None, base: str = "/open311/v2") -> None:
        self.http, self.key, self.base = http, key, base

    def get(self, path: str, **params):
        if self.key is not None:
            params["api_key"] = self.key
        response = self.http.get(f"{self.base}/{path}", params=params)
        assert "charset=utf-8" in response.headers["content-type"], response.headers["content-type"]
        return response

    def xml(self, path: str, **params) -> tuple[int, list[dict[str, str]]]:
        """(status, rows): each item element as {child: text}, errors as [{code, description}]."""
        response = self.get(path, **params)
        assert response.headers["content-type"].startswith("text/xml")
        root = SafeET.fromstring(response.content)
        return response.status_code, [{child.tag: child.text or "" for child in item} for item in root]

    def json(self, path: str, **params) -> tuple[int, list[dict]]:
        response = self.get(path, **params)
        assert response.headers["content-type"].startswith("application/json")
        return response.status_code, response.json()


def spec(client, env, role="analyst") -> SpecClient:
    return SpecClient(client, env.keys[role] if role else None)


def a_case(env, key: str, level1: str, level2: str, days_ago: float, *, raw: dict | None = None) -> str:
    """A fresh routed case of one lead (an officer's report with photos, when ``raw`` is given)."""
    case_id = f"{env.run}-o311-{key}"
    at = NOW - dt.timedelta(days=days_ago)
    place = Place(town="稠城街道", community="幸福社区", address="工人北路88号", geo=GeoPoint(lat=29.31, lon=120.07))
    routed = dict(category=Category(level1=level1, level2=level2), department=api_data.HOUSING, place=place,
                  case_id=case_id, is_primary=True, published_at=at)  # fmt: skip
    if raw is not None:
        fields = {k: v for k, v in raw.items() if k in RawLead.model_fields}
        lead = Lead.from_raw(RawLead(**fields), **routed)
    else:
        lead = Lead(lead_id=case_id, source="forum-yiwu", channel="forum", external_id=case_id, title=f"{level2}问题",
                    text=f"{level1}{level2}方面的问题，请处理。", fetched_at=at, lang="zh", **routed)  # fmt: skip
    case = Case(case_id=case_id, title=lead.title, summary=lead.text, category=lead.category, department=api_data.HOUSING,
                place=place, report_count=1, channels=[lead.channel], sources=[lead.source], first_seen=at, last_seen=at,
                lead_ids=[lead.lead_id])  # fmt: skip
    api_env.write(env, leads=[lead], cases=[case])
    if env.kind != "embedded":  # write() makes the leads searchable; these tests search cases too
        env.context.store.backend.refresh(f"i{env.run}-cases")
    return case_id


@pytest.fixture(scope="module")
def cases(client, env):
    """Two cases of the same level-2 name under different level-1 classes, one 200 days old, and
    one from an experience officer's report with a photo."""
    report = {"title": "小区路面塌陷", "place": "稠城街道", "visited_at": NOW.isoformat(), "tried": "步行经过",
              "went_wrong": "路面塌了一个大坑，没有围挡", "report_id": uuid.uuid4().hex}  # fmt: skip
    sent = client.post("/api/v1/reports", data=report, files=[("photos", ("坑.jpg", photo(), "image/jpeg"))],
                       headers=env.headers("intake"))  # fmt: skip
    assert sent.status_code == 201, sent.text
    raw = env.submitted_lead(sent.json()["lead_id"])
    return {
        "town": a_case(env, "town", "城乡建设", "其他", 2),
        "trade": a_case(env, "trade", "商贸旅游", "其他", 2),
        "old": a_case(env, "old", "城乡建设", "其他", 200),
        "photo": a_case(env, "photo", "城乡建设", "城市建设和市政管理", 1, raw=raw),
    }


def ids(rows) -> set[str]:
    return {r["service_request_id"] for r in rows}


def test_a_spec_client_reads_services_and_requests_as_xml_with_its_api_key(client, env, cases):
    reader = spec(client, env)
    code, services = reader.xml("services.xml")
    assert code == 200 and len(services) == len(env.context.taxonomy.subcategories)
    assert {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"} <= set(services[0])
    assert services[0]["metadata"] == "false" and all("/" not in s["service_code"] for s in services)
    _, as_json = reader.json("services.json")
    assert [s["service_code"] for s in as_json] == [s["service_code"] for s in services]  # the same list

    code, requests = reader.xml("requests.xml")
    assert code == 200 and {env.case_id("lift"), cases["town"], cases["photo"]} <= ids(requests)
    assert cases["old"] not in ids(requests)  # the default window is the last 90 days
    lift = next(r for r in requests if r["service_request_id"] == env.case_id("lift"))
    _, [lift_json] = reader.json(f"requests/{env.case_id('lift')}.json")
    assert lift == {k: "" if v is None else str(v) for k, v in lift_json.items()}  # XML maps the JSON directly
    code, [one] = reader.xml(f"requests/{cases['town']}.xml")
    assert code == 200 and one["service_code"] == "城乡建设.其他" and one["status"] == "open"
    assert one["address"] == "工人北路88号, 幸福社区, 稠城街道"  # most specific first
    assert one["media_url"] == ""  # no photo: no link at all


def test_errors_are_open311_errors_in_the_asked_format(client, env):
    reader = spec(client, env)
    code, [problem] = reader.json("requests.json", start_date="yesterday")
    assert code == 400 and problem["code"] == 400 and "start_date" in problem["description"]
    code, [problem] = reader.xml("requests.xml", start_date="2024-13-45")
    assert code == 400 and problem["code"] == "400" and "start_date" in problem["description"]
    code, [problem] = reader.xml("requests.xml", start_date=(NOW - dt.timedelta(days=100)).isoformat(), end_date=NOW.isoformat())
    assert code == 400 and "90" in problem["description"]
    assert reader.json("requests.json", status="pending")[0] == 400
    code, [problem] = reader.xml("requests/nope.xml")
    assert code == 404 and problem["code"] == "404"
    assert reader.json("services/不存在.json")[0] == 404

    code, [problem] = SpecClient(client, "not-a-key").xml("services.xml")
    assert code == 401 and problem["description"] == "unknown api_key"
    code, [problem] = SpecClient(client, None).json("services.json")
    assert code == 401 and "api_key" in problem["description"]
    assert spec(client, env, "intake").xml("services.xml")[0] == 403


def test_an_empty_parameter_counts_as_absent(client, env):
    reader = spec(client, env)
    code, given = reader.json("requests.json", start_date="", end_date="", service_code="", status="")
    assert code == 200 and ids(given) == ids(reader.json("requests.json")[1])


def test_service_codes_are_or_ed_and_match_both_levels(client, env, cases):
    reader = spec(client, env)
    _, rows = reader.json("requests.json", service_code="城乡建设/其他")  # the older form is still understood
    assert cases["town"] in ids(rows) and cases["trade"] not in ids(rows)
    _, rows = reader.json("requests.json", service_code="城乡建设.其他,商贸旅游.其他")
    assert {cases["town"], cases["trade"]} <= ids(rows)
    _, rows = reader.xml("requests.xml", service_code="环境保护.噪声污染,城乡建设")
    assert {env.case_id("noise"), env.case_id("lift"), cases["town"]} <= ids(rows) and cases["trade"] not in ids(rows)
    assert {r["service_code"].partition(".")[0] for r in rows} == {"环境保护", "城乡建设"}


def test_a_service_code_is_a_path_segment(client, env):
    reader = spec(client, env)
    code, definition = reader.json("services/城乡建设.其他.json")
    assert code == 200 and definition == {"service_code": "城乡建设.其他", "attributes": []}
    response = reader.get("services/城乡建设.其他.xml")
    root = SafeET.fromstring(response.content)
    assert response.status_code == 200 and root.tag == "service_definition" and root.findtext("service_code") == "城乡建设.其他"


def test_end_date_alone_reads_the_90_days_before_it(client, env, cases):
    reader = spec(client, env)
    _, recent = reader.json("requests.json", end_date=NOW.isoformat())
    assert cases["town"] in ids(recent) and cases["old"] not in ids(recent)
    _, back_then = reader.json("requests.json", end_date=(NOW - dt.timedelta(days=150)).isoformat())
    assert cases["old"] in ids(back_then) and cases["town"] not in ids(back_then)
    _, from_then = reader.json("requests.json", start_date=(NOW - dt.timedelta(days=201)).isoformat())
    assert cases["old"] in ids(from_then) and cases["town"] not in ids(from_then)  # and start_date alone the 90 after


def test_media_url_is_the_photo_itself_never_a_login_page(client, env, cases):
    reader = spec(client, env)
    _, [request] = reader.xml(f"requests/{cases['photo']}.xml")
    url = urlsplit(request["media_url"])
    assert url.scheme in ("http", "https") and url.path.startswith("/open311/v2/media/")
    fetched = client.get(url.path, params={"api_key": env.keys["analyst"]}, follow_redirects=False)
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/jpeg" and fetched.content[:3] == b"\xff\xd8\xff"
    anonymous = client.get(url.path, follow_redirects=False)
    assert anonymous.status_code == 401 and anonymous.json()[0]["code"] == 401  # an Open311 error, not a redirect
    assert client.get("/open311/v2/media/" + "0" * 32, params={"api_key": env.keys["analyst"]}).status_code == 404


def test_anonymous_read_is_a_setting(client, env, cases):
    settings = env.context.settings
    try:
        env.context.settings = settings.model_copy(update={"open311_anonymous_read": True})
        code, rows = SpecClient(client, None).xml("requests.xml")
        assert code == 200 and cases["photo"] in ids(rows)
        media = urlsplit(next(r for r in rows if r["service_request_id"] == cases["photo"])["media_url"]).path
        assert client.get(media).status_code == 401  # photos stay behind a key unless open311_anonymous_media
        env.context.settings = settings.model_copy(update={"open311_anonymous_read": True, "open311_anonymous_media": True})
        assert client.get(media).status_code == 200
        assert SpecClient(client, "not-a-key").xml("services.xml")[0] == 401  # a wrong key is still wrong
    finally:
        env.context.settings = settings
    assert SpecClient(client, None).xml("requests.xml")[0] == 401


def test_api_key_in_the_query_is_for_open311_only(client, env):
    assert client.get("/api/v1/cases", params={"api_key": env.keys["analyst"]}).status_code == 401
    assert client.get("/open311/v2/services.json", headers=env.headers("analyst")).status_code == 200  # Bearer works too
    assert json.loads(client.get("/open311/v2/services.json", params={"api_key": env.keys["analyst"]}).content)


def test_leadhubs_own_open311_client_reads_leadhub(client, env, cases):
    """The json_api kind's ``preset: open311`` (XML, api_key) polling this server: the round trip."""
    import httpx

    from ingestors.base import FetchContext
    from ingestors.http import HttpClients
    from ingestors.json_api import JsonApiKind, JsonApiOptions

    public = "http://93.184.215.14"  # a literal public address: the guard allows it, the transport answers it

    def forward(request: httpx.Request) -> httpx.Response:
        answer = client.get(request.url.raw_path.decode())
        return httpx.Response(answer.status_code, headers={"content-type": answer.headers["content-type"]}, content=answer.content)

    options = JsonApiOptions.model_validate({"url": f"{public}/open311/v2/requests.xml", "preset": "open311",
                                             "open311": {"api_key": env.keys["analyst"]}})  # fmt: skip
    context = FetchContext("peer-311", "department", "Asia/Shanghai", {}, http=HttpClients(transport=httpx.MockTransport(forward)))
    leads = {lead.external_id: lead for lead in JsonApiKind(options).fetch(context)}
    assert {env.case_id("lift"), cases["photo"]} <= set(leads)
    photo = leads[cases["photo"]]
    assert photo.attachments[0].url.endswith(urlsplit(photo.extra["media_url"]).path) and "/open311/v2/media/" in photo.attachments[0].url
    assert photo.extra["geo"] == {"lat": 29.31, "lon": 120.07} and photo.extra["service_code"] == "城乡建设.城市建设和市政管理"
    assert photo.location_text == "工人北路88号, 幸福社区, 稠城街道" and context.state["since"]
