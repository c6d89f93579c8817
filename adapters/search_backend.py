"""One small adapter over OpenSearch (opensearch-py) and Elasticsearch 9 (elasticsearch-py).

Request bodies are shared and built elsewhere; only client construction, the few differences in how
the two clients spell a call, and the mapping of their exceptions onto ours live here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from schemas.errors import ConfigError, LeadhubError, RetryableError
from schemas.sections import Section


class SearchSettings(Section):
    backend: Literal["opensearch", "elasticsearch"] = "opensearch"
    url: str = Field("http://127.0.0.1:9200", description="Base URL of the search engine.")
    username: str | None = None
    password: SecretStr | None = None
    api_key: SecretStr | None = Field(
        None, description="API key (Elasticsearch 'ApiKey' or an OpenSearch bearer-style key)."
    )
    verify_certs: bool = True
    ca_certs: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    request_timeout: float = Field(30.0, gt=0)
    index_prefix: str = Field("leadhub", pattern=r"^[a-z0-9][a-z0-9_-]*$")
    number_of_shards: int = Field(1, ge=1)
    number_of_replicas: int = Field(0, ge=0, description="0 suits one node; use 1+ on a cluster.")
    refresh_interval: str = Field(
        "500ms",
        pattern=r"^(-1|\d+(ms|s|m))$",
        description="How soon an indexed lead becomes searchable; shorter costs the engine more work.",
    )
    months_merge_after: str = Field(
        "45d", pattern=r"^\d+[dh]$",
        description="Age (since its index was made) at which a month of leads is force-merged to one segment "
        "by the lifecycle policy `leadhub index init` installs (ISM on OpenSearch, ILM on Elasticsearch).",
    )
    months_warm_nodes: str | None = Field(
        None, pattern=r"^[A-Za-z0-9_.-]+=[A-Za-z0-9_.-]+$",
        description="attribute=value (e.g. temp=warm): the policy then also moves old months to the nodes "
        "started with node.attr.<attribute>=<value>. Unset: months stay where they are.",
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"must be an http:// or https:// URL, got {value!r}")
        return value.rstrip("/")


class SearchUnavailable(RetryableError):
    """The engine did not answer, or answered 429/5xx: back off and retry."""


class SearchRequestError(LeadhubError):
    """The engine refused the request itself (4xx); retrying the same request cannot help."""

    def __init__(self, message: str, *, status: int | None, info: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.info = info


class NotFound(SearchRequestError):
    pass


def client_options(settings: SearchSettings) -> dict[str, Any]:
    """Keyword arguments for the configured client class; pure, so tests cover every option."""
    tls: dict[str, Any] = {}
    if settings.url.startswith("https://"):
        tls["verify_certs"] = settings.verify_certs
        if settings.ca_certs:
            tls["ca_certs"] = str(settings.ca_certs)
        if settings.client_cert:
            tls["client_cert"] = str(settings.client_cert)
        if settings.client_key:
            tls["client_key"] = str(settings.client_key)
    if (settings.username is None) != (settings.password is None):
        raise ConfigError(
            "search.username and search.password must be set together",
            hint="set both, or neither and use search.api_key",
        )
    basic = (
        (settings.username, settings.password.get_secret_value())
        if settings.username and settings.password
        else None
    )
    if basic and settings.api_key:
        raise ConfigError(
            "search.api_key and search.username/password are both set",
            hint="choose one way to authenticate",
        )

    if settings.backend == "elasticsearch":
        options: dict[str, Any] = {"hosts": [settings.url], "request_timeout": settings.request_timeout}
        if basic:
            options["basic_auth"] = basic
        if settings.api_key:
            options["api_key"] = settings.api_key.get_secret_value()
        return options | tls

    options = {
        "hosts": [settings.url],
        "timeout": settings.request_timeout,
        "use_ssl": settings.url.startswith("https://"),
    }
    if basic:
        options["http_auth"] = basic
    if settings.api_key:
        # OpenSearch has no API-key scheme of its own; a fronting proxy or the security plugin's
        # JWT/bearer backends read the Authorization header.
        options["headers"] = {"Authorization": f"Bearer {settings.api_key.get_secret_value()}"}
    return options | tls


def build_client(settings: SearchSettings) -> Any:
    options = client_options(settings)
    if settings.backend == "elasticsearch":
        from elasticsearch import Elasticsearch

        return Elasticsearch(**options)
    from opensearchpy import OpenSearch

    return OpenSearch(**options)


def _body(response: Any) -> Any:
    # elasticsearch-py wraps responses in ObjectApiResponse; opensearch-py returns plain dicts.
    return getattr(response, "body", response)


class SearchBackend:
    """The operations leadhub needs, identical for both engines."""

    def __init__(self, client: Any, backend: str) -> None:
        self.client = client
        self.backend = backend

    @classmethod
    def from_settings(cls, settings: SearchSettings) -> SearchBackend:
        return cls(build_client(settings), settings.backend)

    def close(self) -> None:
        self.client.close()

    def _call(self, fn: Any, **kwargs: Any) -> Any:
        try:
            return _body(fn(**kwargs))
        except Exception as exc:  # both clients' exception trees, translated once here
            translated = _translate(exc)
            if translated is None:
                raise
            raise translated from exc

    # cluster
    def health(self, **params: Any) -> dict[str, Any]:
        return self._call(self.client.cluster.health, **params)

    def info(self) -> dict[str, Any]:
        """Cluster name, status and version, in GET /'s shape, asked without GET /: the integration build
        of Elasticsearch lacks rest-root (a 405). elasticsearch-py checks the product header
        (X-elastic-product) on every answer, so this also fails if backend=elasticsearch meets another engine."""
        health = self.health()
        nodes = self._call(self.client.nodes.info, node_id="_local", filter_path="nodes.*.version")
        versions = [node.get("version", "?") for node in nodes.get("nodes", {}).values()]
        return {
            "cluster_name": health.get("cluster_name"),
            "status": health.get("status"),
            "version": {"number": versions[0] if versions else "?"},
        }

    # templates, indices and aliases
    def put_index_template(self, name: str, body: Mapping[str, Any]) -> None:
        self._call(self.client.indices.put_index_template, name=name, body=dict(body))

    def get_index_template(self, name: str) -> dict[str, Any] | None:
        try:
            found = self._call(self.client.indices.get_index_template, name=name)
        except NotFound:
            return None
        templates = found.get("index_templates", [])
        return templates[0]["index_template"] if templates else None

    def create_index(self, name: str, body: Mapping[str, Any] | None = None) -> None:
        self._call(self.client.indices.create, index=name, body=dict(body or {}))

    def delete_index(self, name: str) -> None:
        self._call(self.client.indices.delete, index=name)

    def put_index_settings(self, index: str, settings: Mapping[str, Any]) -> None:
        self._call(self.client.indices.put_settings, index=index, body={"index": dict(settings)})

    def index_names(self, pattern: str = "*") -> list[str]:
        """Names of the indices matching ``pattern`` (hidden and system ones included when it says so)."""
        rows = self._call(self.client.cat.indices, index=pattern, format="json", h="index")
        return [row["index"] for row in rows]

    def index_exists(self, name: str) -> bool:
        return bool(self._call(self.client.indices.exists, index=name))

    def get_mapping(self, index: str) -> dict[str, Any]:
        return self._call(self.client.indices.get_mapping, index=index)

    def get_alias(self, name: str) -> dict[str, Any]:
        """Indices behind alias ``name`` ({} when the alias does not exist)."""
        try:
            return self._call(self.client.indices.get_alias, name=name)
        except NotFound:
            return {}

    def update_aliases(self, actions: Iterable[Mapping[str, Any]]) -> None:
        self._call(self.client.indices.update_aliases, body={"actions": list(actions)})

    def has_token_filter(self, name: str) -> bool:
        """Whether the engine knows token filter ``name`` (Elasticsearch's integration build lacks
        analysis-common, hence cjk_bigram); asked of _analyze, which needs no index."""
        try:
            self._call(self.client.indices.analyze, body={"tokenizer": "standard", "filter": [name], "text": "义乌"})
        except SearchRequestError:
            return False
        return True

    def expunge_deletes(self, index: str) -> None:
        """Merge away the segments' deleted documents (a document deleted or updated stays on disk until
        its segment is merged): retention's removed contacts and leads. Segments with few deletions may
        be left for the engine's own merges (index.merge.policy.expunge_deletes_allowed)."""
        self._call(self.client.indices.forcemerge, index=index, only_expunge_deletes=True)

    def refresh(self, index: str) -> None:
        self._call(self.client.indices.refresh, index=index)

    # documents
    def bulk(self, operations: Sequence[Mapping[str, Any]] | bytes, *, refresh: bool | str | None = None) -> dict[str, Any]:
        """``operations``: action and source dicts, or a ready NDJSON body (bytes)."""
        params: dict[str, Any] = {"body": operations}
        if refresh is not None:
            params["refresh"] = refresh
        return self._call(self.client.bulk, **params)

    def index(self, index: str, doc_id: str, document: Mapping[str, Any], *, refresh: bool | str | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"index": index, "id": doc_id, "body": dict(document)}
        if refresh is not None:
            params["refresh"] = refresh
        return self._call(self.client.index, **params)

    def get(self, index: str, doc_id: str) -> dict[str, Any] | None:
        try:
            return self._call(self.client.get, index=index, id=doc_id)
        except NotFound:
            return None

    def mget(self, index: str, doc_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The documents found among ``doc_ids``, by id, as get returns them (with _seq_no and
        _primary_term, for a guarded write back); one request for many."""
        ids = list(dict.fromkeys(doc_ids))
        if not ids:
            return {}
        docs = self._call(self.client.mget, index=index, body={"ids": ids})["docs"]
        return {doc["_id"]: doc for doc in docs if doc.get("found")}

    def update(
        self, index: str, doc_id: str, body: Mapping[str, Any], *, refresh: bool | str | None = None,
        if_seq_no: int | None = None, if_primary_term: int | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Update (or upsert, per ``body``); with if_seq_no/if_primary_term a concurrent change is a 409."""
        params: dict[str, Any] = {"index": index, "id": doc_id, "body": dict(body)}
        if refresh is not None:
            params["refresh"] = refresh
        if if_seq_no is not None:
            params.update(if_seq_no=if_seq_no, if_primary_term=if_primary_term)
        return self._call(self.client.update, **params)

    def create(self, index: str, doc_id: str, document: Mapping[str, Any]) -> dict[str, Any]:
        """Index only if no document has this id (else a 409)."""
        return self._call(self.client.create, index=index, id=doc_id, body=dict(document))

    def search(self, index: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._call(self.client.search, index=index, body=dict(body))

    def msearch(self, searches: Sequence[tuple[str, Mapping[str, Any]]]) -> list[dict[str, Any]]:
        """The answers to several (index, body) searches in one round trip (the engine runs them side by
        side); the first that failed is raised as a search would raise it."""
        lines: list[Mapping[str, Any]] = []
        for index, body in searches:
            lines += [{"index": index}, dict(body)]
        answers = self._call(self.client.msearch, body=lines)["responses"]
        for answer in answers:
            if "error" in answer:
                raise _from_status(answer.get("status"), f"search failed: {answer['error']}", answer["error"])
        return answers

    def count(self, index: str, body: Mapping[str, Any] | None = None) -> int:
        return int(self._call(self.client.count, index=index, body=dict(body or {}))["count"])

    def reindex(self, source: str, dest: str, *, refresh: bool = True) -> dict[str, Any]:
        """Copy every document of ``source`` into ``dest``: the engine's _reindex, else (the local
        Elasticsearch has no reindex module: a 405) scroll and bulk from here."""
        body = {"source": {"index": source}, "dest": {"index": dest}}
        try:
            return self._call(self.client.reindex, body=body, refresh=refresh, wait_for_completion=True)
        except SearchRequestError as exc:
            if exc.status not in (404, 405):  # not "no such endpoint": a real refusal
                raise
        return self.copy(source, dest, refresh=refresh)

    def copy(
        self, source: str, dest: str | Callable[[dict[str, Any]], str], *, refresh: bool = True, keep_newer: bool = False
    ) -> dict[str, Any]:
        """_reindex's result shape (total, created, failures) from the client's scan and bulk helpers;
        ``dest`` an index, or the index for each document's _source (a lead's month). With ``keep_newer``
        a document already in ``dest`` (written there since, or by an earlier run of the same copy) is
        left as it is and counted in ``kept``, not overwritten by the older copy."""
        helpers = self.helpers()
        written: set[str] = set()

        def where(doc: dict[str, Any]) -> str:
            name = dest(doc) if callable(dest) else dest
            written.add(name)
            return name

        # Not helpers.reindex: elasticsearch-py's asks GET _data_stream/<dest>, which this build lacks too.
        op = "create" if keep_newer else "index"
        actions = (
            {"_op_type": op, "_index": where(hit["_source"]), "_id": hit["_id"], "_source": hit["_source"]}
            for hit in helpers.scan(self.client, index=source, size=500, scroll="5m")
        )
        try:
            created, errors = helpers.bulk(self.client, actions, chunk_size=500, max_retries=3, raise_on_error=False)
        except Exception as exc:
            translated = _translate(exc)
            if translated is None:
                raise
            raise translated from exc
        failures = errors if isinstance(errors, list) else []
        kept = [f for f in failures if keep_newer and f.get(op, {}).get("status") == 409]
        failures = [f for f in failures if f not in kept]
        if refresh:
            for name in sorted(written) or ([dest] if isinstance(dest, str) else []):
                self.refresh(name)
        return {"total": created + len(kept) + len(failures), "created": created, "kept": len(kept), "failures": failures}

    def helpers(self) -> Any:
        """The client's bulk and scan helpers (a bulk load or a scan that the adapter's calls don't cover:
        benchmarks, copies)."""
        if self.backend == "elasticsearch":
            from elasticsearch import helpers
        else:
            from opensearchpy import helpers  # type: ignore[no-redef]
        return helpers

    def find(self, alias: str, doc_ids: Iterable[str], *, source: bool = True) -> dict[str, dict[str, Any]]:
        """The documents among ``doc_ids`` behind ``alias`` (any number of indices: leads are one index a
        month), by id, each with the _index it is in, _seq_no and _primary_term (for a guarded write
        back) and, with ``source``, _source. A get cannot name an alias of several indices, so: one
        search by id on the alias, then, for the ids it did not see (written since the last refresh),
        the alias's indices and a realtime mget in each: most reads cost the search alone."""
        ids = list(dict.fromkeys(doc_ids))
        if not ids:
            return {}
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            body = {"query": {"ids": {"values": chunk}}, "size": len(chunk), "seq_no_primary_term": True, "_source": source}
            try:
                hits = self.search(alias, body)["hits"]["hits"]
            except NotFound:  # no such alias or index: nothing is found (the mget below says the same)
                hits = []
            for hit in hits:
                found[hit["_id"]] = hit
        missing = [i for i in ids if i not in found]
        if not missing:
            return found
        indices = sorted(self.get_alias(alias)) or [alias]
        # Each missing id is asked of every index: a request of a few thousand documents at most.
        step = max(1, 5000 // len(indices))
        for start in range(0, len(missing), step):
            docs = [{"_index": index, "_id": i} for i in missing[start : start + step] for index in indices]
            answer = self._call(self.client.mget, body={"docs": docs}, _source=source)
            for doc in answer["docs"]:
                if doc.get("found"):
                    found[doc["_id"]] = doc
        return found

    # lifecycle policies: ISM (OpenSearch's index-management plugin) or ILM (Elasticsearch's x-pack)
    def lifecycle_kind(self) -> str | None:
        """"ism", "ilm", or None when the engine has neither (OpenSearch's minimal distribution; the
        integration build of Elasticsearch): asked of the policy endpoint, which answers 400 "no
        handler found" where the module is missing."""
        try:
            if self.backend == "elasticsearch":
                self._call(self.client.ilm.get_lifecycle)
            else:
                self._call(self.client.index_management.get_policy, policy="")
        except NotFound:
            return "ilm" if self.backend == "elasticsearch" else "ism"
        except SearchRequestError as exc:
            if "no handler found" in str(exc):
                return None
            raise
        return "ilm" if self.backend == "elasticsearch" else "ism"

    def put_lifecycle_policy(self, name: str, body: Mapping[str, Any], pattern: str) -> None:
        """Install (or update) policy ``name`` and attach it to the existing indices of ``pattern``
        (new ones get it from the template: ILM's index.lifecycle.name, ISM's ism_template)."""
        if self.backend == "elasticsearch":
            self._call(self.client.ilm.put_lifecycle, name=name, policy=dict(body)["policy"])
            self.put_index_settings(pattern, {"lifecycle.name": name})
            return
        params: dict[str, Any] = {}
        try:
            live = self._call(self.client.index_management.get_policy, policy=name)
            params = {"if_seq_no": live["_seq_no"], "if_primary_term": live["_primary_term"]}
        except NotFound:
            live = None
        # The description names the policy's digest (schemas/index_policies.py): the same one is left alone.
        unchanged = live is not None and live.get("policy", {}).get("description") == dict(body)["policy"].get("description")
        if not unchanged:
            self._call(self.client.index_management.put_policy, policy=name, body=dict(body), params=params)
        # An index already managed is a "failure" of add, not an error.
        self._call(self.client.index_management.add_policy, index=pattern, body={"policy_id": name})
        if params and not unchanged:
            # ISM keeps a managed index on the policy version it started with (ILM reads the newest):
            # the months already managed move to this version once their current state is done.
            self._call(self.client.index_management.change_policy, index=pattern, body={"policy_id": name})


_CLIENT_MODULES = ("opensearchpy", "elasticsearch", "elastic_transport")


def _translate(exc: Exception) -> LeadhubError | None:
    """Our error for a client exception; None for anything else (a bug should surface as itself)."""
    if not type(exc).__module__.startswith(_CLIENT_MODULES):
        return None
    if type(exc).__name__ == "UnsupportedProductError":  # elasticsearch-py: no X-elastic-product header
        return ConfigError(
            "search.backend is elasticsearch, but the server at search.url is not Elasticsearch",
            hint="set search.backend=opensearch for OpenSearch, or point search.url at Elasticsearch",
        )
    status = getattr(exc, "status_code", None)
    if status is None:
        meta = getattr(exc, "meta", None)  # elasticsearch-py 8/9 keeps the status on .meta
        status = getattr(meta, "status", None)
    if not isinstance(status, int):
        status = None
    info = getattr(exc, "info", None) or getattr(exc, "body", None)
    return _from_status(status, str(exc), info)


def _from_status(status: int | None, message: str, info: Any) -> LeadhubError:
    if status is None or status == 429 or status >= 500:
        return SearchUnavailable(f"search engine unavailable: {message}", hint="retry later")
    if status == 404:
        return NotFound(f"not found: {message}", status=status, info=info)
    return SearchRequestError(f"search engine refused the request ({status}): {message}", status=status, info=info)
