"""Client construction from the settings: every Kafka and search-engine security option.

Certificates are made by the tests (a CA, a server certificate for localhost/127.0.0.1, a client
certificate); TLS is checked by real handshakes on 127.0.0.1 with the contexts the clients build. No
broker or search engine is involved: the loopback endpoint only speaks TLS.
"""

import asyncio
import base64
import hashlib
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiokafka.client import AIOKafkaClient
from aiokafka.conn import SaslPlainAuthenticator, ScramAuthenticator
from elasticsearch import Elasticsearch
from kafka.admin import KafkaAdminClient
from kafka.consumer import KafkaConsumer
from kafka.net.sasl import get_sasl_mechanism
from kafka.net.transport import KafkaSSLTransport
from kafka.producer import KafkaProducer
from opensearchpy import OpenSearch

from adapters.kafka_clients import aiokafka_options, kafka_python_options, ssl_context
from adapters.search_backend import (
    SearchBackend,
    SearchUnavailable,
    build_client,
    client_options,
)
from leadhub.settings import KafkaSettings, SearchSettings
from schemas.errors import ConfigError


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


# -- every security option, through the clients that use it

SASL_MECHANISMS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


@dataclass(frozen=True)
class Certs:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> Certs:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory = tmp_path_factory.mktemp("certs")
    now = datetime.now(UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def save(path: Path, cert=None, key=None) -> Path:
        if cert is not None:
            path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        else:
            path.write_bytes(key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ))  # fmt: skip
        return path

    def builder(subject: str, public_key) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder().subject_name(name(subject)).public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        )  # fmt: skip

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        builder("leadhub test CA", ca_key.public_key()).issuer_name(name("leadhub test CA"))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
            key_encipherment=False, data_encipherment=False, key_agreement=False,
            encipher_only=False, decipher_only=False,
        ), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip

    def leaf(subject: str, usage, names=None):
        key = ec.generate_private_key(ec.SECP256R1())
        b = (
            builder(subject, key.public_key()).issuer_name(ca.subject)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        )  # fmt: skip
        if names:
            b = b.add_extension(x509.SubjectAlternativeName(names), critical=False)
        return b.sign(ca_key, hashes.SHA256()), key

    server, server_key = leaf(
        "broker", ExtendedKeyUsageOID.SERVER_AUTH,
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
    )  # fmt: skip
    client, client_key = leaf("leadhub-client", ExtendedKeyUsageOID.CLIENT_AUTH)
    return Certs(
        ca=save(directory / "ca.pem", cert=ca),
        server_cert=save(directory / "server.pem", cert=server),
        server_key=save(directory / "server.key", key=server_key),
        client_cert=save(directory / "client.pem", cert=client),
        client_key=save(directory / "client.key", key=client_key),
    )


class TlsEndpoint:
    """A TLS listener on 127.0.0.1 that records the client certificate of each handshake, then hangs up."""

    def __init__(self, certs: Certs, *, require_client_cert: bool = False) -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(certs.server_cert, certs.server_key)
        if require_client_cert:
            self.context.verify_mode = ssl.CERT_REQUIRED
            self.context.load_verify_locations(certs.ca)
        self.clients: list[str | None] = []  # the CN of each client certificate seen (None: no certificate)
        self.errors: list[Exception] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def port(self) -> int:
        return self._listener.getsockname()[1]

    def __enter__(self) -> "TlsEndpoint":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)
        self._listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(5)
            try:
                with self.context.wrap_socket(conn, server_side=True) as tls:
                    peer = tls.getpeercert()
                    subject = dict(pair for rdn in peer["subject"] for pair in rdn) if peer else {}
                    self.clients.append(subject.get("commonName"))
                    tls.sendall(b"k")  # lets the client see that the server accepted it
            except (OSError, ssl.SSLError) as exc:
                self.errors.append(exc)
                conn.close()

    def handshake(self, client_context: ssl.SSLContext, server_hostname: str = "localhost") -> dict:
        """Connect with ``client_context``; the server's certificate as the client saw it."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as raw:
            with client_context.wrap_socket(raw, server_hostname=server_hostname) as tls:
                assert tls.recv(1) == b"k"
                return tls.getpeercert()


def _kafka_python_context(options: dict) -> ssl.SSLContext:
    """The SSLContext kafka-python builds from these options for each broker connection."""
    ssl_options = {key: value for key, value in options.items() if key.startswith("ssl_")}
    return KafkaSSLTransport._build_ssl_context(KafkaSSLTransport.DEFAULT_CONFIG | ssl_options)


def _aiokafka_client(options: dict) -> AIOKafkaClient:
    """aiokafka's client as its producer and consumer build it; it checks the security options."""

    async def build() -> AIOKafkaClient:
        return AIOKafkaClient(**options)

    return asyncio.run(build())


