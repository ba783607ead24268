"""The waitlist (issue 16 §3) on the real PostgreSQL: a freed time is offered to the matching
entries in the order they joined, one at a time with a hold (the next in line when it lapses)
or to all at once with no hold (the first to book wins); no entry is offered a time twice;
entries for another provider, window or a service that does not fit hear nothing; a booking
closes the entry it fulfils; the matching is a job deferred in the freeing transaction."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.clients.models import Client
from medspa.domain.clients.service import ClientInput
from medspa.domain.errors import ValidationFailed
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.payments.gateway import CardDetails, TestPaymentGateway
from medspa.domain.scheduling.actions.desk import do_book_for_client, do_cancel_visit
from medspa.domain.scheduling.actions.online import do_expire_lapsed_holds
from medspa.domain.scheduling.booking import OnlineBooking, book_online
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.service import SlotTaken, add_block
from medspa.domain.waitlist.actions import (do_add_to_waitlist, do_join_waitlist, do_offer_freed_time,
                                            do_set_waitlist_mode, fetch_offer, fetch_waitlist_day)
from medspa.domain.waitlist.entries import WishInput
from medspa.domain.waitlist.models import WaitlistEntry, WaitlistOffer
from tests.conftest import utc
from tests.factories import build_clinic

NY = ZoneInfo("America/New_York")
NOW = utc(2026, 7, 1, 16)
DAY = date(2026, 7, 15)
CARD = CardDetails("4242 4242 4242 4242", 12, 2030, "123")


def ny(h: int, m: int = 0) -> datetime:
    return datetime.combine(DAY, time(h, m), tzinfo=NY).astimezone(timezone.utc)


def _wish(clinic, service: str = "botox", provider: int | None = None, start: int = 9, end: int = 12) -> WishInput:
    return WishInput(clinic.location_id, clinic.services[service], provider, DAY, DAY, time(start), time(end))


def _join(clinic, engine, name: str, minute: int, **wish) -> int:
    """`name` joins at NOW + minute (the order of the line)."""
    person = ClientInput(name, "Test", f"{name.lower()}-{clinic.slug}@example.com", "(212) 555-01%02d" % minute)
    return do_add_to_waitlist(clinic.staff_actor(), person, _wish(clinic, **wish),
                              clock=FixedClock(NOW + timedelta(minutes=minute)), engine=engine).entry_id


def _busy_day(clinic, engine) -> int:
    """Provider 1 busy all day but 10:00-10:30, booked by Vera: returns her visit."""
    with clinic.session() as s:
        add_block(s, clinic.system, staff_id=clinic.provider_ids[0], start_at=ny(9), end_at=ny(10), now=NOW)
        add_block(s, clinic.system, staff_id=clinic.provider_ids[0], start_at=ny(10, 30), end_at=ny(17), now=NOW)
        s.commit()
    return do_book_for_client(clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services["botox"],
                              provider_id=clinic.provider_ids[0], start_at=ny(10), client_id=None,
                              new_client=ClientInput("Vera", "Busy", f"vera-{clinic.slug}@example.com", ""),
                              clock=FixedClock(NOW), engine=engine)


def _line(engine, clinic) -> dict[str, int]:
    """A (first), B (second), and four who must hear nothing: provider 2 only, the afternoon,
    a 60-minute facial (does not fit the freed half hour), and a later date."""
    ids = {"A": _join(clinic, engine, "Ann", 1), "B": _join(clinic, engine, "Bea", 2),
           "other_provider": _join(clinic, engine, "Cai", 3, provider=clinic.provider_ids[1]),
           "afternoon": _join(clinic, engine, "Dan", 4, start=13, end=17),
           "facial": _join(clinic, engine, "Eve", 5, service="facial")}
    person = ClientInput("Fay", "Test", f"fay-{clinic.slug}@example.com", "(212) 555-0166")
    later = WishInput(clinic.location_id, clinic.services["botox"], None, DAY + timedelta(days=1),
                      DAY + timedelta(days=3), time(9), time(12))
    ids["later"] = do_add_to_waitlist(clinic.staff_actor(), person, later, clock=FixedClock(NOW + timedelta(minutes=6)),
                                      engine=engine).entry_id
    return ids


def _offers_to(clinic) -> dict[str, list[str]]:
    """Outbox waitlist offers: client first name -> the channels written."""
    with clinic.session() as s:
        rows = s.exec(select(OutboxMessage, Client.first_name).join(Client, Client.id == OutboxMessage.client_id)
                      .where(OutboxMessage.kind == "waitlist_offer").order_by(OutboxMessage.id)).all()
        out: dict[str, list[str]] = {}
        for m, name in rows:
            out.setdefault(name, []).append(m.channel)
        return out


def _offer_rows(clinic) -> list[WaitlistOffer]:
    with clinic.session() as s:
        return list(s.exec(select(WaitlistOffer).order_by(WaitlistOffer.id)))


def _entry(clinic, entry_id: int) -> WaitlistEntry:
    with clinic.session() as s:
        return s.get(WaitlistEntry, entry_id)


def _cancel_and_match(clinic, engine, visit: int, clock: FixedClock):
    do_cancel_visit(clinic.staff_actor(), visit, clock=clock, engine=engine,
                    gateway=TestPaymentGateway(engine, clock.now))
    return do_offer_freed_time(clinic.org_id, clinic.location_id, ny(10), ny(10, 30), clinic.provider_ids[0],
                               clock=clock, engine=engine)


def _jobs(owner_engine, clinic) -> list[dict]:
    with owner_engine.connect() as conn:
        return [dict(r) for r in conn.execute(text(
            "select args, queue_name, lock from procrastinate_jobs where task_name = 'offer_freed_time' "
            "and (args->>'org_id')::bigint = :org order by id"), {"org": clinic.org_id}).mappings()]


@pytest.fixture
def line(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine, providers=2)
    visit = _busy_day(clinic, engine)
    return clinic, visit, _line(engine, clinic)


def test_the_cancellation_defers_the_matching_job_in_its_own_transaction(engine, owner_engine, line):
    clinic, visit, _ = line
    assert _jobs(owner_engine, clinic) == []
    do_cancel_visit(clinic.staff_actor(), visit, clock=FixedClock(NOW), engine=engine,
                    gateway=TestPaymentGateway(engine, FixedClock(NOW).now))
    jobs = _jobs(owner_engine, clinic)
    assert len(jobs) == 1
    assert jobs[0]["queue_name"] == "waitlist" and jobs[0]["lock"] == f"waitlist-{clinic.org_id}-{clinic.location_id}"
    args = jobs[0]["args"]
    assert (args["location_id"], args["provider_id"]) == (clinic.location_id, clinic.provider_ids[0])
    assert datetime.fromisoformat(args["lo"]) == ny(10) and datetime.fromisoformat(args["hi"]) == ny(10, 30)
    assert _offers_to(clinic) == {}  # nothing offered before the job runs


def test_one_at_a_time_holds_the_time_for_the_first_in_line_only(engine, line):
    clinic, visit, ids = line
    clock = FixedClock(NOW + timedelta(hours=1))
    made = _cancel_and_match(clinic, engine, visit, clock)
    assert [(m.entry_id, m.slot_start, m.provider_id, m.mode) for m in made] == [
        (ids["A"], ny(10), clinic.provider_ids[0], "one_at_a_time")]
    with clinic.session() as s:
        hold = s.get(Appointment, made[0].hold_appointment_id)
        assert (hold.status, hold.start_at, hold.client_id) == ("held", ny(10), _entry(clinic, ids["A"]).client_id)
        assert hold.hold_expires_at == clock.now() + timedelta(minutes=30)
    assert _offers_to(clinic) == {"Ann": ["email", "sms"]}  # B and the four others hear nothing
    assert _entry(clinic, ids["A"]).status == "offered" and _entry(clinic, ids["B"]).status == "waiting"
    with clinic.session() as s:
        email = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "waitlist_offer",
                                                   OutboxMessage.channel == "email")).one()
    token = _offer_rows(clinic)[0].token
    assert f"/book/{clinic.slug}/offer/{token}" in email.body
    assert "10:00 AM EDT" in email.body and "holding it for you until 1:30 PM EDT" in email.body
    # the job again (a retry, a second freeing): nothing offered twice
    again = do_offer_freed_time(clinic.org_id, clinic.location_id, ny(10), ny(10, 30), clinic.provider_ids[0],
                                clock=clock, engine=engine)
    assert again == [] and len(_offer_rows(clinic)) == 1


def test_the_lapsed_hold_goes_to_the_next_in_line_and_never_back(engine, owner_engine, line):
    clinic, visit, ids = line
    clock = FixedClock(NOW + timedelta(hours=1))
    first = _cancel_and_match(clinic, engine, visit, clock)[0]
    clock.advance(minutes=31)
    released = do_expire_lapsed_holds(clock=clock, engine=engine)
    assert first.hold_appointment_id in [r.appointment_id for r in released]
    assert [o.status for o in _offer_rows(clinic)] == ["lapsed"]
    assert _entry(clinic, ids["A"]).status == "waiting"
    assert len(_jobs(owner_engine, clinic)) == 2  # the cancel's job and the lapse's
    made = do_offer_freed_time(clinic.org_id, clinic.location_id, ny(10), ny(10, 30), clinic.provider_ids[0],
                               clock=clock, engine=engine)
    assert [(m.entry_id, m.slot_start) for m in made] == [(ids["B"], ny(10))]
    assert _offers_to(clinic) == {"Ann": ["email", "sms"], "Bea": ["email", "sms"]}
    clock.advance(minutes=31)
    do_expire_lapsed_holds(clock=clock, engine=engine)
    made = do_offer_freed_time(clinic.org_id, clinic.location_id, ny(10), ny(10, 30), clinic.provider_ids[0],
                               clock=clock, engine=engine)
    assert made == []  # A and B had it; nobody else matches
    assert len(_offer_rows(clinic)) == 2


def test_the_held_offer_is_booked_through_its_link_and_closes_the_entry(engine, line):
    clinic, visit, ids = line
    clock = FixedClock(NOW + timedelta(hours=1))
    first = _cancel_and_match(clinic, engine, visit, clock)[0]
    link = fetch_offer(clinic.public, _offer_rows(clinic)[0].token, clock=clock, engine=engine)
    assert (link.start_at, link.hold_id, link.first_name, link.usable) == (ny(10), first.hold_appointment_id, "Ann", True)
    req = OnlineBooking(location_id=link.location_id, service_id=link.service_id, start_at=link.start_at,
                        client=ClientInput(link.first_name, link.last_name, link.email, link.phone),
                        provider_id=link.provider_id, card=CARD, hold_id=link.hold_id)
    appt = book_online(engine, clinic.public, req, TestPaymentGateway(engine, clock.now), clock)
    assert appt.id == first.hold_appointment_id and appt.status == "confirmed"
    entry = _entry(clinic, ids["A"])
    assert (entry.status, entry.booked_appointment_id) == ("booked", appt.id)
    assert [o.status for o in _offer_rows(clinic)] == ["booked"]
    assert _entry(clinic, ids["B"]).status == "waiting"


def test_all_at_once_tells_every_match_without_a_hold_and_the_first_to_book_wins(engine, line):
    clinic, visit, ids = line
    owner = clinic.staff_actor("owner")
    assert do_set_waitlist_mode(owner, clinic.location_id, "all_at_once", 30, engine=engine).mode == "all_at_once"
    clock = FixedClock(NOW + timedelta(hours=1))
    made = _cancel_and_match(clinic, engine, visit, clock)
    assert [(m.entry_id, m.slot_start, m.hold_appointment_id) for m in made] == [
        (ids["A"], ny(10), None), (ids["B"], ny(10), None)]
    assert _offers_to(clinic) == {"Ann": ["email", "sms"], "Bea": ["email", "sms"]}
    with clinic.session() as s:
        email = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "waitlist_offer",
                                                   OutboxMessage.channel == "email")).first()
    assert "the first to book gets it" in email.body
    tokens = {o.entry_id: o.token for o in _offer_rows(clinic)}

    def book(entry_key: str):
        link = fetch_offer(clinic.public, tokens[ids[entry_key]], clock=clock, engine=engine)
        assert link.hold_id is None
        req = OnlineBooking(location_id=link.location_id, service_id=link.service_id, start_at=link.start_at,
                            client=ClientInput(link.first_name, link.last_name, link.email, link.phone),
                            provider_id=link.provider_id, card=CARD)
        return book_online(engine, clinic.public, req, TestPaymentGateway(engine, clock.now), clock)

    assert book("B").start_at == ny(10)  # B was quicker
    with pytest.raises(SlotTaken):
        book("A")
    assert _entry(clinic, ids["B"]).status == "booked" and _entry(clinic, ids["A"]).status == "offered"
    assert do_offer_freed_time(clinic.org_id, clinic.location_id, ny(10), ny(10, 30), clinic.provider_ids[0],
                               clock=clock, engine=engine) == []


def test_no_entry_is_offered_the_same_time_twice_even_by_a_racing_insert(engine, line):
    clinic, visit, ids = line
    clock = FixedClock(NOW + timedelta(hours=1))
    first = _cancel_and_match(clinic, engine, visit, clock)[0]
    with clinic.session() as s:
        s.add(WaitlistOffer(org_id=clinic.org_id, entry_id=first.entry_id, slot_start=first.slot_start,
                            slot_end=first.slot_start + timedelta(minutes=30), provider_id=first.provider_id,
                            mode="all_at_once", token="x" * 32, offered_at=clock.now()))
        with pytest.raises(IntegrityError):
            s.flush()


def test_a_desk_booking_that_fits_closes_the_entry(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    entry_id = _join(clinic, engine, "Gus", 1, start=9, end=12)
    entry = _entry(clinic, entry_id)
    with clinic.session() as s:
        client = s.get(Client, entry.client_id)
    do_book_for_client(clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services["botox"],
                       provider_id=None, start_at=ny(14), client_id=client.id, new_client=None,
                       clock=FixedClock(NOW), engine=engine)
    assert _entry(clinic, entry_id).status == "waiting"  # 2 pm is outside the window
    do_book_for_client(clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services["botox"],
                       provider_id=None, start_at=ny(11), client_id=client.id, new_client=None,
                       clock=FixedClock(NOW), engine=engine)
    assert _entry(clinic, entry_id).status == "booked"


def test_a_series_that_books_the_wished_time_closes_the_entry(engine, owner_engine):
    """Breaker defect 11: a recurring series booked at the desk closes the client's entry one of
    its visits fulfils, as a desk or online booking does (waitlist.entries.close_fulfilled)."""
    from medspa.domain.scheduling.actions.series import do_book_series, do_plan_series
    from medspa.domain.scheduling.series import Recurrence

    clinic = build_clinic(engine, owner_engine)
    entry_id = _join(clinic, engine, "Gus", 1, start=9, end=12)
    client_id = _entry(clinic, entry_id).client_id
    kw = dict(location_id=clinic.location_id, service_id=clinic.services["botox"], provider_id=clinic.provider_ids[0],
              client_id=client_id, recurrence=Recurrence("weekly", 1, count=3), first_start=ny(11))
    plan = do_plan_series(clinic.staff_actor(), clock=FixedClock(NOW), engine=engine, **kw)
    booked = do_book_series(clinic.staff_actor(), picks={c.index: c.start_at for c in plan.checks if c.free},
                            clock=FixedClock(NOW), engine=engine, **kw)
    entry = _entry(clinic, entry_id)
    assert (entry.status, entry.booked_appointment_id) == ("booked", booked.booked[0][1])


def test_a_series_outside_the_wished_window_leaves_the_entry(engine, owner_engine):
    from medspa.domain.scheduling.actions.series import do_book_series, do_plan_series
    from medspa.domain.scheduling.series import Recurrence

    clinic = build_clinic(engine, owner_engine)
    entry_id = _join(clinic, engine, "Gus", 1, start=9, end=12)
    client_id = _entry(clinic, entry_id).client_id
    kw = dict(location_id=clinic.location_id, service_id=clinic.services["botox"], provider_id=clinic.provider_ids[0],
              client_id=client_id, recurrence=Recurrence("weekly", 1, count=3), first_start=ny(14))
    plan = do_plan_series(clinic.staff_actor(), clock=FixedClock(NOW), engine=engine, **kw)
    do_book_series(clinic.staff_actor(), picks={c.index: c.start_at for c in plan.checks if c.free},
                   clock=FixedClock(NOW), engine=engine, **kw)
    assert _entry(clinic, entry_id).status == "waiting"  # 2 pm is outside the 9-12 window


def test_the_public_join_needs_contact_and_a_window_the_visit_fits(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    clock = FixedClock(NOW)
    with pytest.raises(ValidationFailed) as exc:
        do_join_waitlist(clinic.public, ClientInput("Hal", "Test", "", ""), _wish(clinic, start=9, end=12),
                         clock=clock, engine=engine)
    assert set(exc.value.fields) == {"email", "phone"}
    short = WishInput(clinic.location_id, clinic.services["facial"], None, DAY, DAY, time(9), time(9, 30))
    with pytest.raises(ValidationFailed) as exc:
        do_join_waitlist(clinic.public, ClientInput("Hal", "Test", "hal@example.com", "(212) 555-0100"), short,
                         clock=clock, engine=engine)
    assert exc.value.fields == {"window_end": "Leave at least 60 minutes for the visit"}
    past = WishInput(clinic.location_id, clinic.services["botox"], None, date(2026, 6, 30), DAY, time(9), time(12))
    with pytest.raises(ValidationFailed) as exc:
        do_join_waitlist(clinic.public, ClientInput("Hal", "Test", "hal@example.com", "(212) 555-0100"), past,
                         clock=clock, engine=engine)
    assert "first_day" in exc.value.fields
    person = ClientInput("Hal", "Test", "hal@example.com", "(212) 555-0100")
    first = do_join_waitlist(clinic.public, person, _wish(clinic), clock=clock, engine=engine)
    again = do_join_waitlist(clinic.public, person, _wish(clinic, start=8, end=11), clock=clock, engine=engine)
    assert again.entry_id == first.entry_id  # joining again updates the wish, keeps the place
    rows = fetch_waitlist_day(clinic.staff_actor(), clinic.location_id, DAY, clock=clock, engine=engine)
    assert [(r.client_name, r.window_start, r.source, r.provider) for r in rows] == [
        ("Hal Test", time(8), "public", "Anyone")]
    assert fetch_waitlist_day(clinic.staff_actor(), clinic.location_id, DAY + timedelta(days=1), clock=clock,
                              engine=engine) == []


def test_the_queued_job_makes_the_offer_after_the_cancel_commits(engine, owner_engine, db_urls, line, monkeypatch):
    """The real path: the cancel commits with its job; a worker on the "waitlist" queue runs
    medspa.jobs.waitlist.offer_freed_time (app clock frozen at the test's now)."""
    from medspa.jobs.app import opened
    from medspa.settings import get_settings
    from tests.conftest import run_in_fresh_loop

    clinic, visit, ids = line
    now = NOW + timedelta(hours=1)
    monkeypatch.setenv("FROZEN_NOW", now.isoformat())
    monkeypatch.setenv("DATABASE_URL", db_urls[0])  # the actions use the process's settings, as `medspa worker`
    get_settings.cache_clear()
    try:
        do_cancel_visit(clinic.staff_actor(), visit, clock=FixedClock(now), engine=engine,
                        gateway=TestPaymentGateway(engine, FixedClock(now).now))

        async def work() -> None:
            async with opened(db_urls[0]) as app:
                await app.run_worker_async(queues=["waitlist"], wait=False, install_signal_handlers=False,
                                           concurrency=1)

        run_in_fresh_loop(work())
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert _offers_to(clinic) == {"Ann": ["email", "sms"]}
    assert [(o.entry_id, o.slot_start) for o in _offer_rows(clinic)] == [(ids["A"], ny(10))]
    with owner_engine.connect() as conn:
        assert conn.execute(text("select status from procrastinate_jobs where task_name = 'offer_freed_time' "
                                 "and (args->>'org_id')::bigint = :org"), {"org": clinic.org_id}).scalars().all() \
            == ["succeeded"]


def test_an_extra_shift_is_new_time_the_waitlist_is_offered(engine, owner_engine):
    """New hours free time too: an evening extra shift defers the job for its span, and the
    entry whose window is the evening is offered its first start."""
    from medspa.domain.practice.hours import TimeOffInput
    from medspa.domain.practice.settings_actions import do_add_time_off

    clinic = build_clinic(engine, owner_engine)
    evening = _join(clinic, engine, "Ivy", 1, start=18, end=20)
    morning = _join(clinic, engine, "Jon", 2, start=9, end=12)
    do_add_time_off(clinic.staff_actor("owner"), TimeOffInput(clinic.provider_ids[0], "extra", ny(17), ny(20),
                                                              clinic.location_id, "late opening"), engine=engine)
    jobs = _jobs(owner_engine, clinic)
    assert [(datetime.fromisoformat(j["args"]["lo"]), datetime.fromisoformat(j["args"]["hi"])) for j in jobs] == [
        (ny(17), ny(20))]
    made = do_offer_freed_time(clinic.org_id, clinic.location_id, ny(17), ny(20), clinic.provider_ids[0],
                               clock=FixedClock(NOW), engine=engine)
    assert [(m.entry_id, m.slot_start) for m in made] == [(evening, ny(18))]
    assert _entry(clinic, morning).status == "waiting"


def test_a_moved_visit_frees_its_old_time_for_the_line(engine, owner_engine, line):
    from medspa.domain.scheduling.actions.reschedule import do_move_visit

    clinic, visit, ids = line
    do_move_visit(clinic.staff_actor(), visit, start_at=ny(15), provider_id=clinic.provider_ids[1],
                  clock=FixedClock(NOW), engine=engine)
    [job] = _jobs(owner_engine, clinic)
    assert (datetime.fromisoformat(job["args"]["lo"]), job["args"]["provider_id"]) == (ny(10), clinic.provider_ids[0])
    made = do_offer_freed_time(clinic.org_id, clinic.location_id, ny(10), ny(10, 30), clinic.provider_ids[0],
                               clock=FixedClock(NOW), engine=engine)
    assert [(m.entry_id, m.slot_start) for m in made] == [(ids["A"], ny(10))]


# --- fixes after the breaker's report on issue 16 (defects 7, 8, 12; entries past their last day) ---


def test_closing_an_entry_gives_its_held_time_back(engine, owner_engine, line):
    """Defect 7 (breaker_waitlist.py): the desk takes A off the list while A's offer holds 10:00:
    the hold is released in that transaction, the matching is deferred, and B is offered 10:00."""
    from medspa.domain.waitlist.actions import do_close_entry

    clinic, visit, ids = line
    clock = FixedClock(NOW + timedelta(hours=1))
    first = _cancel_and_match(clinic, engine, visit, clock)[0]
    assert do_close_entry(clinic.staff_actor(), ids["A"], clock=clock, engine=engine) == "closed"
    with clinic.session() as s:
        assert s.get(Appointment, first.hold_appointment_id).status == "expired"
    assert [o.status for o in _offer_rows(clinic)] == ["gone"]
    assert len(_jobs(owner_engine, clinic)) == 2  # the cancel's job and the release's
    made = do_offer_freed_time(clinic.org_id, clinic.location_id, ny(10), ny(10, 30), clinic.provider_ids[0],
                               clock=clock, engine=engine)
    assert [(m.entry_id, m.slot_start) for m in made] == [(ids["B"], ny(10))]
    assert _entry(clinic, ids["A"]).status == "closed"


def test_the_entry_fulfilled_elsewhere_gives_its_held_time_back(engine, owner_engine, line):
    """Defect 7: A is offered 10:00 (held); the desk books A at 9:00 with provider 2 (fits A's
    wish): A's entry is booked, the 10:00 hold released and offered to B."""
    clinic, visit, ids = line
    clock = FixedClock(NOW + timedelta(hours=1))
    first = _cancel_and_match(clinic, engine, visit, clock)[0]
    client_id = _entry(clinic, ids["A"]).client_id
    do_book_for_client(clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services["botox"],
                       provider_id=clinic.provider_ids[1], start_at=ny(9), client_id=client_id, new_client=None,
                       clock=clock, engine=engine)
    assert _entry(clinic, ids["A"]).status == "booked"
    with clinic.session() as s:
        assert s.get(Appointment, first.hold_appointment_id).status == "expired"
    assert [o.status for o in _offer_rows(clinic)] == ["gone"]
    assert len(_jobs(owner_engine, clinic)) == 2
    made = do_offer_freed_time(clinic.org_id, clinic.location_id, ny(10), ny(10, 30), clinic.provider_ids[0],
                               clock=clock, engine=engine)
    assert [(m.entry_id, m.slot_start) for m in made] == [(ids["B"], ny(10))]


def test_closing_an_entry_keeps_a_hold_with_money_on_it(engine, line):
    """A hold whose deposit is pending (the client is paying through the link right now) is not
    taken from under them: reconciliation or the payment's answer settles it."""
    from medspa.domain.payments.models import Payment
    from medspa.domain.waitlist.actions import do_close_entry

    clinic, visit, ids = line
    clock = FixedClock(NOW + timedelta(hours=1))
    first = _cancel_and_match(clinic, engine, visit, clock)[0]
    with clinic.session() as s:
        s.add(Payment(org_id=clinic.org_id, appointment_id=first.hold_appointment_id, client_id=first.client_id,
                      amount_cents=5000, status="pending", gateway="test",
                      idempotency_key=f"deposit-{first.hold_appointment_id}-attempt-1", created_at=clock.now()))
        s.commit()
    do_close_entry(clinic.staff_actor(), ids["A"], clock=clock, engine=engine)
    with clinic.session() as s:
        assert s.get(Appointment, first.hold_appointment_id).status == "held"


def test_a_long_hold_never_outlives_the_offered_visit(engine, line):
    """Defect 8 (breaker_waitlist.py): a 24-hour hold setting, the 10:00 visit cancelled at 07:00
    that day: the hold ends when the time can last be booked online (10:00 less Botox's 120
    minutes' notice = 08:00), and the offer says so."""
    clinic, visit, ids = line
    do_set_waitlist_mode(clinic.staff_actor("owner"), clinic.location_id, "one_at_a_time", 1440, engine=engine)
    clock = FixedClock(ny(7))
    made = _cancel_and_match(clinic, engine, visit, clock)
    assert [(m.entry_id, m.expires_at) for m in made] == [(ids["A"], ny(8))]
    with clinic.session() as s:
        assert s.get(Appointment, made[0].hold_appointment_id).hold_expires_at == ny(8)
        email, sms = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "waitlist_offer")
                            .order_by(OutboxMessage.id)).all()
    assert "holding it for you until 8:00 AM EDT;" in email.body
    assert "held for you until 8:00 AM EDT" in sms.body


