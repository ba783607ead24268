"""What the live loop needs from the web worker: which tabs are connected here (Reflex
0.10.1's token manager, an internal API: `app.event_namespace._token_manager` with
`instance_id`, `token_to_socket`, `is_token_connected`; Reflex is pinned and
tests/browser/test_calendar.py covers it end to end with two workers and Redis), and whether
a tab's staff session is still valid."""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any, Callable

from medspa.clock import Clock, app_clock
from medspa.domain.identity.actions import actor_for_token


class ReflexTabs:
    """This worker's connected tabs, from Reflex 0.10.1's token manager (internal API)."""

    def __init__(self, app):
        self.app = app

    @property
    def _manager(self):
        namespace = getattr(self.app, "event_namespace", None)
        return getattr(namespace, "_token_manager", None) if namespace is not None else None

    @property
    def instance_id(self) -> str:
        manager = self._manager
        return getattr(manager, "instance_id", "") if manager is not None else ""

    def is_local(self, client_token: str) -> bool:
        manager = self._manager
        if manager is None:
            return False
        record = manager.token_to_socket.get(client_token)
        return record is not None and record.instance_id == manager.instance_id

    def any_local(self) -> bool:
        manager = self._manager
        if manager is None:
            return False
        return any(r.instance_id == manager.instance_id for r in list(manager.token_to_socket.values()))

    async def is_connected(self, client_token: str) -> bool:
        manager = self._manager
        if manager is None:
            return False
        try:
            return bool(await manager.is_token_connected(client_token))
        except Exception:  # noqa: BLE001 - when unsure, keep the registration
            return True


class SessionCheck:
    """Is the tab's staff session still valid for this clinic? Cached briefly, never touched
    (a server push must not keep an idle session alive)."""

    TTL = 30.0

    def __init__(self, engine, clock: Callable[[], Clock] = app_clock):
        self.engine = engine
        self.clock = clock
        self._cache: dict[str, tuple[float, Any]] = {}

    async def actor(self, session_token: str, org_id: int):
        """The staff actor of `session_token` if still valid for clinic `org_id`, else None."""
        if not session_token:
            return None
        digest = hashlib.sha256(session_token.encode()).hexdigest()
        hit = self._cache.get(digest)
        if hit is None or hit[0] < time.monotonic():
            actor = await asyncio.to_thread(actor_for_token, session_token, now=self.clock().now(), touch=False,
                                            engine=self.engine)
            if len(self._cache) > 5000:
                self._cache.clear()
            hit = self._cache[digest] = (time.monotonic() + self.TTL, actor)
        actor = hit[1]
        return actor if actor is not None and actor.org_id == org_id else None
