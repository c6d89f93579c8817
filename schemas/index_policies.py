"""The lifecycle policy of the monthly lead indices (schemas/index_templates.py), as OpenSearch's ISM
and Elasticsearch's ILM spell it: old months force-merged, and moved where warm nodes are named."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from schemas.index_templates import monthly_pattern


def policy_name(alias: str) -> str:
    return f"{alias}-months"


def _warm_requirement(warm_nodes: str | None) -> dict[str, str]:
    if not warm_nodes:
        return {}
    attribute, _, value = warm_nodes.partition("=")
    return {attribute: value}


def ism_policy(alias: str, merge_after: str = "45d", warm_nodes: str | None = None) -> dict[str, Any]:
    """OpenSearch ISM: a month's index, once ``merge_after`` old, is force-merged to one segment (and
    moved to the ``warm_nodes``, when set). Never read-only: retention and a recategorization still
    change old leads. ism_template attaches it to every new month."""
    # ISM's force_merge puts a write block on the index first and never lifts it (ILM's no longer does):
    # read_write lifts it, or retention, recategorizations and a late lead would be refused in old months.
    actions: list[dict[str, Any]] = [{"force_merge": {"max_num_segments": 1}}, {"read_write": {}}]
    if warm_nodes:
        actions.append({"allocation": {"require": _warm_requirement(warm_nodes), "wait_for": False}})
    policy: dict[str, Any] = {
        "default_state": "hot",
        "states": [
            {"name": "hot", "actions": [], "transitions": [{"state_name": "settled", "conditions": {"min_index_age": merge_after}}]},
            {"name": "settled", "actions": actions, "transitions": []},
        ],
        "ism_template": [{"index_patterns": [monthly_pattern(alias)], "priority": 100}],
    }
    # ISM stores the states with its defaults filled in, so the stored policy never equals this one;
    # the description carries a digest of it, which `index init` compares to leave an unchanged
    # policy (and the months it manages) alone.
    digest = hashlib.sha256(json.dumps(policy, sort_keys=True).encode()).hexdigest()[:12]
    description = f"leadhub: months of {alias} force-merged (and moved) once {merge_after} old [{digest}]"
    return {"policy": {"description": description, **policy}}


def ilm_policy(alias: str, merge_after: str = "45d", warm_nodes: str | None = None) -> dict[str, Any]:
    """Elasticsearch ILM, the same as ism_policy: the warm phase force-merges (and allocates)."""
    actions: dict[str, Any] = {"forcemerge": {"max_num_segments": 1}}
    if warm_nodes:
        actions["allocate"] = {"require": _warm_requirement(warm_nodes)}
    return {
        "policy": {
            "_meta": {"description": f"leadhub: months of {alias} force-merged (and moved) once {merge_after} old"},
            "phases": {"hot": {"actions": {}}, "warm": {"min_age": merge_after, "actions": actions}},
        }
    }
