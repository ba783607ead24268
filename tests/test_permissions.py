"""The role x action matrix, generated from the one permission table.

Every action in medspa/domain/identity/permissions.ROLE_PERMISSIONS has an entry point here:
a real service call that checks it. For every (role, action) pair the call must succeed when
the table grants it and be refused (PermissionDenied, or NotFound: missing and forbidden
look alike) when it does not. Each call runs in its own transaction, rolled back.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from itertools import product
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.practice.profile import remove_logo
from medspa.domain.analytics.service import no_show_rate
from medspa.domain.audit.query import search_audit
from medspa.domain.catalog.service import list_services
from medspa.domain.clients.import_file import ImportTable
from medspa.domain.clients.import_service import review_import
from medspa.domain.clients.merge import merge_clients
from medspa.domain.clients.service import ClientInput, create_client, find_or_create_client, get_client
from medspa.domain.clinical import inventory, recall
from medspa.domain.clinical.photos import LocalMediaStore, add_photo, open_photo
from medspa.domain.clinical.product_models import Product, ProductLot
from medspa.domain.clinical.forms import submit_form, visit_answers
from medspa.domain.clinical.health_record import read_history, update_history
from medspa.domain.clinical.chart_review import review_queue
from medspa.domain.clinical.service import LineInput, get_chart, save_chart
from medspa.domain.practice.models import Organization
from medspa.domain.clinical.documents import list_documents
from medspa.domain.clinical.lab_tests import LabTest, ensure_builtin_tests
from medspa.domain.clinical.order_reads import client_orders, worklist
from medspa.domain.clinical.orders import mark_collected, place_order
from medspa.domain.errors import NotFound
from medspa.domain.identity.staff_admin import revoke_user_sessions
from medspa.domain.identity.actor import Actor, PermissionDenied
from medspa.domain.identity.permissions import ROLE_PERMISSIONS, has_permission
from medspa.domain.identity.service import create_user
from medspa.domain.messaging import campaigns
from medspa.domain.messaging.inbound import read_client_texts
from medspa.domain.messaging.outbox import read_message
from medspa.domain.messaging.service import list_outbox
from medspa.domain.payments.disputes import open_disputes
from medspa.domain.payments.checkout import open_checkout
from medspa.domain.payments.gateway import CardDetails, TestPaymentGateway
from medspa.domain.payments.service import issue_refund, succeeded_deposit
from medspa.domain.queue.service import list_failed_jobs
from medspa.domain.portal.service import cancel_preview, portal_overview, set_marketing_consent
from medspa.domain.practice.service import add_location, list_locations
from medspa.domain.scheduling.availability import find_slots
from medspa.domain.scheduling.booking import OnlineBooking, book_online
from medspa.domain.scheduling.calendar import appointment_detail, calendar_day
from medspa.domain.scheduling.desk import book_for_client
from medspa.domain.scheduling.service import add_block, cancel_appointment, change_status, hold_slot
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.reschedule import VisitChange, move_visit
from medspa.domain.waitlist.entries import entries_for_day
from tests.conftest import utc
from tests.factories import build_clinic

NY = ZoneInfo("America/New_York")
NOW = utc(2026, 7, 1, 16)
DAY = date(2026, 7, 15)
ROLES = sorted(ROLE_PERMISSIONS)
ACTIONS = sorted(set().union(*ROLE_PERMISSIONS.values()))


def ny(h: int, m: int = 0) -> datetime:
    return datetime.combine(DAY, time(h, m), tzinfo=NY).astimezone(timezone.utc)


@dataclass
class World:
    clinic: object
    client_id: int
    other_client_id: int
    appointment_id: int
    payment_id: int
    user_id: int
    photo_id: int
    media: LocalMediaStore


@pytest.fixture(scope="module")
def world(engine, owner_engine, tmp_path_factory) -> World:
    clinic = build_clinic(engine, owner_engine, providers=2)
    clock = FixedClock(NOW)
    appt = book_online(engine, clinic.public, OnlineBooking(
        location_id=clinic.location_id, service_id=clinic.services["botox"], start_at=ny(10),
        client=ClientInput("Mira", "Lopez", "mira@example.com", "+12125550150"),
        card=CardDetails("4242424242424242", 12, 2030, "123")), TestPaymentGateway(engine, clock.now), clock)
    with clinic.session() as s:
        other = find_or_create_client(s, clinic.system, ClientInput("Otto", "Berg", "otto@example.com",
                                                                     "+12125550151"))
        user = create_user(s, clinic.system, email=f"matrix-{clinic.slug}@example.com",
                           password="a long enough passphrase", role="front_desk")
        s.commit()
        pay = succeeded_deposit(s, appt.id)
        media = LocalMediaStore(tmp_path_factory.mktemp("media"))
        photo = add_photo(s, Actor(org_id=clinic.org_id, role="provider", label="matrix setup"), appt.id,
                          _JPEG, "before", NOW, media)
        s.commit()
        return World(clinic, appt.client_id, other.id, appt.id, pay.id, user.id, photo.id, media)


def _jpeg() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 180, 170)).save(out, "JPEG")
    return out.getvalue()


_JPEG = _jpeg()


def actor_for(role: str, w: World, *, own: bool = True) -> Actor:
    if role == "client":
        return Actor.client(w.clinic.org_id, w.client_id if own else w.other_client_id)
    return Actor(org_id=w.clinic.org_id, role=role, label=f"matrix {role}")


def _token(s, w: World) -> str:
    """The manage link's token of the world's visit (what a visitor holds)."""
    return s.get(Appointment, w.appointment_id).booking_token


def _cancel_own(s, a: Actor, w: World):
    """A visitor cancels with the manage link's token; a client through the portal's path."""
    if a.role == "public":
        return cancel_appointment(s, a, w.appointment_id, now=NOW, token=_token(s, w))
    return cancel_preview(s, a, w.appointment_id, now=NOW)


def gateway(w: World):
    return TestPaymentGateway(w.clinic.engine, lambda: NOW)


def _review_queue(s, a, w):
    """The medical director's queue (issue 18), read by the clinic's director (a prescriber)."""
    director = w.clinic.provider_ids[1]
    s.get(Organization, w.clinic.org_id).medical_director_id = director
    s.flush()
    return review_queue(s, dataclasses.replace(a, staff_id=director), NOW)


ENTRY_POINTS = {
    "calendar.read": lambda s, a, w: calendar_day(s, a, location_id=w.clinic.location_id, day=DAY, now=NOW),
    "availability.read": lambda s, a, w: find_slots(s, a, location_id=w.clinic.location_id,
                                                    service_id=w.clinic.services["botox"], start_date=DAY,
                                                    end_date=DAY, now=NOW),
    "catalog.read": lambda s, a, w: list_services(s, a),
    "practice.read": lambda s, a, w: list_locations(s, a),
    "settings.write": lambda s, a, w: add_location(s, a, "Annex", "America/New_York"),
    "appointment.book": lambda s, a, w: book_for_client(s, a, location_id=w.clinic.location_id,
                                                        service_id=w.clinic.services["botox"], start_at=ny(14),
                                                        now=NOW, client_id=w.other_client_id),
    "appointment.book_online": lambda s, a, w: hold_slot(s, a, location_id=w.clinic.location_id,
                                                         service_id=w.clinic.services["botox"], start_at=ny(15),
                                                         now=NOW, online=True),
    "appointment.check_in": lambda s, a, w: change_status(s, a, w.appointment_id, "check_in", now=ny(9, 55)),
    "appointment.update_status": lambda s, a, w: change_status(s, a, w.appointment_id, "no_show", now=ny(10, 40)),
    "appointment.cancel": lambda s, a, w: cancel_appointment(s, a, w.appointment_id, now=NOW),
    "appointment.cancel_own": lambda s, a, w: _cancel_own(s, a, w),
    "appointment.reschedule": lambda s, a, w: move_visit(s, a, w.appointment_id, VisitChange(start_at=ny(16)),
                                                         now=NOW, online=False),
    "appointment.reschedule_own": lambda s, a, w: move_visit(s, a, w.appointment_id, VisitChange(start_at=ny(11)),
                                                             now=NOW, online=True, token=_token(s, w)),
    "block.write": lambda s, a, w: add_block(s, a, staff_id=w.clinic.provider_ids[1], start_at=ny(16),
                                             end_at=ny(16, 30), now=NOW),
    "client.read": lambda s, a, w: get_client(s, a, w.client_id),
    "client.write": lambda s, a, w: create_client(s, a, ClientInput("New", "Person", "", "")),
    "outbox.read": lambda s, a, w: list_outbox(s, a),
    "outbox.manage": lambda s, a, w: read_message(s, a, _confirmation(s, w), now=NOW, time_zone="America/New_York",
                                                  mail_enabled=False),
    "refund.issue": lambda s, a, w: issue_refund(s, a, w.payment_id, gateway(w), now=NOW, reason="matrix"),
    "payment.take": lambda s, a, w: _checkout(s, a, w),
    "report.read": lambda s, a, w: no_show_rate(s, a, start=DAY, end=DAY, location_id=None, now=NOW),
    "jobs.read": lambda s, a, w: list_failed_jobs(s, a),
    "dispute.read": lambda s, a, w: open_disputes(s, a),
    "client.merge": lambda s, a, w: merge_clients(s, a, w.client_id, w.other_client_id, NOW),
    "client.import": lambda s, a, w: review_import(s, a, ImportTable(["First", "Last"], [["Ana", "Lima"]], "utf-8", ","),
                                                   {"first_name": 0, "last_name": 1}, "dmy", None, NOW),
    "audit.read": lambda s, a, w: search_audit(s, a, time_zone="America/New_York", now=NOW),
    "staff.manage": lambda s, a, w: revoke_user_sessions(s, a, w.user_id, now=NOW),
    "clinic.manage": lambda s, a, w: remove_logo(s, a, now=NOW),
    "portal.self.read": lambda s, a, w: portal_overview(s, a, now=NOW),
    "portal.self.write": lambda s, a, w: set_marketing_consent(s, a, email=True, sms=False, now=NOW),
    "chart.read": lambda s, a, w: get_chart(s, a, w.appointment_id, now=NOW),
    "chart.write": lambda s, a, w: save_chart(s, a, w.appointment_id, [LineInput("Botox", "C3709C3", "20", "glabella")],
                                              "matrix", now=NOW),
    "photo.read": lambda s, a, w: open_photo(s, a, w.photo_id, NOW, w.media),
    "photo.write": lambda s, a, w: add_photo(s, a, w.appointment_id, _JPEG, "after", NOW, w.media),
    "fee.waive": lambda s, a, w: _waive(s, a, w),
    "waitlist.manage": lambda s, a, w: entries_for_day(s, a, w.clinic.location_id, DAY),
    "form.read": lambda s, a, w: visit_answers(s, a, w.appointment_id, now=NOW),
    "form.fill": lambda s, a, w: submit_form(s, a, w.appointment_id, "neuromodulator", {
        "areas": "Forehead", "previous_toxin": "no", "neuromuscular": "no", "blood_thinners": "no"},
        source="tablet", now=NOW),
    "consent.manage": lambda s, a, w: _edit_consent(s, a),
    "consent.collect": lambda s, a, w: _collect_consent(s, a, w),
    "consent.read": lambda s, a, w: _read_consent(s, a, w),
    "history.read": lambda s, a, w: read_history(s, a, w.client_id, NOW),
    "chart.cosign": lambda s, a, w: _review_queue(s, a, w),
    "history.write": lambda s, a, w: update_history(s, a, w.client_id, {"goals": {"text": "matrix"}}, NOW),
    "inbound.read": lambda s, a, w: read_client_texts(s, a, w.client_id, now=NOW),
}


def _edit_consent(s, a):
    from medspa.domain.clinical.consent import edit_template, ensure_templates

    tid = ensure_templates(s, a.org_id, NOW)["peel"]
    return edit_template(s, a, tid, "Consent to chemical peel", "A new text for the matrix test, long enough.", NOW)


def _collect_consent(s, a, w):
    """A staff member hands the tablet to the world's client (a portal client signs their own
    record with portal.self.write, checked in tests/test_consent.py)."""
    from medspa.domain.clinical.consent_signing import consents_to_sign, sign_consent

    if a.role == "client":
        raise NotFound("consent")  # a client signs in the portal, not on the staff tablet
    item = consents_to_sign(s, a, w.client_id, NOW, appointment_id=w.appointment_id)[0]
    return sign_consent(s, a, w.client_id, item.version_id, item.sha256, method="typed", typed_name="Mira Lopez",
                        appointment_id=w.appointment_id, now=NOW, store=w.media)


def _read_consent(s, a, w):
    """Staff read the signed list; a client's own reads are portal.self.read (tests/test_consent.py)."""
    from medspa.domain.clinical.consent_signing import client_signatures

    if a.role == "client":
        raise NotFound("consent")
    return client_signatures(s, a, w.client_id, NOW)
