"""State of `/audit`: the filter, one page of the trail, the CSV download.

Owner only (audit.read): every public handler re-checks the staff session and the
permission on the server (StaffState._act); anyone else gets the page's "not found" view and
no data. Each handler calls one action of medspa.domain.audit.actions (one transaction, in a
worker thread).
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from zoneinfo import ZoneInfo

import reflex as rx

from medspa.clock import app_clock
from medspa.domain.audit.query import AuditRow
from medspa.domain.errors import ValidationFailed
from medspa.domain.audit import actions
from medspa.features.auth.state import Acted, StaffState
from medspa.web.inputs import iso_day, parse_id
from medspa.features.choices import Option

PAGE_SIZE = 50
EXPORT_MAX_ROWS = 100_000  # one download is built in memory and sent over the websocket
DEFAULT_DAYS = 30
ALL = "all"


@dataclasses.dataclass
class Hit:
    """A client found by the filter's search box: id, name and a hint (email or phone)."""

    id: int = 0
    name: str = ""
    hint: str = ""


@dataclasses.dataclass
class RowView:
    """One audit row as the table shows it: time label, actor, role, action, object, client, IP and user agent."""

    id: int = 0
    time: str = ""
    actor: str = ""
    role: str = ""
    action: str = ""
    object: str = ""
    client: str = ""
    ip: str = ""
    agent: str = ""
    client_href: str = ""  # the client's profile, when the row names one


def _row_view(r: AuditRow) -> RowView:
    return RowView(r.id, r.time_label, r.actor_label, r.actor_role.replace("_", " "), r.action, r.object,
                   r.client_name, r.ip, r.user_agent, f"/clients/{r.client_id}" if r.client_id else "")


