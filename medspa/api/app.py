"""The FastAPI application handed to Reflex as `api_transformer`.

Reflex mounts its own routes (/_event, /ping, /_upload, the frontend) below this app, so the
routes here are matched first, on the same port. Reflex applies its CORS settings (rxconfig)
to this app too.

Nothing here connects at import time: prod imports the app in a supervisor and forks the
workers, so engines are created lazily in the worker and disposed by `database_lifespan`.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, AsyncIterator, Literal

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from medspa.api import auth, clinics, docs, errors, feeds, invite, media, unsubscribe, v1, webhooks
from medspa.api.pages import PageIndex
from medspa.api.security import BodyLimit, SecurityHeaders
from medspa.ops.health import database_problem, dispose_app_engine
from medspa.settings import get_settings

API_PREFIX = "/api/v1"

api = FastAPI(
    title="medspa API",
    version="1",
    openapi_url=f"{API_PREFIX}/openapi.json",
    docs_url=None,  # served by medspa/api/docs.py (no CDN, no inline script)
    redoc_url=None,
    swagger_ui_oauth2_redirect_url=None,
)


_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def integer_bounds(node: Any) -> Any:
    """Print whole-number bounds as integers, in place (`node` is the OpenAPI document or a part).

    FastAPI's OpenAPI model stores a body field's minimum/maximum as floats ("maximum":
    9007199254740991.0); clients that read them as integers (code generators, schemathesis)
    expect 9007199254740991. medspa.api.v1.ID_MAX is exact as a float, so nothing is lost."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _BOUNDS and isinstance(value, float) and value.is_integer():
                node[key] = int(value)
            else:
                integer_bounds(value)
    elif isinstance(node, list):
        for item in node:
            integer_bounds(item)
    return node


class HealthOut(BaseModel):
    """GET /api/v1/health: "ok" or "error" for the server and for its database."""

    status: Literal["ok", "error"]
    database: Literal["ok", "error"]


def _check_database() -> str | None:
    """None when `select 1` answers, else a short reason (medspa.ops.health)."""
    return database_problem(get_settings())


@api.get(f"{API_PREFIX}/health", tags=["ops"], responses={
    200: {"description": "The server and its database answer", "model": HealthOut},
    503: {"description": "The database does not answer", "model": HealthOut}})
def health() -> JSONResponse:
    """Liveness and database reachability: 200 {"status":"ok","database":"ok"} or 503."""
    problem = _check_database()
    if problem is None:
        return JSONResponse({"status": "ok", "database": "ok"})
    return JSONResponse({"status": "error", "database": "error"}, status_code=503)


# the v1 clinic routes (medspa/api/v1.py) and their error shapes
api.include_router(docs.install(API_PREFIX, api.openapi_url))  # GET /api/v1/docs (Swagger UI)
api.include_router(v1.router, prefix=API_PREFIX)
errors.install_error_handlers(api)
api.include_router(webhooks.router)  # POST /api/stripe/webhook, POST /api/v1/webhooks/twilio/status
api.include_router(auth.router)  # POST /auth/login, /auth/logout: the HttpOnly session cookie
api.include_router(invite.router)  # POST /auth/invite: accept a staff invitation, then sign in
api.include_router(media.router)  # GET /media/photos/{id}: clinical photos, session + photo.read, audited
api.include_router(clinics.router)  # GET /clinics/{slug}/logo: a clinic's public logo (no sign-in)
api.include_router(unsubscribe.router)  # GET/POST /u/{token}: a marketing email's unsubscribe page (one-click too)
api.include_router(feeds.router)  # GET /calendar-feeds/{token}.ics: a provider's calendar feed (secret link)

_fastapi_openapi = api.openapi
api.openapi = lambda: integer_bounds(_fastapi_openapi())  # FastAPI caches the document; the pass is idempotent


def with_security_headers(app):
    """The second `api_transformer` (medspa/medspa.py): wraps everything Reflex serves (this
    API, the compiled pages and their assets, /_event, /ping) in the security headers, and
    serves /calendar as /calendar/ without a redirect (medspa/api/pages.py), and caps request
    bodies (BodyLimit: uploads 16 MB, everything else 1 MB)."""
    return SecurityHeaders(BodyLimit(PageIndex(app)))


@contextlib.asynccontextmanager
async def database_lifespan() -> AsyncIterator[None]:
    """Per worker: dispose the cached engines' pools when the worker stops.

    Registered with `app.register_lifespan_task` in medspa/medspa.py. Engines themselves are
    created on first use inside the worker (medspa.db.get_engine caches them per URL).
    """
    try:
        yield
    finally:
        if not get_settings().uses_embedded_db:
            await asyncio.to_thread(dispose_app_engine)
