"""Live calendars: one PostgreSQL LISTEN loop per web worker (issue "One way in").

The loop (`loop.LiveCalendars`) lives here, below the pages: it reads through the
scheduling actions and never imports `medspa.features` or `medspa.api`. A page that shows
live data registers a callback with `subscribe(callback)`; the loop calls every subscriber
with `(org_id, client_token, view_key, loaded_view)` for each of this worker's tabs that
watches a changed view, and a subscriber returns True when it pushed into that tab.

    live.subscribe(push)            # at app set-up, e.g. from a feature's register(app)
    app.register_lifespan_task(live.lifespan)     # start/stop with the worker

`start(app)` / `stop()` are the same without the context manager. `instance_id()`,
`note_org()` and `session_actor()` serve the subscribers and the states that register tabs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, AsyncIterator, Callable

from medspa.live.loop import APPLICATION_NAME, LiveCalendars, NoTabs, Push, Stats, Tabs
from medspa.live.tabs import ReflexTabs, SessionCheck

log = logging.getLogger("medspa.live")

__all__ = ["APPLICATION_NAME", "LiveCalendars", "NoTabs", "Push", "Stats", "Tabs", "ReflexTabs", "SessionCheck",
           "subscribe", "start", "stop", "lifespan", "instance_id", "note_org", "session_actor", "hub"]

_SUBSCRIBERS: list[Push] = []
_HUB: LiveCalendars | None = None
_TASK: asyncio.Task | None = None
_SESSIONS: SessionCheck | None = None


def subscribe(callback: Push) -> Callable[[], None]:
    """Add a push callback `async (org_id, client_token, key, loaded) -> bool`; returns a
    function that removes it again. Subscribing the same callback twice adds it once."""
    if callback not in _SUBSCRIBERS:
        _SUBSCRIBERS.append(callback)
    return lambda: _SUBSCRIBERS.remove(callback) if callback in _SUBSCRIBERS else None


async def _push_to_subscribers(org_id: int, client_token: str, key: Any, loaded: Any) -> bool:
    pushed = False
    for callback in list(_SUBSCRIBERS):
        pushed = bool(await callback(org_id, client_token, key, loaded)) or pushed
    return pushed


def hub() -> LiveCalendars | None:
    """This worker's running loop (None before `start`)."""
    return _HUB


async def _serve(app) -> None:
    global _HUB, _SESSIONS
    from medspa.db import get_engine, resolve_urls
    from medspa.settings import get_settings

    settings = get_settings()
    db_url, _ = await asyncio.to_thread(resolve_urls, settings)
    engine = get_engine(settings)
    _SESSIONS = SessionCheck(engine)
    _HUB = LiveCalendars(db_url=db_url, engine=engine, tabs=ReflexTabs(app), push=_push_to_subscribers)
    log.info("calendar listener starting (instance %s)", _HUB.tabs.instance_id)
    await _HUB.run()


def start(app) -> asyncio.Task:
    """Start this worker's loop for the Reflex `app` (its token manager tells which tabs are
    connected here) as a task of the running event loop; returns it. The database URL and
    engine come from Settings (resolved inside the task: start never waits for the database)."""
    global _TASK
    _TASK = asyncio.create_task(_serve(app), name="medspa-live-calendars")
    _TASK.add_done_callback(_report)
    return _TASK


def _report(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("calendar listener stopped: %r", task.exception())


async def stop() -> None:
    """Stop the loop (closes its LISTEN connection); harmless when not started."""
    global _TASK
    task, _TASK = _TASK, None
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):  # a failed loop was reported already
            await task


@contextlib.asynccontextmanager
async def lifespan(app) -> AsyncIterator[None]:
    """Reflex lifespan task (one per web worker): the loop runs while the worker does."""
    start(app)
    try:
        yield
    finally:
        await stop()


def note_org(org_id: int) -> None:
    """A tab of this clinic registered on this worker: include it in full refreshes."""
    if _HUB is not None:
        _HUB.known_orgs.add(org_id)


def instance_id() -> str:
    """This worker's Reflex instance id ("" before the loop started)."""
    return _HUB.tabs.instance_id if _HUB is not None else ""


async def session_actor(session_token: str, org_id: int):
    """The staff actor of a tab's session token if still valid for clinic `org_id`, else None
    (cached briefly, never touched: a server push must not keep an idle session alive)."""
    if _SESSIONS is None:
        return None
    return await _SESSIONS.actor(session_token, org_id)