def _kafka_python_accepts(options: dict) -> None:
    """kafka-python raises on an unknown option; every option leadhub builds is one it knows."""
    for client in (KafkaProducer, KafkaConsumer, KafkaAdminClient):
        assert set(options) <= set(client.DEFAULT_CONFIG), (client.__name__, set(options) - set(client.DEFAULT_CONFIG))


def _cn(peer: dict) -> str:
    return dict(pair for rdn in peer["subject"] for pair in rdn)["commonName"]


def test_kafka_ssl_with_ca_only(certs):
    settings = KafkaSettings(bootstrap_servers="broker-1:9093", security_protocol="SSL", ssl_cafile=certs.ca)
    options = kafka_python_options(settings)
    assert options == {
        "bootstrap_servers": ["broker-1:9093"], "client_id": "leadhub", "security_protocol": "SSL",
        "ssl_check_hostname": True, "ssl_cafile": str(certs.ca),
    }  # fmt: skip
    _kafka_python_accepts(options)
    aio = aiokafka_options(settings)
    assert aio["security_protocol"] == "SSL" and "sasl_mechanism" not in aio
    context = aio["ssl_context"]
    # Only the configured CA is trusted (not the system's), with full verification.
    assert [_cn({"subject": ca["subject"]}) for ca in context.get_ca_certs()] == ["leadhub test CA"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname is True
    assert _aiokafka_client(aio)._ssl_context is context
    with TlsEndpoint(certs) as endpoint:
        for client_context in (_kafka_python_context(options), context):
            assert _cn(endpoint.handshake(client_context)) == "broker"
        # Without the CA the same server is not trusted: the CA setting is what makes it work.
        with pytest.raises(ssl.SSLCertVerificationError):
            endpoint.handshake(_kafka_python_context(kafka_python_options(KafkaSettings(security_protocol="SSL"))))
    assert endpoint.clients == [None, None]  # no client certificate was configured


def test_kafka_ssl_with_client_certificate_and_key(certs):
    settings = KafkaSettings(
        security_protocol="SSL", ssl_cafile=certs.ca, ssl_certfile=certs.client_cert, ssl_keyfile=certs.client_key
    )
    options = kafka_python_options(settings)
    assert options["ssl_certfile"] == str(certs.client_cert) and options["ssl_keyfile"] == str(certs.client_key)
    _kafka_python_accepts(options)
    with TlsEndpoint(certs, require_client_cert=True) as endpoint:
        endpoint.handshake(_kafka_python_context(options))
        endpoint.handshake(aiokafka_options(settings)["ssl_context"])
        # A client without the certificate is turned away by this server.
        with pytest.raises((ssl.SSLError, ConnectionError, AssertionError)):
            endpoint.handshake(aiokafka_options(KafkaSettings(security_protocol="SSL", ssl_cafile=certs.ca))["ssl_context"])
    assert endpoint.clients == ["leadhub-client", "leadhub-client"]


@pytest.mark.parametrize("check_hostname", [True, False])
def test_kafka_ssl_check_hostname(certs, check_hostname):
    settings = KafkaSettings(security_protocol="SSL", ssl_cafile=certs.ca, ssl_check_hostname=check_hostname)
    options = kafka_python_options(settings)
    assert options["ssl_check_hostname"] is check_hostname
    contexts = [_kafka_python_context(options), aiokafka_options(settings)["ssl_context"]]
    for context in contexts:
        assert context.check_hostname is check_hostname
        assert context.verify_mode == ssl.CERT_REQUIRED  # the certificate itself is always verified
    with TlsEndpoint(certs) as endpoint:
        for context in contexts:
            # The certificate names localhost and 127.0.0.1, not this name.
            if check_hostname:
                with pytest.raises(ssl.SSLCertVerificationError, match="[Hh]ostname"):
                    endpoint.handshake(context, server_hostname="kafka-0.internal")
            else:
                assert _cn(endpoint.handshake(context, server_hostname="kafka-0.internal")) == "broker"


# RFC 7677, section 3: a SCRAM-SHA-256 exchange for user "user" with password "pencil".
RFC7677_NONCE = "rOprNGfwEbeRWgbNEkqO"
RFC7677_SERVER_FIRST = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
RFC7677_CLIENT_FINAL = (
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
)


@pytest.mark.parametrize("mechanism", SASL_MECHANISMS)
def test_kafka_sasl_plaintext_with_each_mechanism(mechanism):
    settings = KafkaSettings(
        security_protocol="SASL_PLAINTEXT", sasl_mechanism=mechanism, sasl_username="user", sasl_password="pencil"
    )
    options = kafka_python_options(settings)
    assert options == {
        "bootstrap_servers": ["127.0.0.1:9092"], "client_id": "leadhub", "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": mechanism, "sasl_plain_username": "user", "sasl_plain_password": "pencil",
    }  # fmt: skip
    _kafka_python_accepts(options)
    aio = aiokafka_options(settings)
    assert aio == options  # no TLS: no ssl_context
    client = _aiokafka_client(aio)
    assert (client._security_protocol, client._sasl_mechanism) == ("SASL_PLAINTEXT", mechanism)
    assert (client._sasl_plain_username, client._sasl_plain_password) == ("user", "pencil")

    # What each client would send the broker, from these options.
    kafka_python = get_sasl_mechanism(options["sasl_mechanism"])(host="broker-1", **options)
    loop = asyncio.new_event_loop()
    try:
        if mechanism == "PLAIN":
            assert kafka_python.auth_bytes() == b"user\0user\0pencil"  # RFC 4616
            aio_auth = SaslPlainAuthenticator(loop=loop, sasl_plain_username="user", sasl_plain_password="pencil")
            assert aio_auth._step(None) == (b"user\0user\0pencil", True)
            return
        hashfunc = {"SCRAM-SHA-256": hashlib.sha256, "SCRAM-SHA-512": hashlib.sha512}[mechanism]
        aio_auth = ScramAuthenticator(
            loop=loop, sasl_plain_username="user", sasl_plain_password="pencil", sasl_mechanism=mechanism
        )
        assert kafka_python._scram_client.hashfunc is hashfunc and aio_auth._hashfunc is hashfunc
        kafka_python._scram_client.nonce = RFC7677_NONCE.encode()
        aio_auth._nonce = RFC7677_NONCE
        assert kafka_python.auth_bytes() == b"n,,n=user,r=" + RFC7677_NONCE.encode()
        assert aio_auth.first_message() == "n,,n=user,r=" + RFC7677_NONCE
        if mechanism == "SCRAM-SHA-256":  # the RFC's proof: the password reached the client intact
            kafka_python.receive(RFC7677_SERVER_FIRST.encode())
            assert kafka_python.auth_bytes() == RFC7677_CLIENT_FINAL.encode()
            aio_auth.process_server_first_message(RFC7677_SERVER_FIRST)
            assert aio_auth.final_message() == RFC7677_CLIENT_FINAL
    finally:
        loop.close()


def test_kafka_sasl_ssl_with_scram_sha_512(certs):
    settings = KafkaSettings(
        bootstrap_servers="b1:9096,b2:9096", security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512",
        sasl_username="leadhub", sasl_password="s3cret", ssl_cafile=certs.ca,
    )  # fmt: skip
    options = kafka_python_options(settings)
    assert options == {
        "bootstrap_servers": ["b1:9096", "b2:9096"], "client_id": "leadhub", "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": "leadhub", "sasl_plain_password": "s3cret",
        "ssl_check_hostname": True, "ssl_cafile": str(certs.ca),
    }  # fmt: skip
    _kafka_python_accepts(options)
    scram = get_sasl_mechanism("SCRAM-SHA-512")(host="b1", **options)._scram_client
    assert (scram.user, scram.password, scram.hashfunc) == (b"leadhub", b"s3cret", hashlib.sha512)
    aio = aiokafka_options(settings)
    client = _aiokafka_client(aio)  # aiokafka refuses SASL_SSL without an ssl_context
    assert (client._security_protocol, client._sasl_mechanism) == ("SASL_SSL", "SCRAM-SHA-512")
    with TlsEndpoint(certs) as endpoint:
        assert _cn(endpoint.handshake(_kafka_python_context(options))) == "broker"
        assert _cn(endpoint.handshake(client._ssl_context)) == "broker"


def test_aiokafka_refuses_what_leadhub_would_never_build():
    """The checks _aiokafka_client relies on are real: aiokafka rejects a TLS protocol without a context."""
    with pytest.raises(ValueError, match="ssl_context"):
        _aiokafka_client({"security_protocol": "SSL"})


def test_tls_files_are_ignored_without_tls(certs):
    settings = KafkaSettings(
        security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN", sasl_username="u", sasl_password="p",
        ssl_cafile=certs.ca, ssl_certfile=certs.client_cert, ssl_keyfile=certs.client_key,
    )  # fmt: skip
    assert not any(key.startswith("ssl_") for key in kafka_python_options(settings))
    assert "ssl_context" not in aiokafka_options(settings)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"security_protocol": "SSL"},
        {"security_protocol": "SSL", "ssl_check_hostname": False},
        {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "SCRAM-SHA-256", "sasl_username": "u", "sasl_password": "p"},
        {"security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512", "sasl_username": "u", "sasl_password": "p"},
        {"security_protocol": "SASL_SSL", "sasl_mechanism": "PLAIN", "sasl_username": "u", "sasl_password": "p", "ssl_check_hostname": False},
    ],
)
def test_streams_worker_credentials_match_the_aiokafka_options(kwargs, certs):
    """The faust worker gets its security from streams.app._credentials: the same as aiokafka_options."""
    from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

    from streams.app import _credentials

    settings = KafkaSettings(ssl_cafile=certs.ca, **kwargs)
    worker = dict(credentials_to_aiokafka_auth(_credentials(settings)))
    expected = aiokafka_options(settings)
    for key in ("security_protocol", "sasl_mechanism", "sasl_plain_username", "sasl_plain_password"):
        assert worker.get(key) == expected.get(key), key
    if "ssl_context" in expected:
        for context in (worker["ssl_context"], expected["ssl_context"]):
            assert context.check_hostname is settings.ssl_check_hostname
            assert [c["serialNumber"] for c in context.get_ca_certs()] == [
                c["serialNumber"] for c in ssl_context(settings).get_ca_certs()
            ]
    else:
        assert worker.get("ssl_context") is None


