"""Web pages for analysts and officers: search with facets, the case page with its actions, the dashboard.

Server-rendered with Jinja2 (autoescaped: a lead's ``<script>`` shows as text). The login form checks
the API key and sets a signed, expiring session (leadhub.api.sessions) in an HttpOnly, SameSite=Lax
cookie, which logout revokes; POSTs from another origin are refused. Messages after a redirect come
from a fixed set (leadhub.api.outcomes), never from the query string.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import jinja2
from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from leadhub.access import Permission, Principal, key_digest
from leadhub.api import charts, i18n, outcomes
from leadhub.api.auth import COOKIE, context, identify, require, session_cookie
from leadhub.api.context import ApiContext
from leadhub.api.guards import page_policy
from leadhub.api.hot_issues_routes import panel_hot_issues
from leadhub.api.hotspots_routes import new_hotspots
from leadhub.api.params import FilterParams, build_search, given_filters
from leadhub.api.v1 import EventRequest, case_with_leads, departments, merge_targets, submit_event
from leadhub.case_lookup import case_id_for
from leadhub.contacts import visible_leads
from leadhub.queries import CITY_ZONE, FACETS, Interval, Kind, Sort, StatsRequest, TextLimits, text_problem

# Autoescape every template, whatever its name: lead text is untrusted.
TEMPLATES = Jinja2Templates(env=jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True))


def local_time(value: Any) -> str:
    """An ISO time from the index as the city's wall-clock time (all pages show one zone)."""
    if not value:
        return "—"
    try:
        return dt.datetime.fromisoformat(str(value)).astimezone(CITY_ZONE).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return str(value)


TEMPLATES.env.filters["local"] = local_time


@jinja2.pass_context
def _t(context: jinja2.runtime.Context, key: str, **values: Any) -> str:
    return i18n.translate(context.get("lang", i18n.DEFAULT), key, **values)


@jinja2.pass_context
def _label(context: jinja2.runtime.Context, value: Any, kind: str) -> str:
    return i18n.label(context.get("lang", i18n.DEFAULT), kind, value)


@jinja2.pass_context
def _name(context: jinja2.runtime.Context, value: Any, kind: str) -> str:
    return i18n.data_name(context.get("lang", i18n.DEFAULT), kind, value)


TEMPLATES.env.globals["t"] = _t
TEMPLATES.env.filters["label"] = _label
TEMPLATES.env.filters["name"] = _name
TEMPLATES.env.globals["languages"] = i18n.NATIVE_NAMES
PAGE_SIZE = 20
# The form fields each action needs besides the note.
ACTION_FIELDS = {"assign": ["department", "assignee"], "start": ["assignee"], "merge": ["target_case_id"], "split": ["lead_ids"],
                 "recategorize": ["level1", "level2", "department"]}  # fmt: skip
# The level-2 select's values name their level-1 class too (level-2 names repeat across classes: 其他).
LEVEL2_SEPARATOR = "/"


def taxonomy_choices(taxonomy: Any) -> list[tuple[str, list[tuple[str, str]]]]:
    """The recategorize form's classes: each level-1 class with its level-2 classes as (value, name)."""
    return [(level1, [(f"{level1}{LEVEL2_SEPARATOR}{sub.name}", sub.name) for sub in taxonomy.subcategories if sub.level1 == level1])
            for level1 in taxonomy.level1_names]  # fmt: skip


def chosen_category(taxonomy: Any, level1: str, level2: str) -> dict[str, str] | None:
    """The form's level-1 and level-2 choices as the event's fields: a level-2 choice brings its own
    level-1 class. None when the two name different classes (the form is then refused as invalid,
    rather than one of them picked silently)."""
    pairs = {value: (group, name) for group, subs in taxonomy_choices(taxonomy) for value, name in subs}
    if level2 in pairs:
        group, level2 = pairs[level2]
        if level1 and level1 != group:
            return None
        level1 = group
    return {k: v for k, v in (("level1", level1), ("level2", level2)) if v}
NOTE_REQUIRED = {"resolve", "reject", "feedback", "note"}


def wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/open311/")):
        return False
    return "text/html" in request.headers.get("accept", "")


def _same_origin(request: Request) -> None:
    origin = request.headers.get("origin") or request.headers.get("referer")
    if origin and urlsplit(origin).netloc != request.url.netloc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="cross-site form posts are refused")


def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/") and not target.startswith("//") else "/search"


def landing(who: Principal | None, target: str) -> str:
    """Where a login (or the site's root) goes: an experience officer reads no search, so the default
    page (/search) is their own reports (/my) instead; any other page asked for is kept."""
    return "/my" if who is not None and who.role == "intake" and target == "/search" else target


def setting_names(ctx: ApiContext, lang: str) -> dict[str, dict[str, str]]:
    """Facet values named in the settings (officers' groups, themed activities) in the page's language."""
    reports = ctx.reports
    title = "title_zh" if lang == "zh" else "title_en"
    return {"group": {g.id: getattr(g, title) for g in reports.groups},
            "activity": {a.id: getattr(a, title) for a in reports.activities}}  # fmt: skip