def _a_test(s, w) -> int:
    ensure_builtin_tests(s, w.clinic.org_id, NOW)
    return s.exec(select(LabTest.id).order_by(LabTest.id)).first()


def _collect(s, a, w):
    """order.result.write: a provider's fresh order (rolled back with the call) marked collected by `a`."""
    by = Actor(org_id=w.clinic.org_id, role="provider", label="matrix setup")
    return mark_collected(s, a, place_order(s, by, w.client_id, _a_test(s, w), NOW).id, NOW)


ENTRY_POINTS.update({
    "document.read": lambda s, a, w: list_documents(s, a, NOW, client_id=w.client_id),
    "order.write": lambda s, a, w: place_order(s, a, w.client_id, _a_test(s, w), NOW),
    "result.read": lambda s, a, w: client_orders(s, a, w.client_id, NOW),
    "order.worklist.read": lambda s, a, w: worklist(s, a, NOW),
    "order.result.write": _collect,
})


def _waive(s, a, w):
    """The system marks the visit a no-show under a no-show fee (same rolled-back transaction),
    then the actor waives the fee."""
    from medspa.domain.payments.fees import apply_policy_fee, waive_fee
    from medspa.domain.practice.models import Location

    loc = s.get(Location, w.clinic.location_id)
    loc.no_show_fee_kind, loc.no_show_fee_amount = "flat", 2500
    appt = change_status(s, w.clinic.system, w.appointment_id, "no_show", now=ny(10, 40))
    appt.booked_no_show_fee_cents = 2500  # booked under the fee (NULL: never recorded, no fee)
    applied = apply_policy_fee(s, w.clinic.system, appt, "no_show", now=ny(10, 40))
    return waive_fee(s, a, applied.fee_id, "matrix", now=ny(10, 40))


