"""The FastAPI app: API v1, Open311, web pages, health and metrics. ``create_app`` takes its parts,
so tests and embedded mode hand in the store and publisher they use."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import HTTPException, RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from adapters.search_backend import NotFound, SearchUnavailable
from leadhub.api import (
    briefing_routes,
    hot_issues_routes,
    hotspots_routes,
    my_page,
    open311_routes,
    performance_routes,
    report_page,
    reports_routes,
    v1,
    web,
)
from leadhub.api import docs as api_docs
from leadhub.api import photos as photo_routes
from leadhub.api.auth import identify
from leadhub.api.context import ApiContext
from leadhub.api.guards import BodyLimit, SecurityHeaders, validation_errors
from leadhub.readers.contract import StoreQueryError
from schemas.errors import RetryableError

STATIC = Path(__file__).parent / "static"


def _error(status: int, message: str, hint: str | None = None) -> JSONResponse:
    return JSONResponse({"detail": message, **({"hint": hint} if hint else {})}, status_code=status)


def create_app(context: ApiContext) -> FastAPI:
    app = FastAPI(
        title="leadhub API",
        version="1",
        description="Leads and cases of public-service complaints: search, act on cases, submit field reports, statistics, Open311.",
        # /docs is served below with its own Content-Security-Policy; ReDoc would need another.
        docs_url=None,
        redoc_url=None,
    )
    app.state.context = context
    app.include_router(v1.build_router(context.settings.max_page_size))
    app.include_router(reports_routes.build_router(context.settings.max_page_size))
    app.include_router(my_page.build_router())
    app.include_router(open311_routes.build_router())
    app.include_router(web.build_router())
    app.include_router(hotspots_routes.build_router(context.settings.max_page_size))
    app.include_router(hot_issues_routes.build_router())
    app.include_router(briefing_routes.build_router())
    app.include_router(performance_routes.build_router())
    app.include_router(photo_routes.build_router())
    app.include_router(report_page.build_router())
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(SearchUnavailable)
    async def _unavailable(request: Request, exc: SearchUnavailable) -> JSONResponse:
        return _error(503, f"the search store is unavailable: {exc.message}", "try again shortly")

    @app.exception_handler(RetryableError)
    async def _retryable(request: Request, exc: RetryableError) -> JSONResponse:
        return _error(503, exc.message, exc.hint or "try again shortly")

    @app.exception_handler(NotFound)
    async def _no_index(request: Request, exc: NotFound) -> JSONResponse:
        return _error(503, f"the indices are missing: {exc.message}", "run `leadhub index init`")

    @app.exception_handler(StoreQueryError)
    async def _bad_query(request: Request, exc: StoreQueryError) -> JSONResponse:
        return _error(400, f"the search store refused the query: {exc.message}", "simplify the query or filters")

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        # What was wrong and where, with the input cut short: a 10 MB body must not come back whole.
        errors = validation_errors(exc.errors())
        if web.wants_html(request):
            return web.error_page(request, 422, errors)
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException):
        # Pages send people to the login form; the API answers 401 with the reason.
        if web.wants_html(request):
            if exc.status_code == 401:
                return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
            return web.error_page(request, exc.status_code, exc.detail)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.middleware("http")
    async def _count(request: Request, call_next):
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        name = getattr(route, "path", "unmatched")
        context.metrics.requests.labels(name, str(response.status_code)).inc()
        context.metrics.latency.labels(name).observe(time.perf_counter() - started)
        return response

    @app.get("/healthz", tags=["ops"], summary="Liveness and the store's reachability")
    def healthz(request: Request) -> JSONResponse:
        # Anyone (probes) learns up or down and the kind of store; only an admin its location
        # (the embedded file's absolute path, the reason the engine is unreachable).
        who = identify(request)
        admin = who is not None and who.role == "admin"
        try:
            store = context.store.ping()
        except RetryableError as exc:
            return JSONResponse({"status": "unavailable", **({"error": exc.message} if admin else {})}, status_code=503)
        return JSONResponse({"status": "ok", "store": store if admin else store.split(" ", 1)[0]})

    api_docs.install(app)  # Swagger UI from the package's files: no CDN (intranets)

    @app.get("/metrics", tags=["ops"], summary="Prometheus metrics")
    def metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(context.metrics.registry).decode(), media_type=CONTENT_TYPE_LATEST)

    # Outermost last: the body limit refuses a large request before anything reads it.
    app.add_middleware(SecurityHeaders)
    photos = context.photos
    uploads = dict.fromkeys(photo_routes.UPLOAD_PATHS, photos.settings.upload_bytes()) if photos else {}
    app.add_middleware(BodyLimit, max_bytes=context.settings.max_body_bytes, uploads=uploads)
    return app
