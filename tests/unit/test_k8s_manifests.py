"""deploy/k8s without a cluster: the manifests parse, run real commands, name real settings and keys."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from adapters.kafka_clients import kafka_python_options
from adapters.search_backend import client_options
from leadhub.cli import main
from leadhub.settings import CONFIG_FILE_ENV, Settings, build_settings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUSTOMIZATION = K8S / "kustomization.yaml"
SECRET_EXAMPLE = K8S / "secret.example.yaml"
ENV_NAME = re.compile(r"\bLEADHUB_[A-Z0-9_]*[A-Z0-9]\b")
COMMENTED_SETTING = re.compile(r"^[ \t]*#[ \t]*(LEADHUB_[A-Z0-9_]+):[ \t]*(\S.*?)[ \t]*(?:#.*)?$", re.M)
WORKLOAD_KINDS = ("Deployment", "Job", "CronJob")


def _load(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]


@pytest.fixture(scope="module")
def kustomization() -> dict[str, Any]:
    return yaml.safe_load(KUSTOMIZATION.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def resources(kustomization) -> list[dict[str, Any]]:
    return [doc for name in kustomization["resources"] for doc in _load(K8S / name)]


@pytest.fixture(scope="module")
def example_secrets() -> dict[str, dict[str, str]]:
    return {doc["metadata"]["name"]: doc.get("stringData", {}) | doc.get("data", {}) for doc in _load(SECRET_EXAMPLE)}


@pytest.fixture(scope="module")
def config_maps(resources, kustomization) -> dict[str, dict[str, str]]:
    """Every ConfigMap's keys: those in the manifests and those kustomize generates."""
    maps = {doc["metadata"]["name"]: doc.get("data", {}) for doc in resources if doc["kind"] == "ConfigMap"}
    for generator in kustomization.get("configMapGenerator", []):
        keys = {}
        for spec in generator.get("files", []):
            key, _, path = spec.rpartition("=")
            keys[key or PurePosixPath(path).name] = path
        for literal in generator.get("literals", []):
            key, _, value = literal.partition("=")
            keys[key] = value
        maps[generator["name"]] = keys
    return maps


def _pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    if doc["kind"] == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return doc["spec"]["template"]["spec"]


def _workloads(resources) -> list[dict[str, Any]]:
    return [doc for doc in resources if doc["kind"] in WORKLOAD_KINDS]


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod.get("initContainers", []), *pod["containers"]]


def _all_containers(resources):
    for doc in _workloads(resources):
        pod = _pod_spec(doc)
        for container in _containers(pod):
            yield doc, pod, container


def _argv(container: dict[str, Any]) -> list[str]:
    command = [*container.get("command", []), *container.get("args", [])]
    assert command[:1] == ["leadhub"], f"{container['name']}: {command}"
    return command[1:]


def _setting_field(env_name: str):
    """The settings field LEADHUB_<SECTION>__<FIELD> sets, walking the Settings model; None if none."""
    model: Any = Settings
    field = None
    for part in env_name.removeprefix("LEADHUB_").lower().split("__"):
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or part not in model.model_fields:
            return None
        field = model.model_fields[part]
        model = field.annotation
    return field if not (isinstance(model, type) and issubclass(model, BaseModel)) else None


