"""Reminders that follow the visit (issue 19 §2) and the other visit-timed messages, on the real
PostgreSQL with a FixedClock: the minute tick (messaging.reminder_actions.do_send_due_messages)
writes a reminder once whatever runs it, at start - hours (the client's, else the clinic's),
re-timed and re-worded by a reschedule, never for a cancelled visit (nor sent when the cancel
or move comes after it was written: the claim refuses it), out of quiet hours in the client's
zone across daylight-saving changes, none or a shorter one for a visit booked inside the
window; series visits and a waitlist booking get theirs; staff-booked visits name the clinic's
time; post-care / pre-visit by the clinic's wording; no-show follow-up; review and birthday
only with marketing consent."""

from __future__ import annotations

import threading
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text, update
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.clients.models import Client
from medspa.domain.clients.service import ClientInput
from medspa.domain.messaging.actions import DeliveryOutcome, do_deliver_message
from medspa.domain.messaging.engage_models import MessageTemplate
from medspa.domain.messaging.models import MessageStatus, OutboxMessage
from medspa.domain.messaging.reminder_actions import do_send_due_messages
from medspa.domain.messaging.smtp import TemporaryFailure
from medspa.domain.payments.gateway import TestPaymentGateway
from medspa.domain.practice.models import Organization
from medspa.domain.scheduling.actions.desk import do_book_for_client, do_cancel_visit, do_change_status
from medspa.domain.scheduling.actions.reschedule import do_move_visit
from medspa.domain.scheduling.models import Appointment
from tests.conftest import utc
from tests.factories import build_clinic
from tests import sms_support, test_email_delivery

mail, smtp_server = test_email_delivery.mail, test_email_delivery.smtp_server  # the SMTP server fixtures
sms_and_mail, fake_twilio, smtp_box = sms_support.sms_and_mail, sms_support.fake_twilio, sms_support.smtp_box

NY = ZoneInfo("America/New_York")
BOOKED = utc(2026, 7, 1, 12)
DAY = date(2026, 7, 15)


def ny(day: date, h: int, m: int = 0) -> datetime:
    return datetime.combine(day, time(h, m), tzinfo=NY).astimezone(timezone.utc)


def _book(clinic, start: datetime, *, at: datetime = BOOKED, name: str = "Ana", phone: str = "(212) 555-0147",
          service: str = "botox") -> int:
    person = ClientInput(name, "Silva", f"{name.lower()}-{clinic.slug}@example.com", phone)
    return do_book_for_client(clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services[service],
                              provider_id=clinic.provider_ids[0], start_at=start, client_id=None, new_client=person,
                              clock=FixedClock(at), engine=clinic.engine)


def _tick(clinic, at: datetime):
    return do_send_due_messages(clock=FixedClock(at), engine=clinic.engine, org_ids=[clinic.org_id])


def _messages(clinic, kind: str = "reminder") -> list[OutboxMessage]:
    with clinic.session() as s:
        return list(s.exec(select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)))


def _client_of(clinic, appointment_id: int) -> int:
    with clinic.session() as s:
        return s.get(Appointment, appointment_id).client_id


def _set_client(clinic, client_id: int, **values) -> None:
    with clinic.session() as s:
        s.exec(update(Client).where(Client.id == client_id).values(**values))
        s.commit()


def _set_org(owner_engine, clinic, **values) -> None:
    with owner_engine.begin() as conn:
        conn.execute(update(Organization).where(Organization.id == clinic.org_id).values(**values))


def _epoch(instant: datetime) -> int:
    return int(instant.timestamp())


