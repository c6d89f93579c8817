"""URL secrets are hidden wherever a URL, or an error quoting one, is printed or stored."""

from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadhub.cli import main
from leadhub.settings import build_settings, parse_overrides
from schemas.errors import ConfigError, RecordError
from schemas.redaction import REDACTED, is_secret_name, redact, redact_data

SECRET = "s3cr3t-Pw9"

TABLE = [
    # (text, what it becomes)
    ("https://leadhub:s3cr3t-Pw9@search.internal:9200", f"https://leadhub:{REDACTED}@search.internal:9200"),
    ("SASL_SSL://leadhub:s3cr3t-Pw9@broker1:9093", f"SASL_SSL://leadhub:{REDACTED}@broker1:9093"),
    ("leadhub:s3cr3t-Pw9@broker1:9093,broker2:9093", f"leadhub:{REDACTED}@broker1:9093,broker2:9093"),
    ("https://u:p@ss-s3cr3t-Pw9@h.example/x", f"https://u:{REDACTED}@h.example/x"),  # an unescaped @ in it
    ("https://ghp_s3cr3t-Pw9@git.example/repo", f"https://{REDACTED}@git.example/repo"),  # a token as the user
    ("https://api.example/v1?access_token=s3cr3t-Pw9&page=2", f"https://api.example/v1?access_token={REDACTED}&page=2"),
    ("https://api.example/v1?page=2&token=s3cr3t-Pw9", f"https://api.example/v1?page=2&token={REDACTED}"),
    ("https://a.example/?key=s3cr3t-Pw9&api_key=s3cr3t-Pw9", f"https://a.example/?key={REDACTED}&api_key={REDACTED}"),
    ("https://a.example/?apiKey=s3cr3t-Pw9#top", f"https://a.example/?apiKey={REDACTED}#top"),
    ("https://a.example/?client_secret=s3cr3t-Pw9", f"https://a.example/?client_secret={REDACTED}"),
    ("https://a.example/?password=s3cr3t-Pw9&pwd=s3cr3t-Pw9", f"https://a.example/?password={REDACTED}&pwd={REDACTED}"),
    ("https://b.example/f?sig=s3cr3t-Pw9&se=2026", f"https://b.example/f?sig={REDACTED}&se=2026"),
    ("https://s3.example/o?X-Amz-Signature=s3cr3t-Pw9&X-Amz-Credential=s3cr3t-Pw9",
     f"https://s3.example/o?X-Amz-Signature={REDACTED}&X-Amz-Credential={REDACTED}"),
    ("https://a.example/?signature=s3cr3t-Pw9", f"https://a.example/?signature={REDACTED}"),
    ("https://a.example/?secret=s3cr3t-Pw9", f"https://a.example/?secret={REDACTED}"),
    ("https://app.example/cb#access_token=s3cr3t-Pw9&state=x", f"https://app.example/cb#access_token={REDACTED}&state=x"),
    ("https://a.example/list;jsessionid=s3cr3t-Pw9?page=2", f"https://a.example/list;jsessionid={REDACTED}?page=2"),
    ("https://a.example/news#section=2", "https://a.example/news#section=2"),
    # an error text quoting URLs keeps what it says, loses only the secrets
    ("error: cannot reach opensearch at https://leadhub:s3cr3t-Pw9@search:9200 (start it)",
     f"error: cannot reach opensearch at https://leadhub:{REDACTED}@search:9200 (start it)"),
    ("http://h.example/rss?token=s3cr3t-Pw9: HTTP 503", f"http://h.example/rss?token={REDACTED}: HTTP 503"),
    # left alone: nothing secret
    ("https://news.example.cn/rss?keyword=电梯&page=3", "https://news.example.cn/rss?keyword=电梯&page=3"),
    ("http://127.0.0.1:9200", "http://127.0.0.1:9200"),
    ("mail 12345@yiwu.gov.cn for help", "mail 12345@yiwu.gov.cn for help"),
    ("https://a.example/?monkey=1&keys=2&token=", "https://a.example/?monkey=1&keys=2&token="),
    ("", ""),
]  # fmt: skip


