"""The "manage booking" link (issue 15): the booking token opens the visit, moves it (the same
visit, its deposit with it) or cancels it with a reason; the display code opens nothing; a used
or cancelled link never makes a second booking."""

from __future__ import annotations

import threading
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.audit.models import AuditEvent
from medspa.domain.clients.service import ClientInput
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.payments.gateway import CardDetails, TestPaymentGateway
from medspa.domain.payments.models import LedgerEntry, Payment
from medspa.domain.practice.models import Location
from medspa.domain.ratelimits import RateLimited
from medspa.domain.scheduling.actions import manage
from medspa.domain.scheduling.booking import OnlineBooking, book_online
from medspa.domain.scheduling.models import Appointment, Occupancy
from medspa.domain.scheduling.references import format_display_code, manage_url
from medspa.domain.scheduling.reschedule import MoveRefused
from tests.conftest import utc
from tests.factories import build_clinic

NY = ZoneInfo("America/New_York")
GOOD = CardDetails("4242 4242 4242 4242", 12, 2030, "123")
NOW = utc(2026, 7, 1, 12)
JUL15, JUL16 = date(2026, 7, 15), date(2026, 7, 16)


def at(h: int, day: date = JUL15, minute: int = 0) -> datetime:
    return datetime.combine(day, time(h, minute), tzinfo=NY).astimezone(timezone.utc)


@pytest.fixture
def clock():
    return FixedClock(NOW)


@pytest.fixture
def setup(engine, owner_engine, clock):
    """A clinic (24-hour window, deposits kept when late) and Ana's $50-deposit botox visit
    on Jul 15 at 10:00 New York, booked online."""
    clinic = build_clinic(engine, owner_engine)
    req = OnlineBooking(location_id=clinic.location_id, service_id=clinic.services["botox"], start_at=at(10),
                        client=ClientInput("Ana", "Silva", "ana@example.com", "(212) 555-0147"), card=GOOD)
    appt = book_online(engine, clinic.public, req, TestPaymentGateway(engine, clock.now), clock)
    return clinic, appt


def money_of(clinic, appointment_id: int):
    with clinic.session() as s:
        payments = [(p.id, p.status, p.amount_cents) for p in
                    s.exec(select(Payment).where(Payment.appointment_id == appointment_id).order_by(Payment.id))]
        ledger = [(e.id, e.entry_type, e.amount_cents) for e in
                  s.exec(select(LedgerEntry).where(LedgerEntry.appointment_id == appointment_id).order_by(LedgerEntry.id))]
    return payments, ledger


def live_visits(clinic, client_id: int) -> list[Appointment]:
    with clinic.session() as s:
        return list(s.exec(select(Appointment).where(Appointment.client_id == client_id,
                                                     Appointment.status.in_(("held", "confirmed")))))


def test_the_link_shows_the_visit_its_money_and_what_a_change_means(setup, engine, clock):
    clinic, appt = setup
    visit = manage.fetch_managed_visit(clinic.public, appt.booking_token, clock=clock, engine=engine)
    assert visit.reference == format_display_code(appt.display_code)
    assert (visit.status, visit.service, visit.provider, visit.location) == ("confirmed", "Botox", "Provider 1", "Main")
    assert visit.day == "Wednesday, July 15, 2026" and visit.times == "10:00 AM – 10:30 AM EDT"
    assert visit.time_zone == "America/New_York"
    assert (visit.deposit, visit.balance_due) == ("$50.00 deposit paid", "$300.00 due at the visit")
    assert visit.policy == "Cancellations more than 24 hours ahead are refunded in full. Later ones keep the deposit."
    assert visit.can_change and visit.why_not == "" and visit.terms
    assert visit.cancel_outcome == "Your deposit of $50.00 will be refunded to the card you paid with."
    assert manage_url(clinic.slug, appt.booking_token) == f"/book/{clinic.slug}/manage/{appt.booking_token}"
    assert manage_url(clinic.slug, "t" * 32, "https://x.example/") == f"https://x.example/book/{clinic.slug}/manage/{'t' * 32}"