# -- search engine


def _opensearch_connection(client):
    (connection,) = client.transport.connection_pool.connections if hasattr(
        client.transport.connection_pool, "connections") else [client.transport.get_connection()]  # fmt: skip
    return connection


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_opensearch_basic_auth_over_https_with_ca_and_verify_certs(certs):
    s = SearchSettings(url="https://os.example:9200", username="admin", password="pw", ca_certs=certs.ca, verify_certs=True)
    options = client_options(s)
    assert options == {
        "hosts": ["https://os.example:9200"], "timeout": 30.0, "use_ssl": True, "http_auth": ("admin", "pw"),
        "verify_certs": True, "ca_certs": str(certs.ca),
    }  # fmt: skip
    client = build_client(s)
    try:
        connection = _opensearch_connection(client)
        assert (connection.scheme, connection.hostname, connection.port) == ("https", "os.example", 9200)
        assert connection.headers["authorization"] == _basic("admin", "pw")
        assert connection.pool.ca_certs == str(certs.ca)
        assert connection.pool.cert_reqs == "CERT_REQUIRED"
        assert connection.pool.cert_file is None and connection.pool.key_file is None
    finally:
        client.close()


def test_opensearch_without_certificate_verification():
    s = SearchSettings(url="https://os.example:9200", verify_certs=False)
    with pytest.warns(UserWarning, match="verify_certs=False is insecure"):
        client = build_client(s)
    try:
        assert _opensearch_connection(client).pool.cert_reqs == "CERT_NONE"
    finally:
        client.close()