def test_a_time_too_close_to_book_online_is_not_offered(engine, line):
    """Defect 8: at 07:57 the 10:00 visit can be booked online for 3 more minutes (less than
    the shortest hold, 5): nobody is offered it; A and B stay waiting."""
    clinic, visit, ids = line
    made = _cancel_and_match(clinic, engine, visit, FixedClock(ny(7, 57)))
    assert made == [] and _offer_rows(clinic) == []
    assert _entry(clinic, ids["A"]).status == "waiting"


def test_a_hold_ending_another_day_names_the_day(engine, line):
    """Defect 8: a 24-hour hold made on July 1 for July 15 ends on July 2: the offer names the day."""
    clinic, visit, ids = line
    do_set_waitlist_mode(clinic.staff_actor("owner"), clinic.location_id, "one_at_a_time", 1440, engine=engine)
    clock = FixedClock(NOW + timedelta(hours=1))
    made = _cancel_and_match(clinic, engine, visit, clock)
    assert made[0].expires_at == clock.now() + timedelta(days=1)
    with clinic.session() as s:
        email = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "waitlist_offer",
                                                   OutboxMessage.channel == "email")).one()
    assert "holding it for you until Thu, Jul 2, 2026, 1:00 PM EDT" in email.body


@pytest.mark.parametrize("token", ["\x00" * 30, "é" * 30, "x" * 65, "", "' or 1=1 --aaaaaaaaaaaaa", "a\udcff" * 12,
                                   "x" * 31 + "\n", None])
