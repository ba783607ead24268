"""Protected media: GET /media/photos/{photo_id}[?thumb=1 | ?original=1].

The only way a photo's bytes leave the server. Every request re-checks the HttpOnly staff
session cookie (medspa_session) on the server and the photo.read permission, writes one
"photo.read" audit row (domain/clinical/actions.open_photo_for_session) in one transaction, and answers
with `Cache-Control: private, no-store`, `X-Content-Type-Options: nosniff` and
`Cross-Origin-Resource-Policy: same-origin`.

Anything else is a plain 404 (no session, an expired one, a role without photo.read, another
clinic's photo, a missing one, a malformed id or query, a request another site initiated):
missing and forbidden look alike, and nothing is audited for a refused request.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from medspa.web.client_ip import client_ip
from medspa.api.security import origin_allowed
from medspa.api.v1 import get_clock, get_db_engine
from medspa.clock import Clock
from medspa.domain.clinical.actions import open_photo_for_session
from medspa.domain.clinical.photos import MediaStore, media_store_for
from medspa.web.auth import session_token_from_cookies
from medspa.settings import get_settings

router = APIRouter(prefix="/media", include_in_schema=False)

_ID = re.compile(r"^[1-9][0-9]{0,17}$")
PRIVATE = {"cache-control": "private, no-store", "x-content-type-options": "nosniff",
           "cross-origin-resource-policy": "same-origin"}


def get_media_store() -> MediaStore:
    """The private media store of this server (tests override it)."""
    return media_store_for(get_settings())


def _not_found() -> JSONResponse:
    return JSONResponse({"error": "not_found"}, status_code=404, headers=PRIVATE)


def _cross_site(request: Request) -> bool:
    """True for a request another site started (a link or <img> elsewhere): the SameSite=Strict
    cookie would not come along anyway; refuse it outright when the browser says so."""
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        return True
    return bool(request.headers.get("origin")) and not origin_allowed(request.headers)


@router.get("/photos/{photo_id}")
async def photo_route(photo_id: str, request: Request, engine=Depends(get_db_engine),
                      clock: Clock = Depends(get_clock),
                      store: MediaStore = Depends(get_media_store)) -> Response:
    """The photo's display copy (with ?thumb=1 its thumbnail, with ?original=1 the kept
    full-resolution original) for a signed-in provider or owner."""
    thumb_arg = request.query_params.getlist("thumb")
    original_arg = request.query_params.getlist("original")
    if (not _ID.match(photo_id) or len(thumb_arg) > 1 or (thumb_arg and thumb_arg[0] not in ("0", "1"))
            or len(original_arg) > 1 or (original_arg and original_arg[0] not in ("0", "1"))
            or set(request.query_params) - {"thumb", "original"} or _cross_site(request)):
        return _not_found()
    token = session_token_from_cookies(request.headers.get("cookie"))
    if not token:
        return _not_found()
    ip = client_ip(request.client.host if request.client else "", request.headers)
    agent = request.headers.get("user-agent", "")[:200]
    photo = await run_in_threadpool(lambda: open_photo_for_session(
        token, int(photo_id), store=store, thumb=thumb_arg == ["1"], original=original_arg == ["1"], ip=ip,
        user_agent=agent, clock=clock,
        engine=engine))
    if photo is None:
        return _not_found()
    return Response(photo.data, media_type=photo.content_type,
                    headers={**PRIVATE, "content-disposition": f'inline; filename="{photo.filename}"'})