def _confirmation(s, w) -> int:
    """The booking's confirmation email (the system reads its id: outbox.read)."""
    return next(m.id for m in list_outbox(s, w.clinic.system, limit=200)
                if m.client_id == w.client_id and m.kind == "booking_confirmation" and m.channel == "email")


def _checkout(s, a, w):
    """The visit is checked in by the system first (same rolled-back transaction), then the
    actor opens its checkout with the test card (checkout's first transaction: the checks and
    the pending balance payment; the charge happens after it commits, so not here)."""
    change_status(s, w.clinic.system, w.appointment_id, "check_in", now=ny(9, 55))
    return open_checkout(s, a, w.appointment_id, gateway=gateway(w), now=ny(10, 40),
                         card=CardDetails("4242424242424242", 12, 2030, "123"))


def _contact_visible(s, a, w) -> None:
    detail = appointment_detail(s, a, w.appointment_id, now=NOW)
    if not (detail.client_phone or detail.client_email):
        raise PermissionDenied("client.contact.read")  # shown only with the permission


ENTRY_POINTS["client.contact.read"] = _contact_visible


def _a_lot(s, w) -> int:
    """A Botox product and a lot, written directly (same rolled-back transaction)."""
    p = Product(org_id=w.clinic.org_id, name="Botox", category="neuromodulator", unit="units", units_per_vial=100,
                beyond_use_hours=24, created_at=NOW)
    s.add(p)
    s.flush()
    lot = ProductLot(org_id=w.clinic.org_id, product_id=p.id, lot_number="C3709C3", expires_on=date(2027, 1, 31),
                     received_tenths=1000, received_at=NOW)
    s.add(lot)
    s.flush()
    return lot.id