def test_hostile_offer_tokens_are_not_found(engine, line, token):
    """Defect 12 (breaker_waitlist.py): anything but a token's shape (references.is_booking_token,
    the manage link's check) is NotFound before the database is asked."""
    from medspa.domain.errors import NotFound

    clinic, visit, ids = line
    with pytest.raises(NotFound):
        fetch_offer(clinic.public, token, clock=FixedClock(NOW), engine=engine)


def test_entries_past_their_last_day_are_closed_when_the_desk_or_the_job_reads_them(engine, line):
    """The day after DAY, A..later's entries for DAY alone are past their last day: the desk page
    closes them (no longer "waiting" on DAY's list; closed with include_closed), the entry
    for DAY+1..DAY+3 stays; the matching job closes them too (another location's day)."""
    from medspa.domain.waitlist.actions import fetch_waitlist_page

    clinic, visit, ids = line
    next_day = datetime.combine(DAY + timedelta(days=1), time(8), tzinfo=NY)
    page = fetch_waitlist_page(clinic.staff_actor(), clinic.location_id, DAY, clock=FixedClock(next_day),
                               engine=engine)
    assert {(r.status, r.outcome) for r in page.rows} == {("closed", "Ended after its last day")}  # none waiting
    rows = fetch_waitlist_day(clinic.staff_actor(), clinic.location_id, DAY, include_closed=True,
                              clock=FixedClock(next_day), engine=engine)
    assert {r.id: r.status for r in rows} == {ids[k]: "closed" for k in ("A", "B", "other_provider", "afternoon",
                                                                           "facial")}
    assert _entry(clinic, ids["later"]).status == "waiting"
    # a rejoin after its last day is a new entry (a new place in line), not the stale one updated
    person = ClientInput("Ann", "Test", f"ann-{clinic.slug}@example.com", "(212) 555-0101")
    wish = WishInput(clinic.location_id, clinic.services["botox"], None, DAY + timedelta(days=2),
                     DAY + timedelta(days=2), time(9), time(12))
    again = do_join_waitlist(clinic.public, person, wish, clock=FixedClock(next_day), engine=engine)
    assert again.entry_id != ids["A"]


def test_the_matching_job_closes_entries_past_their_last_day(engine, line):
    clinic, visit, ids = line
    next_day = datetime.combine(DAY + timedelta(days=1), time(8), tzinfo=NY)
    do_offer_freed_time(clinic.org_id, clinic.location_id, next_day, next_day + timedelta(hours=1), None,
                        clock=FixedClock(next_day), engine=engine)
    assert _entry(clinic, ids["A"]).status == "closed" and _entry(clinic, ids["later"]).status == "waiting"
