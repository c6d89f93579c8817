"""Reports with photos, for both stores: POST /api/v1/reports as multipart/form-data, the attachments
store, who may fetch /attachments/{id}, the /report page and photos on the case and search pages.
Its halves: tests/unit/test_photos_api_embedded.py (embedded SQLite) and
tests/integration/test_photos_api.py (Kafka + OpenSearch); this module is not collected on its own."""

from __future__ import annotations

import io
import uuid

import pytest
from PIL import Image

from schemas.leads import Lead, RawLead, lead_id_for
from tests import api_data, api_env


def photo(fmt: str = "JPEG", size=(320, 200), color=(30, 120, 200), gps: bool = False) -> bytes:
    out = io.BytesIO()
    save = {}
    if gps:
        exif = Image.Exif()
        gps_ifd = exif.get_ifd(0x8825)
        gps_ifd[1], gps_ifd[2] = "N", (29.0, 18.0, 30.0)
        save["exif"] = exif
    Image.new("RGB", size, color).save(out, fmt, **save)
    return out.getvalue()


def fields(**extra) -> dict:
    return {"title": "办事大厅自助机坏了", "place": "稠城街道", "visited_at": "2024-05-02T10:00:00+08:00",
            "tried": "用自助机打印社保证明", "went_wrong": "三台自助机都黑屏，工作人员说坏了一周了", "report_id": uuid.uuid4().hex,
            **extra}  # fmt: skip


def send(client, env, files, role="intake", **extra):
    return client.post("/api/v1/reports", data=fields(**extra), files=files, headers=env.headers(role))


def store_files(env) -> set:
    folder = env.context.photos.store.folder
    return {p for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


def into_a_case(env, raw: dict, name: str) -> str:
    """The submitted lead routed into a fresh case of the housing department (both stores alike)."""
    case_id = f"{env.run}-{name}"
    lead = Lead.from_raw(RawLead(**{k: v for k, v in raw.items() if k in RawLead.model_fields or k == "lead_id"}),
                         case_id=case_id, department=api_data.HOUSING, is_primary=True)  # fmt: skip
    from schemas.cases import Case

    case = Case(case_id=case_id, title=lead.title, summary=lead.title, department=api_data.HOUSING, report_count=1,
                channels=["officer"], sources=[lead.source], first_seen=lead.published_at, last_seen=lead.published_at,
                lead_ids=[lead.lead_id])  # fmt: skip
    api_env.write(env, leads=[lead], cases=[case])
    return case_id


def test_a_report_with_photos_stores_them_clean_and_links_them_from_the_lead(client, env):
    files = [("photos", ("门口.jpg", photo(gps=True), "image/jpeg")), ("photos", ("screen.png", photo("PNG"), "image/png"))]
    response = send(client, env, files)
    assert response.status_code == 201, response.text
    lead = env.submitted_lead(response.json()["lead_id"])
    stored = [a for a in lead["attachments"] if a.get("id")]
    assert [(a["name"], a["media_type"]) for a in stored] == [("门口.jpg", "image/jpeg"), ("screen.png", "image/png")]
    assert all(a["url"] == f"/attachments/{a['id']}" and a["width"] == 320 and a["height"] == 200 for a in stored)

    full = client.get(stored[0]["url"], headers=env.headers("intake"))
    assert full.status_code == 200 and full.headers["content-type"] == "image/jpeg"
    assert full.headers["x-content-type-options"] == "nosniff" and full.headers["cache-control"].startswith("private")
    assert b"Exif" not in full.content  # the GPS position is gone
    with Image.open(io.BytesIO(full.content)) as image:
        assert image.size == (320, 200) and not image.getexif()
    thumb = client.get(stored[1]["url"] + "/thumb", headers=env.headers("intake"))
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(thumb.content)) as image:
        assert max(image.size) == env.context.photos.settings.thumbnail_px

    meta = env.context.photos.store.metadata(stored[0]["id"])
    assert meta.reporter == "experience-officer-1" and meta.lead_id == lead["lead_id"]


