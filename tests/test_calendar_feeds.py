"""Providers' calendar feeds (issue 15 part 4): a secret link per staff member, parsed back with
`icalendar`: the events match the provider's visits (UTC instants, stable UIDs), a cancel and a
move raise SEQUENCE and a cancel says STATUS:CANCELLED, no client contact or health details,
a rotated link stops answering, and any other token is a 404."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlmodel import select

from medspa.api import v1
from medspa.api.app import api
from medspa.clock import FixedClock
from medspa.domain.audit.models import AuditEvent
from medspa.domain.clients.service import ClientInput, find_or_create_client
from medspa.domain.errors import NotFound
from medspa.domain.identity.actor import Actor
from medspa.domain.identity.models import UserAccount
from medspa.domain.identity.service import create_user
from medspa.domain.scheduling.actions.feeds import do_rotate_my_feed, fetch_feed_ics, fetch_my_feed
from medspa.domain.scheduling.actions.reschedule import do_move_visit
from medspa.domain.scheduling.service import cancel_appointment, hold_slot
from tests.conftest import utc
from tests.factories import build_clinic

NY = ZoneInfo("America/New_York")
NOW = utc(2026, 7, 1, 16)
CLOCK = FixedClock(NOW)


def ny(day: int, hour: int) -> datetime:
    return datetime.combine(date(2026, 7, day), time(hour), tzinfo=NY).astimezone(timezone.utc)


@pytest.fixture
def nurse(engine, owner_engine):
    """A clinic whose Provider 1 has a sign-in and three visits (one with another provider)."""
    clinic = build_clinic(engine, owner_engine, providers=2)
    with clinic.session() as s:
        user = create_user(s, clinic.system, email=f"nurse-{clinic.slug}@example.com", password="a long passphrase 1",
                           role="provider", display_name="Nina Nurse")
        user.staff_id = clinic.provider_ids[0]
        s.add(user)
        mia = find_or_create_client(s, clinic.system, ClientInput("Mia", "Wong", "mia@example.com", "+12125550150"))
        visits = [hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services["botox"],
                            start_at=start, now=NOW, provider_id=provider, client_id=mia.id, source="staff",
                            confirm=True).id
                  for start, provider in ((ny(15, 10), clinic.provider_ids[0]), (ny(16, 11), clinic.provider_ids[0]),
                                          (ny(15, 12), clinic.provider_ids[1]))]
        s.commit()
        actor = Actor(org_id=clinic.org_id, role="provider", user_id=user.id, label="Nina Nurse")
    return clinic, actor, visits


def events(ics: bytes) -> dict[str, dict]:
    cal = Calendar.from_ical(ics)
    return {str(e["uid"]): {"start": e.decoded("dtstart"), "end": e.decoded("dtend"), "summary": str(e["summary"]),
                            "status": str(e["status"]), "sequence": int(e["sequence"])}
            for e in cal.walk("VEVENT")}


def test_the_feed_lists_the_providers_visits_and_follows_a_move_and_a_cancel(nurse, engine):
    clinic, actor, (first, second, other) = nurse
    assert fetch_my_feed(actor, engine=engine).created_at is None
    made = do_rotate_my_feed(actor, "https://spa.example/", clock=CLOCK, engine=engine)
    assert made.url.startswith("https://spa.example/calendar-feeds/") and made.url.endswith(".ics")
    token = made.url.rsplit("/", 1)[1].removesuffix(".ics")
    assert fetch_my_feed(actor, engine=engine).created_at == NOW and fetch_my_feed(actor, engine=engine).url == ""

    got = events(fetch_feed_ics(token, clock=CLOCK, engine=engine))
    uid = f"appointment-{first}@{clinic.slug}.medspa"
    assert sorted(got) == sorted([uid, f"appointment-{second}@{clinic.slug}.medspa"])  # not the other provider's
    assert got[uid] == {"start": ny(15, 10), "end": ny(15, 10) + timedelta(minutes=30), "summary": "Botox · Mia W.",
                        "status": "CONFIRMED", "sequence": 0}
    assert got[uid]["start"].tzinfo is not None and got[uid]["start"].utcoffset() == timedelta(0)
    body = fetch_feed_ics(token, clock=CLOCK, engine=engine).decode()
    assert "mia@example.com" not in body and "2125550150" not in body  # no contact details leave

    # the visit moves an hour later the way the calendar moves it, then the other is cancelled
    do_move_visit(clinic.staff_actor(), first, start_at=ny(15, 11), clock=CLOCK, engine=engine)
    with clinic.session() as s:
        cancel_appointment(s, clinic.staff_actor(), second, now=NOW)
        s.commit()
    got = events(fetch_feed_ics(token, clock=CLOCK, engine=engine))
    assert (got[uid]["start"], got[uid]["sequence"]) == (ny(15, 11), 1)
    cancelled = got[f"appointment-{second}@{clinic.slug}.medspa"]
    assert (cancelled["status"], cancelled["sequence"] >= 1) == ("CANCELLED", True)
    with clinic.session() as s:
        reads = s.exec(select(AuditEvent).where(AuditEvent.action == "calendar.feed.read")
                       .order_by(AuditEvent.id)).all()
        assert len(reads) == 3 and reads[-1].detail["events"] == 2


def test_a_rotated_link_stops_answering_and_other_tokens_are_not_found(nurse, engine):
    clinic, actor, _ = nurse
    old = do_rotate_my_feed(actor, "https://spa.example", clock=CLOCK, engine=engine).url.rsplit("/", 1)[1][:-4]
    new = do_rotate_my_feed(actor, "https://spa.example", clock=CLOCK, engine=engine).url.rsplit("/", 1)[1][:-4]
    assert old != new and fetch_feed_ics(new, clock=CLOCK, engine=engine).startswith(b"BEGIN:VCALENDAR")
    for token in (old, "x" * 43, "", "../../etc/passwd", "²" * 43, new + "a"):
        with pytest.raises(NotFound):
            fetch_feed_ics(token, clock=CLOCK, engine=engine)
    api.dependency_overrides[v1.get_db_engine] = lambda: engine
    api.dependency_overrides[v1.get_clock] = lambda: CLOCK
    try:
        http = TestClient(api)
        ok = http.get(f"/calendar-feeds/{new}.ics")
        assert ok.status_code == 200 and ok.headers["content-type"].startswith("text/calendar")
        assert ok.headers["cache-control"] == "private, no-store"
        assert http.get(f"/calendar-feeds/{old}.ics").status_code == 404
    finally:
        api.dependency_overrides.clear()


def test_an_account_without_a_staff_record_has_no_feed(nurse, engine):
    clinic, _, _ = nurse
    with clinic.session() as s:
        desk = create_user(s, clinic.system, email=f"desk-{clinic.slug}@example.com", password="a long passphrase 2",
                           role="front_desk")
        s.commit()
        desk_actor = Actor(org_id=clinic.org_id, role="front_desk", user_id=desk.id)
        assert s.get(UserAccount, desk.id).staff_id is None
    assert fetch_my_feed(desk_actor, engine=engine).available is False
    with pytest.raises(NotFound):
        do_rotate_my_feed(desk_actor, "https://spa.example", clock=CLOCK, engine=engine)


def test_an_owner_who_does_not_treat_has_no_feed(nurse, engine):
    """A new user, signed in as the demo's owner (a staff record, not bookable), made a feed that
    could only ever be empty: only bookable staff get one."""
    clinic, _, _ = nurse
    from medspa.domain.practice.service import add_staff

    with clinic.session() as s:
        boss = add_staff(s, clinic.system, "Olivia Owner", "owner", title="Owner")
        boss.is_bookable = False
        user = create_user(s, clinic.system, email=f"boss-{clinic.slug}@example.com", password="a long passphrase 3",
                           role="owner")
        user.staff_id = boss.id
        s.add_all([boss, user])
        s.commit()
        owner = Actor(org_id=clinic.org_id, role="owner", user_id=user.id)
    assert fetch_my_feed(owner, engine=engine).available is False
    with pytest.raises(NotFound):
        do_rotate_my_feed(owner, "https://spa.example", clock=CLOCK, engine=engine)
