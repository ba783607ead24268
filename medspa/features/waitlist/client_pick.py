"""The client part of the waitlist page's "Add to waitlist" form: find an existing client with
the client search the calendar's booking dialog uses (scheduling.actions.desk.fetch_client_hits:
clients.search by name, email or phone), or type a new one (name, email, phone). Thin: the
browser names a hit's id, checked against the hits this state showed."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from medspa.domain.scheduling.actions.desk import fetch_client_hits
from medspa.features.auth.state import StaffState

MIN_QUERY = 2


@dataclasses.dataclass
class ClientHit:
    """A client found: id, name and a hint (email or phone, for roles that may read them)."""

    id: int = 0
    name: str = ""
    hint: str = ""


class WaitlistClientState(StaffState):
    """search (type to find) | new (name, email, phone) | picked (one of the hits)."""

    mode: str = "search"
    query: str = ""
    hits: list[ClientHit] = []
    client_id: int = 0
    client_label: str = ""
    _hit_ids: list[int] = []

    def _reset(self) -> None:
        self.mode, self.query, self.hits, self.client_id, self.client_label, self._hit_ids = "search", "", [], 0, "", []

    @rx.event
    async def search(self, query: Any):
        """Find clients by name, email or phone (two characters or more)."""
        self.query = query[:80] if isinstance(query, str) else ""
        if len(self.query.strip()) < MIN_QUERY:
            self.hits, self._hit_ids = [], []
            return
        done = await self._act(fetch_client_hits, self.query)
        if not done.ok:  # signed out meanwhile, or no client.read: no hits
            self.hits, self._hit_ids = [], []
            return
        self.hits = [ClientHit(h.id, h.name, h.hint) for h in done.value]
        self._hit_ids = [h.id for h in done.value]

    @rx.event
    def pick(self, client_id: Any):
        """Take one of the hits (ids not among them are ignored)."""
        hit = next((h for h in self.hits if h.id == client_id), None) if client_id in self._hit_ids else None
        if hit is not None:
            self.client_id, self.client_label, self.mode = hit.id, hit.name, "picked"

    @rx.event
    def set_mode(self, mode: Any):
        """Back to the search, or to typing a new client."""
        if mode in ("search", "new"):
            self.mode, self.client_id, self.client_label = mode, 0, ""