@pytest.mark.parametrize("text, expected", TABLE)
def test_redaction_table(text, expected):
    assert redact(text) == expected
    assert redact(expected) == expected  # idempotent: redacting twice changes nothing


def test_secret_names():
    assert all(map(is_secret_name, ["access_token", "TOKEN", "x-api-key", "apikey", "appKey", "sig", "Signature", "pwd"]))
    assert not any(map(is_secret_name, ["keyword", "page", "monkey", "sort", "signal", "tokenizer"]))


secret_text = st.text(st.characters(codec="ascii", categories=["L", "N"], include_characters="-_.~!$*+"), min_size=6, max_size=40)
hosts = st.from_regex(r"\A[a-z][a-z0-9-]{0,20}(\.[a-z]{2,6}){1,2}\Z")
names = st.sampled_from(["access_token", "token", "key", "api_key", "secret", "password", "sig", "signature",
                         "apiKey", "X-Amz-Signature", "client_secret", "refresh_token"])  # fmt: skip


@given(st.sampled_from(["http", "https", "kafka"]), st.from_regex(r"\A[a-z][a-z0-9_.-]{0,15}\Z"), secret_text, hosts,
       st.integers(1, 65535), st.text(min_size=0, max_size=30))  # fmt: skip
def test_a_userinfo_password_never_survives(scheme, user, password, host, port, around):
    url = f"{scheme}://{user}:{password}@{host}:{port}/path"
    out = redact(f"{around} {url} {around}")
    shown = redact(url)
    assert urlsplit(shown).password == REDACTED and urlsplit(shown).hostname == host and urlsplit(shown).port == port
    assert f"{user}:{password}@" not in out


@given(hosts, names, secret_text, st.lists(st.tuples(st.sampled_from(["page", "size", "q", "since"]), st.from_regex(r"\A[a-z0-9]{1,8}\Z")), max_size=3))
def test_a_secret_query_value_never_survives(host, name, value, others):
    query = [*others, (name, value)] if len(others) % 2 else [(name, value), *others]
    url = f"https://{host}/api?" + "&".join(f"{k}={v}" for k, v in query)
    shown = dict(parse_qsl(urlsplit(redact(url)).query))
    assert shown[name] == REDACTED
    assert all(shown[k] == dict(others)[k] for k, _ in others)  # the rest stays readable


def test_config_show_hides_passwords_in_urls(clean_env, capsys):
    overrides = ["search.url=https://leadhub:s3cr3t-Pw9@search.internal:9200",
                 "kafka.bootstrap_servers=leadhub:s3cr3t-Pw9@broker1:9093",
                 "api.public_url=https://leads.example/?token=s3cr3t-Pw9"]  # fmt: skip
    data = build_settings(overrides=parse_overrides(overrides)).redacted()
    assert data["search"]["url"] == f"https://leadhub:{REDACTED}@search.internal:9200"
    assert data["kafka"]["bootstrap_servers"] == f"leadhub:{REDACTED}@broker1:9093"
    for args in (["config", "show"], ["config", "show", "--json"]):
        assert main([*(a for o in overrides for a in ("--set", o)), *args]) == 0
        out = capsys.readouterr()
        assert SECRET not in out.out + out.err and "search.internal" in out.out


def test_redact_data_walks_plain_data():
    assert redact_data({"a": [f"https://u:{SECRET}@h", 1, None], "b": {"c": f"?sig={SECRET}"}}) == {
        "a": [f"https://u:{REDACTED}@h", 1, None], "b": {"c": f"?sig={REDACTED}"},
    }  # fmt: skip


def test_our_errors_never_carry_a_url_secret():
    error = ConfigError(f"cannot reach opensearch at https://u:{SECRET}@h:9200", hint=f"check https://h/?token={SECRET}")
    assert SECRET not in str(error) and SECRET not in error.message and SECRET not in error.hint
    assert SECRET not in str(RecordError(f"bad record from https://h/x?access_token={SECRET}"))


def test_a_cli_error_prints_no_secret(clean_env, capsys):
    code = main(["--set", f"search.url=https://u:{SECRET}@127.0.0.1:1", "--set", "search.request_timeout=1", "index", "init"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error:") and SECRET not in err and "Traceback" not in err