def test_opensearch_client_certificate_and_key(certs):
    s = SearchSettings(url="https://os.example:9200", ca_certs=certs.ca, client_cert=certs.client_cert, client_key=certs.client_key)
    options = client_options(s)
    assert options["client_cert"] == str(certs.client_cert) and options["client_key"] == str(certs.client_key)
    assert "http_auth" not in options and "headers" not in options  # the certificate is the credential
    client = build_client(s)
    try:
        pool = _opensearch_connection(client).pool
        assert (pool.cert_file, pool.key_file, pool.ca_certs) == (str(certs.client_cert), str(certs.client_key), str(certs.ca))
    finally:
        client.close()


def test_opensearch_api_key_is_a_bearer_header_over_https(certs):
    client = build_client(SearchSettings(url="https://os.example:9200", api_key="tok-123", ca_certs=certs.ca))
    try:
        headers = _opensearch_connection(client).headers
        assert headers["authorization"] == "Bearer tok-123"
    finally:
        client.close()


def test_elasticsearch_api_key_over_https(certs):
    s = SearchSettings(backend="elasticsearch", url="https://es.example:9243", api_key="ZW5jb2RlZA==", ca_certs=certs.ca)
    options = client_options(s)
    assert options == {
        "hosts": ["https://es.example:9243"], "request_timeout": 30.0, "api_key": "ZW5jb2RlZA==",
        "verify_certs": True, "ca_certs": str(certs.ca),
    }  # fmt: skip
    client = build_client(s)
    try:
        assert client._headers["authorization"] == "ApiKey ZW5jb2RlZA=="
        (node,) = client.transport.node_pool.all()
        assert (node.config.scheme, node.config.host, node.config.port) == ("https", "es.example", 9243)
        assert node.config.ca_certs == str(certs.ca) and node.config.verify_certs is True
        assert node.pool.cert_reqs == "CERT_REQUIRED"
    finally:
        client.close()