ENTRY_POINTS.update({
    "product.read": lambda s, a, w: inventory.list_products(s, a, NOW),
    "product.manage": lambda s, a, w: inventory.save_product(
        s, a, None, inventory.ProductInput("Dysport", "Galderma", "neuromodulator", "units", "300"), NOW),
    "vial.open": lambda s, a, w: inventory.open_vial(s, a, _a_lot(s, w), "2.5", NOW),
    "recall.read": lambda s, a, w: recall.lot_recall(s, a, _a_lot(s, w), NOW),
    "campaign.manage": lambda s, a, w: campaigns.save_draft(s, a, None, campaigns.CampaignInput(
        "Spring", "all_consenting", {}, "email", "Hi {{ client.first_name }}", "Spring offers"), NOW),
})
# the client's own-record rights are exercised by the client who owns the record; for
# "appointment.cancel" the client is someone else's (their own visit goes through cancel_own)
NOT_OWN = {"appointment.cancel"}


def test_every_action_in_the_table_has_an_entry_point():
    assert set(ACTIONS) == set(ENTRY_POINTS), set(ACTIONS) ^ set(ENTRY_POINTS)


@pytest.mark.parametrize(("role", "action"), list(product(ROLES, ACTIONS)))
def test_role_action_matrix(world: World, role: str, action: str):
    actor = actor_for(role, world, own=action not in NOT_OWN)
    allowed = has_permission(role, action)
    with world.clinic.session() as s:
        try:
            ENTRY_POINTS[action](s, actor, world)
            outcome = "allowed"
        except (PermissionDenied, NotFound):
            outcome = "denied"
        finally:
            s.rollback()
    assert outcome == ("allowed" if allowed else "denied"), (role, action)


