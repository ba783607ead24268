"""What the manage-booking page asks of the domain, as small UI-sized results.

Plain synchronous Python (no Reflex): ManageState calls ONE function here per event, in a worker
thread, and keeps only what it returns. Each function calls ONE action of
medspa.domain.scheduling.actions.manage as the anonymous visitor of the clinic
(`online.public_actor`); the booking token it passes is the visitor's only credential.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from medspa.clock import app_clock
from medspa.domain.errors import NotFound
from medspa.domain.scheduling.actions import manage
from medspa.domain.scheduling.actions.manage import CANCEL_REASONS, ManagedVisit
from medspa.domain.scheduling.actions.online import fetch_clinic, public_actor
from medspa.features.booking.flow import DayCard, SlotGroup, day_card, group_starts  # one day strip

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
    return [day_card(d.day, d.open) for d in days]


def load_times(org_id: int, token: str, time_zone: str, day: date) -> list[SlotGroup]:
    """The free starts on one local date, grouped into morning, afternoon and evening (as the
    booking page groups them)."""
    found = manage.fetch_reschedule_slots(public_actor(org_id), token, day, day, clock=app_clock())
    return group_starts([t.start for t in found], time_zone)


def reschedule(org_id: int, token: str, start: datetime, ip: str, user_agent: str) -> tuple[VisitView, str]:
    """Move the visit to `start` (one of the offered times): (the visit now, the outcome in
    words). Raises what manage.do_reschedule_by_token raises."""
    done = manage.do_reschedule_by_token(public_actor(org_id, ip, user_agent), token, start, clock=app_clock())
    return view_of(done.visit), done.message


def cancel(org_id: int, token: str, reason: str, note: str, ip: str, user_agent: str) -> str:
    """Cancel the visit with a reason: the outcome in words. Raises what
    manage.do_cancel_by_token raises."""
    return manage.do_cancel_by_token(public_actor(org_id, ip, user_agent), token, reason, note, clock=app_clock())
