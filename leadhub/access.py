"""Who may do what: API keys (stored as SHA-256) mapped to roles and their permissions. Pure.

Roles:
- ``analyst``: reads leads, cases and statistics, never personal contacts;
- ``officer``: reads (contacts included) and acts on the cases of their departments;
- ``intake``: submits field reports, nothing else;
- ``admin``: everything.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from enum import StrEnum

from leadhub.settings import ApiKeySpec


class Permission(StrEnum):
    read = "read"  # leads, cases, stats, Open311
    read_contacts = "read_contacts"  # the restricted contact of a lead
    act = "act"  # case events (further limited to the officer's departments)
    submit_reports = "submit_reports"


ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "analyst": frozenset({Permission.read}),
    "officer": frozenset({Permission.read, Permission.read_contacts, Permission.act}),
    "intake": frozenset({Permission.submit_reports}),
    "admin": frozenset(Permission),
}

ALL_DEPARTMENTS = "*"


@dataclass(frozen=True)
class Principal:
    name: str
    role: str
    departments: frozenset[str] = field(default_factory=frozenset)

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    def may_act_on(self, department: str | None) -> bool:
        """Officers act on their departments' cases; a case not routed yet is open to every officer
        (someone has to accept and assign it), and admins act on all."""
        if not self.can(Permission.act):
            return False
        if self.role == "admin" or ALL_DEPARTMENTS in self.departments or department is None:
            return True
        return department in self.departments


def key_digest(key: str) -> str:
    # API keys are long random strings, so a plain SHA-256 is enough (no password stretching needed).
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    return "lh_" + secrets.token_urlsafe(32)


class KeyRing:
    """The configured keys, looked up by presented key."""

    def __init__(self, specs: list[ApiKeySpec]) -> None:
        self._by_digest = {spec.sha256: spec for spec in specs}

    def __len__(self) -> int:
        return len(self._by_digest)

    def identify(self, presented: str) -> Principal | None:
        digest = key_digest(presented)
        for known, spec in self._by_digest.items():
            if hmac.compare_digest(known, digest):
                return Principal(spec.name, spec.role, frozenset(spec.departments))
        return None