# every read of protected health information leaves exactly one audit row (action written)
PHI_READS = {"client.read": "client.read", "client.contact.read": "appointment.read",
             "calendar.read": "calendar.read", "portal.self.read": "portal.view", "audit.read": "audit.search",
             "chart.read": "chart.read", "photo.read": "photo.read", "outbox.manage": "outbox.message.read",
             "form.read": "form.read",
             "consent.read": "consent.read",
             "document.read": "document.read", "result.read": "result.read",
             "order.worklist.read": "order.worklist.read",
             "history.read": "history.read", "recall.read": "recall.read", "inbound.read": "inbound.read"}


@pytest.mark.parametrize(("role", "action"), [(r, a) for r in ROLES for a in PHI_READS if has_permission(r, a)])
def test_each_phi_read_leaves_exactly_one_audit_row(world: World, role: str, action: str):
    from dataclasses import replace

    from sqlalchemy import text

    actor = actor_for(role, world)
    if role != "client":
        actor = replace(actor, user_id=10_000 + ROLES.index(role))  # a signed-in person, not a live push
    with world.clinic.session() as s:
        before = s.execute(text("select coalesce(max(id), 0) from audit_event")).scalar()
        ENTRY_POINTS[action](s, actor, world)
        s.flush()
        rows = s.execute(text("select action, actor_role from audit_event where id > :b"), {"b": before}).all()
        s.rollback()
    assert [r for r in rows if r.action == PHI_READS[action]] == [(PHI_READS[action], role)]


def test_the_lab_reads_its_worklist_but_not_the_calendar_and_lands_on_lab():
    """Trial finding: lab@ landed on /calendar and read the whole day (client names, treatments,
    health flags). The lab needs only /lab (order.worklist.read, order.result.write) and the
    practice's locations (practice.read); nothing it uses needs calendar.read."""
    from medspa.web.auth import HOME_PATH, home_for

    assert not has_permission("lab", "calendar.read")
    assert has_permission("lab", "order.worklist.read") and has_permission("lab", "practice.read")
    assert home_for("lab", HOME_PATH) == "/lab"
    assert home_for("lab", "/lab?x=1") == "/lab?x=1"  # an explicit `next` is kept
    assert home_for("front_desk", HOME_PATH) == HOME_PATH == "/calendar"
