"""What the manage-booking page asks of the domain, as small UI-sized results.

Plain synchronous Python (no Reflex): ManageState calls ONE function here per event, in a worker
thread, and keeps only what it returns. Each function calls ONE action of
medspa.domain.scheduling.actions.manage as the anonymous visitor of the clinic
(`online.public_actor`); the booking token it passes is the visitor's only credential.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date

from medspa.clock import app_clock
from medspa.domain.errors import NotFound
from medspa.domain.scheduling.actions import manage
from medspa.domain.scheduling.actions.manage import CANCEL_REASONS, ManagedVisit
from medspa.domain.scheduling.actions.online import fetch_clinic, public_actor

DAYS_SHOWN = 14
MAX_PAGES = 12  # the day strip browses at most this many fortnights ahead (about six months)
REASONS = tuple({"code": code, "label": label} for code, label in CANCEL_REASONS)
REASON_CODES = tuple(code for code, _ in CANCEL_REASONS)


@dataclass
class VisitView:
    """The visit as the page shows it (see manage.ManagedVisit; every text in clinic time)."""

    reference: str = ""
    status: str = ""
    status_label: str = ""
    service: str = ""
    provider: str = ""
    location: str = ""
    address: str = ""
    phone: str = ""
    when: str = ""
    day: str = ""
    times: str = ""
    time_zone: str = ""
    deposit: str = ""
    balance_due: str = ""
    policy: str = ""
    can_change: bool = False
    why_not: str = ""
    terms: str = ""
    cancel_outcome: str = ""
    late: bool = False


@dataclass
class DayCard:
    """One local date of the day strip: ISO date, labels, and whether it has a free time."""

    iso: str = ""
    weekday: str = ""
    day: str = ""
    month: str = ""
    label: str = ""
    open: bool = False


@dataclass
class TimeCard:
    """One free start: the UTC instant the browser sends back and its clinic-time labels."""

    start: str = ""
    label: str = ""
    long_label: str = ""


@dataclass
class TimeGroup:
    """The free times of one part of the day (Morning, Afternoon, Evening; clinic time)."""

    name: str = ""
    times: list[TimeCard] = field(default_factory=list)


@dataclass
class Opened:
    """A manage link opened: the clinic's org id and name, and the visit."""

    org_id: int
    clinic_name: str
    visit: VisitView


def view_of(visit: ManagedVisit) -> VisitView:
    """The page's copy of a ManagedVisit."""
    return VisitView(**{name: getattr(visit, name) for name in VisitView.__dataclass_fields__})


def open_link(slug: str, token: str, ip: str, user_agent: str) -> Opened | None:
    """The clinic of `slug` and the visit of `token` in it, or None when either is unknown."""
    try:
        clinic = fetch_clinic(slug, ip=ip, user_agent=user_agent)
        visit = manage.fetch_managed_visit(public_actor(clinic.org_id, ip, user_agent), token, clock=app_clock())
    except NotFound:
        return None
    return Opened(clinic.org_id, clinic.name, view_of(visit))


def load_visit(org_id: int, token: str) -> VisitView | None:
    """The visit of `token` as it stands now, or None when the link no longer finds it."""
    try:
        return view_of(manage.fetch_managed_visit(public_actor(org_id), token, clock=app_clock()))
    except NotFound:
        return None


def first_day(time_zone: str, page: int) -> date:
    """The first local date of day-strip page `page` (0: today at the clinic)."""
    today = app_clock().now().astimezone(ZoneInfo(time_zone)).date()
    return today + timedelta(days=DAYS_SHOWN * max(0, min(page, MAX_PAGES - 1)))


def load_days(org_id: int, token: str, time_zone: str, page: int) -> list[DayCard]:
    """DAYS_SHOWN local dates from page `page`'s first, each marked open when the visit could move there."""
    start = first_day(time_zone, page)
    days = manage.fetch_reschedule_days(public_actor(org_id), token, start, start + timedelta(days=DAYS_SHOWN - 1),
                                        clock=app_clock())
    return [DayCard(d.day.isoformat(), format_date(d.day, "EEE", locale="en_US"), str(d.day.day),
                    format_date(d.day, "MMM", locale="en_US"), format_date(d.day, "EEEE, MMMM d", locale="en_US"),
                    d.open) for d in days]


def load_times(org_id: int, token: str, time_zone: str, day: date) -> list[TimeGroup]:
    """The free starts on one local date, grouped into morning, afternoon and evening."""
    found = manage.fetch_reschedule_slots(public_actor(org_id), token, day, day, clock=app_clock())
    tz = ZoneInfo(time_zone)
    groups: dict[str, TimeGroup] = {}
    for t in found:
        hour = t.start.astimezone(tz).hour
        name = "Morning" if hour < 12 else "Afternoon" if hour < 17 else "Evening"
        groups.setdefault(name, TimeGroup(name)).times.append(
            TimeCard(t.start.astimezone(ZoneInfo("UTC")).isoformat(), t.label, t.long_label))
    return list(groups.values())


def reschedule(org_id: int, token: str, start: datetime, ip: str, user_agent: str) -> tuple[VisitView, str]:
    """Move the visit to `start` (one of the offered times): (the visit now, the outcome in
    words). Raises what manage.do_reschedule_by_token raises."""
    done = manage.do_reschedule_by_token(public_actor(org_id, ip, user_agent), token, start, clock=app_clock())
    return view_of(done.visit), done.message


def cancel(org_id: int, token: str, reason: str, note: str, ip: str, user_agent: str) -> str:
    """Cancel the visit with a reason: the outcome in words. Raises what
    manage.do_cancel_by_token raises."""
    return manage.do_cancel_by_token(public_actor(org_id, ip, user_agent), token, reason, note, clock=app_clock())