def test_the_display_code_or_another_clinic_opens_nothing(setup, engine, owner_engine, clock):
    clinic, appt = setup
    other = build_clinic(engine, owner_engine)
    for code in (appt.display_code, format_display_code(appt.display_code), "", "x" * 5000, None):
        with pytest.raises(NotFound):
            manage.fetch_managed_visit(clinic.public, code, clock=clock, engine=engine)
    with pytest.raises(NotFound):
        manage.fetch_managed_visit(other.public, appt.booking_token, clock=clock, engine=engine)
    with pytest.raises(NotFound):
        manage.do_reschedule_by_token(clinic.public, appt.display_code, at(11, JUL16), clock=clock, engine=engine)
    with pytest.raises(NotFound):
        manage.do_cancel_by_token(clinic.public, format_display_code(appt.display_code), "illness", clock=clock,
                                  engine=engine)
    with pytest.raises(NotFound):  # a signed-in staff or client actor is not the link's visitor
        manage.fetch_managed_visit(clinic.staff_actor("owner"), appt.booking_token, clock=clock, engine=engine)
    with clinic.session() as s:
        assert s.get(Appointment, appt.id).status == "confirmed" and s.get(Appointment, appt.id).start_at == at(10)


def test_free_times_leave_out_the_visit_itself_but_not_its_own_occupancy(setup, engine, clock):
    clinic, appt = setup
    times = manage.fetch_reschedule_slots(clinic.public, appt.booking_token, JUL15, JUL15, clock=clock, engine=engine)
    starts = [t.start for t in times]
    assert at(10) not in starts  # where it already is
    assert at(10, minute=15) in starts and at(9, minute=45) in starts  # overlapping its own time only
    assert times[0].label == "9:00 AM" and times[0].long_label.startswith("Wed, Jul 15, 2026, 9:00 AM EDT")
    days = manage.fetch_reschedule_days(clinic.public, appt.booking_token, date(2026, 6, 30), JUL16, clock=clock,
                                        engine=engine)
    assert days[0] == manage.DayOpen(date(2026, 6, 30), False)  # the past
    assert days[-1] == manage.DayOpen(JUL16, True) and len(days) == 17
    with pytest.raises(ValidationFailed):
        manage.fetch_reschedule_days(clinic.public, appt.booking_token, JUL15, date(2026, 9, 15), clock=clock,
                                     engine=engine)


def test_reschedule_moves_the_same_visit_and_its_deposit(setup, engine, clock):
    clinic, appt = setup
    before = money_of(clinic, appt.id)
    assert before[0] and before[0][0][1] == "succeeded"
    done = manage.do_reschedule_by_token(clinic.public, appt.booking_token, at(11, JUL16), clock=clock, engine=engine,
                                         gateway=TestPaymentGateway(engine, clock.now))
    assert done.visit.day == "Thursday, July 16, 2026" and done.visit.times == "11:00 AM – 11:30 AM EDT"
    assert done.message.startswith("Your visit is moved to Thu, Jul 16, 2026, 11:00 AM EDT")
    assert done.visit.deposit == "$50.00 deposit paid"
    with clinic.session() as s:
        moved = s.get(Appointment, appt.id)
        assert (moved.status, moved.start_at, moved.end_at) == ("confirmed", at(11, JUL16), at(11, JUL16, 30))
        assert moved.booking_token == appt.booking_token and moved.display_code == appt.display_code
        occupied = s.exec(select(Occupancy).where(Occupancy.appointment_id == appt.id,
                                                  Occupancy.status.in_(("held", "booked")))).all()
        assert occupied and all(o.during.lower <= at(11, JUL16) and o.during.upper >= at(11, JUL16, 30)
                                for o in occupied)
    assert money_of(clinic, appt.id) == before  # the payment stays linked; the ledger did not move
    assert [a.id for a in live_visits(clinic, appt.client_id)] == [appt.id]
    # the old time is free again for anyone
    again = manage.fetch_reschedule_slots(clinic.public, appt.booking_token, JUL15, JUL15, clock=clock, engine=engine)
    assert at(10) in [t.start for t in again]


