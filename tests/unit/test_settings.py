import pytest

from leadhub.settings import build_settings, parse_overrides
from schemas.errors import ConfigError


def test_defaults(clean_env):
    s = build_settings()
    assert s.kafka.bootstrap_servers == "127.0.0.1:9092"
    assert s.search.backend == "opensearch"
    assert s.search.url == "http://127.0.0.1:9200"
    assert s.search.index_prefix == "leadhub"


def test_precedence_defaults_file_env_flags(clean_env, monkeypatch):
    (clean_env / "leadhub.yaml").write_text(
        "search:\n  url: http://file:9200\n  index_prefix: fromfile\nkafka:\n  client_id: file-client\n"
    )
    s = build_settings()
    assert (s.search.url, s.search.index_prefix, s.kafka.client_id) == ("http://file:9200", "fromfile", "file-client")

    monkeypatch.setenv("LEADHUB_SEARCH__URL", "http://env:9200")
    s = build_settings()
    assert s.search.url == "http://env:9200"  # environment beats file
    assert s.search.index_prefix == "fromfile"  # untouched keys keep the file's value

    s = build_settings(overrides=parse_overrides(["search.url=http://flag:9200"]))
    assert s.search.url == "http://flag:9200"  # flags beat environment
    assert s.kafka.client_id == "file-client"
    assert s.kafka.bootstrap_servers == "127.0.0.1:9092"  # default where nobody said otherwise


def test_config_file_from_environment_variable(clean_env, monkeypatch):
    other = clean_env / "other.yaml"
    other.write_text("search:\n  backend: elasticsearch\n")
    monkeypatch.setenv("LEADHUB_CONFIG", str(other))
    assert build_settings().search.backend == "elasticsearch"


def test_missing_explicit_config_file_is_a_clear_error(clean_env):
    with pytest.raises(ConfigError, match="does not exist"):
        build_settings(config_file=clean_env / "nope.yaml")


def test_unknown_keys_are_rejected_with_their_path(clean_env):
    (clean_env / "leadhub.yaml").write_text("search:\n  urll: http://typo:9200\n")
    with pytest.raises(ConfigError, match=r"search\.urll"):
        build_settings()


def test_invalid_values_are_rejected(clean_env):
    with pytest.raises(ConfigError, match="search.url"):
        build_settings(overrides=parse_overrides(["search.url=ftp://x"]))
    with pytest.raises(ConfigError, match="search.backend"):
        build_settings(overrides=parse_overrides(["search.backend=solr"]))
    with pytest.raises(ConfigError, match="search.refresh_interval"):
        build_settings(overrides=parse_overrides(["search.refresh_interval=fast"]))
    assert build_settings(overrides=parse_overrides(["search.refresh_interval=500ms"])).search.refresh_interval == "500ms"


def test_broken_yaml_is_a_clear_error(clean_env):
    (clean_env / "leadhub.yaml").write_text("search: [unclosed\n")
    with pytest.raises(ConfigError, match="cannot read settings"):
        build_settings()


def test_override_syntax():
    assert parse_overrides(["a.b=1", "a.c=x=y"]) == {"a": {"b": "1", "c": "x=y"}}
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_overrides(["nonsense"])


def test_secrets_are_redacted(clean_env, monkeypatch):
    monkeypatch.setenv("LEADHUB_SEARCH__PASSWORD", "hunter2-search")
    monkeypatch.setenv("LEADHUB_KAFKA__SASL_PASSWORD", "hunter2-kafka")
    s = build_settings(overrides=parse_overrides(["search.username=u"]))
    assert s.search.password.get_secret_value() == "hunter2-search"
    text = repr(s) + str(s.redacted())
    assert "hunter2" not in text
    assert s.redacted()["search"]["password"] == "**********"
