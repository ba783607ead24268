"""State of `/today`: the provider's "My day" and the desk's "Arrivals" (issue 15, section 3).

Thin: every handler re-checks the staff session through StaffState._act and calls one domain
action (scheduling/actions/daylist.py; a check-in is scheduling/actions/desk.do_change_status,
the calendar's own step). Which tabs: the domain decides (scheduling.daylist.day_lists):
"My day" for an account with a bookable staff record (a provider, an owner who treats);
"Arrivals" for the front desk, owners and managers. Nobody else (the lab) sees anything but
"not found"; every list handler checks again through its action.

Refresh: the page clicks its hidden refresh button every 30 seconds while it is open and
visible (a timer the load handler starts with rx.call_script; it stops itself once the page
is left), so the minutes late and waiting move on and other desks' check-ins show up.
"""

from __future__ import annotations

import dataclasses

import reflex as rx

from medspa.domain.scheduling.actions.daylist import ArrivalsOpened, fetch_arrivals, fetch_day_lists, fetch_my_day
from medspa.domain.scheduling.actions.desk import do_change_status
from medspa.domain.scheduling.daylist import ARRIVALS, BUCKET_LABELS, BUCKETS, MY_DAY, DayVisit, MyDay
from medspa.domain.scheduling.service import InvalidTransition
from medspa.features.auth.state import StaffState
from medspa.features.choices import Option
from medspa.web.inputs import parse_id

REFRESH_SECONDS = 30
STATUS_COLORS = {"confirmed": "teal", "checked_in": "blue", "completed": "gray", "no_show": "orange"}
BUCKET_COLORS = {"late": "red", "waiting": "blue", "expected": "teal", "done": "gray", "no_show": "orange"}
# the timer: one per window; it stops when the page (its refresh button) is gone
POLL_SCRIPT = ("(function () { if (window.medspaTodayTimer) { return; } "
               "window.medspaTodayTimer = setInterval(function () { "
               "var b = document.getElementById('today-refresh'); "
               "if (!b) { clearInterval(window.medspaTodayTimer); window.medspaTodayTimer = null; return; } "
               "if (!document.hidden) { b.click(); } }, %d); })()" % (REFRESH_SECONDS * 1000))


@dataclasses.dataclass
class AlertView:
    """One alert chip: kind, words and a Radix colour."""

    kind: str = ""
    text: str = ""
    tone: str = "gray"


@dataclasses.dataclass
class VisitView:
    """One visit of either list (href: the client's profile, "" without a client)."""

    id: int = 0
    start: str = ""
    end: str = ""
    client_name: str = ""
    href: str = ""
    service: str = ""
    provider: str = ""
    location: str = ""
    rooms: str = ""
    status: str = ""
    status_label: str = ""
    status_color: str = "gray"
    alerts: list[AlertView] = dataclasses.field(default_factory=list)
    bucket: str = ""
    bucket_label: str = ""
    bucket_color: str = "gray"
    timing: str = ""
    can_check_in: bool = False
    forms: str = ""  # intake form completion: "Forms 1/2", "Forms done" ("" none needed)
    consents: str = ""  # "Consents 0/1", "Consents signed" ("" none required)


@dataclasses.dataclass
class CountView:
    """A bucket's count in the arrivals summary."""

    bucket: str = ""
    label: str = ""
    count: int = 0
    color: str = "gray"


def visit_view(v: DayVisit, *, bucket: str = "", timing: str = "", can_check_in: bool = False) -> VisitView:
    """The UI-sized row of a day-list visit."""
    return VisitView(
        id=v.appointment_id, start=v.start_label, end=v.end_label, client_name=v.client_name,
        href=f"/clients/{v.client_id}" if v.client_id else "", service=v.service_name, provider=v.provider_name,
        location=v.location_name, rooms=v.rooms, status=v.status, status_label=v.status_label,
        status_color=STATUS_COLORS.get(v.status, "gray"),
        alerts=[AlertView(a.kind, a.text, a.tone) for a in v.alerts], bucket=bucket,
        bucket_label=BUCKET_LABELS.get(bucket, ""), bucket_color=BUCKET_COLORS.get(bucket, "gray"), timing=timing,
        can_check_in=can_check_in, forms=v.forms_label, consents=v.consents_label)