def test_elasticsearch_basic_auth_header():
    client = build_client(SearchSettings(backend="elasticsearch", url="http://es:9200", username="elastic", password="pw"))
    try:
        assert client._headers["authorization"] == _basic("elastic", "pw")
    finally:
        client.close()


def test_elasticsearch_client_certificate(certs):
    s = SearchSettings(
        backend="elasticsearch", url="https://es.example:9200", ca_certs=certs.ca,
        client_cert=certs.client_cert, client_key=certs.client_key, request_timeout=12,
    )  # fmt: skip
    options = client_options(s)
    assert options["client_cert"] == str(certs.client_cert) and options["client_key"] == str(certs.client_key)
    assert "basic_auth" not in options and "api_key" not in options
    client = build_client(s)
    try:
        (node,) = client.transport.node_pool.all()
        assert (node.config.client_cert, node.config.client_key) == (str(certs.client_cert), str(certs.client_key))
        assert (node.pool.cert_file, node.pool.key_file) == (str(certs.client_cert), str(certs.client_key))
        assert "authorization" not in client._headers
        assert client._request_timeout == 12
    finally:
        client.close()


@pytest.mark.parametrize("backend", ["opensearch", "elasticsearch"])
def test_search_client_presents_its_certificate_in_the_tls_handshake(certs, backend):
    """End to end through the HTTP client: the CA verifies the server and the client certificate is sent.
    The endpoint speaks TLS only and hangs up, so the call fails as an unreachable engine does."""
    with TlsEndpoint(certs, require_client_cert=True) as endpoint:
        s = SearchSettings(
            backend=backend, url=f"https://localhost:{endpoint.port}", ca_certs=certs.ca,
            client_cert=certs.client_cert, client_key=certs.client_key, request_timeout=5,
        )  # fmt: skip
        search = SearchBackend.from_settings(s)
        try:
            with pytest.raises(SearchUnavailable):
                search.info()
        finally:
            search.close()
    assert endpoint.clients and set(endpoint.clients) == {"leadhub-client"}
    assert not [e for e in endpoint.errors if isinstance(e, ssl.SSLError)]


def test_search_tls_options_apply_to_https_only(certs):
    s = SearchSettings(url="http://os:9200", ca_certs=certs.ca, client_cert=certs.client_cert, client_key=certs.client_key)
    options = client_options(s)
    assert options["use_ssl"] is False
    assert not {"verify_certs", "ca_certs", "client_cert", "client_key"} & set(options)