def test_a_used_link_moves_the_one_visit_again_never_books_a_second(setup, engine, clock):
    clinic, appt = setup
    token = appt.booking_token
    manage.do_reschedule_by_token(clinic.public, token, at(11, JUL16), clock=clock, engine=engine)
    manage.do_reschedule_by_token(clinic.public, token, at(14, JUL16), clock=clock, engine=engine)
    live = live_visits(clinic, appt.client_id)
    assert [(a.id, a.start_at, a.booking_token) for a in live] == [(appt.id, at(14, JUL16), token)]
    assert money_of(clinic, appt.id)[0][0][1] == "succeeded"
    with clinic.session() as s:
        moves = s.exec(select(AuditEvent).where(AuditEvent.object_id == str(appt.id),
                                                AuditEvent.action == "appointment.reschedule")
                       .order_by(AuditEvent.id)).all()
    # the service audits each move: by the client, through the link (the anonymous visitor)
    assert [(m.actor_role, m.detail["by"], m.detail["to"]["start"]) for m in moves] == [
        ("public", "client", at(11, JUL16).isoformat()), ("public", "client", at(14, JUL16).isoformat())]


def _race_two_moves(clinic, token: str, clock, engine) -> list[str]:
    """Two moves through one manage link at once (11:00 and 15:00 on Jul 16): each one's
    outcome, "moved" or the exception's name."""
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def move(when: datetime) -> None:
        start.wait()
        try:
            manage.do_reschedule_by_token(clinic.public, token, when, clock=clock, engine=engine)
            outcomes.append("moved")
        except (MoveRefused, NotFound, ValidationFailed) as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=move, args=(w,)) for w in (at(11, JUL16), at(15, JUL16))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcomes


def test_two_reschedules_through_one_link_at_once_leave_one_visit(setup, engine, clock):
    clinic, appt = setup
    outcomes = _race_two_moves(clinic, appt.booking_token, clock, engine)
    assert "moved" in outcomes and len(outcomes) == 2
    live = live_visits(clinic, appt.client_id)
    assert len(live) == 1 and live[0].id == appt.id and live[0].start_at in (at(11, JUL16), at(15, JUL16))
    with clinic.session() as s:
        booked = s.exec(select(Occupancy).where(Occupancy.appointment_id == appt.id,
                                                Occupancy.status.in_(("held", "booked")))).all()
    assert booked and {o.during.lower <= live[0].start_at < o.during.upper for o in booked} == {True}


def test_cancel_with_a_reason_records_who_when_and_why(setup, engine, clock):
    clinic, appt = setup
    message = manage.do_cancel_by_token(clinic.public, appt.booking_token, "illness", "Flu, sorry", clock=clock,
                                        engine=engine, gateway=TestPaymentGateway(engine, clock.now))
    assert message == "Your visit is cancelled and your deposit of $50.00 is being refunded."
    with clinic.session() as s:
        row = s.get(Appointment, appt.id)
        assert (row.status, row.cancelled_at) == ("cancelled", NOW)
        assert (row.cancellation_reason, row.cancellation_note, row.cancelled_by) == ("illness", "Flu, sorry", "client")
        audit = s.exec(select(AuditEvent).where(AuditEvent.action == "appointment.cancel",
                                                AuditEvent.object_id == str(appt.id))).one()
        assert (audit.actor_role, audit.detail["reason"], audit.detail["note"]) == ("public", "illness", "Flu, sorry")
    visit = manage.fetch_managed_visit(clinic.public, appt.booking_token, clock=clock, engine=engine)
    assert (visit.status, visit.can_change, visit.why_not) == ("cancelled", False, "This visit was cancelled.")
    assert visit.balance_due == "" and visit.terms == ""


def test_other_without_words_is_refused_next_to_the_note(setup, engine, clock):
    clinic, appt = setup
    with pytest.raises(ValidationFailed) as refused:
        manage.do_cancel_by_token(clinic.public, appt.booking_token, "other", "  ", clock=clock, engine=engine)
    assert "note" in refused.value.fields
    with pytest.raises(ValidationFailed) as unknown:
        manage.do_cancel_by_token(clinic.public, appt.booking_token, "bored", clock=clock, engine=engine)
    assert "reason" in unknown.value.fields
    with clinic.session() as s:
        assert s.get(Appointment, appt.id).status == "confirmed"


