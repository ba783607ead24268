"""A location's late-cancellation deposit rule (issue 13): `late_cancel_keeps_deposit` on (the
default) keeps the deposit of a cancellation inside the window; off, it is refunded however
late. Checked at and around the window's boundary for both settings, through every place that
states or applies the rule: the cancellation (desk and portal), the calendar panel, the
portal's preview, the ledger, the client's messages, the booking page's sentence and the
Locations tab."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.audit.models import AuditEvent
from medspa.domain.clients.service import ClientInput
from medspa.domain.errors import ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.payments.gateway import CardDetails, TestPaymentGateway
from medspa.domain.payments.models import LedgerEntry, Payment
from medspa.domain.portal import service as portal
from medspa.domain.portal.actions import do_cancel_own_visit
from medspa.domain.practice.location_actions import do_update_location, fetch_locations
from medspa.domain.practice.locations import LocationInput
from medspa.domain.scheduling.actions.desk import do_cancel_visit
from medspa.domain.scheduling.actions.online import fetch_clinic
from medspa.domain.scheduling.booking import OnlineBooking, book_online
from medspa.domain.scheduling.detail import appointment_detail
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.policy import cancellation_keeps_deposit, refund_rule_sentence
from medspa.features.booking.flow import location_card
from medspa.features.settings.location_text import details_of, parse_details, policy_line
from tests.conftest import utc
from tests.factories import build_clinic

NY = ZoneInfo("America/New_York")
NOW = utc(2026, 7, 1, 16)
CARD = CardDetails("4242 4242 4242 4242", 12, 2030, "123")
START = datetime.combine(date(2026, 7, 15), time(10), tzinfo=NY).astimezone(timezone.utc)
BOUNDARY = START - timedelta(hours=24)  # exactly the 24-hour window ahead: still free


def _book(engine, clinic, email: str = "ana@example.com") -> Appointment:
    req = OnlineBooking(location_id=clinic.location_id, service_id=clinic.services["botox"], start_at=START,
                        client=ClientInput("Ana", "Silva", email, "(212) 555-0147"), card=CARD)
    clock = FixedClock(NOW)
    return book_online(engine, clinic.public, req, TestPaymentGateway(engine, clock.now), clock)


@pytest.mark.parametrize("keeps", [True, False])
@pytest.mark.parametrize("offset, late", [(-timedelta(minutes=1), False), (timedelta(0), False),
                                          (timedelta(microseconds=1), True), (timedelta(hours=23), True)])
def test_the_desk_cancellation_follows_the_location_rule_around_the_boundary(engine, owner_engine, keeps,
                                                                            offset, late):
    clinic = build_clinic(engine, owner_engine, late_keeps_deposit=keeps)
    appt = _book(engine, clinic)
    moment = BOUNDARY + offset
    kept = late and keeps
    with clinic.session() as s:
        panel = appointment_detail(s, clinic.staff_actor(), appt.id, now=moment)
        preview = portal.cancel_preview(s, Actor.client(clinic.org_id, appt.client_id), appt.id, now=moment)
    result = do_cancel_visit(clinic.staff_actor(), appt.id, clock=FixedClock(moment), engine=engine,
                             gateway=TestPaymentGateway(engine, lambda: moment)).result
    with clinic.session() as s:
        stored = s.get(Appointment, appt.id)
        forfeited = s.exec(select(LedgerEntry).where(LedgerEntry.appointment_id == appt.id,
                                                     LedgerEntry.entry_type == "deposit_forfeited")).all()
        payment = s.exec(select(Payment).where(Payment.appointment_id == appt.id)).one()
        notice = s.exec(select(OutboxMessage.body).where(OutboxMessage.appointment_id == appt.id,
                                                         OutboxMessage.kind == "cancellation_notice",
                                                         OutboxMessage.channel == "email")).one()
        [event] = s.exec(select(AuditEvent).where(AuditEvent.action == "appointment.cancel")).all()
    # the window's "late" is a fact of timing whatever the rule (reports count late cancellations)
    assert (result.late, stored.cancellation_late, event.detail["late"]) == (late, late, late)
    assert (stored.cancellation_keeps_deposit, event.detail["keeps_deposit"]) == (kept, kept)
    assert (panel.cancel_late, preview.late) == (kept, kept)
    assert (result.kept_cents, result.refunded_cents + result.pending_refund_cents) == (
        (5000, 0) if kept else (0, 5000))
    assert (payment.status, len(forfeited)) == (("succeeded", 1) if kept else ("refunded", 0))
    if kept:
        assert panel.cancel_policy == "Inside the 24-hour window: the $50.00 deposit will be kept."
        assert "will be kept" in preview.message
        assert "Your deposit: $50.00 kept (cancelled inside the 24-hour window)." in notice
    else:
        assert "will be refunded" in panel.cancel_policy and "will be refunded" in preview.message
        assert "Your deposit: $50.00 is being refunded to your card." in notice
    if late and not keeps:
        assert panel.cancel_policy == ("Inside the 24-hour window, but this location refunds late cancellations: "
                                       "the $50.00 deposit will be refunded.")


@pytest.mark.parametrize("keeps, message", [
    (True, "Your visit is cancelled. Your deposit of $50.00 was kept."),
    (False, "Your visit is cancelled and your deposit of $50.00 is being refunded.")])
def test_a_late_portal_cancellation_keeps_or_refunds_by_the_rule(engine, owner_engine, keeps, message):
    clinic = build_clinic(engine, owner_engine, late_keeps_deposit=keeps)
    appt = _book(engine, clinic)
    moment = START - timedelta(hours=2)
    ana = Actor.client(clinic.org_id, appt.client_id)
    with clinic.session() as s:
        [card] = portal.portal_overview(s, ana, now=moment).upcoming
    assert card.policy == ("Less than 24 hours before the visit: cancelling now keeps the deposit." if keeps
                           else "Free cancellation until the visit starts: the deposit is refunded.")
    said = do_cancel_own_visit(ana, appt.id, gateway=TestPaymentGateway(engine, lambda: moment),
                               clock=FixedClock(moment), engine=engine)
    assert said == message
    with clinic.session() as s:
        assert s.exec(select(Payment.status).where(Payment.appointment_id == appt.id)).one() == (
            "succeeded" if keeps else "refunded")
        [card] = portal.portal_overview(s, ana, now=moment).cancelled
    assert card.deposit == ("Deposit $50.00 kept (late cancellation)" if keeps else "Deposit $50.00 refunded")


def test_the_rule_in_words_for_the_booking_page_confirmation_and_settings(engine, owner_engine):
    assert refund_rule_sentence(24) == ("Cancellations more than 24 hours ahead are refunded in full. "
                                        "Later ones keep the deposit.")
    assert refund_rule_sentence(0) == "Cancellations before the visit starts are refunded in full."
    assert refund_rule_sentence(24, False) == "Cancellations are refunded in full, however close to the visit."
    assert not cancellation_keeps_deposit(START, 24, False, START - timedelta(minutes=5))
    assert cancellation_keeps_deposit(START, 24, True, START - timedelta(minutes=5))
    clinic = build_clinic(engine, owner_engine, late_keeps_deposit=False)
    appt = _book(engine, clinic)
    with clinic.session() as s:
        confirmation = s.exec(select(OutboxMessage.body).where(OutboxMessage.appointment_id == appt.id,
                                                               OutboxMessage.kind == "booking_confirmation",
                                                               OutboxMessage.channel == "email")).one()
    assert "Cancellations are refunded in full, however close to the visit." in confirmation
    owner = clinic.staff_actor("owner")
    do_update_location(owner, clinic.location_id, LocationInput("Main", "America/New_York", "1 Main St",
                                                                "(212) 555-0123", 48, True), engine=engine)
    [loc] = fetch_clinic(clinic.slug, engine=engine).locations
    assert (loc.late_cancel_keeps_deposit, loc.policy, loc.phone) == (
        True, "Cancellations more than 48 hours ahead are refunded in full. Later ones keep the deposit.",
        "+12125550123")
    card = location_card(loc)
    assert (card.phone, card.phone_href, card.policy) == ("(212) 555-0123", "tel:+12125550123", loc.policy)
    [row] = fetch_locations(owner, now=NOW, engine=engine)
    assert row.late_cancel_keeps_deposit is True
    assert policy_line(row) == "Free cancellation until 48 h before; later ones keep the deposit"
    assert details_of(row)["late_cancel_keeps_deposit"] == "true"


def test_the_locations_tab_switches_the_rule_audited(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    owner = clinic.staff_actor("owner")
    data, errors = parse_details({"name": "Main", "time_zone": "America/New_York", "address": "", "phone": "",
                                  "cancellation_window_hours": "24", "late_cancel_keeps_deposit": "false"})
    assert errors == {} and data.late_cancel_keeps_deposit is False
    row = do_update_location(owner, clinic.location_id, data, engine=engine)
    assert row.late_cancel_keeps_deposit is False
    assert policy_line(row) == "Deposit refunded on any cancellation"
    with clinic.session() as s:
        [event] = s.exec(select(AuditEvent).where(AuditEvent.action == "location.update")).all()
    assert event.detail["changes"] == {"late_cancel_keeps_deposit": [True, False]}
    assert parse_details({"cancellation_window_hours": "24", "late_cancel_keeps_deposit": "maybe"}) == (
        None, {"late_cancel_keeps_deposit": "Choose keep or refund"})
    with pytest.raises(ValidationFailed) as exc:
        do_update_location(owner, clinic.location_id, LocationInput("Main", "America/New_York",
                                                                    late_cancel_keeps_deposit="no"), engine=engine)
    assert exc.value.fields == {"late_cancel_keeps_deposit": "Choose whether a late cancellation keeps the deposit"}


@pytest.mark.parametrize("keeps, outcome, status", [(True, "kept", "succeeded"), (False, "refunded", "refunded")])
def test_reconciliation_settles_a_late_cancellation_by_the_rule_of_its_time(engine, owner_engine, keeps, outcome,
                                                                           status):
    """A deposit left unsettled by its cancellation (its payment was still open then) follows
    the decision stored with the cancellation (appointment.cancellation_keeps_deposit), even
    when the location's rule changed since."""
    from medspa.domain.payments.reconcile import settle_payment
    from medspa.domain.practice.models import Location
    from medspa.domain.scheduling.service import cancel_appointment

    clinic = build_clinic(engine, owner_engine, late_keeps_deposit=keeps)
    appt = _book(engine, clinic)
    moment = START - timedelta(hours=3)
    with clinic.session() as s:  # the cancellation alone (no settlement), as when the payment was still open
        assert cancel_appointment(s, clinic.staff_actor(), appt.id, now=moment).keeps_deposit is keeps
        s.get(Location, clinic.location_id).late_cancel_keeps_deposit = not keeps  # the rule changes later
        s.commit()
    with clinic.session() as s:
        payment = s.exec(select(Payment).where(Payment.appointment_id == appt.id).with_for_update()).one()
        assert settle_payment(s, clinic.system, payment, TestPaymentGateway(engine, lambda: moment), moment) == outcome
        s.commit()
        assert s.exec(select(Payment.status).where(Payment.appointment_id == appt.id)).one() == status


