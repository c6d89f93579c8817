"""Who may do what: API keys (stored as SHA-256) mapped to roles and their permissions. Pure.

Roles:
- ``analyst``: reads leads, cases and statistics, never personal contacts;
- ``officer``: reads, and acts on the cases of their departments; sees reporters' contacts only on
  those cases (a contact is personal data: the department that handles the case needs it, no other);
- ``intake``: submits field reports, nothing else;
- ``admin``: everything.

The same rule holds wherever a lead leaves leadhub: API, web pages, Open311, the ``search`` CLI.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from leadhub.api.settings import ApiKeySpec


class Permission(StrEnum):
    read = "read"  # leads, cases, stats, Open311
    read_contacts = "read_contacts"  # the restricted contact of a lead (officers: their departments' cases only)
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
    group: str | None = None  # experience officers: their group (reports.groups)

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

    def may_see_contacts(self, department: str | None) -> bool:
        """Reporters' contacts: admins, and officers of the case's department. Unlike acting, a case
        not routed yet shows its contacts to no department's officer (only to '*' officers)."""
        if not self.can(Permission.read_contacts):
            return False
        if self.role == "admin" or ALL_DEPARTMENTS in self.departments:
            return True
        return department is not None and department in self.departments


def redact_lead(lead: dict[str, Any], who: Principal, case_department: str | None) -> dict[str, Any]:
    """The lead as ``who`` may see it: without its ``contact`` unless they may see the contacts of
    its case (``case_department`` is the case's department, which an assignment may have changed
    from the lead's own routed one)."""
    if "contact" not in lead or who.may_see_contacts(case_department):
        return lead
    return {k: v for k, v in lead.items() if k != "contact"}


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
        return self.by_digest(key_digest(presented))

    def by_digest(self, digest: str) -> Principal | None:
        """The holder of the key with this SHA-256 (a web session names its key so): a key removed
        from the settings ends its sessions too."""
        for known, spec in self._by_digest.items():
            if hmac.compare_digest(known, digest):
                return Principal(spec.name, spec.role, frozenset(spec.departments), spec.group)
        return None
