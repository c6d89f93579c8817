import ssl

import pytest
from elasticsearch import Elasticsearch
from opensearchpy import OpenSearch

from leadhub.errors import ConfigError
from leadhub.kafka_clients import aiokafka_options, kafka_python_options
from leadhub.search_backend import SearchBackend, build_client, client_options
from leadhub.settings import KafkaSettings, SearchSettings


def test_elasticsearch_client_with_basic_auth_and_tls(tmp_path):
    ca = tmp_path / "ca.pem"
    s = SearchSettings(
        backend="elasticsearch", url="https://es.example:9200", username="elastic",
        password="pw", ca_certs=ca, verify_certs=True, request_timeout=12,
    )  # fmt: skip
    options = client_options(s)
    assert options["hosts"] == ["https://es.example:9200"]
    assert options["basic_auth"] == ("elastic", "pw")
    assert options["ca_certs"] == str(ca)
    assert options["verify_certs"] is True
    assert options["request_timeout"] == 12
    assert "http_auth" not in options and "api_key" not in options


def test_elasticsearch_client_with_api_key_is_built():
    s = SearchSettings(backend="elasticsearch", url="http://127.0.0.1:9200", api_key="abc123")
    assert client_options(s)["api_key"] == "abc123"
    client = build_client(s)
    assert isinstance(client, Elasticsearch)
    assert SearchBackend(client, s.backend).backend == "elasticsearch"
    client.close()


def test_opensearch_client_options():
    s = SearchSettings(url="https://os.example:9200", username="admin", password="pw", verify_certs=False)
    options = client_options(s)
    assert options["http_auth"] == ("admin", "pw")
    assert options["use_ssl"] is True and options["verify_certs"] is False
    client = build_client(SearchSettings())
    assert isinstance(client, OpenSearch)
    client.close()


def test_opensearch_api_key_goes_in_authorization_header():
    options = client_options(SearchSettings(api_key="k"))
    assert options["headers"] == {"Authorization": "Bearer k"}


def test_plain_http_sends_no_tls_options():
    options = client_options(SearchSettings(backend="elasticsearch", url="http://h:9200", verify_certs=False))
    assert "verify_certs" not in options


@pytest.mark.parametrize(
    "kwargs",
    [{"username": "u"}, {"password": "p"}, {"username": "u", "password": "p", "api_key": "k"}],
)
def test_inconsistent_credentials_are_rejected(kwargs):
    with pytest.raises(ConfigError):
        client_options(SearchSettings(**kwargs))


def test_kafka_plaintext_options():
    options = kafka_python_options(KafkaSettings(bootstrap_servers="a:9092, b:9092"))
    assert options == {"bootstrap_servers": ["a:9092", "b:9092"], "client_id": "leadhub", "security_protocol": "PLAINTEXT"}


def test_kafka_sasl_ssl_options(tmp_path):
    s = KafkaSettings(
        security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512", sasl_username="lh",
        sasl_password="pw", ssl_cafile=tmp_path / "ca.pem", ssl_check_hostname=False,
    )  # fmt: skip
    options = kafka_python_options(s)
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "lh" and options["sasl_plain_password"] == "pw"
    assert options["ssl_cafile"] == str(tmp_path / "ca.pem")
    assert options["ssl_check_hostname"] is False


def test_aiokafka_ssl_builds_a_context():
    options = aiokafka_options(KafkaSettings(security_protocol="SSL", ssl_check_hostname=False))
    assert isinstance(options["ssl_context"], ssl.SSLContext)
    assert options["ssl_context"].check_hostname is False


def test_sasl_without_credentials_is_a_config_error():
    with pytest.raises(ConfigError, match="sasl_mechanism"):
        kafka_python_options(KafkaSettings(security_protocol="SASL_PLAINTEXT"))
    with pytest.raises(ConfigError, match="sasl_username"):
        aiokafka_options(KafkaSettings(security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN"))