def _container_env(container, config_maps, secrets) -> dict[str, str]:
    """The environment a container would get, with the example Secrets as the Secrets."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(config_maps[source["configMapRef"]["name"]])
        if "secretRef" in source:
            env.update(secrets[source["secretRef"]["name"]])
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = str(item["value"])
            continue
        ref = item["valueFrom"].get("secretKeyRef") or item["valueFrom"].get("configMapKeyRef")
        found = (secrets if "secretKeyRef" in item["valueFrom"] else config_maps).get(ref["name"], {})
        if ref["key"] in found:
            env[item["name"]] = found[ref["key"]]
    return env


def _build_settings_from(env: dict[str, str], monkeypatch) -> Settings:
    for key, value in env.items():
        if key.startswith("LEADHUB_"):
            monkeypatch.setenv(key, value)
    return build_settings()


def _check_clients(settings: Settings, argv: list[str]) -> None:
    """What each process builds first must not refuse these settings."""
    kafka_python_options(settings.kafka)
    if argv[0] in ("index", "sink", "api"):
        client_options(settings.search)


# -- the files


@pytest.mark.parametrize("path", sorted(K8S.glob("*.yaml")), ids=lambda p: p.name)
def test_every_yaml_document_parses(path):
    docs = _load(path)
    assert docs, path
    if path == KUSTOMIZATION:
        return
    for doc in docs:
        assert doc["apiVersion"] and doc["kind"] and doc["metadata"]["name"], path


def test_kustomization_lists_every_manifest(kustomization):
    manifests = {p.name for p in K8S.glob("*.y*ml")} - {KUSTOMIZATION.name, SECRET_EXAMPLE.name}
    assert set(kustomization["resources"]) == manifests
    assert len(kustomization["resources"]) == len(set(kustomization["resources"]))
    # The example Secret holds placeholders: it must never be applied by kustomize.
    assert SECRET_EXAMPLE.name not in kustomization["resources"]


def test_kustomization_namespace_and_generated_files_exist(kustomization, resources, config_maps):
    namespaces = [doc["metadata"]["name"] for doc in resources if doc["kind"] == "Namespace"]
    assert namespaces == [kustomization["namespace"]]
    for generator in kustomization["configMapGenerator"]:
        for spec in generator["files"]:
            assert (K8S / spec.rpartition("=")[2]).resolve().is_file(), spec
    # The repository's own files, one copy of each (built with --load-restrictor LoadRestrictionsNone).
    config = {key: (K8S / path).resolve() for key, path in config_maps["leadhub-config"].items()}
    assert config == {
        "sources.yaml": ROOT / "sources.example.yaml",
        "taxonomy.yaml": ROOT / "enrichers" / "data" / "taxonomy.yaml",
        "gazetteer.yaml": ROOT / "enrichers" / "data" / "gazetteer.yaml",
    }
    assert [image["name"] for image in kustomization["images"]] == ["leadhub"]


def test_example_secrets_are_secrets_with_placeholders_only(example_secrets):
    assert set(example_secrets) == {"leadhub-secrets", "leadhub-tls"}
    for doc in _load(SECRET_EXAMPLE):
        assert doc["kind"] == "Secret" and "data" not in doc  # stringData: readable placeholders
    for value in example_secrets["leadhub-tls"].values():
        assert "(" in value and "BEGIN" in value  # a placeholder, not a key


# -- commands


def _command_cases():
    kustomization = yaml.safe_load(KUSTOMIZATION.read_text(encoding="utf-8"))
    docs = [doc for name in kustomization["resources"] for doc in _load(K8S / name)]
    return [
        pytest.param(container, id=f"{doc['kind']}/{doc['metadata']['name']}/{container['name']}")
        for doc, _, container in _all_containers(docs)
    ]


@pytest.mark.parametrize("container", _command_cases())
def test_container_commands_are_real_leadhub_commands(container, capsys):
    argv = _argv(container)
    # --help is eager: exit 0 only if the command path and every option given exist.
    assert main([*argv, "--help"]) == 0, argv
    capsys.readouterr()


def test_each_process_runs_where_expected(resources):
    commands = {
        (doc["kind"], doc["metadata"]["name"]): [_argv(c) for c in _containers(_pod_spec(doc))]
        for doc in _workloads(resources)
    }
    assert commands == {
        ("Deployment", "leadhub-streams-worker"): [["streams", "worker"]],
        ("Deployment", "leadhub-sink"): [["sink", "run"]],
        ("Deployment", "leadhub-api"): [["api", "serve", "--host", "0.0.0.0", "--port", "8000"]],
        ("Deployment", "leadhub-notify"): [["notify", "run"]],
        # init containers run first and in order: topics, then indices
        ("Job", "leadhub-init"): [["topics", "create"], ["index", "init"]],
        ("CronJob", "leadhub-ingest"): [["ingest", "run", "--all"]],
        ("CronJob", "leadhub-briefing"): [["report", "--scheduled"]],
        ("CronJob", "leadhub-retention"): [["retention", "run"]],
    }


def test_ingest_cronjob_every_five_minutes_one_at_a_time(resources):
    (cron,) = [doc for doc in resources if doc["kind"] == "CronJob" and doc["metadata"]["name"] == "leadhub-ingest"]
    assert cron["spec"]["schedule"] == "*/5 * * * *"
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    pod = _pod_spec(cron)
    assert pod["restartPolicy"] == "Never"


def test_ingest_state_is_on_the_persistent_volume_claim(resources, config_maps, example_secrets, clean_env, monkeypatch):
    (cron,) = [doc for doc in resources if doc["kind"] == "CronJob" and doc["metadata"]["name"] == "leadhub-ingest"]
    pod = _pod_spec(cron)
    (container,) = pod["containers"]
    claims = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"] if "persistentVolumeClaim" in v}
    pvcs = {doc["metadata"]["name"]: doc for doc in resources if doc["kind"] == "PersistentVolumeClaim"}
    assert set(claims.values()) <= set(pvcs)
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    settings = _build_settings_from(_container_env(container, config_maps, example_secrets), monkeypatch)
    state_db = settings.ingest.state_db
    assert state_db is not None
    assert mounts.get(str(state_db.parent)) in claims, "the state DB must live on the PVC"
    assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsUser"]  # volume writable
    for name, pvc in pvcs.items():
        # The photos are written and read by every API replica: a claim many nodes can mount.
        assert pvc["spec"]["accessModes"] == (["ReadWriteMany"] if name == "leadhub-attachments" else ["ReadWriteOnce"])
        assert pvc["spec"]["resources"]["requests"]["storage"]


# -- settings and references


def _env_names_in(resources, config_maps, example_secrets) -> set[str]:
    names = set()
    for _, _, container in _all_containers(resources):
        names |= {item["name"] for item in container.get("env", [])}
    for data in (*config_maps.values(), *example_secrets.values()):
        names |= {key for key in data if key.startswith("LEADHUB_")}
    for path in K8S.glob("*.yaml"):  # also those named in comments
        names |= set(ENV_NAME.findall(path.read_text(encoding="utf-8")))
    return names


def test_every_leadhub_env_name_is_a_settings_field(resources, config_maps, example_secrets):
    names = _env_names_in(resources, config_maps, example_secrets)
    assert "LEADHUB_KAFKA__SASL_PASSWORD" in names and "LEADHUB_SEARCH__CA_CERTS" in names
    unknown = sorted(name for name in names if _setting_field(name) is None)
    assert not unknown, f"no such setting: {unknown}"


def test_env_names_not_leadhub_are_not_settings(resources):
    for doc, _, container in _all_containers(resources):
        for item in container.get("env", []):
            assert item["name"].startswith("LEADHUB_"), (doc["metadata"]["name"], item["name"])


def test_setting_field_walks_the_model():
    assert _setting_field("LEADHUB_KAFKA__SASL_MECHANISM") is not None
    assert _setting_field("LEADHUB_API__KEYS") is not None
    assert _setting_field("LEADHUB_KAFKA") is None  # a section, not a field
    assert _setting_field("LEADHUB_KAFKA__SASL_MECHANISMS") is None
    assert _setting_field("LEADHUB_KAFKA_SASL_MECHANISM") is None


def test_every_key_reference_is_defined(resources, config_maps, example_secrets):
    secrets = {name: set(keys) for name, keys in example_secrets.items()}
    secrets |= {doc["metadata"]["name"]: set(doc.get("stringData", {})) | set(doc.get("data", {}))
                for doc in resources if doc["kind"] == "Secret"}  # fmt: skip
    maps = {name: set(keys) for name, keys in config_maps.items()}
    pvcs = {doc["metadata"]["name"] for doc in resources if doc["kind"] == "PersistentVolumeClaim"}
    seen = 0
    for doc, _pod, container in _all_containers(resources):
        where = f"{doc['metadata']['name']}/{container['name']}"
        for item in container.get("env", []):
            ref = item.get("valueFrom", {})
            if "secretKeyRef" in ref:
                seen += 1
                assert ref["secretKeyRef"]["key"] in secrets.get(ref["secretKeyRef"]["name"], ()), (where, item)
                assert ref["secretKeyRef"]["key"] == item["name"]  # the same name as in secret.example.yaml
            if "configMapKeyRef" in ref:
                assert ref["configMapKeyRef"]["key"] in maps.get(ref["configMapKeyRef"]["name"], ()), (where, item)
        for source in container.get("envFrom", []):
            if "configMapRef" in source:
                assert source["configMapRef"]["name"] in maps, where
            if "secretRef" in source:
                assert source["secretRef"]["name"] in secrets, where
    for doc in _workloads(resources):
        for volume in _pod_spec(doc).get("volumes", []):
            if "configMap" in volume:
                assert volume["configMap"]["name"] in maps, volume
            if "secret" in volume:
                assert volume["secret"]["secretName"] in secrets, volume
            if "persistentVolumeClaim" in volume:
                assert volume["persistentVolumeClaim"]["claimName"] in pvcs, volume
    assert seen


def test_secrets_are_optional_and_given_only_where_needed(resources):
    needs = {
        "streams-worker": {"LEADHUB_KAFKA__SASL_USERNAME", "LEADHUB_KAFKA__SASL_PASSWORD"},
        "ingest": {"LEADHUB_KAFKA__SASL_USERNAME", "LEADHUB_KAFKA__SASL_PASSWORD"},
        "topics-create": {"LEADHUB_KAFKA__SASL_USERNAME", "LEADHUB_KAFKA__SASL_PASSWORD"},
        "index-init": {"LEADHUB_SEARCH__USERNAME", "LEADHUB_SEARCH__PASSWORD", "LEADHUB_SEARCH__API_KEY"},
        "sink": {"LEADHUB_KAFKA__SASL_USERNAME", "LEADHUB_KAFKA__SASL_PASSWORD", "LEADHUB_SEARCH__USERNAME",
                 "LEADHUB_SEARCH__PASSWORD", "LEADHUB_SEARCH__API_KEY"},
    }  # fmt: skip
    needs["api"] = needs["sink"] | {"LEADHUB_API__KEYS"}
    needs["notify"] = needs["api"] | {"LEADHUB_NOTIFY__SMTP", "LEADHUB_NOTIFY__WEBHOOKS"}
    needs["retention"] = needs["sink"]
    needs["briefing"] = {"LEADHUB_SEARCH__USERNAME", "LEADHUB_SEARCH__PASSWORD", "LEADHUB_SEARCH__API_KEY", "LEADHUB_NOTIFY__SMTP"}
    for _, _, container in _all_containers(resources):
        refs = {item["name"]: item["valueFrom"]["secretKeyRef"] for item in container.get("env", [])
                if "secretKeyRef" in item.get("valueFrom", {})}  # fmt: skip
        assert set(refs) == needs[container["name"]], container["name"]
        assert all(ref["optional"] is True for ref in refs.values())
        for item in container.get("env", []):
            if _setting_field(item["name"]) is not None and "value" in item:
                assert "PASSWORD" not in item["name"] and "KEY" not in item["name"], item  # no secret in plain text
    for data_key in ("LEADHUB_KAFKA__SASL_PASSWORD", "LEADHUB_SEARCH__PASSWORD", "LEADHUB_SEARCH__API_KEY"):
        for doc in resources:
            assert data_key not in doc.get("data", {}), doc["metadata"]["name"]


def test_each_container_gets_valid_settings(resources, config_maps, example_secrets, clean_env, monkeypatch):
    """The ConfigMap plus the example Secret make settings every process accepts."""
    for doc, _, container in _all_containers(resources):
        with monkeypatch.context() as patch:
            env = _container_env(container, config_maps, example_secrets)
            settings = _build_settings_from(env, patch)
            _check_clients(settings, _argv(container))
            assert settings.ingest.sources == Path("/etc/leadhub/config/sources.yaml"), doc["metadata"]["name"]


def test_commented_settings_are_valid_too(config_maps, clean_env, monkeypatch):
    """Uncommenting the examples in configmap.yaml gives a valid (TLS + SASL) configuration."""
    text = (K8S / "configmap.yaml").read_text(encoding="utf-8")
    commented = dict(COMMENTED_SETTING.findall(text))
    assert {"LEADHUB_KAFKA__SASL_MECHANISM", "LEADHUB_KAFKA__SSL_CAFILE", "LEADHUB_SEARCH__CA_CERTS"} <= set(commented)
    env = config_maps["leadhub-env"] | {key: yaml.safe_load(value) for key, value in commented.items()}
    env = {key: str(value).lower() if isinstance(value, bool) else str(value) for key, value in env.items()}
    settings = _build_settings_from(env, monkeypatch)
    assert settings.kafka.sasl_mechanism == commented["LEADHUB_KAFKA__SASL_MECHANISM"]


def test_mounted_files_match_the_settings_that_name_them(resources, config_maps, example_secrets):
    """Paths under /etc/leadhub/config and /etc/leadhub/tls name keys of what is mounted there."""
    mounted = {"/etc/leadhub/config": ("configMap", "leadhub-config"), "/etc/leadhub/tls": ("secret", "leadhub-tls")}
    keys = {"/etc/leadhub/config": set(config_maps["leadhub-config"]), "/etc/leadhub/tls": set(example_secrets["leadhub-tls"])}
    text = (K8S / "configmap.yaml").read_text(encoding="utf-8")
    values = list(config_maps["leadhub-env"].values()) + [v for _, v in COMMENTED_SETTING.findall(text)]
    paths = [PurePosixPath(v) for v in values if str(v).startswith("/etc/leadhub/")]
    assert paths
    for path in paths:
        assert path.name in keys[str(path.parent)], path
    for _doc, pod, container in _all_containers(resources):
        volumes = {v["name"]: v for v in pod["volumes"]}
        mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
        for directory, (kind, name) in mounted.items():
            assert directory in mounts, (container["name"], directory)
            volume = volumes[mounts[directory]["name"]]
            assert mounts[directory].get("readOnly") is True
            assert (volume[kind].get("name") or volume[kind].get("secretName")) == name
        tls = volumes[mounts["/etc/leadhub/tls"]["name"]]["secret"]
        assert tls["optional"] is True  # plain PLAINTEXT/http deployments need no certificates


# -- hardening and probes


def test_every_container_is_hardened_and_sized(resources):
    for doc, pod, container in _all_containers(resources):
        where = f"{doc['metadata']['name']}/{container['name']}"
        pod_security = pod["securityContext"]
        assert pod_security["runAsNonRoot"] is True, where
        assert pod_security["runAsUser"] != 0 and pod_security["runAsGroup"] != 0, where
        assert pod_security["seccompProfile"]["type"] == "RuntimeDefault", where
        assert pod.get("automountServiceAccountToken") is False, where
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False, where
        assert security["readOnlyRootFilesystem"] is True, where
        assert security["capabilities"]["drop"] == ["ALL"], where
        for kind in ("requests", "limits"):
            assert set(container["resources"][kind]) >= {"cpu", "memory"}, (where, kind)
        # A read-only root needs a writable /tmp (tempfile, faust's data directory).
        volumes = {v["name"]: v for v in pod["volumes"]}
        tmp = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
        assert tmp and "emptyDir" in volumes[tmp[0]["name"]], where
        if "workingDir" in container:
            assert container["workingDir"] == "/tmp", where


def _port(container, port) -> int:
    if isinstance(port, int):
        return port
    (number,) = [p["containerPort"] for p in container.get("ports", []) if p["name"] == port]
    return number


def test_deployments_have_probes(resources):
    deployments = [doc for doc in resources if doc["kind"] == "Deployment"]
    assert len(deployments) == 4
    for doc in deployments:
        for container in _pod_spec(doc)["containers"]:
            assert "livenessProbe" in container, doc["metadata"]["name"]
            if container.get("ports"):
                assert "readinessProbe" in container, doc["metadata"]["name"]
            for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
                probe = container.get(kind)
                if probe and "httpGet" in probe:
                    _port(container, probe["httpGet"]["port"])  # a named port must exist
                if probe and "exec" in probe:
                    command = probe["exec"]["command"]
                    assert command[:2] == ["python", "-c"]
                    compile(command[2], f"{doc['metadata']['name']} {kind}", "exec")


def test_probes_ask_the_real_endpoints(resources, config_maps):
    containers = {c["name"]: c for _, _, c in _all_containers(resources)}
    api = containers["api"]
    argv = _argv(api)
    port = int(argv[argv.index("--port") + 1])
    assert api["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert _port(api, api["readinessProbe"]["httpGet"]["port"]) == port
    # Liveness must not depend on the search engine (/healthz is 503 while it is away).
    assert api["livenessProbe"]["httpGet"]["path"] != "/healthz"
    streams = containers["streams-worker"]
    web_port = int(config_maps["leadhub-env"].get("LEADHUB_STREAMS__WEB_PORT", Settings().streams.web_port))
    for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert _port(streams, streams[kind]["httpGet"]["port"]) == web_port
        assert streams[kind]["httpGet"]["path"] == "/"
    assert "sink" in containers["sink"]["livenessProbe"]["exec"]["command"][2]


def test_api_service_reaches_the_api_pods(resources):
    (service,) = [doc for doc in resources if doc["kind"] == "Service"]
    (api,) = [doc for doc in resources if doc["kind"] == "Deployment" and doc["metadata"]["name"] == "leadhub-api"]
    labels = api["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert api["spec"]["selector"]["matchLabels"].items() <= labels.items()
    (container,) = _pod_spec(api)["containers"]
    for port in service["spec"]["ports"]:
        assert _port(container, port["targetPort"]) == 8000


def test_deployment_selectors_match_their_pods(resources):
    for doc in resources:
        if doc["kind"] == "Deployment":
            labels = doc["spec"]["template"]["metadata"]["labels"]
            assert doc["spec"]["selector"]["matchLabels"].items() <= labels.items(), doc["metadata"]["name"]


# -- the documentation next to them


def test_deploy_readme_names_only_real_settings():
    text = (ROOT / "deploy" / "README.md").read_text(encoding="utf-8")
    names = set(ENV_NAME.findall(text)) - {CONFIG_FILE_ENV}
    assert "LEADHUB_KAFKA__SECURITY_PROTOCOL" in names
    unknown = sorted(name for name in names if _setting_field(name) is None)
    assert not unknown, f"deploy/README.md names no such setting: {unknown}"


def test_readme_shows_the_kustomize_load_restrictor():
    text = (ROOT / "deploy" / "README.md").read_text(encoding="utf-8")
    assert "--load-restrictor LoadRestrictionsNone" in text
    assert "--load-restrictor LoadRestrictionsNone" in KUSTOMIZATION.read_text(encoding="utf-8")



def test_briefing_cronjob_weekly_in_city_time_writing_to_its_volume(resources, config_maps, example_secrets, clean_env, monkeypatch):
    (cron,) = [doc for doc in resources if doc["kind"] == "CronJob" and doc["metadata"]["name"] == "leadhub-briefing"]
    assert (cron["spec"]["schedule"], cron["spec"]["timeZone"], cron["spec"]["concurrencyPolicy"]) == ("0 8 * * 1", "Asia/Shanghai", "Forbid")
    pod = _pod_spec(cron)
    (container,) = pod["containers"]
    settings = _build_settings_from(_container_env(container, config_maps, example_secrets), monkeypatch)
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    claims = {v["name"] for v in pod["volumes"] if "persistentVolumeClaim" in v}
    for path in (settings.briefing.out_dir, settings.notify.state_db):
        assert path is not None and mounts.get(str(path.parent)) in claims, f"{path} must be on the volume"
    assert settings.briefing.schedule == cron["spec"]["schedule"]  # embedded mode's default runs it at the same time



def test_retention_cronjob_daily_in_city_time_deleting_photos_on_the_shared_claim(resources, config_maps, example_secrets, clean_env, monkeypatch):
    (cron,) = [doc for doc in resources if doc["kind"] == "CronJob" and doc["metadata"]["name"] == "leadhub-retention"]
    assert (cron["spec"]["timeZone"], cron["spec"]["concurrencyPolicy"]) == ("Asia/Shanghai", "Forbid")
    pod = _pod_spec(cron)
    (container,) = pod["containers"]
    settings = _build_settings_from(_container_env(container, config_maps, example_secrets), monkeypatch)
    assert settings.retention.schedule == cron["spec"]["schedule"]  # embedded mode's default runs it at the same time
    assert settings.briefing.timezone == cron["spec"]["timeZone"]  # the zone embedded mode reads the schedule in
    assert settings.retention.contact_days == 180  # the ConfigMap leaves the documented default
    # The photos of deleted leads are the API's: the same claim, at the path the settings name.
    folder = settings.attachments.folder(settings.local_dir)
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    claims = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"] if "persistentVolumeClaim" in v}
    assert claims.get(mounts.get(str(folder))) == "leadhub-attachments"


def test_every_api_replica_keeps_photos_on_the_shared_claim(resources, config_maps, example_secrets, clean_env, monkeypatch):
    (api,) = [doc for doc in resources if doc["kind"] == "Deployment" and doc["metadata"]["name"] == "leadhub-api"]
    pod = _pod_spec(api)
    (container,) = pod["containers"]
    settings = _build_settings_from(_container_env(container, config_maps, example_secrets), monkeypatch)
    folder = settings.attachments.folder(settings.local_dir)
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    claims = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"] if "persistentVolumeClaim" in v}
    assert claims.get(mounts.get(str(folder))) == "leadhub-attachments"


def test_notify_is_one_replica_replaced_not_rolled_with_its_record_on_a_claim(resources, config_maps, example_secrets, clean_env, monkeypatch):
    # Two notifiers at once (a rolling update) would each hold the SQLite record of sent messages.
    (notify,) = [doc for doc in resources if doc["kind"] == "Deployment" and doc["metadata"]["name"] == "leadhub-notify"]
    assert notify["spec"]["replicas"] == 1 and notify["spec"]["strategy"]["type"] == "Recreate"
    pod = _pod_spec(notify)
    (container,) = pod["containers"]
    settings = _build_settings_from(_container_env(container, config_maps, example_secrets), monkeypatch)
    assert settings.notify.enabled and settings.notify.state_db is not None
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    claims = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"] if "persistentVolumeClaim" in v}
    assert claims.get(mounts.get(str(settings.notify.state_db.parent))) == "leadhub-notify"