class TodayState(StaffState):
    """What /today shows: the tabs offered, the open tab, and its list."""

    allowed: bool = False
    not_found: bool = False
    tabs: list[str] = []
    tab: str = ""
    error: str = ""
    notice: str = ""
    busy_id: int = 0
    # My day
    provider_name: str = ""
    bookable: bool = True  # False: this account has no bookable staff record (no visits of its own)
    day_label: str = ""
    remaining: int = 0
    my_visits: list[VisitView] = []
    loaded_my_day: bool = False
    # Arrivals
    locations: list[Option] = []
    location: str = ""
    location_name: str = ""
    arrivals_day: str = ""
    now_label: str = ""
    rows: list[VisitView] = []
    counts: list[CountView] = []
    loaded_arrivals: bool = False
    _check_in_ids: list[int] = []  # the visits this list offered a check-in for
    _location_ids: list[int] = []

    def _deny(self) -> None:
        self.allowed, self.not_found, self.tabs, self.tab = False, True, [], ""
        self.my_visits, self.rows, self.counts, self.locations = [], [], [], []
        self._check_in_ids, self._location_ids = [], []

    def _show_my_day(self, day: MyDay) -> None:
        self.provider_name, self.day_label, self.remaining = day.provider_name, day.day_label, day.remaining
        self.bookable = day.bookable
        self.my_visits = [visit_view(r.visit, bucket=r.bucket, timing=r.timing) for r in day.visits]
        self.loaded_my_day = True

    def _show_arrivals(self, opened: ArrivalsOpened) -> None:
        got = opened.arrivals
        self.locations = [Option(str(l.id), l.name) for l in opened.locations]
        self._location_ids = [l.id for l in opened.locations]
        self.location, self.location_name = str(got.location_id), got.location_name
        self.arrivals_day, self.now_label = got.day_label, got.now_label
        self.rows = [visit_view(r.visit, bucket=r.bucket, timing=r.timing, can_check_in=r.can_check_in)
                     for r in got.rows]
        self.counts = [CountView(b, BUCKET_LABELS[b], got.counts.get(b, 0), BUCKET_COLORS[b]) for b in BUCKETS]
        self._check_in_ids = [r.visit.appointment_id for r in got.rows if r.can_check_in]
        self.loaded_arrivals = True

    async def _reload(self):
        """Fetch the open tab's list; returns the redirect to sign in, or None."""
        if self.tab == MY_DAY:
            done = await self._act(fetch_my_day)
        elif self.tab == ARRIVALS:
            try:
                done = await self._act(fetch_arrivals, parse_id(self.location))
            except LookupError as exc:  # the clinic has no locations yet
                self.error, self.rows, self.counts, self._check_in_ids = str(exc), [], [], []
                return None
        else:
            return None
        if done.redirect is not None:
            return done.redirect
        if done.error:
            self._deny()
            return None
        if self.tab == MY_DAY:
            self._show_my_day(done.value)
        else:
            self._show_arrivals(done.value)
        return None

    @rx.event
    async def load(self):
        """on_load: the tabs of this role, the chosen one (?tab=arrivals or my_day) and its
        list; then the 30-second refresh timer."""
        done = await self._act(fetch_day_lists)
        if done.redirect is not None:
            return done.redirect
        tabs = list(done.value or ())
        if not tabs:
            self._deny()
            return None
        wanted = (self.router.url.query_parameters or {}).get("tab", "")
        self.tabs, self.tab = tabs, wanted if wanted in tabs else tabs[0]
        self.allowed, self.not_found, self.error, self.notice = True, False, "", ""
        self.loaded_my_day = self.loaded_arrivals = False
        redirect = await self._reload()
        if redirect is not None:
            return redirect
        return rx.call_script(POLL_SCRIPT) if self.allowed else None

    @rx.event
    async def set_tab(self, tab: str | list[str]):
        """The tabs: "my_day" or "arrivals" (only those this role was offered)."""
        if not self.allowed or not isinstance(tab, str) or tab not in self.tabs:
            return None
        self.tab, self.error, self.notice = tab, "", ""
        return await self._reload()

    @rx.event
    async def set_location(self, value: str | list[str]):
        """The arrivals' location picker (only a location the list offered)."""
        location_id = parse_id(value) if isinstance(value, str) else None
        if not self.allowed or location_id is None or location_id not in self._location_ids:
            return None
        self.location, self.error, self.notice = str(location_id), "", ""
        return await self._reload()

    @rx.event
    async def refresh(self):
        """The timer's tick (and the Refresh button): the open list again."""
        if not self.allowed or self.busy_id:
            return None
        return await self._reload()

    @rx.event
    async def check_in(self, appointment_id: int | str):
        """One click at the desk: check this visit in (the calendar's own step, audited), then
        the list again. Only a visit this list offered a check-in for."""
        visit_id = parse_id(appointment_id)
        if not self.allowed or self.tab != ARRIVALS or visit_id is None or visit_id not in self._check_in_ids:
            return
        name = next((r.client_name for r in self.rows if r.id == visit_id), "")
        self.busy_id, self.error, self.notice = visit_id, "", ""
        yield
        try:
            done = await self._act(do_change_status, visit_id, "check_in", denied="Not allowed.")
        except InvalidTransition as exc:
            self.busy_id, self.error = 0, str(exc)
            await self._reload()
            return
        self.busy_id = 0
        if done.redirect is not None:
            yield done.redirect
            return
        if done.error:
            self.error = done.error
            return
        self.notice = f"{name} is checked in." if name else "Checked in."
        redirect = await self._reload()
        if redirect is not None:
            yield redirect