@pytest.mark.parametrize("bad,reason", [
    (("fake.jpg", b"GIF89a" + b"\0" * 100, "image/jpeg"), "photo_type"),
    (("notes.jpg", "这不是图片".encode(), "image/jpeg"), "photo_type"),
    (("huge.jpg", b"\xff\xd8\xff" + b"\0" * (10 * 1024 * 1024 + 1), "image/jpeg"), "photo_too_big"),
], ids=["gif named jpg", "text named jpg", "over 10 MB"])  # fmt: skip
def test_a_bad_photo_refuses_the_report_naming_the_file_and_nothing_is_kept(client, env, bad, reason):
    before = store_files(env)
    report_id = uuid.uuid4().hex
    response = send(client, env, [("photos", ("good.jpg", photo(), "image/jpeg")), ("photos", bad)], report_id=report_id)
    assert response.status_code == 422, response.text
    [problem] = response.json()["detail"]
    assert problem["type"] == reason and problem["file"] == bad[0] and bad[0] in problem["msg"]
    assert store_files(env) == before  # not even the good photo
    lead_id = lead_id_for("officer-intake", f"experience-officer-1:{report_id}")
    assert env.context.store.get("leads", lead_id) is None


def test_more_than_six_photos_is_a_422(client, env):
    before = store_files(env)
    files = [("photos", (f"p{i}.jpg", photo(color=(i, i, i)), "image/jpeg")) for i in range(7)]
    response = send(client, env, files)
    assert response.status_code == 422 and "at most 6" in response.text
    assert store_files(env) == before


def test_a_photo_with_too_many_pixels_is_refused(client, env):
    from tests.unit.test_photos import fake_png

    response = send(client, env, [("photos", ("bomb.png", fake_png(10_000, 10_000), "image/png"))])
    assert response.status_code == 422 and response.json()["detail"][0]["type"] == "photo_too_many_pixels"


def test_a_retry_with_the_same_photos_is_the_same_report_and_other_photos_are_a_409(client, env):
    report_id = uuid.uuid4().hex
    files = [("photos", ("a.jpg", photo(), "image/jpeg"))]
    first = send(client, env, files, report_id=report_id)
    assert first.status_code == 201
    lead = env.submitted_lead(first.json()["lead_id"])
    if env.kind != "embedded":  # the pipeline is not running here: put the lead where the 409 check reads
        into_a_case(env, lead, f"retry-{report_id[:6]}")
    again = send(client, env, files, report_id=report_id)
    assert again.status_code == 201 and again.json()["lead_id"] == first.json()["lead_id"]
    other = send(client, env, [("photos", ("b.jpg", photo(color=(1, 2, 3)), "image/jpeg"))], report_id=report_id)
    assert other.status_code == 409


def test_multipart_fields_are_held_to_the_report_s_rules(client, env):
    missing = client.post("/api/v1/reports", data={"title": "x"}, files=[("photos", ("a.jpg", photo(), "image/jpeg"))],
                          headers=env.headers("intake"))  # fmt: skip
    assert missing.status_code == 422 and "place" in missing.text
    unknown = send(client, env, [], surprise="x")
    assert unknown.status_code == 422 and "surprise" in unknown.text
    assert send(client, env, [], role="analyst").status_code == 403
    plain = send(client, env, [])  # a form without photos is a report too
    assert plain.status_code == 201


ACCESS = {"intake": 200, "other_intake": 404, "analyst": 200, "officer": 200, "other_officer": 200, "admin": 200}