def _change_rule(clinic, window: int, keeps: bool) -> None:
    from medspa.domain.practice.models import Location

    with clinic.session() as s:  # what the Locations tab's form writes
        loc = s.get(Location, clinic.location_id)
        loc.cancellation_window_hours, loc.late_cancel_keeps_deposit = window, keeps
        s.commit()


@pytest.mark.parametrize("window, keeps", [(72, True), (72, False), (24, True)])
def test_a_wider_window_set_after_booking_does_not_make_a_free_cancellation_late(engine, owner_engine, window,
                                                                                 keeps):
    """Booked under 24 hours / keep; the location then widens its window to 72 hours (or changes
    nothing): cancelling 48 hours ahead stays free, as the confirmation said."""
    clinic = build_clinic(engine, owner_engine, late_keeps_deposit=True)
    appt = _book(engine, clinic)
    with clinic.session() as s:
        booked = s.get(Appointment, appt.id)
        assert (booked.booked_window_hours, booked.booked_late_keeps_deposit) == (24, True)
    _change_rule(clinic, window, keeps)
    moment = START - timedelta(hours=48)
    with clinic.session() as s:
        panel = appointment_detail(s, clinic.staff_actor(), appt.id, now=moment)
        preview = portal.cancel_preview(s, Actor.client(clinic.org_id, appt.client_id), appt.id, now=moment)
        [card] = portal.portal_overview(s, Actor.client(clinic.org_id, appt.client_id), now=moment).upcoming
    assert panel.cancel_policy == "More than 24 hours ahead: the $50.00 deposit will be refunded."
    assert (panel.cancel_late, preview.late) == (False, False)
    assert card.policy.startswith("Free cancellation until")
    result = do_cancel_visit(clinic.staff_actor(), appt.id, clock=FixedClock(moment), engine=engine,
                             gateway=TestPaymentGateway(engine, lambda: moment)).result
    assert (result.late, result.kept_cents) == (False, 0)
    with clinic.session() as s:
        assert s.exec(select(Payment.status).where(Payment.appointment_id == appt.id)).one() == "refunded"


