"""The pure parts of Open311 (leadhub.open311) and the access log's key hiding."""

from __future__ import annotations

import datetime as dt
import logging

import defusedxml.ElementTree as SafeET
import pytest

from enrichers.taxonomy import DEFAULT_TAXONOMY, load_taxonomy
from leadhub import open311
from leadhub.api.open311_routes import hide_keys_in_access_log

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2024, 6, 1, 12, tzinfo=TZ)


def test_codes_parse_in_both_forms_and_combine_with_or():
    index = open311.code_index(load_taxonomy(DEFAULT_TAXONOMY))
    codes = open311.parse_codes("城乡建设, 交通运输/邮政管理,商贸旅游.其他,,城乡建设", index)
    assert codes == [("城乡建设", None), ("交通运输", "邮政管理"), ("商贸旅游", "其他")]
    assert open311.parse_service_code("外地.分类") == ("外地", "分类")  # one the taxonomy does not know
    with pytest.raises(open311.BadParameter, match="at most"):
        open311.parse_codes(",".join(f"c{i}" for i in range(open311.MAX_CODES + 1)), index)


def test_dates_an_empty_parameter_is_absent_and_a_naive_time_is_local():
    assert open311.parse_date("start_date", "", TZ) is None and open311.parse_date("start_date", None, TZ) is None
    assert open311.parse_date("end_date", "2024-05-01T08:00:00", TZ) == dt.datetime(2024, 5, 1, 8, tzinfo=TZ)
    assert open311.parse_date("end_date", "2024-05-01T00:00:00Z", TZ).utcoffset() == dt.timedelta(0)
    # a "+" the client did not encode arrives as a space
    assert open311.parse_date("start_date", "2024-05-01T08:00:00 08:00", dt.UTC) == dt.datetime(2024, 5, 1, 8, tzinfo=TZ)
    with pytest.raises(open311.BadParameter, match="start_date"):
        open311.parse_date("start_date", "last tuesday", TZ)


def test_the_window_is_never_more_than_90_days():
    days = dt.timedelta(days=1)
    assert open311.date_window(None, None, NOW) == (NOW - 90 * days, None)
    assert open311.date_window(None, NOW, NOW) == (NOW - 90 * days, NOW)  # end_date alone gets a lower bound
    assert open311.date_window(NOW - 200 * days, None, NOW) == (NOW - 200 * days, NOW - 110 * days)
    assert open311.date_window(NOW - 90 * days, NOW, NOW) == (NOW - 90 * days, NOW)
    with pytest.raises(open311.BadParameter, match="at most 90"):
        open311.date_window(NOW - 91 * days, NOW, NOW)
    with pytest.raises(open311.BadParameter, match="after"):
        open311.date_window(NOW, NOW - days, NOW)


def test_xml_is_the_json_mapped_element_by_element():
    rows = [{"service_request_id": "c1", "lat": 29.3, "metadata": False, "address_id": None, "description": "路灯 <不亮> & 闪"}]
    root = SafeET.fromstring(open311.to_xml("requests", rows))
    assert root.tag == "service_requests" and [item.tag for item in root] == ["request"]
    assert {c.tag: c.text for c in root[0]} == {"service_request_id": "c1", "lat": "29.3", "metadata": "false",
                                                "address_id": None, "description": "路灯 <不亮> & 闪"}  # fmt: skip
    errors = SafeET.fromstring(open311.to_xml("errors", open311.error_list(400, "bad")))
    assert errors.tag == "errors" and errors[0].tag == "error" and errors[0].findtext("code") == "400"


def test_address_runs_from_most_specific_and_media_is_a_stored_photo():
    assert open311.address({"town": "稠城街道", "community": "幸福社区", "address": "工人北路88号"}) == "工人北路88号, 幸福社区, 稠城街道"
    assert open311.address({}) is None
    leads = [{"attachments": [{"url": "https://elsewhere.example/a.jpg"}]},
             {"attachments": [{"url": "/attachments/" + "a" * 32, "id": "a" * 32, "media_type": "image/jpeg"}]}]  # fmt: skip
    assert open311.first_photo(leads) == "a" * 32 and open311.first_photo(leads[:1]) is None


def test_the_access_log_never_shows_an_api_key(caplog):
    hide_keys_in_access_log()
    log = logging.getLogger("uvicorn.access")
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        # uvicorn's access line: client, method, path with query, HTTP version, status
        log.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/open311/v2/requests.xml?api_key=s3cret-key&status=open", "1.1", 200)
    assert "s3cret-key" not in caplog.text and "status=open" in caplog.text and "/open311/v2/requests.xml" in caplog.text