class AuditState(StaffState):
    """What /audit shows. Ids the browser may send back are checked against backend lists."""

    allowed: bool = False  # an owner is signed in and the first load finished
    not_found: bool = False  # signed in, but not allowed: the page does not exist for them
    staff: list[Option] = []
    locations: list[Option] = []
    location: str = ""
    staff_user: str = ALL
    start: str = ""
    end: str = ""
    query: str = ""
    hits: list[Hit] = []
    client_id: int = 0
    client_label: str = ""
    rows: list[RowView] = []
    page: int = 0
    has_more: bool = False
    error: str = ""
    busy: bool = False
    _before_id: int = 0
    _zones: dict[str, str] = {}
    _hit_ids: list[int] = []

    # ---- helpers (not callable from the browser)

    async def _call(self, action, *args, **kwargs) -> Acted:
        """`action` through StaffState._act; signed out or not an owner forgets everything
        (not an owner: the page's "not found" view)."""
        done = await self._act(action, *args, **kwargs)
        if not done.ok:
            self._forget()
            self.not_found = bool(done.error)
        return done

    def _forget(self) -> None:
        self.allowed = False
        self.staff, self.locations, self.rows, self.hits = [], [], [], []
        self.client_id, self.client_label, self.query, self._hit_ids = 0, "", "", []
        self.has_more, self.page, self._before_id, self._zones = False, 0, 0, {}

    def _filters(self) -> dict:
        staff = parse_id(self.staff_user)
        return {"client_id": self.client_id or None, "actor_user_id": staff, "start": iso_day(self.start),
                "end": iso_day(self.end), "time_zone": self._zones.get(self.location, "UTC")}

    async def _run(self, page: int):
        """Load `page` (0: a new search, pinned to the rows existing now); returns the
        redirect to sign in, or None."""
        self.busy = True
        try:
            done = await self._call(actions.fetch_audit_page, now=app_clock().now(), limit=PAGE_SIZE,
                                    offset=page * PAGE_SIZE, before_id=self._before_id if page else None,
                                    **self._filters())
        except ValidationFailed as exc:
            self.error = next(iter(exc.fields.values()), "Check the filter")
            return None
        finally:
            self.busy = False
        if not done.ok:
            return done.redirect
        self.error = ""
        self.page, self.has_more, self._before_id = page, done.value.has_more, done.value.before_id
        self.rows = [_row_view(r) for r in done.value.rows]
        return None

    # ---- events

    @rx.event
    async def load(self):
        """on_load: the filter options, the last 30 days of the first location's zone."""
        self.not_found = False
        done = await self._call(actions.fetch_audit_options)
        if not done.ok:
            return done.redirect
        opts = done.value
        self.staff = [Option(str(uid), f"{label} · {role.replace('_', ' ')}") for uid, label, role in opts.staff]
        self._zones = {str(lid): zone for lid, _, zone in opts.locations} or {"0": "UTC"}
        self.locations = [Option(str(lid), f"{name} · {zone}") for lid, name, zone in opts.locations] or [
            Option("0", "UTC")]
        if self.location not in self._zones:
            self.location = next(iter(self._zones))
        if self.staff_user != ALL and self.staff_user not in {o.value for o in self.staff}:
            self.staff_user = ALL
        if not self.start and not self.end:
            today = app_clock().now().astimezone(ZoneInfo(self._zones[self.location])).date()
            self.start, self.end = (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat(), today.isoformat()
        self.allowed = True
        return await self._run(0)

    @rx.event
    async def search_client(self, query: str):
        """The client box: clients by name, email or phone (two characters or more)."""
        self.query = query[:80] if isinstance(query, str) else ""
        if len(self.query.strip()) < 2:
            self.hits, self._hit_ids = [], []
            return
        done = await self._call(actions.fetch_client_hits, self.query)
        if not done.ok:
            return done.redirect
        self.hits = [Hit(h.id, h.name, h.hint) for h in done.value]
        self._hit_ids = [h.id for h in done.value]

    @rx.event
    async def pick_client(self, client_id: int):
        """Narrow the trail to one of the clients the box suggested."""
        if not isinstance(client_id, int) or client_id not in self._hit_ids:
            return
        hit = next(h for h in self.hits if h.id == client_id)
        self.client_id, self.client_label = client_id, hit.name
        self.query, self.hits, self._hit_ids = "", [], []
        return await self._run(0)

    @rx.event
    async def clear_client(self):
        """Every client again."""
        self.client_id, self.client_label = 0, ""
        return await self._run(0)

    @rx.event
    async def set_staff(self, value: str):
        """One staff login's events ("all": everyone's)."""
        if isinstance(value, str) and (value == ALL or value in {o.value for o in self.staff}):
            self.staff_user = value
            return await self._run(0)

    @rx.event
    async def set_location(self, value: str):
        """The zone the dates and times are read in (a location's)."""
        if isinstance(value, str) and value in self._zones:
            self.location = value
            return await self._run(0)

    @rx.event
    async def set_start(self, value: str):
        """The first local day ("" = no lower bound)."""
        if value == "" or iso_day(value):
            self.start = value
            return await self._run(0)

    @rx.event
    async def set_end(self, value: str):
        """The last local day ("" = no upper bound)."""
        if value == "" or iso_day(value):
            self.end = value
            return await self._run(0)

    @rx.event
    async def turn_page(self, step: int):
        """The next (1) or previous (-1) page of the same search."""
        if step == 1 and self.has_more:
            return await self._run(self.page + 1)
        if step == -1 and self.page > 0:
            return await self._run(self.page - 1)

    @rx.event
    async def export(self):
        """Download the whole filtered trail as CSV (audited as audit.export)."""
        filters = self._filters()
        try:
            done = await self._call(actions.fetch_audit_csv, now=app_clock().now(), max_rows=EXPORT_MAX_ROWS,
                                    **filters)
        except ValidationFailed as exc:
            self.error = next(iter(exc.fields.values()), "Check the filter")
            return
        except actions.ExportTooLarge:
            self.error = f"More than {EXPORT_MAX_ROWS:,} events match: narrow the dates to export."
            return
        if not done.ok:
            return done.redirect
        self.error = ""
        span = "-".join(d.isoformat() for d in (filters["start"], filters["end"]) if d) or "all"
        return rx.download(data=done.value[0], filename=f"audit-{span}.csv", mime_type="text/csv")
