"""Issue 15 section 3, the calendar's edges: a time held online is named so on the staff
calendar and its panel; booking from an empty cell offers what that provider can do then."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from medspa.clock import FixedClock
from medspa.domain.clients.service import ClientInput, find_or_create_client
from medspa.domain.scheduling.calendar import appointment_detail, calendar_day, calendar_week
from medspa.domain.scheduling.labels import visit_who
from medspa.domain.scheduling.service import hold_slot
from tests.conftest import utc
from tests.factories import build_clinic

NY = ZoneInfo("America/New_York")
DAY = date(2026, 7, 15)  # a Wednesday
NOW = utc(2026, 7, 1, 12)


def at(h: int, m: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(h, m), tzinfo=NY).astimezone(timezone.utc)


def test_visit_who_names_an_online_hold_whatever_its_client():
    assert visit_who("held", "online", None) == "Held online"
    assert visit_who("held", "staff", None) == "Walk-in"
    assert visit_who("confirmed", "online", None) == "Walk-in"


def test_times_held_online_say_so_on_the_day_week_and_panel(engine, owner_engine):
    """Found: a time a client was still paying for showed as "Walk-in". Held online, with or
    without the client's details in yet; once confirmed, the client's name."""
    clinic = build_clinic(engine, owner_engine, providers=2)
    p1, p2 = clinic.provider_ids
    with clinic.session() as s:
        typing = hold_slot(s, clinic.public, location_id=clinic.location_id, service_id=clinic.services["botox"],
                           start_at=at(10), now=NOW, provider_id=p1)
        mia = find_or_create_client(s, clinic.system, ClientInput("Mia", "Wong", "mia@example.com", ""),
                                    require_contact=False)
        paying = hold_slot(s, clinic.public, location_id=clinic.location_id, service_id=clinic.services["botox"],
                           start_at=at(11), now=NOW, provider_id=p1, client_id=mia.id)
        walk_in = hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id,
                            service_id=clinic.services["botox"], start_at=at(12), now=NOW, provider_id=p2,
                            confirm=True)
        s.commit()
        typing, paying, walk_in = typing.id, paying.id, walk_in.id
        staff = clinic.staff_actor()
        day = calendar_day(s, staff, location_id=clinic.location_id, day=DAY, now=NOW)
        week = calendar_week(s, staff, location_id=clinic.location_id, day=DAY, now=NOW)
        panels = [appointment_detail(s, staff, a, now=NOW) for a in (typing, paying, walk_in)]
        s.rollback()
    names = {b.appointment_id: (b.client_name, b.status_label) for b in day.blocks if b.kind == "appointment"}
    assert names == {typing: ("Held online", "Held"), paying: ("Held online", "Held"),
                     walk_in: ("Walk-in", "Confirmed")}
    assert {e.appointment_id: e.client_name for e in week.entries} == {
        typing: "Held online", paying: "Held online", walk_in: "Walk-in"}
    assert [p.client_name for p in panels] == ["Held online", "Held online", "Walk-in"]
