"""Use cases of the medical history and the contraindication flags, one transaction each.

Callers: the client profile's "Medical history" card (features/clients/health_card.py), the
portal's Health tab, the calendar's book dialog (features/calendar/book_health.py) and the
chart page. Each opens ONE tenant transaction with `atomic`; the services in health_record.py
check the permission and write the audit rows in it; reads commit too (audited reads).

Keyword-only extras everywhere: `clock` (default: the app clock), `engine` (tests pass theirs).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from medspa.clock import Clock
from medspa.domain.clients.service import ClientInput
from medspa.domain.clinical.contraindications import audit_flag_reads, booking_flags, shown_flags, visit_flags
from medspa.domain.clinical.health_record import (HistoryView, read_history, read_own_history, read_versions,
                                                  require_booking_overrides, update_history, update_own_history)
from medspa.domain.clinical.medical_history import HistoryVersion
from medspa.domain.errors import NotFound
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.service import get_location
from medspa.domain.scheduling.desk import book_for_client
from medspa.domain.work import atomic, now_of

__all__ = ["BookingCheck", "ChartFlags", "fetch_chart_flags", "do_book_checked", "do_update_history", "do_update_own_history", "fetch_booking_check",
           "fetch_history", "fetch_history_versions", "fetch_own_history"]


def fetch_history(actor: Actor, client_id: int, *, clock: Clock | None = None,
                  engine: Engine | None = None) -> HistoryView:
    """The client's current medical history (history.read; audited). Raises NotFound."""
    with atomic(actor.org_id, engine=engine) as work:
        return read_history(work.session, actor, client_id, now_of(clock))


def fetch_history_versions(actor: Actor, client_id: int, section: str | None = None, *, clock: Clock | None = None,
                           engine: Engine | None = None) -> list[HistoryVersion]:
    """Every change of the client's history, newest first (history.read; audited). Raises
    NotFound, ValidationFailed (unknown section)."""
    with atomic(actor.org_id, engine=engine) as work:
        return read_versions(work.session, actor, client_id, now_of(clock), section)


def do_update_history(actor: Actor, client_id: int, changes: dict[str, Any], *, clock: Clock | None = None,
                      engine: Engine | None = None) -> HistoryView:
    """Save sections of the client's history as staff (history.write): a version per changed
    section. Raises NotFound, ValidationFailed (field keys "<section>.<row>.<field>")."""
    with atomic(actor.org_id, engine=engine) as work:
        return update_history(work.session, actor, client_id, changes, now_of(clock))


def fetch_own_history(actor: Actor, *, clock: Clock | None = None, engine: Engine | None = None) -> HistoryView:
    """A portal client's own history (audited). Raises NotFound."""
    with atomic(actor.org_id, engine=engine) as work:
        return read_own_history(work.session, actor, now_of(clock))


def do_update_own_history(actor: Actor, changes: dict[str, Any], *, clock: Clock | None = None,
                          engine: Engine | None = None) -> HistoryView:
    """A portal client updates their own history (source "portal"). Raises NotFound, ValidationFailed."""
    with atomic(actor.org_id, engine=engine) as work:
        return update_own_history(work.session, actor, changes, now_of(clock))


@dataclass(frozen=True)
class BookingCheck:
    """What the book dialog shows before booking: the flags in the actor's words (details for
    history.read, else the generic line once); empty: nothing flagged."""

    flags: tuple[str, ...]


def fetch_booking_check(actor: Actor, *, client_id: int, service_id: int, location_id: int, start_at: datetime,
                        clock: Clock | None = None, engine: Engine | None = None) -> BookingCheck:
    """The contraindication flags of booking this client for this service at `start_at`
    (aware). Needs appointment.book and client.read; a detail shown to a history.read role is
    audited. Raises NotFound (forbidden, no such client or location)."""
    if not (actor.can("appointment.book") and actor.can("client.read")):
        raise NotFound("client")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (client_id, service_id, location_id)):
        raise NotFound("client")
    now = now_of(clock)
    with atomic(actor.org_id, engine=engine) as work:
        location = get_location(work.session, location_id)
        flags = booking_flags(work.session, client_id, service_id, start_at, time_zone=location.time_zone)
        if flags:
            audit_flag_reads(work.session, actor, {client_id: len(flags)}, now, "booking")
        return BookingCheck(tuple(shown_flags(flags, actor)))


def do_book_checked(actor: Actor, *, location_id: int, service_id: int, provider_id: int | None,
                    start_at: datetime, client_id: int | None, new_client: ClientInput | None,
                    override_reason: str = "", clock: Clock | None = None, engine: Engine | None = None) -> int:
    """The desk's booking (scheduling.desk.book_for_client) with the contraindication check in
    the same transaction (health_record.require_booking_overrides, as a recurring series): a
    flagged visit is booked only with `override_reason`, kept on a health_override row (stage
    "booking") with the flags. Returns the appointment id.

    Raises HealthFlagged (a ValidationFailed keyed "health_reason", `flags` in the actor's
    words; nothing booked), and whatever book_for_client raises."""
    now = now_of(clock)
    with atomic(actor.org_id, engine=engine) as work:
        appt = book_for_client(work.session, actor, location_id=location_id, service_id=service_id,
                               start_at=start_at, now=now, provider_id=provider_id, client_id=client_id,
                               new_client=new_client)
        require_booking_overrides(work.session, actor, [appt], override_reason, now)
        if appt.id is None:
            raise NotFound("appointment")
        return appt.id


@dataclass(frozen=True)
class ChartFlags:
    """The chart page's health panel: the visit's flags in the actor's words, and the
    overrides given so far ("Booking · Front Desk: <reason>")."""

    flags: tuple[str, ...]
    overrides: tuple[str, ...]


def fetch_chart_flags(actor: Actor, appointment_id: int, *, clock: Clock | None = None,
                      engine: Engine | None = None) -> ChartFlags:
    """The visit's contraindication flags for its chart (chart.read; detail with history.read,
    audited "history.flags.read"). Raises NotFound (forbidden, missing, another clinic's)."""
    from medspa.domain.clinical.health_record import overrides_of
    from medspa.domain.practice.models import Location
    from medspa.domain.scheduling.models import Appointment
    from medspa.domain.timezones import format_clinic_time

    if not actor.can("chart.read") or isinstance(appointment_id, bool) or not isinstance(appointment_id, int):
        raise NotFound("chart")
    now = now_of(clock)
    with atomic(actor.org_id, engine=engine) as work:
        appt = work.session.get(Appointment, appointment_id)
        if appt is None or appt.client_id is None:
            raise NotFound("chart")
        flags = visit_flags(work.session, [appt]).get(appt.id, [])
        if flags:
            audit_flag_reads(work.session, actor, {appt.client_id: len(flags)}, now, "chart")
        zone = work.session.get(Location, appt.location_id).time_zone
        overrides = tuple(f"{o.stage.capitalize()} · {o.by_label or 'staff'} · "
                          f"{format_clinic_time(o.created_at, zone).rsplit(' (', 1)[0]}: {o.reason}"
                          for o in overrides_of(work.session, appt.id)) if actor.can("history.read") else ()
        return ChartFlags(tuple(shown_flags(flags, actor)), overrides)