def detail_text(detail: Any) -> str:
    """An HTTPException detail (a message, or validation errors) as one line for a page."""
    return detail if isinstance(detail, str) else "; ".join(str(d.get("msg", d)) for d in detail)


def error_page(request: Request, status_code: int, detail: Any) -> HTMLResponse:
    response = _render(request, "error.html", identify(request), status_code=status_code, detail=detail_text(detail))
    response.status_code = status_code
    return response


def page_language(request: Request) -> str:
    return i18n.choose(request.cookies.get(i18n.COOKIE), request.headers.get("accept-language"))


def _render(request: Request, name: str, who: Principal | None, lang: str | None = None, **values: Any) -> HTMLResponse:
    # Handlers that already chose the language for their own text pass it on: one choice per request.
    lang = lang or page_language(request)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return TEMPLATES.TemplateResponse(
        request, name, {"who": who, "lang": lang, "html_lang": i18n.HTML_LANG[lang], "here": here, **values}
    )


def _url(path: str, params: dict[str, Any]) -> str:
    pairs = [(k, v) for k, vs in params.items() for v in (vs if isinstance(vs, list) else [vs]) if v not in (None, "", False)]
    return f"{path}?{urlencode(pairs)}" if pairs else path


def build_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)
    reader = require(Permission.read)

    @router.get("/")
    def home(request: Request) -> RedirectResponse:
        return RedirectResponse(landing(identify(request), "/search"), status_code=303)

    @router.get("/lang/{code}")
    def switch_language(code: str, next: str | None = None) -> RedirectResponse:
        # A plain link (no script, no form): the choice is remembered for a year on this browser.
        response = RedirectResponse(_safe_next(next), status_code=303)
        if code in i18n.LANGUAGES:
            response.set_cookie(i18n.COOKIE, code, max_age=365 * 24 * 3600, httponly=True, samesite="lax")
        return response

    @router.get("/login")
    def login_form(request: Request, next: str | None = None, error: str | None = None) -> HTMLResponse:
        lang = page_language(request)
        return _render(request, "login.html", identify(request), lang, next=_safe_next(next), error=outcomes.error_text(lang, error))

    @router.post("/login")
    def login(request: Request, key: str = Form(...), next: str = Form("/search"), ctx: ApiContext = Depends(context)) -> Response:
        _same_origin(request)
        digest = key_digest(key.strip())
        if ctx.keys.by_digest(digest) is None:
            lang = page_language(request)
            page = _render(request, "login.html", None, lang, next=_safe_next(next), error=outcomes.error_text(lang, "unknown_key"))
            page.status_code = status.HTTP_401_UNAUTHORIZED
            return page
        response = RedirectResponse(landing(ctx.keys.by_digest(digest), _safe_next(next)), status_code=303)
        # The cookie holds a session naming the key's hash, never the key: logout ends it for good.
        session_cookie(response, request, ctx.sessions.issue(digest), ctx.sessions.ttl_s)
        return response

    @router.post("/logout")
    def logout(request: Request, ctx: ApiContext = Depends(context)) -> RedirectResponse:
        _same_origin(request)
        token = request.cookies.get(COOKIE)
        if token:
            ctx.sessions.revoke(token)  # a copy of the cookie is refused from now on
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    @router.get("/search")
    def search_page(
        request: Request,
        kind: Kind = Query("cases"),
        q: str = Query("", max_length=1000),
        sort: Sort = Query(Sort.relevance),
        page: int = Query(1, ge=1, le=500),
        filters: FilterParams = Depends(),
        who: Principal = Depends(reader),
        ctx: ApiContext = Depends(context),
    ) -> Response:
        # A case number typed or pasted: its page, not a search for it.
        if page == 1 and (found := case_id_for(ctx.store, q)) is not None:
            return RedirectResponse(f"/cases/{found}", status_code=status.HTTP_303_SEE_OTHER)
        selected = dict(filters.values)
        if kind == "leads":
            selected.pop("status"), selected.pop("overdue")
        error, result = None, None
        lang = page_language(request)
        problem = text_problem(q, TextLimits(ctx.settings.max_query_terms, ctx.settings.max_query_exclusions))
        if problem is not None:  # said in the reader's language, with what to do
            error = i18n.translate(lang, f"query.{problem.code}", **problem.values)
        else:
            try:
                result = ctx.store.search(build_search(kind, q, selected, sort.value, page, PAGE_SIZE, True, ctx))
                if kind == "leads":
                    result.hits = visible_leads(ctx.store, result.hits, who)
            except HTTPException as exc:
                error = detail_text(exc.detail)
        given = given_filters(selected)
        # As the query string spells them: the page's hidden inputs and links carry them on.
        base = {k: (v.isoformat() if hasattr(v, "isoformat") else str(v).lower() if isinstance(v, bool) else v)
                for k, v in {"kind": kind, "q": q, "sort": sort.value, **given}.items()}  # fmt: skip

        def with_filter(name: str, value: str) -> str:
            current = list(base.get(name, []))
            values = [v for v in current if v != value] if value in current else [*current, value]
            return _url("/search", {**base, name: values, "page": None})

        def page_url(n: int) -> str:
            return _url("/search", {**base, "page": n})

        def toggle(name: str) -> str:
            # A yes/no filter as a link (pages run no script): on adds name=true, off drops it.
            return _url("/search", {**base, name: None if base.get(name) else "true", "page": None})

        return _render(
            request, "search.html", who, lang, kind=kind, q=q, sort=sort.value, sorts=[s.value for s in Sort], result=result,
            error=error, selected=base, facet_fields=FACETS[kind], with_filter=with_filter, page_url=page_url,
            page=page, page_size=PAGE_SIZE, toggle=toggle, setting_names=setting_names(ctx, lang),
        )  # fmt: skip

    @router.get("/cases/{case_id}")
    def case_page(
        request: Request, case_id: str, message: str | None = None, error: str | None = None,
        action: str | None = None, status_: str | None = Query(None, alias="status"), pending: bool = False,
        who: Principal = Depends(reader), ctx: ApiContext = Depends(context),
    ) -> Response:  # fmt: skip
        try:
            case = case_with_leads(ctx, case_id, who)
        except HTTPException as exc:
            # The first characters the tables show, or a lead's id: the case they name.
            found = case_id_for(ctx.store, case_id) if exc.status_code == status.HTTP_404_NOT_FOUND else None
            if found is None or found == case_id:
                raise
            return RedirectResponse(f"/cases/{found}", status_code=status.HTTP_303_SEE_OTHER)
        lang = page_language(request)
        by_channel: dict[str, list[dict[str, Any]]] = {}
        for lead in case["leads"]:
            by_channel.setdefault(lead.get("channel") or "other", []).append(lead)
        return _render(
            request, "case.html", who, lang, case=case, by_channel=by_channel,
            message=outcomes.done_text(lang, action, status_, pending) if message == "done" else None,
            error=outcomes.error_text(lang, error, action),
            action_fields=ACTION_FIELDS, note_required=NOTE_REQUIRED, reasons=i18n.priority_reasons(lang, case.get("priority_reasons")),
            departments=departments(ctx), merge_targets=merge_targets(ctx, case) if "merge" in case["allowed_actions"] else [],
            classes=taxonomy_choices(ctx.taxonomy) if "recategorize" in case["allowed_actions"] else [],
        )  # fmt: skip

    @router.post("/cases/{case_id}/actions")
    def case_action(
        request: Request, case_id: str, action: str = Form(...), note: str = Form(""), department: str = Form(""),
        assignee: str = Form(""), target_case_id: str = Form(""), lead_ids: list[str] = Form([]),
        level1: str = Form(""), level2: str = Form(""),
        who: Principal = Depends(require(Permission.act)), ctx: ApiContext = Depends(context),
    ) -> RedirectResponse:  # fmt: skip
        _same_origin(request)
        fields = {"action": action, "note": note, "department": department, "assignee": assignee, "target_case_id": target_case_id}
        fields = {k: v.strip() for k, v in fields.items() if v.strip()}
        category = chosen_category(ctx.taxonomy, level1.strip(), level2.strip())
        ids = [i.strip() for i in lead_ids if i.strip()]  # one checkbox per lead
        outcome: dict[str, str | bool]
        try:
            if category is None:
                raise HTTPException(422, detail="the level-2 class is not one of the level-1 class chosen")
            fields.update(category)
            accepted = submit_event(ctx, case_id, EventRequest(**fields, lead_ids=ids), who)
            outcome = {"message": "done", "action": action, "status": accepted.status, "pending": not accepted.visible}
        except ValidationError:
            outcome = {"error": "invalid", "action": action}
        except HTTPException as exc:
            outcome = {"error": outcomes.error_code(exc.status_code), "action": action}
        return RedirectResponse(_url(f"/cases/{case_id}", outcome), status_code=303)

    @router.get("/dashboard")
    def dashboard(
        request: Request, interval: Interval = Query(Interval.day), who: Principal = Depends(reader),
        ctx: ApiContext = Depends(context),
    ) -> HTMLResponse:  # fmt: skip
        stats = ctx.store.stats(StatsRequest(interval=interval))
        lang = page_language(request)
        figures = {
            "over_time": charts.categories_over_time(stats.by_category_over_time, lang),
            "place": charts.horizontal_bars("chart.by_place", stats.by_place, lang),
            "channel": charts.pie("chart.by_channel", stats.by_channel, lang),
            "funnel": charts.status_funnel(stats.status_funnel, lang),
        }
        response = _render(request, "dashboard.html", who, lang, stats=stats, figures=figures, interval=interval.value,
                           hotspots=new_hotspots(ctx), hotspot_outcome=request.query_params.get("hotspot"),
                           hot_issues=panel_hot_issues(ctx), raised_again=panel_hot_issues(ctx, order="repeats"))
        # The charts' inline <style> elements, allowed by hash (the CSP forbids inline styles otherwise).
        response.headers["content-security-policy"] = page_policy(bytes(response.body).decode("utf-8"))
        return response

    return router

