"""Public clinic media: GET /clinics/{slug}/logo (no sign-in).

A clinic's logo is public (the landing page and its booking page show it), so this route
needs no session. It reads the bytes through profile_actions.fetch_public_logo, in a
transaction scoped to the clinic the slug names (row-level security: no other clinic's row
can answer). Caching: a strong ETag "<org>-<version>" (If-None-Match answers 304); a URL
with the current ?v=<version> (what the pages link) may be cached for a day, anything else
for five minutes. The bytes were re-encoded as PNG on upload; `nosniff` keeps browsers from
guessing otherwise.

Unknown or malformed slug, a clinic without a logo, unexpected query parameters: 404.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from medspa.api.v1 import get_db_engine
from medspa.domain.errors import NotFound
from medspa.domain.practice.profile_actions import fetch_public_logo

router = APIRouter(prefix="/clinics", include_in_schema=False)

BASE = {"x-content-type-options": "nosniff", "cross-origin-resource-policy": "same-site"}
SHORT, LONG = "public, max-age=300", "public, max-age=86400"


def _not_found() -> JSONResponse:
    return JSONResponse({"error": "not_found"}, status_code=404, headers={**BASE, "cache-control": "no-store"})


def _etag_matches(header: str, etag: str) -> bool:
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


@router.api_route("/{slug}/logo", methods=["GET", "HEAD"])
async def logo_route(slug: str, request: Request, engine=Depends(get_db_engine)) -> Response:
    """The clinic's logo (image/png) or 404; 304 when the browser's copy is current."""
    version = request.query_params.getlist("v")
    if set(request.query_params) - {"v"} or len(version) > 1 or len(slug) > 63:
        return _not_found()
    try:
        logo = await run_in_threadpool(lambda: fetch_public_logo(slug, engine=engine))
    except NotFound:
        return _not_found()
    current = version == [logo.etag.strip('"').split("-", 1)[1]]
    headers = {**BASE, "etag": logo.etag, "cache-control": LONG if current else SHORT}
    if _etag_matches(request.headers.get("if-none-match", ""), logo.etag):
        return Response(status_code=304, headers=headers)
    return Response(logo.data if request.method == "GET" else b"", media_type=logo.content_type, headers=headers)