def test_a_photo_is_served_only_to_its_reporter_readers_of_its_case_and_admins(client, env):
    response = send(client, env, [("photos", ("lift.jpg", photo(), "image/jpeg"))])
    assert response.status_code == 201
    lead = env.submitted_lead(response.json()["lead_id"])
    url = next(a["url"] for a in lead["attachments"] if a.get("id"))
    case_id = into_a_case(env, lead, f"photo-{uuid.uuid4().hex[:6]}")
    for role, expected in ACCESS.items():  # every officer may read every case (leadhub.access): also this one's photos
        for path in (url, url + "/thumb"):
            got = client.get(path, headers=env.headers(role))
            assert got.status_code == expected, (role, path, got.text[:200])
    assert client.get(url).status_code == 401
    assert client.get("/attachments/" + "0" * 32, headers=env.headers("admin")).status_code == 404
    assert client.get("/attachments/..%2F..%2Fetc", headers=env.headers("admin")).status_code == 404

    page = client.get(f"/cases/{case_id}", headers={**env.headers("officer"), "accept": "text/html"}).text
    assert f'src="{url}/thumb"' in page and f'href="{url}"' in page
    hits = client.get("/search", params={"kind": "leads", "case_id": case_id},
                      headers={**env.headers("analyst"), "accept": "text/html"}).text  # fmt: skip
    assert '<span class="clip">[1 个附件]</span>' in hits  # the lead's photo counted in the results


def test_readers_see_a_photo_once_its_lead_is_in_the_store(client, env):
    response = send(client, env, [("photos", ("x.jpg", photo(color=(9, 9, 9)), "image/jpeg"))])
    url = next(a["url"] for a in env.submitted_lead(response.json()["lead_id"])["attachments"] if a.get("id"))
    assert client.get(url, headers=env.headers("intake")).status_code == 200
    assert client.get(url, headers=env.headers("admin")).status_code == 200
    # Embedded mode routes a report before answering; in cluster mode the pipeline has not run here.
    in_store = env.context.store.get("leads", response.json()["lead_id"]) is not None
    assert in_store == (env.kind == "embedded")
    assert client.get(url, headers=env.headers("analyst")).status_code == (200 if in_store else 404)


# --- the /report page ------------------------------------------------------------------------------

PAGE_ROLES = {"intake": 200, "admin": 200, "analyst": 403, "officer": 403}


def html(env, role, lang="zh"):
    return {**env.headers(role), "accept": "text/html", "accept-language": lang}


@pytest.mark.parametrize("role", PAGE_ROLES)
def test_the_report_form_is_for_intake_and_admins(client, env, role):
    response = client.get("/report", headers=html(env, role))
    assert response.status_code == PAGE_ROLES[role]
    if response.status_code == 200:
        page = response.text
        assert 'enctype="multipart/form-data"' in page and 'type="file" name="photos"' in page
        assert 'accept="image/jpeg,image/png,image/webp"' in page and "multiple" in page
        assert '<datalist id="place-names">' in page and '<option value="稠城街道">' in page
        assert 'type="datetime-local"' in page and "<script" not in page


def test_the_form_files_a_report_and_shows_it_as_stored(client, env):
    form = {k: v for k, v in fields().items() if k != "visited_at"} | {"visited_at": "2024-05-02T10:00"}
    sent = client.post("/report", data=form, files=[("photos", ("大厅.jpg", photo(), "image/jpeg"))],
                       headers=html(env, "intake"), follow_redirects=False)  # fmt: skip
    assert sent.status_code == 303, sent.text[:500]
    lead_id = sent.headers["location"].rsplit("/", 1)[1]
    assert lead_id == lead_id_for("officer-intake", f"experience-officer-1:{form['report_id']}")
    shown = client.get(sent.headers["location"], headers=html(env, "intake")).text
    if env.kind == "embedded":  # routed before the answer: category, place and photos are there
        lead = env.context.store.get("leads", lead_id)
        assert 'id="report-stored"' in shown and "稠城街道" in shown and lead["category"]["level1"] in shown
        assert "/thumb" in shown and lead["published_at"].startswith("2024-05-02T10:00:00+08:00")
    else:
        assert 'id="report-processing"' in shown and 'href="/my"' in shown
    other = client.get(sent.headers["location"], headers=html(env, "other_intake"))
    assert other.status_code == (404 if env.kind == "embedded" else 200) and "大厅" not in other.text