def test_a_cancelled_visits_link_cannot_reschedule(setup, engine, clock):
    clinic, appt = setup
    manage.do_cancel_by_token(clinic.public, appt.booking_token, "weather", clock=clock, engine=engine,
                              gateway=TestPaymentGateway(engine, clock.now))
    assert manage.fetch_reschedule_slots(clinic.public, appt.booking_token, JUL16, JUL16, clock=clock,
                                         engine=engine) == ()
    with pytest.raises(ValidationFailed):
        manage.do_reschedule_by_token(clinic.public, appt.booking_token, at(11, JUL16), clock=clock, engine=engine)
    assert live_visits(clinic, appt.client_id) == []
    with clinic.session() as s:
        assert s.get(Appointment, appt.id).start_at == at(10)


def test_changes_through_one_link_are_rate_limited(setup, engine, clock, limits):
    clinic, appt = setup
    limits(limit_manage_per_token="2/hour")
    for when in (at(11, JUL16), at(12, JUL16)):
        manage.do_reschedule_by_token(clinic.public, appt.booking_token, when, clock=clock, engine=engine)
    with pytest.raises(RateLimited):
        manage.do_reschedule_by_token(clinic.public, appt.booking_token, at(13, JUL16), clock=clock, engine=engine)
    with clinic.session() as s:
        assert s.get(Appointment, appt.id).start_at == at(12, JUL16)


def _late_visit(engine, owner_engine, clock):
    """Bo's $50-deposit visit today at 3 pm New York (inside the 24-hour window) at a location
    where a late move counts as a late cancellation."""
    clinic = build_clinic(engine, owner_engine)
    with clinic.session() as s:
        loc = s.get(Location, clinic.location_id)
        loc.late_reschedule_is_late_cancel = True
        s.add(loc)
        s.commit()
    req = OnlineBooking(location_id=clinic.location_id, service_id=clinic.services["botox"],
                        start_at=at(15, date(2026, 7, 1)),
                        client=ClientInput("Bo", "Lee", "bo@example.com", "(212) 555-0148"), card=GOOD)
    return clinic, book_online(engine, clinic.public, req, TestPaymentGateway(engine, clock.now), clock)


def test_a_late_move_that_counts_as_a_late_cancel_hands_the_link_to_the_new_visit(engine, owner_engine, clock):
    clinic, appt = _late_visit(engine, owner_engine, clock)
    token = appt.booking_token
    shown = manage.fetch_managed_visit(clinic.public, token, clock=clock, engine=engine)
    assert shown.terms.startswith("Moving it now counts as a late cancellation: your $50.00 deposit is kept")
    done = manage.do_reschedule_by_token(clinic.public, token, at(11, JUL16), clock=clock, engine=engine,
                                         gateway=TestPaymentGateway(engine, clock.now))
    assert done.message.endswith("counted as a late cancellation. Your deposit was kept, and the new visit is "
                                 "paid in full at the clinic.") and done.visit.deposit == ""
    live = live_visits(clinic, appt.client_id)
    assert len(live) == 1 and live[0].id != appt.id and live[0].booking_token == token
    with clinic.session() as s:
        old = s.get(Appointment, appt.id)
        assert (old.status, old.cancellation_late, old.cancellation_keeps_deposit) == ("cancelled", True, True)
        assert old.booking_token != token
    assert money_of(clinic, appt.id)[0][0][1] == "succeeded"  # the deposit stays kept with the cancelled visit
    # the link now opens (and moves) the new visit; it never reaches the old one again
    again = manage.do_reschedule_by_token(clinic.public, token, at(14, JUL16), clock=clock, engine=engine)
    assert again.visit.times == "2:00 PM – 2:30 PM EDT"
    assert [(a.id, a.start_at) for a in live_visits(clinic, appt.client_id)] == [(live[0].id, at(14, JUL16))]


