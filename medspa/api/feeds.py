"""GET /calendar-feeds/{token}.ics: a provider's calendar feed (no sign-in: the secret link is
the key; scheduling.feeds). 200 text/calendar, or 404 for any token that is not a live feed's.
Never cached by shared caches (it names clients); calendar apps poll it."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from medspa.api.v1 import get_clock, get_db_engine
from medspa.clock import Clock
from medspa.domain.errors import NotFound
from medspa.domain.scheduling.actions.feeds import fetch_feed_ics

router = APIRouter(prefix="/calendar-feeds", include_in_schema=False)
HEADERS = {"cache-control": "private, no-store", "x-content-type-options": "nosniff",
           "referrer-policy": "no-referrer"}


@router.get("/{token}.ics")
async def feed_route(token: str, engine=Depends(get_db_engine), clock: Clock = Depends(get_clock)) -> Response:
    """The feed's iCalendar text, or 404."""
    try:
        body = await run_in_threadpool(lambda: fetch_feed_ics(token, clock=clock, engine=engine))
    except NotFound:
        return JSONResponse({"error": "not_found"}, status_code=404, headers=HEADERS)
    return Response(body, media_type="text/calendar; charset=utf-8", headers=HEADERS)