def test_a_refused_form_comes_back_with_the_values_and_the_problem_in_the_reader_s_language(client, env):
    form = {**fields(), "title": "", "visited_at": "2024-05-02T10:00"}
    zh = client.post("/report", data=form, files=[("photos", ("a.jpg", photo(), "image/jpeg"))], headers=html(env, "intake"))
    assert zh.status_code == 422 and "请填写「标题」" in zh.text and "三台自助机都黑屏" in zh.text  # typed text kept
    both = client.post("/report", data=form, files=[("photos", ("坏.jpg", b"GIF89a....", "image/jpeg"))], headers=html(env, "intake"))
    assert "请填写「标题」" in both.text and "「坏.jpg」不是 JPEG、PNG 或 WebP 图片" in both.text  # every problem at once
    en = client.post("/report", data={**fields(), "visited_at": "2024-05-02T10:00"},
                     files=[("photos", ("scan.jpg", b"GIF89a....", "image/jpeg"))], headers=html(env, "intake", "en"))  # fmt: skip
    assert en.status_code == 422 and "“scan.jpg” is not a JPEG, PNG or WebP image" in en.text
    cross = client.post("/report", data=form, headers={**html(env, "intake"), "origin": "https://evil.example"})
    assert cross.status_code == 403


def test_the_form_offers_today_s_themed_activities_and_files_the_one_chosen(client, env, monkeypatch):
    import datetime as dt

    from leadhub.reports_settings import ActivitySpec, ReportsSettings

    assert 'name="activity"' not in client.get("/report", headers=html(env, "intake")).text  # none configured
    from leadhub.queries import CITY_ZONE

    now = dt.datetime.now(CITY_ZONE)
    today = now.date()  # the city's day: an activity's days are the city's, and the visit must fall on one
    running = ActivitySpec(id=f"hall-{env.run}", title_zh="办事大厅体验", title_en="Service hall visits", starts=today, ends=today)
    over = ActivitySpec(id=f"old-{env.run}", title_zh="去年的活动", title_en="Last year", starts=today.replace(year=today.year - 1),
                        ends=today.replace(year=today.year - 1))  # fmt: skip
    monkeypatch.setattr(env.context, "reports", ReportsSettings(activities=[running, over]))
    page = client.get("/report", headers=html(env, "intake", "en")).text
    assert f'<option value="{running.id}">Service hall visits</option>' in page and over.id not in page
    form = {**fields(), "visited_at": now.strftime("%Y-%m-%dT%H:%M"), "activity": running.id}
    sent = client.post("/report", data=form, headers=html(env, "intake"), follow_redirects=False)
    assert sent.status_code == 303
    assert env.submitted_lead(sent.headers["location"].rsplit("/", 1)[1])["extra"]["activity"] == running.id


def test_only_a_report_with_photos_may_be_larger_than_the_api_body_limit(client, env):
    big = photo(size=(1200, 1200))
    noise = b"\xff\xd8\xff" + bytes(range(256)) * (2 * 1024 * 1024 // 256)  # 2 MB: over api.max_body_bytes (1 MiB)
    assert len(noise) > env.context.settings.max_body_bytes
    with_photo = send(client, env, [("photos", ("big.jpg", big, "image/jpeg")), ("photos", ("noise.jpg", noise, "image/jpeg"))])
    assert with_photo.status_code == 422 and with_photo.json()["detail"][0]["file"] == "noise.jpg"  # read whole, then judged
    as_json = client.post("/api/v1/reports", content=b"x" * len(noise), headers={**env.headers("intake"), "content-type": "application/json"})
    assert as_json.status_code == 413
    elsewhere = client.post(f"/api/v1/cases/{env.case_id('lift')}/events", files=[("photos", ("n.jpg", noise, "image/jpeg"))],
                            headers=env.headers("officer"))  # fmt: skip
    assert elsewhere.status_code == 413