def test_two_late_moves_through_one_link_at_once_leave_one_visit(engine, owner_engine, clock):
    clinic, appt = _late_visit(engine, owner_engine, clock)
    outcomes = _race_two_moves(clinic, appt.booking_token, clock, engine)
    assert "moved" in outcomes and len(outcomes) == 2
    live = live_visits(clinic, appt.client_id)
    assert len(live) == 1 and live[0].booking_token == appt.booking_token


def test_the_portal_offers_the_same_manage_page_for_upcoming_visits(setup, engine, clock):
    from medspa.domain.portal import actions as portal_actions
    from medspa.domain.portal.service import request_code, verify_code
    from medspa.domain.messaging.models import OutboxMessage
    import re

    clinic, appt = setup
    with clinic.session() as s:
        request_code(s, clinic.public, "ana@example.com", now=NOW)
        s.commit()
        body = s.exec(select(OutboxMessage.body).where(OutboxMessage.kind == "portal_code")).one()
        ana = verify_code(s, clinic.public, "ana@example.com", re.search(r"\b(\d{6})\b", body).group(1), now=NOW).actor
        s.commit()
    view = portal_actions.fetch_overview(ana, clock=clock, engine=engine)
    assert [v.manage_url for v in view.upcoming] == [manage_url(clinic.slug, appt.booking_token)]
    with pytest.raises(ValidationFailed):
        portal_actions.do_cancel_own_visit(ana, appt.id, reason="other", note="", clock=clock, engine=engine)
    portal_actions.do_cancel_own_visit(ana, appt.id, reason="clinic", note="", clock=clock, engine=engine,
                                       gateway=TestPaymentGateway(engine, clock.now))
    with clinic.session() as s:
        row = s.get(Appointment, appt.id)
        assert (row.cancellation_reason, row.cancelled_by) == ("clinic", "client")
    assert [v.manage_url for v in portal_actions.fetch_overview(ana, clock=clock, engine=engine).cancelled] == [""]


def test_the_outbox_hides_the_token_of_a_manage_link_in_a_message(setup):
    """A manage link acts for the client: staff reading a message to them see it without its
    token (the booking page's confirmation email carries the link, references.manage_url)."""
    from medspa.domain.messaging.models import OutboxMessage
    from medspa.domain.messaging.outbox import read_message
    from medspa.domain.scheduling.references import hide_manage_tokens

    clinic, appt = setup
    link = manage_url(clinic.slug, appt.booking_token, "https://glow.example")
    with clinic.session() as s:  # as the booking page's confirmation writes it
        email = s.exec(select(OutboxMessage).where(OutboxMessage.appointment_id == appt.id,
                                                   OutboxMessage.kind == "booking_confirmation",
                                                   OutboxMessage.channel == "email")).one()
        email.body += f"\nManage your booking: {link}\n"
        email_id = email.id
        s.add(email)
        s.commit()
    with clinic.session() as s:
        shown = read_message(s, clinic.staff_actor("owner"), email_id, now=NOW, time_zone="America/New_York",
                             mail_enabled=False)
    assert f"Manage your booking: https://glow.example/book/{clinic.slug}/manage/…" in shown.body
    assert appt.booking_token not in shown.body
    assert hide_manage_tokens(f"see {link}.") == f"see https://glow.example/book/{clinic.slug}/manage/…."


def test_a_late_move_at_a_location_that_refunds_late_cancels_says_the_deposit_is_refunded(engine, owner_engine,
                                                                                          clock):
    clinic, appt = _late_visit(engine, owner_engine, clock)
    with clinic.session() as s:  # the kinder rule now refunds late cancellations
        loc = s.get(Location, clinic.location_id)
        loc.late_cancel_keeps_deposit = False
        s.add(loc)
        s.commit()
    done = manage.do_reschedule_by_token(clinic.public, appt.booking_token, at(11, JUL16), clock=clock,
                                         engine=engine, gateway=TestPaymentGateway(engine, clock.now))
    assert done.message.endswith("counted as a late cancellation. Your deposit is being refunded, and the new "
                                 "visit is paid in full at the clinic.")
    with clinic.session() as s:
        assert s.get(Appointment, appt.id).cancellation_keeps_deposit is False
