"""Request authentication: ``Authorization: Bearer KEY`` for the API, the same key in an HttpOnly
cookie for the web pages (set by the login form)."""

from __future__ import annotations

from fastapi import Depends, HTTPException, Request, status

from leadhub.access import Permission, Principal
from leadhub.api.context import ApiContext

COOKIE = "leadhub_key"


def context(request: Request) -> ApiContext:
    return request.app.state.context


def presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.cookies.get(COOKIE) or None


def identify(request: Request) -> Principal | None:
    key = presented_key(request)
    return None if key is None else context(request).keys.identify(key)


def principal(request: Request) -> Principal:
    who = identify(request)
    if who is None:
        reason = "no API key" if presented_key(request) is None else "unknown API key"
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail=f"{reason}: send Authorization: Bearer <key>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return who


def require(permission: Permission):
    def check(who: Principal = Depends(principal)) -> Principal:
        if not who.can(permission):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"role {who.role} may not {permission.value.replace('_', ' ')}")
        return who

    return check
