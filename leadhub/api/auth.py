"""Request authentication: ``Authorization: Bearer KEY`` for the API; for the web pages a signed,
expiring session token (leadhub.api.sessions) in an HttpOnly cookie, set by the login form. The
cookie never holds the key itself."""

from __future__ import annotations

from fastapi import Depends, HTTPException, Request, Response, status

from leadhub.access import Permission, Principal
from leadhub.api.context import ApiContext

COOKIE = "leadhub_session"


def context(request: Request) -> ApiContext:
    return request.app.state.context


def presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def identify(request: Request) -> Principal | None:
    ctx = context(request)
    key = presented_key(request)
    if key is not None:
        return ctx.keys.identify(key)
    token = request.cookies.get(COOKIE)
    session = ctx.sessions.verify(token) if token else None
    return None if session is None else ctx.keys.by_digest(session.key_digest)


def session_cookie(response: Response, request: Request, token: str, max_age: int) -> None:
    """HttpOnly and SameSite=Lax always; Secure when the site is served over https (api.public_url
    says so behind a proxy that ends TLS, where the request itself looks like plain http)."""
    public = context(request).settings.public_url or ""
    secure = public.lower().startswith("https://") or request.url.scheme == "https"
    response.set_cookie(COOKIE, token, max_age=max_age, httponly=True, samesite="lax", secure=secure, path="/")


def principal(request: Request) -> Principal:
    who = identify(request)
    if who is None:
        if presented_key(request) is not None:
            reason = "unknown API key"
        else:
            reason = "session expired or ended; log in again" if request.cookies.get(COOKIE) else "no API key"
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
