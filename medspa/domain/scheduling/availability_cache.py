"""Computed availability kept per web worker while no calendar change could have touched it (issue 20).

The public availability route (GET /api/v1/{clinic}/availability, actions.online
fetch_clinic_availability) recomputes the same weeks for every visitor. An entry here holds
the slots of one (clinic, location, service, provider, dates) computed at an instant `now0`.
It is dropped by the same notifications the live calendars use: every committed change of an
appointment, an occupancy, a block or a setting that shapes availability (service, providers,
hours, resources, staff, location, opening hours, closures, time off) runs
pg_notify('calendar_changed', '<org>:<location>') (migrations 0001, 0027, 0029, 0057); the worker's
LISTEN loop (medspa.live.loop) calls `invalidate` for each one and `set_listening` when its
connection comes and goes. Without a listening loop nothing is cached.

Why a stale entry can only hide a free time, never offer a taken one:
- a change committed after the computation read the database notifies; `begin` hands out a
  token (generations of the clinic and location) BEFORE the computation's first statement,
  and `put` refuses an entry whose token moved meanwhile, so a notification that arrived
  during the computation is never lost; one arriving later invalidates the entry;
- what changes with time alone only frees slots: a hold lapsing, the booking horizon moving
  on. Minimum notice is re-applied at every read (`get` returns slots starting at or after
  the caller's earliest start); an entry is used only for a `now` in [now0, now0 + max_age]
  (an injected clock that goes back would see holds that had lapsed at now0 as live again);
- a lost notification: the loop reconnects and calls set_listening(True), which drops all.
The booking itself always re-checks the time (scheduling.service.hold_slot).

Set-up data (availability.booking_context: a service's providers, their resources and weekly
hours, rooms, devices, opening hours) changes with settings only, never with a booking, so its
entries (`settings=True`) carry a token of SETTINGS generations, moved only by the
`settings_changed` notification that the settings triggers send next to calendar_changed
(migration 0057: service, service_provider, working_hours, resource, staff_member, location,
location_hours, location_closure, staff_time_off; a row moved to another location notifies
both). A booking committed by any worker thus leaves them, while it drops every computed
availability of its location. Same rules otherwise: token before the first read, only while
listening, everything dropped on (re)connect.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Hashable

MAX_ENTRIES = 4096
MAX_AGE = timedelta(seconds=60)


@dataclass(frozen=True)
class Entry:
    """One computed answer: `value` computed at `now0` under `token`."""

    token: tuple
    now0: datetime
    value: Any


class AvailabilityCache:
    """Entries keyed by (scope, org_id, location_id, ...) with generation counters per clinic
    and per (clinic, location); thread-safe (the API runs sync routes in a thread pool)."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_age: timedelta = MAX_AGE):
        self.max_entries, self.max_age = max_entries, max_age
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, Entry] = OrderedDict()
        self._epoch = 0
        self._org_gen: dict[int, int] = {}
        self._loc_gen: dict[tuple[int, int], int] = {}
        self._settings_org_gen: dict[int, int] = {}  # moved by settings_changed only
        self._settings_loc_gen: dict[tuple[int, int], int] = {}
        self._listening = False
        self._orgs: dict[tuple[Hashable, str], int] = {}  # (scope, slug) -> org id: slugs never change
        self.hits = self.misses = 0

    @property
    def listening(self) -> bool:
        """Whether a LISTEN loop feeds this cache (else it stores nothing)."""
        return self._listening

    def set_listening(self, listening: bool) -> None:
        """The LISTEN connection is up (True: it has just (re)connected) or gone (False);
        either way every entry is dropped (notifications may have been missed)."""
        with self._lock:
            self._listening = listening
            self._epoch += 1
            self._entries.clear()
            self._orgs.clear()

    def org_of(self, scope: Hashable, slug: str) -> int | None:
        """The clinic id remembered for a public slug (None: not known, or not listening)."""
        with self._lock:
            return self._orgs.get((scope, slug)) if self._listening else None

    def remember_org(self, scope: Hashable, slug: str, org_id: int) -> None:
        """Remember an existing clinic's slug (a clinic's slug never changes; unknown slugs
        are never remembered, so a clinic created later is found)."""
        with self._lock:
            if self._listening and len(self._orgs) < self.max_entries:
                self._orgs[(scope, slug)] = org_id

    def invalidate(self, org_id: int, location_id: int, *, settings: bool = False) -> None:
        """A `calendar_changed` notification '<org>:<location>' (location 0: every location
        of the clinic); settings: a `settings_changed` one (drops set-up data entries only)."""
        org_gen, loc_gen = (self._settings_org_gen, self._settings_loc_gen) if settings else (self._org_gen,
                                                                                             self._loc_gen)
        with self._lock:
            if location_id:
                loc_gen[(org_id, location_id)] = loc_gen.get((org_id, location_id), 0) + 1
            else:
                org_gen[org_id] = org_gen.get(org_id, 0) + 1

    def _token(self, org_id: int, location_id: int, settings: bool = False) -> tuple:
        org_gen, loc_gen = (self._settings_org_gen, self._settings_loc_gen) if settings else (self._org_gen,
                                                                                             self._loc_gen)
        return (self._epoch, settings, org_gen.get(org_id, 0), loc_gen.get((org_id, location_id), 0))

    def begin(self, org_id: int, location_id: int, *, settings: bool = False) -> tuple | None:
        """The token to compute under (take it BEFORE reading the database); None when
        nothing may be cached (no listening loop). settings: for set-up data (moved by
        settings_changed only)."""
        with self._lock:
            return self._token(org_id, location_id, settings) if self._listening else None

    def get(self, key: Hashable, org_id: int, location_id: int, now: datetime, *,
            settings: bool = False) -> Any | None:
        """The value cached for `key` if still valid for (org_id, location_id) at `now`
        (now0 <= now <= now0 + max_age), else None. settings: as given to begin."""
        with self._lock:
            entry = self._entries.get(key)
            if (entry is None or not self._listening or entry.token != self._token(org_id, location_id, settings)
                    or not entry.now0 <= now <= entry.now0 + self.max_age):
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry.value

    def put(self, key: Hashable, org_id: int, location_id: int, token: tuple | None, now0: datetime,
            value: Any, *, settings: bool = False) -> None:
        """Keep `value` (computed at now0 under `token` from begin) unless a notification
        for the clinic or location arrived since begin. settings: as given to begin."""
        with self._lock:
            if token is None or not self._listening or token != self._token(org_id, location_id, settings):
                return
            self._entries[key] = Entry(token, now0, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)


AVAILABILITY = AvailabilityCache()  # this process's cache (one per web worker)