def test_a_kinder_rule_set_after_booking_applies_too(engine, owner_engine):
    """Booked under 24 hours / keep; the location then shortens its window to 12 hours: a
    cancellation 18 hours ahead is free under the current rule, and the kinder rule decides."""
    clinic = build_clinic(engine, owner_engine, late_keeps_deposit=True)
    appt = _book(engine, clinic)
    _change_rule(clinic, 12, True)
    moment = START - timedelta(hours=18)
    ana = Actor.client(clinic.org_id, appt.client_id)
    said = do_cancel_own_visit(ana, appt.id, gateway=TestPaymentGateway(engine, lambda: moment),
                               clock=FixedClock(moment), engine=engine)
    assert said == "Your visit is cancelled and your deposit of $50.00 is being refunded."
    with clinic.session() as s:
        stored = s.get(Appointment, appt.id)
    assert (stored.cancellation_late, stored.cancellation_keeps_deposit) == (False, False)


def test_a_late_cancellation_after_a_narrower_window_keeps_the_deposit_with_the_booked_window(engine,
                                                                                           owner_engine):
    """Booked under 24 hours / keep; the window then grows to 48 hours: cancelling 2 hours ahead
    is late under both, the deposit is kept and the notice names the 24-hour window it was booked with."""
    clinic = build_clinic(engine, owner_engine, late_keeps_deposit=True)
    appt = _book(engine, clinic)
    _change_rule(clinic, 48, True)
    moment = START - timedelta(hours=2)
    result = do_cancel_visit(clinic.staff_actor(), appt.id, clock=FixedClock(moment), engine=engine,
                             gateway=TestPaymentGateway(engine, lambda: moment)).result
    assert (result.late, result.kept_cents) == (True, 5000)
    with clinic.session() as s:
        notice = s.exec(select(OutboxMessage.body).where(OutboxMessage.appointment_id == appt.id,
                                                         OutboxMessage.kind == "cancellation_notice",
                                                         OutboxMessage.channel == "email")).one()
    assert "Your deposit: $50.00 kept (cancelled inside the 24-hour window)." in notice


