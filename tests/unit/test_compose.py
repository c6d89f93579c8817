"""deploy/docker-compose.yml cannot run here (no Docker engine); check that it agrees with the settings."""

import re
import shlex
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from leadhub.cli import main
from leadhub.settings import Settings, build_settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
LONG_RUNNING = ["streams-worker", "sink", "api", "ingest-scheduler", "notify"]
LEADHUB_PROCESSES = ["init", *LONG_RUNNING]
# Host ports are part of the contract: the CLI on the host and the docs use them.
HOST_PORTS = {
    "kafka": {9092: 9092},
    "opensearch": {9200: 9200},
    "opensearch-dashboards": {5601: 5601},
    "elasticsearch": {9201: 9200},
    "kibana": {5602: 5601},
    "api": {8000: 8000},
}


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load(COMPOSE.read_text())


def _host_ports(service):
    return {int(p.split(":")[0]): int(p.split(":")[1]) for p in service.get("ports", [])}


def _unset(value: str) -> str:
    """Resolve ${VAR:-default} the way compose does when VAR is unset."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(value))


def _leadhub_commands(service) -> list[list[str]]:
    """The leadhub command lines a service runs (without the leading `leadhub`)."""
    if service.get("entrypoint") is None:  # the image's entrypoint is `leadhub`
        return [list(service["command"])]
    script = "\n".join(service["command"])
    commands = []
    for line in script.splitlines():
        for part in line.split("&&"):
            words = shlex.split(part)
            if "leadhub" in words:
                commands.append(words[words.index("leadhub") + 1 :])
    return commands


def _mounts(service) -> dict[str, str]:
    """container path -> source (host path or volume name), defaults resolved."""
    mounts = {}
    for spec in service.get("volumes", []):
        source, target, *_ = _unset(spec).split(":")
        mounts[target] = source
    return mounts


def _python_code(healthcheck) -> str:
    test = healthcheck["test"]
    assert test[:3] == ["CMD", "python", "-c"], "the image has no curl: health checks use python"
    return test[3]


def test_host_ports_match_the_default_settings(compose):
    defaults = Settings()
    kafka_port = int(defaults.kafka.servers[0].rsplit(":", 1)[1])
    search_port = urlsplit(defaults.search.url).port
    assert _host_ports(compose["services"]["kafka"]).get(kafka_port) == kafka_port
    assert _host_ports(compose["services"]["opensearch"]).get(search_port) == 9200
    assert f"HOST://127.0.0.1:{kafka_port}" in compose["services"]["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    assert _host_ports(compose["services"]["api"]) == {defaults.api.port: defaults.api.port}


def test_host_ports_are_unchanged(compose):
    published = {name: _host_ports(s) for name, s in compose["services"].items() if s.get("ports")}
    assert published == HOST_PORTS


def test_elasticsearch_is_an_opt_in_profile(compose):
    for name in ("elasticsearch", "kibana"):
        assert compose["services"][name]["profiles"] == ["elasticsearch"]
    assert "profiles" not in compose["services"]["opensearch"]


@pytest.mark.parametrize("name", LEADHUB_PROCESSES)
def test_leadhub_processes_use_valid_settings(compose, name, clean_env, monkeypatch):
    service = compose["services"][name]
    env = service["environment"]
    for key, value in env.items():
        assert key.startswith("LEADHUB_")
        monkeypatch.setenv(key, _unset(value))
    settings = build_settings()  # raises ConfigError on any unknown or invalid LEADHUB_ key
    kafka_internal = compose["services"]["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    assert f"INTERNAL://{settings.kafka.bootstrap_servers}" in kafka_internal
    assert settings.search.url == "http://opensearch:9200"


@pytest.mark.parametrize("name", LEADHUB_PROCESSES)
def test_leadhub_processes_run_real_commands(compose, name, capsys):
    commands = _leadhub_commands(compose["services"][name])
    assert commands
    for argv in commands:
        # --help is eager: the command path and every option given must exist for this to exit 0.
        assert main([*argv, "--help"]) == 0, argv
    capsys.readouterr()


def test_init_is_one_shot_and_everything_else_waits_for_it(compose):
    services = compose["services"]
    init = services["init"]
    assert _leadhub_commands(init) == [["topics", "create"], ["index", "init"]]
    assert init["restart"] == "no"
    assert init["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert init["depends_on"]["opensearch"]["condition"] == "service_healthy"
    # Elasticsearch is waited for only when its profile is on.
    assert init["depends_on"]["elasticsearch"] == {"condition": "service_healthy", "required": False}
    for name in LONG_RUNNING:
        assert services[name]["depends_on"] == {"init": {"condition": "service_completed_successfully"}}, name
        assert services[name]["restart"] == "unless-stopped"


def test_init_runs_the_leadhub_commands_as_the_image_user(compose):
    """init is root only to chown the state volume; the leadhub commands drop to nobody (65534)."""
    script = "\n".join(compose["services"]["init"]["command"])
    for line in script.splitlines():
        if "leadhub" in shlex.split(line):
            assert line.startswith("setpriv --reuid=65534 --regid=65534 --clear-groups leadhub "), line
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "USER nobody" in dockerfile


def test_every_service_with_state_has_a_volume_and_a_health_check(compose):
    for name in ("kafka", "opensearch", "elasticsearch", "ingest-scheduler"):
        service = compose["services"][name]
        assert service.get("volumes"), name
        assert service.get("healthcheck"), name
    assert set(compose["volumes"]) == {"kafka-data", "opensearch-data", "elasticsearch-data", "ingest-state", "attachments", "notify-state"}
    for name, service in compose["services"].items():
        for source in _mounts(service).values():
            if not source.startswith((".", "/")):
                assert source in compose["volumes"], (name, source)


def test_ingest_state_lives_on_its_volume(compose, clean_env, monkeypatch):
    service = compose["services"]["ingest-scheduler"]
    mounts = _mounts(service)
    state_dirs = [target for target, source in mounts.items() if source == "ingest-state"]
    assert state_dirs == ["/var/lib/leadhub"]
    for key, value in service["environment"].items():
        monkeypatch.setenv(key, _unset(value))
    ingest = build_settings().ingest
    assert ingest.state_db == Path("/var/lib/leadhub/ingest-state.sqlite")
    assert ingest.metrics_file == Path("/var/lib/leadhub/ingest-metrics.prom")
    # init hands that same volume to the image's user before the scheduler starts.
    assert _mounts(compose["services"]["init"]) == {"/var/lib/leadhub": "ingest-state", "/var/lib/leadhub/attachments": "attachments"}
    assert "chown 65534:65534 /var/lib/leadhub" in compose["services"]["init"]["command"][0]
    # The health check watches the metrics file the scheduler rewrites every second.
    assert str(ingest.metrics_file) in _python_code(service["healthcheck"])


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_config_files_are_mounted_where_the_settings_point(compose, name):
    service = compose["services"][name]
    mounts = _mounts(service)
    env = service["environment"]
    for key in ("LEADHUB_INGEST__SOURCES", "LEADHUB_ROUTING__TAXONOMY", "LEADHUB_ROUTING__GAZETTEER"):
        target = env[key]
        assert target in mounts, (key, target)
        source = DEPLOY / mounts[target]
        assert source.is_file(), f"{key}: the default {source} does not exist"
    for spec in service["volumes"]:
        if spec.split(":")[-1] != "ro":
            assert _unset(spec).split(":")[0] in ("ingest-state", "attachments", "notify-state"), spec


def test_leadhub_processes_have_health_checks(compose):
    services = compose["services"]
    defaults = Settings()
    for name in LONG_RUNNING:
        code = _python_code(services[name]["healthcheck"])
        compile(code, f"{name} healthcheck", "exec")
    api = services["api"]
    port = int(api["command"][api["command"].index("--port") + 1])
    assert f"http://127.0.0.1:{port}/healthz" in _python_code(api["healthcheck"])
    assert f"http://127.0.0.1:{defaults.streams.web_port}/" in _python_code(services["streams-worker"]["healthcheck"])
    assert "/proc/1/" in _python_code(services["sink"]["healthcheck"])
    assert "/proc/1/" in _python_code(services["notify"]["healthcheck"])


def test_streams_worker_runs_in_a_writable_directory(compose):
    # faust makes <app_id>-data in its working directory; /app in the image belongs to root.
    assert compose["services"]["streams-worker"]["working_dir"] == "/tmp"


def test_secrets_come_from_an_optional_env_file(compose):
    for name in LEADHUB_PROCESSES:
        assert compose["services"][name]["env_file"] == [{"path": "leadhub.env", "required": False}]
        assert not any("PASSWORD" in k or "API_KEY" in k or "KEYS" in k for k in compose["services"][name]["environment"])


def test_the_image_copies_every_package_the_project_installs():
    """A package missing from the image's COPY lines installs nothing and fails at the first import."""
    import tomllib

    project = tomllib.loads((DEPLOY.parent / "pyproject.toml").read_text(encoding="utf-8"))
    packages = {pattern.rstrip("*") for pattern in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    copied = {line.split()[1] for line in (DEPLOY / "Dockerfile").read_text().splitlines() if line.startswith("COPY ")}
    assert packages <= copied, f"not copied into the image: {sorted(packages - copied)}"


def test_the_api_keeps_photos_on_the_attachments_volume(compose, clean_env, monkeypatch):
    # Officers' photos: the API stores and serves them, so every API process mounts the one volume
    # where its settings point, and init hands that volume to the image's user.
    api = compose["services"]["api"]
    for key, value in api["environment"].items():
        monkeypatch.setenv(key, _unset(value))
    folder = build_settings().attachments.folder(Path("/nowhere"))
    assert _mounts(api).get(str(folder)) == "attachments"
    assert f"chown 65534:65534 /var/lib/leadhub {folder}" in compose["services"]["init"]["command"][0]


def test_notify_is_opt_in_and_keeps_its_record_on_its_volume(compose, clean_env, monkeypatch):
    # Without channels configured `notify run` exits saying so: it runs only with --profile notify.
    service = compose["services"]["notify"]
    assert service["profiles"] == ["notify"]
    for key, value in service["environment"].items():
        monkeypatch.setenv(key, _unset(value))
    notify = build_settings().notify
    assert notify.enabled and notify.state_db is not None
    assert _mounts(service).get(str(notify.state_db.parent)) == "notify-state"
    # A new named volume takes the owner of the image's directory: the image user's.
    assert f"chown 65534:65534 {notify.state_db.parent}" in (DEPLOY / "Dockerfile").read_text()
