"""Issue 14 part 3, merging two records of one client: every kind of client row follows (one
registry, checked against the live catalog so a later table cannot be forgotten), the
survivor's empty fields are filled, the absorbed record is hidden and redirects, the merge is
audited and undone within its window, exactly."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy import func, text
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.audit.models import AuditEvent
from medspa.domain.clinical.forms import submit_form
from medspa.domain.clients.merge import CLIENT_ROWS, KEPT_ON_MERGE, MERGE_UNDO_DAYS, live_client_id
from medspa.domain.clients.merge_actions import do_merge_clients, do_undo_merge
from medspa.domain.clients.models import Client
from medspa.domain.clients.search import list_clients
from medspa.domain.clients.service import ClientInput, find_or_create_client, search_clients
from medspa.domain.clinical.documents import ClientDocument
from medspa.domain.clinical.product_models import LotUsage, Product, ProductLot
from medspa.domain.clinical.signing_models import PrescriberOrder
from medspa.domain.messaging.engage_models import InboundMessage
from medspa.domain.clinical.lab_tests import list_tests
from medspa.domain.clinical.orders import place_order
from medspa.domain.clinical.health_models import HealthOverride
from medspa.domain.clinical.medical_history import record_history
from medspa.domain.clinical.photos import LocalMediaStore, add_photo
from medspa.domain.clinical.models import TreatmentNote
from medspa.domain.clinical.service import LineInput, save_chart, sign_chart
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor, PermissionDenied
from medspa.domain.payments.gateway import CardDetails, TestPaymentGateway
from medspa.domain.payments.models import CardSetup, PolicyFee, SavedCard
from medspa.domain.scheduling.booking import OnlineBooking, book_online
from medspa.domain.scheduling.models import AppointmentSeries
from medspa.domain.waitlist.entries import WishInput, add_entry
from tests.conftest import utc
from tests.consent_support import sign_required_consents
from tests.factories import build_clinic
from tests.test_handler_matrix import world  # noqa: F401  (fixture)
from tests.test_handlers import app_settings  # noqa: F401  (fixture)

NY = ZoneInfo("America/New_York")
NOW = utc(2026, 7, 1, 16)
CARD = CardDetails("4242424242424242", 12, 2030, "123")


def ny(day: int, hour: int) -> datetime:
    return datetime.combine(date(2026, 7, day), time(hour), tzinfo=NY).astimezone(timezone.utc)


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 180, 170)).save(out, "JPEG")
    return out.getvalue()


def test_every_column_naming_a_client_is_in_the_registry(owner_engine):
    """A table added later that names a client must say what a merge does with it."""
    with owner_engine.connect() as conn:
        named = set(conn.execute(text("""
            select c.table_name || '.' || c.column_name
              from information_schema.columns c
              join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
             where c.table_schema = 'public' and t.table_type = 'BASE TABLE' and c.column_name = 'client_id'
            union
            select cl.relname || '.' || a.attname
              from pg_constraint k
              join pg_class cl on cl.oid = k.conrelid
              join pg_attribute a on a.attrelid = k.conrelid and a.attnum = any (k.conkey)
             where k.contype = 'f' and k.confrelid = 'public.client'::regclass
        """)).scalars())
    registered = {rows.key for rows in CLIENT_ROWS} | set(KEPT_ON_MERGE)
    assert named == registered, {"not registered": named - registered, "gone": registered - named}


@pytest.fixture
def two_records(engine, owner_engine, tmp_path):
    """One person booked twice under two records: Mia Wong (mia@...) and M. Wong, whose visit
    has a signed chart and a photo."""
    clinic = build_clinic(engine, owner_engine)
    clock = FixedClock(NOW)
    gateway = TestPaymentGateway(engine, clock.now)
    first = book_online(engine, clinic.public, OnlineBooking(
        location_id=clinic.location_id, service_id=clinic.services["botox"], start_at=ny(15, 10),
        client=ClientInput("Mia", "Wong", "mia@example.com", "+12125550150"), card=CARD), gateway, clock)
    second = book_online(engine, clinic.public, OnlineBooking(
        location_id=clinic.location_id, service_id=clinic.services["botox"], start_at=ny(16, 11),
        client=ClientInput("M.", "Wong", "m.wong@work.example", "+12125550177",
                           email_marketing_consent=True), card=CARD), gateway, clock)
    provider = Actor(org_id=clinic.org_id, role="provider", label="nurse", staff_id=clinic.provider_ids[0])
    sign_required_consents(clinic, second.id)  # a signed consent (append-only) follows its client too
    with clinic.session() as s:
        s.get(Client, second.client_id).date_of_birth = date(1990, 3, 4)
        save_chart(s, provider, second.id, [LineInput("Botox", "C3709C3", "20", "glabella")], "ok", now=NOW)
        signed = sign_chart(s, provider, second.id, NOW)  # signed: read-only, but it follows its client
        product = Product(org_id=clinic.org_id, name="Botox", category="neuromodulator", unit="units",
                          created_at=NOW)  # what left a lot follows the client (issue 18: recall)
        s.add(product)
        s.flush()
        lot = ProductLot(org_id=clinic.org_id, product_id=product.id, lot_number="C3709C3",
                         expires_on=date(2027, 1, 1), received_tenths=1000, received_at=NOW)
        s.add(lot)
        s.flush()
        s.add(LotUsage(org_id=clinic.org_id, lot_id=lot.id, product_id=product.id, client_id=second.client_id,
                       appointment_id=second.id, note_id=signed.note_id, quantity_tenths=200, created_at=NOW))
        s.add(PrescriberOrder(org_id=clinic.org_id, client_id=second.client_id,  # an exam/order (issue 18)
                              prescriber_id=clinic.provider_ids[0], scope="all", examined_at=NOW,
                              valid_until=NOW + timedelta(days=365), created_at=NOW))
        s.add(InboundMessage(org_id=clinic.org_id, client_id=second.client_id, from_address="+14155550199",
                             to_address="+14155550100", body="Running 10 min late", received_at=NOW,
                             flagged=True))  # a text the client sent (issue 19)
        add_photo(s, provider, second.id, _jpeg(), "before", NOW, LocalMediaStore(tmp_path / "media"))
        card = SavedCard(org_id=clinic.org_id, client_id=second.client_id, gateway="test",  # card on file (issue 16)
                         payment_method_id="pm_test_wong", brand="visa", last4="4242", exp_month=1, exp_year=2030)
        s.add(card)
        s.flush()
        s.add(CardSetup(org_id=clinic.org_id, client_id=second.client_id, appointment_id=second.id, gateway="test",
                        idempotency_key=f"setup-{second.id}-attempt-1", status="succeeded", saved_card_id=card.id))
        s.add(PolicyFee(org_id=clinic.org_id, appointment_id=second.id, client_id=second.client_id,  # a fee (issue 16)
                        kind="no_show", status="unpaid_needs_action", fee_cents=2500, charge_cents=2500,
                        reason="No card on file"))
        s.add(AppointmentSeries(org_id=clinic.org_id, location_id=clinic.location_id,  # a series (issue 16)
                                service_id=clinic.services["botox"], provider_id=clinic.provider_ids[0],
                                client_id=second.client_id, rrule="FREQ=WEEKLY;COUNT=4",
                                dtstart_local=datetime(2026, 7, 16, 11), time_zone=clinic.time_zone))
        add_entry(s, clinic.system, second.client_id, WishInput(  # a waitlist wish follows its client too
            clinic.location_id, clinic.services["facial"], None, date(2026, 7, 20), date(2026, 7, 24), time(9),
            time(12)), source="desk", now=NOW)
        submit_form(s, Actor.client(clinic.org_id, second.client_id), second.id, "neuromodulator",  # issue 17
                    {"areas": "Forehead", "previous_toxin": "no", "neuromuscular": "no", "blood_thinners": "no"},
                    source="portal", now=NOW)
        s.add(ClientDocument(org_id=clinic.org_id, client_id=second.client_id, title="Rx", kind="prescription",  # issue 17
                             storage_key=f"org-{clinic.org_id}/documents/merge-test.pdf", content_type="application/pdf",
                             bytes=10, sha256="0" * 64, uploaded_by_client=True, created_at=NOW))
        place_order(s, provider, second.client_id, list_tests(s, provider, NOW)[0].id, NOW)  # an ordered test (issue 17)
        record_history(s, second.client_id, {"allergies": [{"agent": "lidocaine", "reaction": ""}]},  # issue 17
                       by_user_id=None, by_label="nurse", source="staff", now=NOW)
        s.add(HealthOverride(org_id=clinic.org_id, client_id=second.client_id, appointment_id=second.id,
                             stage="booking", reason="checked with the provider", flags=[], created_at=NOW))
        s.commit()
    return clinic, first.client_id, second.client_id


def _owned(clinic, client_id: int) -> dict[str, int]:
    with clinic.session() as s:
        return {rows.key: s.connection().execute(text(f"select count(*) from {rows.table} where {rows.column} = :c"),
                                                 {"c": client_id}).scalar() for rows in CLIENT_ROWS}


def test_a_merge_moves_every_kind_of_row_fills_blanks_hides_and_redirects_then_undoes_exactly(two_records):
    clinic, mia, other = two_records
    manager = clinic.staff_actor("manager")
    before_mia, before_other = _owned(clinic, mia), _owned(clinic, other)
    kinds = {k for k, n in before_other.items() if n}
    assert kinds == {rows.key for rows in CLIENT_ROWS} - {"client_account.client_id"}  # every kind is exercised

    done = do_merge_clients(manager, mia, other, clock=FixedClock(NOW), engine=clinic.engine)
    assert done.moved == {k: n for k, n in before_other.items() if n}
    assert done.filled == ("date_of_birth", "email_marketing_consent")  # Mia had email and phone already
    assert done.undo_until == NOW + timedelta(days=MERGE_UNDO_DAYS)
    assert _owned(clinic, other) == {k: 0 for k in before_other}
    assert _owned(clinic, mia) == {k: before_mia[k] + before_other[k] for k in before_mia}
    with clinic.session() as s:
        m, o = s.get(Client, mia), s.get(Client, other)
        assert (m.email, m.phone_e164, m.date_of_birth, m.email_marketing_consent) == (
            "mia@example.com", "+12125550150", date(1990, 3, 4), True)
        assert (o.merged_into_id, o.merged_at, o.email) == (mia, NOW, "m.wong@work.example")  # hidden, not deleted
        assert live_client_id(s, other) == mia
        assert [c.id for c in search_clients(s, manager, "Wong")] == [mia]  # the hidden one is not found
        for query in ("Wong", "m.wong@work", "(212) 555-0177", "1990-03-04", ""):  # the /clients list too
            rows = list_clients(s, org_id=clinic.org_id, now=NOW, query=query).rows
            assert other not in [r.id for r in rows], query
        assert [r.id for r in list_clients(s, org_id=clinic.org_id, now=NOW, query="Wong").rows] == [mia]
        # the hidden record's email books on the survivor
        assert find_or_create_client(s, clinic.public, ClientInput("M.", "Wong", "m.wong@work.example",
                                                                    "+12125550177")).id == mia
        audit = s.exec(select(AuditEvent).where(AuditEvent.action == "client.merge")).all()
        assert sorted(int(a.object_id) for a in audit) == sorted([mia, other])
        assert audit[0].detail["moved"] == done.moved
        # the first-visit summary follows the appointments (its trigger), nothing to do here
        assert s.connection().execute(text("select count(*) from client_first_visit where client_id = :c"),
                                      {"c": other}).scalar() == 0

    with clinic.session() as s:  # a signed note moved, and is as read-only as before otherwise
        note = s.exec(select(TreatmentNote)).one()
        assert (note.client_id, note.status) == (mia, "signed")
        with pytest.raises(Exception, match="is signed and read-only"):
            s.connection().execute(text("update treatment_note set client_id = :o, status = 'draft' where id = :n"),
                                   {"o": other, "n": note.id})
    undone = do_undo_merge(manager, done.merge_id, clock=FixedClock(NOW + timedelta(days=2)), engine=clinic.engine)
    assert undone.undone
    assert _owned(clinic, mia) == before_mia and _owned(clinic, other) == before_other
    with clinic.session() as s:
        m, o = s.get(Client, mia), s.get(Client, other)
        assert (m.date_of_birth, o.merged_into_id, o.merged_at) == (None, None, None)
        assert sorted(r.id for r in list_clients(s, org_id=clinic.org_id, now=NOW, query="Wong").rows) == [mia, other]
        assert m.email_marketing_consent is True  # a consent given stays given
        assert s.exec(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "client.merge.undo")).one() == 2
    with pytest.raises(ValidationFailed) as exc:
        do_undo_merge(manager, done.merge_id, clock=FixedClock(NOW + timedelta(days=3)), engine=clinic.engine)
    assert exc.value.fields == {"merge_id": "This merge was already undone"}


def test_an_email_the_survivor_lacks_moves_and_comes_back_on_undo(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    manager = clinic.staff_actor("manager")
    with clinic.session() as s:
        phone_only = find_or_create_client(s, manager, ClientInput("Ana", "Lima", "", "+12125550160"),
                                           require_contact=False)
        with_email = find_or_create_client(s, manager, ClientInput("Ana", "Lima", "ana@example.com", ""),
                                           require_contact=False)
        s.commit()
        keep, gone = phone_only.id, with_email.id
    done = do_merge_clients(manager, keep, gone, clock=FixedClock(NOW), engine=clinic.engine)
    assert done.filled == ("email",)
    with clinic.session() as s:
        assert (s.get(Client, keep).email, s.get(Client, gone).email) == ("ana@example.com", None)
    do_undo_merge(manager, done.merge_id, clock=FixedClock(NOW), engine=clinic.engine)
    with clinic.session() as s:
        assert (s.get(Client, keep).email, s.get(Client, gone).email) == (None, "ana@example.com")


def test_the_merge_fills_the_survivors_empty_details_and_undo_empties_them_again(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    manager = clinic.staff_actor("manager")
    with clinic.session() as s:
        keep = find_or_create_client(s, manager, ClientInput("Ana", "Lima", "ana@example.com", ""),
                                     require_contact=False)
        gone = find_or_create_client(s, manager, ClientInput("Ana", "Lima", "", "+12125550160"),
                                     require_contact=False)
        gone.address, gone.alerts, gone.insurance_carrier = "1 Main St", "VIP", "Aetna"
        keep.notes = "Prefers Nina"
        gone.notes = "Old notes"
        s.add_all([keep, gone])
        s.commit()
        keep_id, gone_id = keep.id, gone.id
    done = do_merge_clients(manager, keep_id, gone_id, clock=FixedClock(NOW), engine=engine)
    assert done.filled == ("address", "alerts", "insurance_carrier", "phone_e164")  # notes: the survivor's stay
    with clinic.session() as s:
        k = s.get(Client, keep_id)
        assert (k.address, k.alerts, k.insurance_carrier, k.notes, k.phone_e164) == (
            "1 Main St", "VIP", "Aetna", "Prefers Nina", "+12125550160")
    do_undo_merge(manager, done.merge_id, clock=FixedClock(NOW), engine=engine)
    with clinic.session() as s:
        k = s.get(Client, keep_id)
        assert (k.address, k.alerts, k.insurance_carrier, k.phone_e164) == ("", "", "", None)


def test_merges_that_cannot_be(two_records):
    clinic, mia, other = two_records
    manager = clinic.staff_actor("manager")
    with pytest.raises(ValidationFailed) as exc:
        do_merge_clients(manager, mia, mia, clock=FixedClock(NOW), engine=clinic.engine)
    assert exc.value.fields == {"absorbed_id": "Pick two different clients"}
    with pytest.raises(NotFound):
        do_merge_clients(manager, mia, 10**12, clock=FixedClock(NOW), engine=clinic.engine)
    for role in ("front_desk", "provider", "lab"):
        with pytest.raises(PermissionDenied):
            do_merge_clients(clinic.staff_actor(role), mia, other, clock=FixedClock(NOW), engine=clinic.engine)
    done = do_merge_clients(manager, mia, other, clock=FixedClock(NOW), engine=clinic.engine)
    with pytest.raises(ValidationFailed) as exc:  # the hidden record cannot absorb or be absorbed again
        do_merge_clients(manager, other, mia, clock=FixedClock(NOW), engine=clinic.engine)
    assert exc.value.fields == {"survivor_id": "M. Wong was already merged into another record"}
    late = NOW + timedelta(days=MERGE_UNDO_DAYS, seconds=1)
    with pytest.raises(ValidationFailed) as exc:
        do_undo_merge(manager, done.merge_id, clock=FixedClock(late), engine=clinic.engine)
    assert exc.value.fields == {"merge_id": f"A merge can be undone within {MERGE_UNDO_DAYS} days"}


def test_another_clinic_cannot_merge_or_undo_this_clinics_clients(two_records, engine, owner_engine):
    clinic, mia, other = two_records
    stranger = build_clinic(engine, owner_engine).staff_actor("owner")
    with pytest.raises(NotFound):
        do_merge_clients(stranger, mia, other, clock=FixedClock(NOW), engine=engine)
    done = do_merge_clients(clinic.staff_actor("owner"), mia, other, clock=FixedClock(NOW), engine=engine)
    with pytest.raises(NotFound):
        do_undo_merge(stranger, done.merge_id, clock=FixedClock(NOW), engine=engine)


def test_the_profile_offers_likely_duplicates_merges_one_and_undoes_it(world, app_settings):  # noqa: F811
    """ClientProfileState/ProfileMergeState: a manager sees the likely duplicate (same phone),
    an id never offered is ignored, the confirmed merge hides it and lists it under merged
    records, the hidden record's profile points to the survivor, undo brings it back; a front
    desk sees no duplicates and cannot merge."""
    from medspa.features.clients.merging import ProfileMergeState as M
    from medspa.features.clients.state import ClientProfileState as P
    from tests.test_handler_matrix import staff_state
    from tests.test_handlers import call, run

    clinic = world.clinic
    with clinic.session() as s:
        keep = find_or_create_client(s, clinic.system, ClientInput("Rosa", "Diaz", "rosa@example.com", "+12125550190"))
        dup = find_or_create_client(s, clinic.system, ClientInput("Rosie", "Diaz", "rosie@example.com",
                                                                  "+12125550190"))
        s.commit()
        keep_id, dup_id = keep.id, dup.id

    def profile(role: str, client_id: int):
        state = staff_state(M, world, role)
        root = state
        while root.parent_state is not None:
            root = root.parent_state
        root.router = type(root.router).from_router_data({"headers": dict(root.router.headers.raw_headers),
                                                          "pathname": f"/clients/{client_id}",
                                                          "asPath": f"/clients/{client_id}"})
        run(call(P.load, state))
        return state

    desk = profile("front_desk", keep_id)
    assert desk.status == "ready" and desk.duplicates == []
    run(call(M.ask_merge, desk, dup_id))
    run(call(M.confirm_merge, desk))
    manager = profile("manager", keep_id)
    assert [(d.id, d.why) for d in manager.duplicates] == [(dup_id, "same phone and a similar name")]
    run(call(M.ask_merge, manager, world.client_id))  # not offered: ignored
    assert manager.confirm_id == 0
    run(call(M.ask_merge, manager, dup_id))
    assert (manager.confirm_id, manager.confirm_name) == (dup_id, "Rosie Diaz")
    run(call(M.confirm_merge, manager))
    assert manager.merge_message == "Rosie Diaz was merged into this record."
    with clinic.session() as s:
        assert s.get(Client, dup_id).merged_into_id == keep_id
    manager = profile("manager", keep_id)
    assert manager.duplicates == [] and [(m.name, m.undoable) for m in manager.merges] == [("Rosie Diaz", True)]
    hidden = profile("manager", dup_id)
    assert [(m.name, m.href) for m in hidden.merged_into] == [("Rosa Diaz", f"/clients/{keep_id}")]
    run(call(M.undo, hidden, 10**9))  # not offered: ignored
    run(call(M.undo, hidden, hidden.merged_into[0].merge_id))
    assert hidden.merge_message == "The merge with Rosa Diaz was undone."
    with clinic.session() as s:
        assert s.get(Client, dup_id).merged_into_id is None


def test_rows_written_on_a_visit_while_the_merge_stood_go_back_with_it_on_undo(engine, owner_engine):
    """Undo moves back the visits the merge moved, and with each every row of a CLIENT_ROWS
    table with an appointment_id that belongs to it, also one written during the merge (which
    the merge could not record): here a chart (treatment_note) drafted on the absorbed
    client's visit after the merge. A chart on the survivor's own visit stays."""
    from medspa.domain.clients.merge import merge_clients, undo_merge, visit_tables
    from medspa.domain.scheduling.service import hold_slot
    clinic = build_clinic(engine, owner_engine)
    owner = clinic.staff_actor("owner")
    provider = clinic.staff_actor("provider", clinic.provider_ids[0])
    ny_zone = ZoneInfo("America/New_York")
    visits, clients = [], []
    for hour, email in ((10, "kim@example.com"), (14, "kym@example.com")):  # two records of one client
        with clinic.session() as s:
            cid = find_or_create_client(s, clinic.system, ClientInput("Kim", "Ode", email, "+12125550161")).id
            start = datetime.combine(date(2026, 7, 2), time(hour), tzinfo=ny_zone).astimezone(timezone.utc)
            appt = hold_slot(s, provider, location_id=clinic.location_id, service_id=clinic.services["botox"],
                             start_at=start, now=NOW, client_id=cid, provider_id=clinic.provider_ids[0],
                             confirm=True)
            s.commit()
        sign_required_consents(clinic, appt.id)
        visits.append(appt.id)
        clients.append(cid)
    (keep_visit, gone_visit), (survivor, absorbed) = visits, clients
    with clinic.session() as s:
        assert {"treatment_note", "clinical_photo", "lot_usage", "form_response", "consent_signature",
                "policy_fee", "payment"} <= {rows.table for rows in visit_tables(s)}
        merge_id = merge_clients(s, owner, survivor, absorbed, now=NOW).id
        s.commit()
    with clinic.session() as s:  # while the merge stands, both visits are the survivor's
        save_chart(s, provider, gone_visit, [], "drafted during the merge", now=NOW)
        save_chart(s, provider, keep_visit, [], "the survivor's own chart", now=NOW)
        s.commit()
    with clinic.session() as s:
        assert set(s.exec(select(TreatmentNote.client_id)).all()) == {survivor}
        undo_merge(s, owner, merge_id, now=NOW)
        s.commit()
    with clinic.session() as s:
        notes = {n.appointment_id: n.client_id for n in s.exec(select(TreatmentNote))}
        assert notes == {gone_visit: absorbed, keep_visit: survivor}
        undo = s.exec(select(AuditEvent).where(AuditEvent.action == "client.merge.undo",
                                               AuditEvent.client_id == absorbed)).one()
        assert undo.detail["followed_visits"]["treatment_note.client_id"] == 1