def test_migration_0033_gives_existing_visits_their_locations_rule_and_refolds_names(db_urls, engine,
                                                                                     owner_engine):
    """Downgraded to 0032 (no booked rule, names folded with their apostrophes), a visit booked
    then and an O'Brien; upgraded: the visit carries its location's current rule (36 hours,
    refund) and "obrien" finds the client."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from medspa import migrate
    from medspa.domain.clients.search import list_clients
    from medspa.domain.clients.service import create_client
    from medspa.settings import PROJECT_ROOT

    clinic = build_clinic(engine, owner_engine)
    with clinic.session() as s:
        create_client(s, clinic.system, ClientInput("Siobhan", "O'Brien", "sio@example.com", ""))
        s.commit()
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    config.attributes["urls"] = db_urls
    command.downgrade(config, "0032")
    try:
        with owner_engine.begin() as conn:
            conn.execute(text("select set_config('app.org_id', :org, true)"), {"org": str(clinic.org_id)})
            assert conn.execute(text("select search_name from client_search where org_id = :org"),
                                {"org": clinic.org_id}).scalars().all() == ["siobhan o'brien"]
            conn.execute(text("update location set cancellation_window_hours = 36, late_cancel_keeps_deposit = false "
                              "where org_id = :org"), {"org": clinic.org_id})
            loc, svc, prov = conn.execute(text(
                "select l.id, s.id, m.id from location l, service s, staff_member m "
                "where l.org_id = :org and s.org_id = :org and m.org_id = :org and s.name = 'Botox' limit 1"),
                {"org": clinic.org_id}).one()
            appt_id = conn.execute(text(
                "insert into appointment (org_id, display_code, booking_token, location_id, service_id, provider_id, "
                "start_at, end_at, status, price_cents, deposit_cents, currency, source, notes, created_at) "
                "values (:org, 'MIG33AAA', 'mig-0033-token', :loc, :svc, :prov, '2026-07-20 14:00+00', "
                "'2026-07-20 14:30+00', 'confirmed', 35000, 0, 'USD', 'staff', '', now()) returning id"),
                {"org": clinic.org_id, "loc": loc, "svc": svc, "prov": prov}).scalar()
    finally:
        migrate.upgrade(*db_urls)
    with clinic.session() as s:
        stored = s.get(Appointment, appt_id)
        assert (stored.booked_window_hours, stored.booked_late_keeps_deposit) == (36, False)
        page = list_clients(s, org_id=clinic.org_id, now=NOW, query="obrien")
    assert [r.name for r in page.rows] == ["Siobhan O'Brien"]