def test_the_reminder_is_written_at_its_time_on_both_channels_naming_the_clinic_time(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    appt = _book(clinic, ny(DAY, 10))  # staff-booked: 10:00 EDT = 14:00 UTC
    _set_client(clinic, _client_of(clinic, appt), time_zone="Europe/London")  # the client's zone: quiet hours only
    assert _tick(clinic, utc(2026, 7, 14, 13, 59)).total == 0
    assert _messages(clinic) == []
    assert _tick(clinic, utc(2026, 7, 14, 14, 0)).written == {"reminder": 2}
    email, sms = sorted(_messages(clinic), key=lambda m: m.channel)
    assert (email.channel, email.dedupe_key) == ("email", f"reminder-email-{appt}-{_epoch(ny(DAY, 10))}")
    assert email.to_address == f"ana-{clinic.slug}@example.com" and email.appointment_id == appt
    assert "Wed, Jul 15, 2026, 10:00 AM EDT (America/New_York)" in email.body
    assert email.subject == "Reminder: your Botox on Wed, Jul 15"
    assert sms.to_address == "+12125550147" and sms.subject == ""
    assert sms.body.startswith("Test Clinic: reminder of your appointment on Wed, Jul 15, 2026, 10:00 AM EDT")
    assert "Botox" not in sms.body and "14:00" not in sms.body and "UTC" not in sms.body
    assert _tick(clinic, utc(2026, 7, 14, 14, 1)).total == 0  # once


def test_a_reminder_is_sent_once_with_two_concurrent_ticks_and_a_delivery_retry(engine, owner_engine, mail):
    settings, sink = mail
    clinic = build_clinic(engine, owner_engine)
    appt = _book(clinic, ny(DAY, 10), phone="")
    due = utc(2026, 7, 14, 14, 5)
    gate, results, errors = threading.Barrier(2), [], []

    def run() -> None:
        gate.wait()
        try:
            results.append(_tick(clinic, due))
        except Exception as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(r.total for r in results) == [0, 1]
    [reminder] = _messages(clinic)
    assert reminder.dedupe_key == f"reminder-email-{appt}-{_epoch(ny(DAY, 10))}"
    with owner_engine.connect() as conn:  # its delivery job was deferred with it
        jobs = conn.execute(text("select count(*) from procrastinate_jobs where task_name = 'deliver_email' "
                                 "and (args->>'message_id')::bigint = :id"), {"id": reminder.id}).scalar()
    assert jobs == 1
    sink.answers = ["451 4.3.0 try again later"]
    with pytest.raises(TemporaryFailure):
        do_deliver_message(reminder.id, clinic.org_id, job_id=None, settings=settings, clock=FixedClock(due),
                           engine=engine)
    assert do_deliver_message(reminder.id, clinic.org_id, job_id=None, settings=settings, clock=FixedClock(due),
                              engine=engine) == DeliveryOutcome.SENT
    assert do_deliver_message(reminder.id, clinic.org_id, job_id=None, settings=settings, clock=FixedClock(due),
                              engine=engine) == DeliveryOutcome.SKIPPED
    assert _tick(clinic, due + timedelta(minutes=1)).total == 0
    assert len(sink.messages) == 1
    envelope, received = sink.messages[0]
    assert envelope.rcpt_tos == [f"ana-{clinic.slug}@example.com"]
    assert received["Subject"] == "Reminder: your Botox on Wed, Jul 15"
    assert [m.status for m in _messages(clinic)] == [MessageStatus.SENT.value]


def test_a_reschedule_re_times_the_reminder_and_its_text(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    appt = _book(clinic, ny(DAY, 10))
    do_move_visit(clinic.staff_actor(), appt, start_at=ny(DAY + timedelta(days=2), 14, 30),
                  clock=FixedClock(utc(2026, 7, 10, 12)), engine=engine)
    assert _tick(clinic, utc(2026, 7, 14, 14, 0)).total == 0  # the old time's reminder is gone
    assert _tick(clinic, utc(2026, 7, 16, 18, 29)).total == 0
    assert _tick(clinic, utc(2026, 7, 16, 18, 30)).written == {"reminder": 2}
    email = next(m for m in _messages(clinic) if m.channel == "email")
    assert "Fri, Jul 17, 2026, 2:30 PM EDT (America/New_York)" in email.body and "Jul 15" not in email.body
    assert email.dedupe_key.endswith(f"-{_epoch(ny(DAY + timedelta(days=2), 14, 30))}")


def test_none_after_a_cancel_and_a_written_one_is_not_sent_after_a_cancel_or_a_move(engine, owner_engine, mail):
    settings, sink = mail
    clinic = build_clinic(engine, owner_engine)
    cancelled_first = _book(clinic, ny(DAY, 10), name="Ana", phone="")
    cancelled_later = _book(clinic, ny(DAY, 11), name="Bea", phone="")
    moved_later = _book(clinic, ny(DAY, 12), name="Cai", phone="")
    gateway = TestPaymentGateway(engine, FixedClock(BOOKED).now)
    do_cancel_visit(clinic.staff_actor(), cancelled_first, clock=FixedClock(utc(2026, 7, 5)), engine=engine,
                    gateway=gateway)
    assert _tick(clinic, utc(2026, 7, 14, 16, 0)).written == {"reminder": 2}  # Bea's and Cai's, not Ana's
    assert {m.appointment_id for m in _messages(clinic)} == {cancelled_later, moved_later}
    later = utc(2026, 7, 14, 16, 1)
    do_cancel_visit(clinic.staff_actor(), cancelled_later, clock=FixedClock(later), engine=engine, gateway=gateway)
    do_move_visit(clinic.staff_actor(), moved_later, start_at=ny(DAY, 15), clock=FixedClock(later), engine=engine)
    outcome = {m.appointment_id: do_deliver_message(m.id, clinic.org_id, settings=settings, clock=FixedClock(later),
                                                    engine=engine) for m in _messages(clinic)}
    assert outcome == {cancelled_later: DeliveryOutcome.FAILED, moved_later: DeliveryOutcome.FAILED}
    reasons = {m.appointment_id: m.failure_reason for m in _messages(clinic)}
    assert reasons == {cancelled_later: "not sent: the visit was cancelled", moved_later: "not sent: the visit was moved"}
    assert not [m for _, m in sink.messages if m["Subject"].startswith("Reminder")]
    # the moved visit gets its reminder 24 h before its new time, 15:00 EDT
    assert _tick(clinic, utc(2026, 7, 14, 18, 59)).total == 0
    assert _tick(clinic, utc(2026, 7, 14, 19)).written == {"reminder": 1}
    assert "3:00 PM EDT" in _messages(clinic)[-1].body


def test_booked_inside_the_window_gets_none_or_a_shorter_one(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    placed = utc(2026, 7, 15, 8)  # 04:00 EDT, under 24 h before both visits
    at_ten = _book(clinic, ny(DAY, 10), at=placed, name="Ana")  # short: 08:00 EDT, not quiet
    at_nine = _book(clinic, ny(DAY, 9), at=placed, name="Bea", phone="(212) 555-0148")  # short 07:00 is quiet
    assert _tick(clinic, ny(DAY, 7, 59)).total == 0
    assert _tick(clinic, ny(DAY, 8)).written == {"reminder": 2}
    assert {m.appointment_id for m in _messages(clinic)} == {at_ten}
    assert _tick(clinic, ny(DAY, 8, 30)).total == 0
    # 'none': a late booking gets nothing at all
    other = build_clinic(engine, owner_engine)
    _set_org(owner_engine, other, reminder_late_booking="none")
    _book(other, ny(DAY, 10), at=placed)
    for minute in (ny(DAY, 8), ny(DAY, 9), ny(DAY, 9, 29)):
        assert _tick(other, minute).total == 0
    assert at_nine and _messages(other) == []


def test_the_clients_channel_and_hours_choose_how_and_when(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    by_sms = _book(clinic, ny(DAY, 10), name="Ana")
    not_at_all = _book(clinic, ny(DAY, 11), name="Bea", phone="(212) 555-0148")
    _set_client(clinic, _client_of(clinic, by_sms), reminder_channel="sms", reminder_hours=48)
    _set_client(clinic, _client_of(clinic, not_at_all), reminder_channel="none")
    assert _tick(clinic, utc(2026, 7, 13, 13, 59)).total == 0
    assert _tick(clinic, utc(2026, 7, 13, 14)).written == {"reminder": 1}
    [sms] = _messages(clinic)
    assert (sms.channel, sms.appointment_id) == ("sms", by_sms)
    assert _tick(clinic, utc(2026, 7, 14, 15)).total == 0  # Bea asked for none; Ana's is written


@pytest.mark.parametrize("day, start_hour, quiet_start_utc", [
    (date(2026, 11, 1), 9, utc(2026, 11, 1, 0, 59)),  # clocks go back at 02:00: 21:00 EDT the evening before
    (date(2026, 3, 8), 9, utc(2026, 3, 8, 1, 59)),  # clocks go forward at 02:00: 21:00 EST the evening before
])
def test_quiet_hours_hold_across_daylight_saving_changes(engine, owner_engine, day, start_hour, quiet_start_utc):
    clinic = build_clinic(engine, owner_engine)
    appt = _book(clinic, ny(day, start_hour), at=datetime.combine(day - timedelta(days=10), time(12),
                                                                    tzinfo=timezone.utc))
    _set_client(clinic, _client_of(clinic, appt), reminder_hours=4)  # nominal 05:00 local: quiet
    assert _tick(clinic, quiet_start_utc - timedelta(minutes=1)).total == 0
    assert _tick(clinic, quiet_start_utc).written == {"reminder": 2}  # 20:59 local, the evening before
    assert quiet_start_utc.astimezone(NY).time() == time(20, 59)
    # a worker down through that minute catches up only once quiet hours end (08:00 local)
    other = build_clinic(engine, owner_engine)
    late = _book(other, ny(day, start_hour), at=datetime.combine(day - timedelta(days=10), time(12),
                                                                 tzinfo=timezone.utc))
    _set_client(other, _client_of(other, late), reminder_hours=4)
    assert _tick(other, quiet_start_utc + timedelta(minutes=2)).total == 0
    assert _tick(other, ny(day, 7, 59)).total == 0
    assert _tick(other, ny(day, 8)).written == {"reminder": 2}
    assert _tick(other, ny(day, start_hour) - timedelta(minutes=10)).total == 0


def test_series_visits_each_get_their_reminder(engine, owner_engine):
    from medspa.domain.scheduling.actions.series import do_book_series, do_plan_series
    from medspa.domain.scheduling.series import Recurrence

    clinic = build_clinic(engine, owner_engine)
    first = _book(clinic, ny(DAY - timedelta(days=3), 16))
    kw = dict(location_id=clinic.location_id, service_id=clinic.services["botox"], provider_id=clinic.provider_ids[0],
              client_id=_client_of(clinic, first), recurrence=Recurrence("weekly", 1, count=3), first_start=ny(DAY, 11))
    plan = do_plan_series(clinic.staff_actor(), clock=FixedClock(BOOKED), engine=engine, **kw)
    booked = do_book_series(clinic.staff_actor(), picks={c.index: c.start_at for c in plan.checks if c.free},
                            clock=FixedClock(BOOKED), engine=engine, **kw)
    visits = [appointment_id for _, appointment_id in booked.booked]
    assert len(visits) == 3
    for week, visit in enumerate(visits):
        start = ny(DAY + timedelta(weeks=week), 11)
        assert _tick(clinic, start - timedelta(hours=24, minutes=1)).total == 0
        assert _tick(clinic, start - timedelta(hours=24)).written == {"reminder": 2}
        assert {m.dedupe_key for m in _messages(clinic) if m.appointment_id == visit} == {
            f"reminder-{c}-{visit}-{_epoch(start)}" for c in ("email", "sms")}


def test_a_visit_booked_from_a_waitlist_offer_gets_its_reminder(engine, owner_engine):
    from tests.test_waitlist import CARD, NOW, _cancel_and_match, _busy_day, _line, _offer_rows
    from medspa.domain.scheduling.booking import OnlineBooking, book_online
    from medspa.domain.waitlist.actions import fetch_offer

    clinic = build_clinic(engine, owner_engine, providers=2)
    visit = _busy_day(clinic, engine)
    _line(engine, clinic)
    clock = FixedClock(NOW + timedelta(hours=1))
    _cancel_and_match(clinic, engine, visit, clock)
    link = fetch_offer(clinic.public, _offer_rows(clinic)[0].token, clock=clock, engine=engine)
    req = OnlineBooking(location_id=link.location_id, service_id=link.service_id, start_at=link.start_at,
                        client=ClientInput(link.first_name, link.last_name, link.email, link.phone),
                        provider_id=link.provider_id, card=CARD, hold_id=link.hold_id)
    appt = book_online(engine, clinic.public, req, TestPaymentGateway(engine, clock.now), clock)
    assert _tick(clinic, ny(DAY, 10) - timedelta(hours=24)).written == {"reminder": 2}
    assert {m.appointment_id for m in _messages(clinic)} == {appt.id}
    assert all(m.to_address in (link.email, "+12125550101") for m in _messages(clinic))


def _template(clinic, kind: str, body: str, *, channel: str = "email", subject: str = "", service: str | None = None):
    with clinic.session() as s:
        s.add(MessageTemplate(org_id=clinic.org_id, kind=kind, channel=channel, subject=subject, body=body,
                              service_id=clinic.services[service] if service else None, updated_at=BOOKED))
        s.commit()


def test_pre_visit_and_post_care_follow_the_services_wording(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    _template(clinic, "pre_visit", "No retinol for 3 days before {{ visit.date }}.", service="botox",
              subject="Before your {{ visit.treatment }}")
    _template(clinic, "post_care", "Keep upright for 4 hours after your {{ visit.treatment }}.", service="botox",
              subject="After your {{ visit.treatment }}")
    later = _book(clinic, ny(DAY, 11), name="Bea", phone="(212) 555-0148")  # 3 days before: Jul 12, 11:00 EDT
    facial = _book(clinic, ny(DAY, 13), name="Cai", phone="(212) 555-0149", service="facial")  # no wording
    assert _tick(clinic, ny(DAY - timedelta(days=3), 10, 59)).total == 0
    assert _tick(clinic, ny(DAY - timedelta(days=3), 11)).written == {"pre_visit": 1}
    soon = _book(clinic, ny(DAY, 10), at=utc(2026, 7, 13, 15), name="Ana")  # inside 3 days: with its booking
    assert _tick(clinic, utc(2026, 7, 13, 15, 1)).written == {"pre_visit": 1}
    pre = _messages(clinic, "pre_visit")[-1]
    assert (pre.appointment_id, pre.channel, pre.subject) == (soon, "email", "Before your Botox")
    assert pre.body == "No retinol for 3 days before Wed, Jul 15."
    assert {m.appointment_id for m in _messages(clinic, "pre_visit")} == {soon, later}
    visit_day = FixedClock(ny(DAY, 10, 40))
    do_change_status(clinic.staff_actor(), soon, "check_in", clock=visit_day, engine=engine)
    do_change_status(clinic.staff_actor(), soon, "complete", clock=visit_day, engine=engine)
    assert _tick(clinic, ny(DAY, 10, 41)).written.get("post_care") == 1
    [care] = _messages(clinic, "post_care")
    assert (care.appointment_id, care.subject) == (soon, "After your Botox")
    # checked in and checked out, never marked completed: done too
    from medspa.domain.payments.gateway import CardDetails
    from medspa.domain.scheduling.actions.desk import do_checkout_visit

    paid_at = FixedClock(ny(DAY, 11, 35))
    do_change_status(clinic.staff_actor(), later, "check_in", clock=paid_at, engine=engine)
    assert _tick(clinic, ny(DAY, 11, 36)).written.get("post_care") is None
    out = do_checkout_visit(clinic.staff_actor("owner"), later, CardDetails("4242 4242 4242 4242", 12, 2030, "123"),
                            clock=paid_at, engine=engine, gateway=TestPaymentGateway(engine, paid_at.now))
    assert out.detail.checked_out
    assert _tick(clinic, ny(DAY, 11, 37)).written.get("post_care") == 1
    assert _messages(clinic, "post_care")[-1].appointment_id == later
    assert facial not in {m.appointment_id for m in _messages(clinic, "pre_visit") + _messages(clinic, "post_care")}


def test_a_no_show_gets_its_follow_up_with_the_booking_link_once_its_time_is_over(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    appt = _book(clinic, ny(DAY, 10))
    do_change_status(clinic.staff_actor(), appt, "no_show", clock=FixedClock(ny(DAY, 10, 20)), engine=engine,
                     gateway=TestPaymentGateway(engine, FixedClock(ny(DAY, 10, 20)).now))
    assert _tick(clinic, ny(DAY, 10, 25)).written.get("no_show_follow_up") is None  # the visit's time runs to 10:30
    assert _tick(clinic, ny(DAY, 10, 30)).written["no_show_follow_up"] == 2
    email = next(m for m in _messages(clinic, "no_show_follow_up") if m.channel == "email")
    assert email.subject == "We missed you today" and f"/book/{clinic.slug}" in email.body
    assert _tick(clinic, ny(DAY, 11)).total == 0


def test_review_and_birthday_only_with_marketing_consent(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    consents = _book(clinic, ny(DAY, 10), name="Ana")
    refuses = _book(clinic, ny(DAY, 11), name="Bea", phone="(212) 555-0148")
    ana, bea = _client_of(clinic, consents), _client_of(clinic, refuses)
    _set_client(clinic, ana, email_marketing_consent=True, date_of_birth=date(1990, 7, 20))
    _set_client(clinic, bea, date_of_birth=date(1991, 7, 20))
    day = FixedClock(ny(DAY, 11, 40))
    for visit in (consents, refuses):
        do_change_status(clinic.staff_actor(), visit, "check_in", clock=day, engine=engine)
        do_change_status(clinic.staff_actor(), visit, "complete", clock=day, engine=engine)
    assert "review_request" not in _tick(clinic, ny(DAY, 14, 39)).written
    assert _tick(clinic, ny(DAY, 14, 40)).written["review_request"] == 1
    [review] = _messages(clinic, "review_request")
    assert (review.client_id, review.channel) == (ana, "email")
    assert f"/u/{clinic.org_id}.{ana}.e." in review.body
    second = do_book_for_client(clinic.staff_actor(), location_id=clinic.location_id,
                                service_id=clinic.services["botox"], provider_id=clinic.provider_ids[0],
                                start_at=ny(date(2026, 8, 12), 10), client_id=ana, new_client=None,
                                clock=FixedClock(BOOKED), engine=engine)
    month_later = FixedClock(ny(date(2026, 8, 12), 10, 40))
    do_change_status(clinic.staff_actor(), second, "check_in", clock=month_later, engine=engine)
    do_change_status(clinic.staff_actor(), second, "complete", clock=month_later, engine=engine)
    assert "review_request" not in _tick(clinic, ny(date(2026, 8, 12), 16)).written  # asked 4 weeks ago
    # birthdays: 10:00 in the client's zone on the day, once a year, never to Bea
    birthday = date(2026, 7, 20)
    assert _tick(clinic, ny(birthday, 9, 59)).total == 0
    assert _tick(clinic, ny(birthday, 10)).written == {"birthday": 1}
    [greeting] = _messages(clinic, "birthday")
    assert (greeting.client_id, greeting.channel, greeting.dedupe_key) == (ana, "email", f"birthday-email-{ana}-2026")
    assert greeting.subject == "Happy birthday, Ana!" and f"/u/{clinic.org_id}.{ana}.e." in greeting.body
    assert _tick(clinic, ny(birthday, 15)).total == 0
    assert _tick(clinic, ny(date(2027, 7, 20), 10)).written == {"birthday": 1}


def test_the_client_form_sets_the_reminder_preference_and_the_profile_says_it(engine, owner_engine):
    from medspa.domain.clients.actions import do_read_client_profile
    from medspa.domain.clients.details import ClientForm
    from medspa.domain.clients.edit_actions import do_open_client_form, do_update_client
    from medspa.domain.errors import ValidationFailed

    clinic = build_clinic(engine, owner_engine)
    client_id = _client_of(clinic, _book(clinic, ny(DAY, 10)))
    actor, clock = clinic.staff_actor(), FixedClock(BOOKED)
    opened = do_open_client_form(actor, client_id, engine=engine, clock=clock)
    assert (opened.form.reminder_channel, opened.form.reminder_hours, opened.clinic_reminder_hours) == ("both", "", 24)
    profile = do_read_client_profile(actor, client_id, now=BOOKED, engine=engine)
    assert profile.details.reminders == "Email and text, 24 hours before (the clinic's)"
    form = opened.form
    for channel, hours, field in (("fax", "", "reminder_channel"), ("sms", "0", "reminder_hours"),
                                  ("sms", "169", "reminder_hours"), ("sms", "4.5", "reminder_hours"),
                                  ("sms", "٣", "reminder_hours")):
        with pytest.raises(ValidationFailed) as bad:
            do_update_client(actor, client_id, ClientForm(**{**form.__dict__, "reminder_channel": channel,
                                                             "reminder_hours": hours}), engine=engine, clock=clock)
        assert set(bad.value.fields) == {field}
    changes = do_update_client(actor, client_id, ClientForm(**{**form.__dict__, "reminder_channel": "sms",
                                                               "reminder_hours": " 48 "}), engine=engine, clock=clock)
    assert changes == {"reminder_channel": ["both", "sms"], "reminder_hours": [None, 48]}
    profile = do_read_client_profile(actor, client_id, now=BOOKED, engine=engine)
    assert profile.details.reminders == "Text only, 48 hours before"
    assert do_open_client_form(actor, client_id, engine=engine, clock=clock).form.reminder_hours == "48"
    assert _tick(clinic, utc(2026, 7, 13, 14)).written == {"reminder": 1}
    assert [m.channel for m in _messages(clinic)] == ["sms"]


def test_the_calendar_panel_says_when_the_reminder_goes_and_that_it_went(engine, owner_engine):
    from medspa.domain.scheduling.detail import appointment_detail

    clinic = build_clinic(engine, owner_engine)
    appt = _book(clinic, ny(DAY, 10))
    inside = _book(clinic, ny(DAY, 11), at=utc(2026, 7, 15, 8), name="Bea", phone="")
    _set_org(owner_engine, clinic, reminder_late_booking="none")

    def line(appointment_id: int, at: datetime) -> str:
        with clinic.session() as s:
            return appointment_detail(s, clinic.staff_actor(), appointment_id, now=at).reminder

    assert line(appt, BOOKED) == "Tue, Jul 14, 2026, 10:00 AM EDT (America/New_York) by email and SMS"
    assert line(inside, BOOKED) == "None: booked inside the 24-hour window"
    _tick(clinic, utc(2026, 7, 14, 14, 3))
    # written but nothing set up to send them: the line says so, in the outbox's words
    assert line(appt, utc(2026, 7, 14, 15)) == (
        "Written Tue, Jul 14, 2026, 10:03 AM EDT (America/New_York) by email and SMS; "
        "email: not sent: no mail server set up; SMS: not sent: no SMS provider set up")
    with clinic.session() as s:
        email = s.exec(select(OutboxMessage).where(OutboxMessage.appointment_id == appt, OutboxMessage.kind == "reminder",
                                                   OutboxMessage.channel == "email")).one()
        email.status, email.failure_reason = "failed", "550 mailbox unavailable"
        s.commit()
    assert line(appt, utc(2026, 7, 14, 15)).endswith(
        "; email: failed: 550 mailbox unavailable; SMS: not sent: no SMS provider set up")
    with clinic.session() as s:
        for m in s.exec(select(OutboxMessage).where(OutboxMessage.appointment_id == appt,
                                                    OutboxMessage.kind == "reminder")):
            m.status, m.sent_at = ("sent" if m.channel == "email" else "delivered"), utc(2026, 7, 14, 14, 5)
        s.commit()
    assert line(appt, utc(2026, 7, 14, 15)) == "Sent Tue, Jul 14, 2026, 10:05 AM EDT (America/New_York) by email and SMS"


def test_a_text_reminder_goes_to_twilio_and_one_for_a_cancelled_visit_fails_without_a_fallback(engine, owner_engine,
                                                                                               sms_and_mail):
    settings, fake, _ = sms_and_mail
    clinic = build_clinic(engine, owner_engine)
    kept = _book(clinic, ny(DAY, 10), name="Ana")
    dropped = _book(clinic, ny(DAY, 11), name="Bea", phone="(212) 555-0148")
    for appt in (kept, dropped):
        _set_client(clinic, _client_of(clinic, appt), reminder_channel="sms")
    assert _tick(clinic, utc(2026, 7, 14, 15, 0)).written == {"reminder": 2}
    at = utc(2026, 7, 14, 15, 1)
    do_cancel_visit(clinic.staff_actor(), dropped, clock=FixedClock(at), engine=engine,
                    gateway=TestPaymentGateway(engine, FixedClock(at).now))
    texts = {m.appointment_id: m for m in _messages(clinic)}
    outcome = {a: do_deliver_message(m.id, clinic.org_id, settings=settings, clock=FixedClock(at), engine=engine)
               for a, m in texts.items()}
    assert outcome == {kept: DeliveryOutcome.SENT, dropped: DeliveryOutcome.FAILED}
    assert [r.form["To"] for r in fake.requests] == ["+12125550147"]
    assert "reminder of your appointment on Wed, Jul 15, 2026, 10:00 AM EDT" in fake.requests[0].form["Body"]
    with clinic.session() as s:
        failed = s.get(OutboxMessage, texts[dropped].id)
        fallbacks = s.exec(select(OutboxMessage).where(OutboxMessage.fallback_for_id == failed.id)).all()
    assert (failed.status, failed.failure_reason, fallbacks) == ("failed", "not sent: the visit was cancelled", [])
