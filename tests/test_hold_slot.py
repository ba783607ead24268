"""hold_slot's own work per attempt: lapsed holds it releases, and the statements it sends.

The exclusion constraint stays the arbiter; these pin what the booking transaction touches
(only the lapsed holds in its way) and how many round trips one attempt costs, so that the
booking front door (issue 20, bench/booking_throughput.py) does not silently grow again.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event
from sqlmodel import select

from medspa.domain.identity.actor import Actor
from medspa.domain.scheduling.models import Appointment, Occupancy
from medspa.domain.scheduling.service import SlotTaken, hold_slot
from tests.conftest import utc
from tests.factories import build_clinic

NY = ZoneInfo("America/New_York")
NOW = utc(2026, 7, 1, 12)


def at(h: int, m: int = 0, day: date = date(2026, 7, 15)) -> datetime:
    return datetime.combine(day, time(h, m), tzinfo=NY).astimezone(timezone.utc)


def desk(clinic) -> Actor:
    return Actor(org_id=clinic.org_id, role="front_desk", label="desk")


def hold(clinic, service: str, start: datetime, *, provider_id: int | None = None, now: datetime = NOW,
         confirm: bool = False) -> Appointment:
    with clinic.session() as s:
        appt = hold_slot(s, desk(clinic), location_id=clinic.location_id, service_id=clinic.services[service],
                         start_at=start, now=now, provider_id=provider_id, confirm=confirm)
        s.commit()
        return appt


def statuses(clinic, appointment_id: int) -> tuple[str, list[str]]:
    with clinic.session() as s:
        appt = s.get(Appointment, appointment_id)
        occ = s.exec(select(Occupancy.status).where(Occupancy.appointment_id == appointment_id)).all()
        return appt.status, sorted(occ)


def test_a_lapsed_hold_in_the_way_on_the_room_is_released_and_the_booking_wins(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine, providers=2)
    first, second = clinic.provider_ids
    lapsed = hold(clinic, "facial", at(10), provider_id=first)  # takes the only treatment room
    later = NOW + timedelta(minutes=11)
    won = hold(clinic, "facial", at(10), provider_id=second, now=later, confirm=True)
    assert won.status == "confirmed" and won.provider_id == second
    assert statuses(clinic, lapsed.id) == ("expired", ["released", "released"])


def test_a_lapsed_hold_not_in_the_way_is_left_to_the_expiry_sweep(engine, owner_engine):
    """Booking "anyone" takes the first free provider: another provider's lapsed hold at that
    time is not in its way, so the booking does not write it (the expiry job releases it)."""
    clinic = build_clinic(engine, owner_engine, providers=2)
    first, second = sorted(clinic.provider_ids)
    lapsed = hold(clinic, "botox", at(10), provider_id=second)
    later = NOW + timedelta(minutes=11)
    won = hold(clinic, "botox", at(10), now=later, confirm=True)
    assert won.provider_id == first
    assert statuses(clinic, lapsed.id) == ("held", ["held"])
    # ... and it blocks nobody: the second provider can be booked then too
    assert hold(clinic, "botox", at(10), provider_id=second, now=later, confirm=True).provider_id == second
    assert statuses(clinic, lapsed.id) == ("expired", ["released"])


@pytest.fixture
def statements(engine):
    sent: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    yield sent
    event.remove(engine, "before_cursor_execute", count)


def test_round_trips_per_attempt(engine, owner_engine, statements):
    """One booked attempt (provider + room) and one refused (SlotTaken with same-day
    alternatives, and on a full day with the 3 days around it) send at most this many
    statements, the tenant setting, the savepoint and the audit row included."""
    clinic = build_clinic(engine, owner_engine)
    statements.clear()
    booked = hold(clinic, "facial", at(10), confirm=True)
    assert booked.status == "confirmed"
    assert len(statements) <= 14, statements
    statements.clear()
    with pytest.raises(SlotTaken) as taken:
        hold(clinic, "facial", at(10), confirm=True)
    assert taken.value.alternatives
    assert len(statements) <= 9, statements

    full = build_clinic(engine, owner_engine, weekly={d: [(time(10), time(11, 15))] for d in range(7)})
    hold(full, "facial", at(10), confirm=True)  # the only slot of every day
    statements.clear()
    with pytest.raises(SlotTaken) as taken:
        hold(full, "facial", at(10), confirm=True)
    assert [sl.start for sl in taken.value.alternatives] == [at(10, day=date(2026, 7, d)) for d in (12, 13, 14, 16, 17)]
    assert len(statements) <= 11, statements
