"""Client portal: emailed sign-in codes, client sessions, own visits only, access log, cancel by policy."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.audit.models import AuditEvent
from medspa.domain.clients.models import Client
from medspa.domain.clients.service import ClientInput, get_client
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.identity.service import create_user
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.payments.gateway import CardDetails, TestPaymentGateway
from medspa.domain.payments.models import Payment
from medspa.domain.portal import cancellation as own_cancellation
from medspa.domain.portal import service as portal
from medspa.domain.portal.actions import do_cancel_own_visit
from medspa.domain.portal.models import ClientAccount, PortalCode, PortalSession
from medspa.domain.scheduling.booking import OnlineBooking, book_online
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.service import cancel_appointment
from tests.conftest import utc
from tests.factories import build_clinic

NY = ZoneInfo("America/New_York")
GOOD = CardDetails("4242 4242 4242 4242", 12, 2030, "123")
NOW = utc(2026, 7, 1, 12)


def at(h: int, day: date = date(2026, 7, 15)) -> datetime:
    return datetime.combine(day, time(h), tzinfo=NY).astimezone(timezone.utc)


@pytest.fixture
def clock():
    return FixedClock(NOW)


def book(engine, clinic, clock, email: str, start: datetime, first: str = "Ana") -> Appointment:
    req = OnlineBooking(location_id=clinic.location_id, service_id=clinic.services["botox"], start_at=start,
                        client=ClientInput(first, "Silva", email, "(212) 555-0147"), card=GOOD)
    return book_online(engine, clinic.public, req, TestPaymentGateway(engine, clock.now), clock)


def last_code(clinic, email: str) -> str:
    with clinic.session() as s:
        msg = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "portal_code", OutboxMessage.to_address == email)
                     .order_by(OutboxMessage.id.desc())).first()
    return re.search(r"\b(\d{6})\b", msg.body).group(1)


def request(clinic, email: str, now: datetime) -> str:
    with clinic.session() as s:
        answer = portal.request_code(s, clinic.public, email, now=now)
        s.commit()
    return answer


def verify(clinic, email: str, code: str, now: datetime):
    with clinic.session() as s:
        signed = portal.verify_code(s, clinic.public, email, code, now=now)
        s.commit()
    return signed


def sign_in(clinic, email: str, now: datetime = NOW) -> Actor:
    request(clinic, email, now)
    signed = verify(clinic, email, last_code(clinic, email), now)
    assert signed is not None
    return signed.actor


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_code_flow_opens_a_session_bound_to_the_client(engine, owner_engine, clock):
    clinic = build_clinic(engine, owner_engine)
    appt = book(engine, clinic, clock, "ana@example.com", at(10))
    assert request(clinic, "  ANA@example.com ", NOW) == portal.CODE_SENT
    code = last_code(clinic, "ana@example.com")
    with clinic.session() as s:
        row = s.exec(select(PortalCode)).one()
        assert code not in (row.code_hash, row.salt) and len(row.code_hash) == 64  # only a hash stored
        assert row.expires_at == utc(2026, 7, 1, 12, 10)
    signed = verify(clinic, "ana@example.com", code, utc(2026, 7, 1, 12, 5))
    assert signed.actor.role == "client" and signed.actor.client_id == appt.client_id
    with clinic.session() as s:
        sess = s.exec(select(PortalSession)).one()
        assert sess.client_id == appt.client_id and sess.token_hash != signed.token
        assert s.exec(select(ClientAccount.client_id)).all() == [appt.client_id]
        actor = portal.actor_for_portal_token(s, signed.token, now=utc(2026, 7, 1, 12, 30))
        assert actor.client_id == appt.client_id
        assert portal.actor_for_portal_token(s, signed.token + "x", now=NOW) is None
        assert portal.actor_for_portal_token(s, signed.token, now=utc(2026, 7, 2, 1)) is None  # expired/idle
        portal.sign_out(s, signed.token, now=utc(2026, 7, 1, 12, 31))
        s.commit()
        assert portal.actor_for_portal_token(s, signed.token, now=utc(2026, 7, 1, 12, 32)) is None


def test_code_expires_after_ten_minutes(engine, owner_engine, clock):
    clinic = build_clinic(engine, owner_engine)
    book(engine, clinic, clock, "ana@example.com", at(10))
    request(clinic, "ana@example.com", NOW)
    code = last_code(clinic, "ana@example.com")
    assert verify(clinic, "ana@example.com", code, utc(2026, 7, 1, 12, 10)) is None


def test_code_is_single_use_and_a_new_code_replaces_the_old(engine, owner_engine, clock):
    clinic = build_clinic(engine, owner_engine)
    book(engine, clinic, clock, "ana@example.com", at(10))
    request(clinic, "ana@example.com", NOW)
    first = last_code(clinic, "ana@example.com")
    assert verify(clinic, "ana@example.com", first, NOW) is not None
    assert verify(clinic, "ana@example.com", first, NOW) is None  # reuse
    request(clinic, "ana@example.com", NOW)
    older = last_code(clinic, "ana@example.com")
    request(clinic, "ana@example.com", NOW)
    newest = last_code(clinic, "ana@example.com")
    if older != newest:
        assert verify(clinic, "ana@example.com", older, NOW) is None
    assert verify(clinic, "ana@example.com", newest, NOW) is not None


def test_five_wrong_attempts_kill_the_code(engine, owner_engine, clock):
    clinic = build_clinic(engine, owner_engine)
    book(engine, clinic, clock, "ana@example.com", at(10))
    request(clinic, "ana@example.com", NOW)
    code = last_code(clinic, "ana@example.com")
    for _ in range(portal.MAX_ATTEMPTS):
        assert verify(clinic, "ana@example.com", wrong(code), NOW) is None
    assert verify(clinic, "ana@example.com", code, NOW) is None  # right code, too late
    with clinic.session() as s:
        assert s.exec(select(PortalCode.attempts)).one() == portal.MAX_ATTEMPTS
        assert s.exec(select(func.count()).select_from(PortalSession)).one() == 0


def test_unknown_email_gets_the_same_answer_and_nothing_is_sent(engine, owner_engine, clock):
    clinic = build_clinic(engine, owner_engine)
    book(engine, clinic, clock, "ana@example.com", at(10))
    known = request(clinic, "ana@example.com", NOW)
    unknown = request(clinic, "nobody@example.com", NOW)
    assert known == unknown == portal.CODE_SENT
    with clinic.session() as s:
        sent = s.exec(select(OutboxMessage.to_address).where(OutboxMessage.kind == "portal_code")).all()
        assert sent == ["ana@example.com"]
    for guess in ("000000", "123456"):
        assert verify(clinic, "nobody@example.com", guess, NOW) is None
    with pytest.raises(ValidationFailed):
        request(clinic, "not an email", NOW)


def test_requests_are_throttled_with_the_same_answer(engine, owner_engine, clock):
    clinic = build_clinic(engine, owner_engine)
    book(engine, clinic, clock, "ana@example.com", at(10))
    for _ in range(portal.CODES_PER_HOUR + 2):
        assert request(clinic, "ana@example.com", NOW) == portal.CODE_SENT
    with clinic.session() as s:
        assert s.exec(select(func.count()).select_from(OutboxMessage)
                      .where(OutboxMessage.kind == "portal_code")).one() == portal.CODES_PER_HOUR


def test_a_client_sees_only_their_own_visits_and_record(engine, owner_engine, clock):
    clinic = build_clinic(engine, owner_engine)
    mine = book(engine, clinic, clock, "ana@example.com", at(10))
    theirs = book(engine, clinic, clock, "bo@example.com", at(11), first="Bo")
    ana = sign_in(clinic, "ana@example.com")
    with clinic.session() as s:
        view = portal.portal_overview(s, ana, now=NOW)
        s.commit()
    assert [v.id for v in view.upcoming] == [mine.id] and view.past == []
    card = view.upcoming[0]
    assert card.service == "Botox" and card.provider == "Provider 1"
    assert card.when == "Wed, Jul 15, 2026, 10:00 AM EDT (America/New_York)"
    assert card.deposit == "Deposit $50.00 paid" and card.can_cancel and card.status_label == "Confirmed"
    assert view.details.first_name == "Ana" and view.details.email == "ana@example.com"
    assert view.details.phone == "+1 212-555-0147"  # as people read it (user trial, issue 19: it showed E.164)
    with clinic.session() as s:
        for call in (lambda: portal.cancel_preview(s, ana, theirs.id, now=NOW),
                     lambda: own_cancellation.cancel_own_appointment(s, ana, theirs.id, now=NOW),
                     lambda: cancel_appointment(s, ana, theirs.id, now=NOW)):
            with pytest.raises(NotFound):
                call()
        with pytest.raises(NotFound):  # the staff read path stays closed to clients
            get_client(s, ana, theirs.client_id)
        s.rollback()
        # a forged actor for another clinic's client sees nothing either
        assert s.get(Appointment, theirs.id).status == "confirmed"


def test_another_clinic_is_not_found(engine, owner_engine, clock):
    one = build_clinic(engine, owner_engine)
    two = build_clinic(engine, owner_engine)
    appt_one = book(engine, one, clock, "ana@example.com", at(10))
    appt_two = book(engine, two, clock, "ana@example.com", at(10))
    ana_one = sign_in(one, "ana@example.com")
    # a session token of clinic one is unknown in clinic two
    request(one, "ana@example.com", NOW)
    signed = verify(one, "ana@example.com", last_code(one, "ana@example.com"), NOW)
    with two.session() as s:
        assert portal.actor_for_portal_token(s, signed.token, now=NOW) is None
    # clinic one's code does not work at clinic two
    request(one, "ana@example.com", NOW)
    assert verify(two, "ana@example.com", last_code(one, "ana@example.com"), NOW) is None
    # clinic one's actor used in clinic two's session: row-level security shows nothing of two
    with two.session() as s:
        with pytest.raises(NotFound):
            portal.portal_overview(s, Actor.client(two.org_id, ana_one.client_id), now=NOW)
        with pytest.raises(NotFound):
            portal.cancel_preview(s, Actor.client(two.org_id, ana_one.client_id), appt_two.id, now=NOW)
    with one.session() as s:
        view = portal.portal_overview(s, ana_one, now=NOW)
        assert [v.id for v in view.upcoming] == [appt_one.id]
        with pytest.raises(NotFound):
            portal.cancel_preview(s, ana_one, appt_two.id, now=NOW)


def test_access_log_names_staff_and_reading_it_is_audited(engine, owner_engine, clock):
    clinic = build_clinic(engine, owner_engine)
    appt = book(engine, clinic, clock, "ana@example.com", at(10))
    with clinic.session() as s:
        user = create_user(s, clinic.system, email=f"desk-{clinic.slug}@example.com", password="pw-123456789",
                           role="front_desk", display_name="Dana Desk")
        s.flush()
        desk = Actor(org_id=clinic.org_id, role="front_desk", user_id=user.id, label="Dana Desk")
        get_client(s, desk, appt.client_id)
        s.commit()
    ana = sign_in(clinic, "ana@example.com")
    with clinic.session() as s:
        entries = portal.access_log(s, ana, now=NOW)
        s.commit()
    assert ("Dana Desk", "Front desk", "Viewed your client record") in [(e.who, e.role, e.what) for e in entries]
    assert any(e.who == "Online booking" and e.what == "Created your client record" for e in entries)
    assert all(e.when.endswith("(America/New_York)") for e in entries)
    with clinic.session() as s:
        reads = s.exec(select(AuditEvent).where(AuditEvent.action == "portal.access_log.read")).all()
        assert [(r.actor_role, r.client_id) for r in reads] == [("client", appt.client_id)]
        # the client's own portal reads are not listed back as "access"
        assert not any(e.what.startswith("Portal: ") for e in entries)


def test_consent_is_editable_and_audited(engine, owner_engine, clock):
    clinic = build_clinic(engine, owner_engine)
    appt = book(engine, clinic, clock, "ana@example.com", at(10))
    ana = sign_in(clinic, "ana@example.com")
    with clinic.session() as s:
        details = portal.set_marketing_consent(s, ana, email=True, sms=False, now=NOW)
        s.commit()
    assert details.email_marketing and not details.sms_marketing
    with clinic.session() as s:
        assert s.get(Client, appt.client_id).email_marketing_consent is True
        ev = s.exec(select(AuditEvent).where(AuditEvent.action == "client.consent_update")).one()
        assert ev.client_id == appt.client_id and ev.detail["after"] == {"email": True, "sms": False}
        with pytest.raises(NotFound):
            portal.set_marketing_consent(s, clinic.public, email=True, sms=True, now=NOW)


def test_cancel_outside_the_window_refunds_inside_keeps(engine, owner_engine, clock):
    clinic = build_clinic(engine, owner_engine)  # window 24 h
    early = book(engine, clinic, clock, "ana@example.com", at(10))               # Jul 15: far ahead
    late = book(engine, clinic, clock, "ana@example.com", at(15, date(2026, 7, 1)))  # today, < 24 h
    ana = sign_in(clinic, "ana@example.com")
    gateway = TestPaymentGateway(engine, clock.now)
    with clinic.session() as s:
        p1 = portal.cancel_preview(s, ana, early.id, now=NOW)
        p2 = portal.cancel_preview(s, ana, late.id, now=NOW)
    assert "$50.00 will be refunded" in p1.message and not p1.late
    assert "will be kept" in p2.message and p2.late
    msg1 = do_cancel_own_visit(ana, early.id, gateway=gateway, clock=clock, engine=engine)
    msg2 = do_cancel_own_visit(ana, late.id, gateway=gateway, clock=clock, engine=engine)
    assert msg1 == "Your visit is cancelled and your deposit of $50.00 is being refunded."
    assert msg2 == "Your visit is cancelled. Your deposit of $50.00 was kept."
    with clinic.session() as s:
        assert s.get(Payment, s.exec(select(Payment.id).where(Payment.appointment_id == early.id)).one()).status == "refunded"
        assert s.exec(select(Payment.status).where(Payment.appointment_id == late.id)).one() == "succeeded"
        cancels = s.exec(select(AuditEvent).where(AuditEvent.action == "appointment.cancel")).all()
        assert {(c.actor_role, c.client_id) for c in cancels} == {("client", early.client_id)}
        view = portal.portal_overview(s, ana, now=NOW)
    assert view.upcoming == []
    # both visits are still ahead: listed as cancelled (before the mend: under past)
    assert view.past == []
    assert {v.deposit for v in view.cancelled} == {"Deposit $50.00 refunded",
                                                   "Deposit $50.00 kept (late cancellation)"}
    with clinic.session() as s, pytest.raises(portal.PortalUnavailable):
        portal.cancel_preview(s, ana, early.id, now=NOW)


def test_a_public_or_staff_actor_gets_nothing_from_the_portal_services(engine, owner_engine, clock):
    clinic = build_clinic(engine, owner_engine)
    appt = book(engine, clinic, clock, "ana@example.com", at(10))
    with clinic.session() as s:
        for actor in (clinic.public, clinic.staff_actor("owner"), Actor(org_id=clinic.org_id, role="client")):
            with pytest.raises(NotFound):
                portal.portal_overview(s, actor, now=NOW)
            with pytest.raises(NotFound):
                portal.access_log(s, actor, now=NOW)
        with pytest.raises(NotFound):
            portal.cancel_preview(s, clinic.staff_actor("owner"), appt.id, now=NOW)


def test_a_cancelled_visit_still_ahead_is_listed_as_cancelled_not_past(engine, owner_engine):
    """Mend: a cancelled visit whose time is still ahead was listed under "Past". It now has
    its own "Cancelled" list (soonest first); past visits, cancelled or not, stay under Past."""
    from medspa.domain.portal import actions as portal_actions

    clinic = build_clinic(engine, owner_engine)
    june = FixedClock(utc(2026, 6, 1, 12))
    attended = book(engine, clinic, june, "ana@example.com", at(10, date(2026, 6, 10)))  # before NOW
    called_off = book(engine, clinic, june, "ana@example.com", at(11, date(2026, 6, 12)))  # before NOW, cancelled
    later = book(engine, clinic, june, "ana@example.com", at(11, date(2026, 7, 20)))  # ahead, cancelled
    ahead = book(engine, clinic, june, "ana@example.com", at(10))  # Jul 15: ahead, cancelled
    coming = book(engine, clinic, june, "ana@example.com", at(14))  # Jul 15: ahead, still on
    with clinic.session() as s:
        for appt in (called_off, later, ahead):
            cancel_appointment(s, clinic.staff_actor("owner"), appt.id, now=utc(2026, 6, 2))
        s.commit()
    ana = sign_in(clinic, "ana@example.com")
    view = portal_actions.fetch_overview(ana, clock=FixedClock(NOW), engine=engine)
    assert [v.id for v in view.upcoming] == [coming.id]
    assert [(v.id, v.status, v.status_label, v.can_cancel) for v in view.cancelled] == [
        (ahead.id, "cancelled", "Cancelled", False), (later.id, "cancelled", "Cancelled", False)]
    assert [v.id for v in view.past] == [called_off.id, attended.id]  # newest first, as before
    assert view.past[0].status_label == "Cancelled" and view.past[1].status_label == "Confirmed"


def test_the_sign_in_code_is_in_the_email_body_only_never_its_subject(engine, owner_engine, clock):
    """Subjects show in the outbox list: a code there would let staff sign in as the client."""
    from medspa.domain.practice.models import Organization

    clinic = build_clinic(engine, owner_engine)
    book(engine, clinic, clock, "ana@example.com", at(10))
    request(clinic, "ana@example.com", NOW)
    code = last_code(clinic, "ana@example.com")
    with clinic.session() as s:
        (msg,) = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "portal_code")).all()
        clinic_name = s.exec(select(Organization.name).where(Organization.id == clinic.org_id)).one()
    assert msg.subject == f"Your {clinic_name} sign-in code"
    assert code in msg.body and not re.search(r"\d", msg.subject.replace(clinic_name, ""))


def test_access_log_pages_back_to_the_oldest_entry(engine, owner_engine, clock):
    """Record access has pages (issue 17 leftover: only the newest 100 were ever shown)."""
    clinic = build_clinic(engine, owner_engine)
    appt = book(engine, clinic, clock, "ana@example.com", at(10))
    with clinic.session() as s:
        desk = clinic.staff_actor("front_desk")
        for _ in range(7):
            get_client(s, desk, appt.client_id)
        s.commit()
    ana = sign_in(clinic, "ana@example.com")
    with clinic.session() as s:
        everything = portal.access_log(s, ana, now=NOW)
        first = portal.access_log(s, ana, now=NOW, limit=3)
        second = portal.access_log(s, ana, now=NOW, limit=3, offset=3)
        rest = portal.access_log(s, ana, now=NOW, limit=100, offset=6)
        s.commit()
    assert len(everything) >= 8 and first + second + rest == everything
    assert len(first) == len(second) == 3
    with clinic.session() as s:
        reads = s.exec(select(AuditEvent).where(AuditEvent.action == "portal.access_log.read")
                       .order_by(AuditEvent.id)).all()
        assert [(r.detail["rows"], r.detail.get("offset", 0)) for r in reads] == [
            (len(everything), 0), (3, 0), (3, 3), (len(everything) - 6, 6)]


def test_a_visit_with_no_deposit_never_says_cancelling_keeps_the_deposit(engine, owner_engine, clock):
    """User trial (issue 19): a desk-booked visit (no deposit) inside the window read "No deposit"
    beside "cancelling now keeps the deposit", against its confirmation's "Cancellations are free"."""
    from medspa.domain.scheduling.desk import book_for_client
    from medspa.domain.scheduling.policy import NOTHING_PAID_RULE

    clinic = build_clinic(engine, owner_engine)
    book(engine, clinic, clock, "ana@example.com", at(10))  # makes Ana a client with a portal email
    with clinic.session() as s:
        ana_id = s.exec(select(Client.id).where(Client.email == "ana@example.com")).one()
        desk = book_for_client(s, clinic.system, location_id=clinic.location_id, service_id=clinic.services["botox"],
                               start_at=utc(2026, 7, 2, 14), now=NOW, client_id=ana_id)
        desk_id = desk.id
        s.commit()
    ana = sign_in(clinic, "ana@example.com")
    with clinic.session() as s:
        view = portal.portal_overview(s, ana, now=utc(2026, 7, 2, 1))  # 13 hours before: inside the window
        s.commit()
    card = next(v for v in view.upcoming if v.id == desk_id)
    assert card.deposit == "No deposit"
    assert card.policy == NOTHING_PAID_RULE
