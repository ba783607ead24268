"""Products, lots, vials, stock and recall (domain/clinical/inventory.py, recall.py) on real
PostgreSQL: catalog validation, lots received, vials opened, expired lots and vials past their
beyond-use time refused on the chart, the lot deducted at signing and restored by an
amendment's reversal, the recall list (one query, one audit row per client) and its CSV."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlmodel import select

from medspa.domain.clients.service import ClientInput, find_or_create_client
from medspa.domain.clinical import inventory_actions as ia
from medspa.domain.clinical.inventory import (
    ProductInput,
    list_products,
    open_vial,
    receive_lot,
    save_product,
    set_product_active,
)
from medspa.domain.clinical.inventory_chart import chartable_products, check_line_lot
from medspa.domain.clinical.product_models import LotUsage
from medspa.domain.clinical.recall import find_lots, lot_recall, recall_csv
from medspa.domain.clinical.service import LineInput, amend_chart, get_chart, save_chart, sign_chart
from medspa.domain.identity.actor import Actor
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.scheduling.service import hold_slot
from medspa.domain.textrules import CONTROL_MESSAGE
from tests.conftest import utc
from tests.consent_support import sign_required_consents

NOW = utc(2026, 7, 1, 16)  # noon in New York; the visits are at 2 PM
NY = ZoneInfo("America/New_York")
BOTOX = ProductInput("Botox", "Allergan", "neuromodulator", "units", "", "", "50")
VOLUMA = ProductInput("Juvéderm Voluma", "Allergan", "filler", "mL", "", "", "2")


def _provider(clinic) -> Actor:
    """The visit's provider (a staff record: only the visit's provider signs, clinical/signing.py)."""
    return Actor(org_id=clinic.org_id, role="provider", user_id=None, label="test provider",
                 staff_id=clinic.provider_ids[0])


def _call(clinic, fn, *args, now: datetime = NOW, **kwargs):
    with clinic.session() as s:
        result = fn(s, *args, now=now, **kwargs)
        s.commit()
        return result


def _visit(clinic, first: str = "Ivy", *, day: date = date(2026, 7, 1), hour: int = 14) -> int:
    with clinic.session() as s:
        client = find_or_create_client(s, clinic.system, ClientInput(
            first, "Stone", f"{first.lower()}-{uuid.uuid4().hex[:8]}@example.com", "+12125550160"))
        start = datetime.combine(day, time(hour), tzinfo=NY).astimezone(timezone.utc)
        appt = hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services["botox"],
                         start_at=start, now=utc(2026, 6, 1), client_id=client.id, confirm=True)
        s.commit()
    sign_required_consents(clinic, appt.id)
    return appt.id


@pytest.fixture
def stock(clinic):
    """Botox with a good lot (500 u) and an opened vial, an expired lot, a vial past its
    beyond-use time; Voluma with a lot of 10 mL."""
    owner = clinic.staff_actor("owner")
    botox = _call(clinic, save_product, owner, None, BOTOX)
    voluma = _call(clinic, save_product, owner, None, VOLUMA)
    good = _call(clinic, receive_lot, owner, botox, "c3709c3", "2026-11-30", "500")
    old = _call(clinic, receive_lot, owner, botox, "OLD1", "2026-06-30", "100", now=utc(2026, 6, 1))
    filler = _call(clinic, receive_lot, owner, voluma, "VB100", date(2027, 3, 1), "10")
    provider = _provider(clinic)
    vial = _call(clinic, open_vial, provider, good, "2.5", now=utc(2026, 7, 1, 13, 2))
    stale = _call(clinic, open_vial, provider, good, "2.5", now=utc(2026, 6, 29, 10))
    return {"botox": botox, "voluma": voluma, "good": good, "old": old, "filler": filler, "vial": vial.id,
            "stale": stale.id}


def _usage(clinic, lot_id: int) -> list[int]:
    with clinic.session() as s:
        return [u.quantity_tenths for u in s.exec(select(LotUsage).where(LotUsage.lot_id == lot_id)
                                                  .order_by(LotUsage.id))]


def _left(clinic, product_id: int, lot_id: int, actor=None) -> int:
    products = _call(clinic, list_products, actor or clinic.staff_actor("manager"))
    lot = next(lot for p in products if p.id == product_id for lot in p.lots if lot.id == lot_id)
    return lot.left_tenths


# ---------------------------------------------------------------------------- catalog


def test_product_defaults_validation_and_audit(clinic):
    owner = clinic.staff_actor("owner")
    pid = _call(clinic, save_product, owner, None, BOTOX)
    [p] = _call(clinic, list_products, owner)
    assert (p.name, p.unit, p.units_per_vial, p.beyond_use_hours, p.low_stock_tenths) == ("Botox", "units", 100, 24, 500)
    with pytest.raises(ValidationFailed) as err:
        _call(clinic, save_product, owner, None, ProductInput("botox", "", "neuromodulator", "units"))
    assert err.value.fields == {"name": "The catalog has a product of this name"}
    with pytest.raises(ValidationFailed) as err:
        _call(clinic, save_product, owner, None, ProductInput(" ", "x\x00", "drug", "cc", "", "0", "abc"))
    assert err.value.fields == {
        "name": "Enter the product's name, e.g. Botox",
        "manufacturer": CONTROL_MESSAGE,
        "category": "Choose a category",
        "unit": "Choose the unit it is charted in (units, mL, syringes, vials)",
        "beyond_use_hours": "Enter whole hours, 1 to 1008",
        "low_stock": "Enter a number with at most one decimal, e.g. 100 or 2.5"}
    with pytest.raises(ValidationFailed) as err:
        _call(clinic, save_product, owner, None, ProductInput("Dysport", "", "neuromodulator", "mL", "300", "24"))
    assert err.value.fields == {"units_per_vial": "Reconstituted vials are charted in units: choose the unit “units”"}
    manager = clinic.staff_actor("manager")
    _call(clinic, save_product, manager, pid, ProductInput("Botox Cosmetic", "AbbVie", "neuromodulator", "units",
                                                           "100", "48", "100"))
    _call(clinic, set_product_active, manager, pid, False)
    [p] = _call(clinic, list_products, _provider(clinic))
    assert (p.name, p.beyond_use_hours, p.low_stock_tenths, p.active) == ("Botox Cosmetic", 48, 1000, False)
    with clinic.session() as s:
        actions = [r[0] for r in s.execute(text("select action from audit_event where action like 'product.%' "
                                                "order by id"))]
    assert actions == ["product.create", "product.update", "product.archive"]


@pytest.mark.parametrize("role", ["provider", "front_desk", "lab"])
def test_only_owner_and_manager_manage_the_catalog(clinic, role):
    with pytest.raises(NotFound):
        _call(clinic, save_product, clinic.staff_actor(role), None, BOTOX)


@pytest.mark.parametrize("role", ["front_desk", "lab"])
def test_front_desk_and_lab_see_no_stock_nor_open_vials(clinic, stock, role):
    with pytest.raises(NotFound):
        _call(clinic, list_products, clinic.staff_actor(role))
    with pytest.raises(NotFound):
        _call(clinic, open_vial, clinic.staff_actor(role), stock["good"], "2.5")


def test_receive_lot_validation(clinic, stock):
    owner = clinic.staff_actor("owner")
    with pytest.raises(ValidationFailed) as err:
        _call(clinic, receive_lot, owner, stock["botox"], "C3709C3", "2026-06-30", "0")
    assert err.value.fields == {"lot_number": "Lot C3709C3 of Botox was already received",
                                "expires_on": "This lot expired on Jun 30, 2026", "quantity": "Enter more than 0"}
    with pytest.raises(ValidationFailed) as err:
        _call(clinic, receive_lot, owner, stock["botox"], "", "soon", "1.25")
    assert err.value.fields == {"lot_number": "Enter the lot number printed on the box",
                                "expires_on": "Enter the expiry date",
                                "quantity": "Enter a number with at most one decimal, e.g. 100 or 2.5"}
    with pytest.raises(NotFound):
        _call(clinic, receive_lot, owner, 999_999, "X1", "2027-01-01", "1")


def test_open_vial_concentration_and_beyond_use(clinic, stock):
    provider = _provider(clinic)
    vial = _call(clinic, open_vial, provider, stock["good"], "4", now=utc(2026, 7, 1, 14, 2))
    assert (vial.diluent_ml_tenths, vial.units_per_ml_tenths) == (40, 250)  # 100 u / 4 mL = 25 u/mL
    assert vial.opened_label == "Jul 1 10:02 AM" and vial.use_by_label == "Jul 2 10:02 AM EDT"
    assert vial.label == "4 mL · 25 u/mL · use by Jul 2 10:02 AM EDT"
    with pytest.raises(ValidationFailed) as err:
        _call(clinic, open_vial, provider, stock["good"], "12")
    assert err.value.fields == {"diluent": "At most 10 (mL of saline, 0.1 to 10)"}
    with pytest.raises(ValidationFailed) as err:
        _call(clinic, open_vial, provider, stock["filler"], "1")
    assert err.value.fields == {"lot": "Only reconstituted products (units per vial) have vials to open"}
    with pytest.raises(ValidationFailed) as err:
        _call(clinic, open_vial, provider, stock["old"], "2")
    assert err.value.fields == {"lot": "Lot OLD1 expired on Jun 30, 2026"}


# ---------------------------------------------------------------------------- the chart interface


def test_chartable_products_offer_only_usable_lots_and_vials(clinic, stock):
    start = datetime(2026, 7, 1, 18, tzinfo=timezone.utc)
    with clinic.session() as s:
        choices = chartable_products(s, start, "America/New_York", datetime(2026, 7, 1, 18, 30, tzinfo=timezone.utc))
    by_name = {c.name: c for c in choices}
    botox = by_name["Botox"]
    assert botox.reconstituted and botox.unit == "units"
    assert [lot.lot_number for lot in botox.lots] == ["C3709C3"]  # OLD1 expired on Jun 30
    assert [v.id for v in botox.lots[0].vials] == [stock["vial"]]  # the stale vial is past its use-by
    assert botox.lots[0].label == "C3709C3 · exp Nov 30, 2026 · 500 left"
    assert [lot.lot_number for lot in by_name["Juvéderm Voluma"].lots] == ["VB100"]


def test_check_line_lot_names_the_reason(clinic, stock):
    start = datetime(2026, 7, 1, 18, tzinfo=timezone.utc)
    with clinic.session() as s:
        def refused(*ids):
            with pytest.raises(ValueError) as err:
                check_line_lot(s, *ids, start, "America/New_York")
            return str(err.value), err.value.field
        assert refused(stock["botox"], stock["old"], None) == ("Lot OLD1 expired on Jun 30, 2026", "lot_number")
        assert refused(stock["botox"], stock["good"], stock["stale"]) == (
            "This vial passed its beyond-use time (opened Jun 29 6:00 AM, use by Jun 30 6:00 AM EDT)", "vial")
        assert refused(stock["botox"], stock["filler"], None) == (
            "This lot is not a lot of Botox: choose it again", "lot_number")
        assert refused(stock["botox"], stock["good"], None) == (
            "Choose the opened vial (open one under Products if needed)", "vial")
        product, lot, vial = check_line_lot(s, stock["botox"], stock["good"], stock["vial"], start, "America/New_York")
        assert (product.name, lot.lot_number, vial.id) == ("Botox", "C3709C3", stock["vial"])


def test_chart_refuses_expired_lot_and_stale_vial_with_field_messages(clinic, stock):
    appt = _visit(clinic)
    provider = _provider(clinic)
    lines = [LineInput("", "", "20", "glabella", product_id=stock["botox"], lot_id=stock["old"], vial_id=None),
             LineInput("", "", "10", "forehead",
                       product_id=stock["botox"], lot_id=stock["good"], vial_id=stock["stale"]),
             LineInput("", "", "1", "cheeks", product_id=stock["voluma"], lot_id=None, vial_id=None)]
    with pytest.raises(ValidationFailed) as err:
        _call(clinic, save_chart, provider, appt, lines, "")
    assert err.value.fields == {
        "lines.0.lot_number": "Lot OLD1 expired on Jun 30, 2026",
        "lines.1.vial": "This vial passed its beyond-use time (opened Jun 29 6:00 AM, use by Jun 30 6:00 AM EDT)",
        "lines.2.lot_number": "Choose the lot (expired lots are not offered)"}


def test_catalog_line_takes_name_unit_and_lot_number_from_the_catalog(clinic, stock):
    appt = _visit(clinic)
    provider = _provider(clinic)
    chart = _call(clinic, save_chart, provider, appt, [
        LineInput("typed name", "typed lot", "20", "glabella",
                  product_id=stock["botox"], lot_id=stock["good"], vial_id=stock["vial"], unit="mL"),
        LineInput("", "", "1.5", "cheeks", product_id=stock["voluma"], lot_id=stock["filler"], vial_id=None),
        LineInput("Sculptra", "S123", "1", "temples", unit="vials")], "")
    assert [(ln.product, ln.lot_number, ln.units, ln.unit, ln.lot_id, ln.vial_id) for ln in chart.lines] == [
        ("Botox", "C3709C3", "20", "units", stock["good"], stock["vial"]),
        ("Juvéderm Voluma", "VB100", "1.5", "mL", stock["filler"], None),
        ("Sculptra", "S123", "1", "vials", None, None)]
    assert _usage(clinic, stock["good"]) == []  # a draft deducts nothing


def test_signing_deducts_and_amendment_reverses(clinic, stock):
    appt = _visit(clinic)
    provider = _provider(clinic)
    line = LineInput("", "", "20", "glabella", product_id=stock["botox"], lot_id=stock["good"], vial_id=stock["vial"])
    _call(clinic, save_chart, provider, appt, [line, LineInput("", "", "1", "cheeks",
                                                               product_id=stock["voluma"], lot_id=stock["filler"])], "")
    _call(clinic, sign_chart, provider, appt)
    assert _usage(clinic, stock["good"]) == [200]
    assert _left(clinic, stock["botox"], stock["good"]) == 4800
    assert _left(clinic, stock["voluma"], stock["filler"]) == 90
    _call(clinic, amend_chart, provider, appt)
    more = LineInput("", "", "24", "glabella", product_id=stock["botox"], lot_id=stock["good"], vial_id=stock["vial"])
    _call(clinic, save_chart, provider, appt, [more], "Touch-up dose recorded.")
    _call(clinic, sign_chart, provider, appt, now=utc(2026, 7, 3, 15))  # two days on: the visit decides, not today
    assert _usage(clinic, stock["good"]) == [200, -200, 240]
    assert _left(clinic, stock["botox"], stock["good"]) == 4760
    assert _left(clinic, stock["voluma"], stock["filler"]) == 100  # the filler line went: restored
    chart = _call(clinic, get_chart, provider, appt)
    assert chart.version == 2 and chart.lines[0].units == "24"


def test_over_stock_is_allowed_and_flagged_low(clinic, stock):
    appt = _visit(clinic)
    provider = _provider(clinic)
    _call(clinic, save_chart, provider, appt, [LineInput("", "", "12", "cheeks",
                                                         product_id=stock["voluma"], lot_id=stock["filler"])], "")
    _call(clinic, sign_chart, provider, appt)
    products = _call(clinic, list_products, provider)
    lot = next(lot for p in products for lot in p.lots if lot.id == stock["filler"])
    assert (lot.left_tenths, lot.low) == (-20, True)
    old = next(lot for p in products for lot in p.lots if lot.id == stock["old"])
    assert old.expired


# ---------------------------------------------------------------------------- recall


def test_recall_lists_each_client_visit_once_net_of_amendments(clinic, stock):
    provider = _provider(clinic)
    line = LineInput("", "", "20", "glabella", product_id=stock["botox"], lot_id=stock["good"], vial_id=stock["vial"])
    first, second, moved = _visit(clinic, "Ivy"), _visit(clinic, "Mia", hour=15), _visit(clinic, "Zoe", hour=16)
    for appt in (first, second, moved):
        _call(clinic, save_chart, provider, appt, [line], "")
        _call(clinic, sign_chart, provider, appt)
    # Zoe's chart is amended: the Botox line becomes a filler line; she no longer received C3709C3
    _call(clinic, amend_chart, provider, moved)
    _call(clinic, save_chart, provider, moved, [LineInput("", "", "1", "lips",
                                                          product_id=stock["voluma"], lot_id=stock["filler"])], "")
    _call(clinic, sign_chart, provider, moved)
    owner = clinic.staff_actor("owner")
    recall = _call(clinic, lot_recall, owner, stock["good"])
    assert [(r.client_name, r.phone, r.visit_date, r.quantity, r.unit, r.provider) for r in recall.rows] == [
        ("Ivy Stone", "+1 212-555-0160", "Jul 1, 2026", "20", "units", "Provider 1"),
        ("Mia Stone", "+1 212-555-0160", "Jul 1, 2026", "20", "units", "Provider 1")]
    assert recall.lot.label == "Botox · C3709C3 · exp Nov 30, 2026" and recall.client_count == 2
    assert [r.client_name for r in _call(clinic, lot_recall, owner, stock["filler"]).rows] == ["Zoe Stone"]
    with clinic.session() as s:
        rows = s.execute(text("select client_id, object_type from audit_event where action = 'recall.read' "
                              "order by id")).all()
    assert [r[0] for r in rows[:2]] == sorted(r.client_id for r in recall.rows)
    assert all(r[1] == "client" for r in rows[:2])


def test_recall_csv_and_its_audit(clinic, stock):
    provider = _provider(clinic)
    appt = _visit(clinic, "Ivy")
    with clinic.session() as s:
        s.execute(text("update client set first_name = '=cmd' where id = (select client_id from appointment "
                       "where id = :a)"), {"a": appt})
        s.commit()
    line = LineInput("", "", "20", "glabella", product_id=stock["botox"], lot_id=stock["good"], vial_id=stock["vial"])
    _call(clinic, save_chart, provider, appt, [line], "")
    _call(clinic, sign_chart, provider, appt)
    name, data = _call(clinic, recall_csv, provider, stock["good"])
    assert name == "recall-C3709C3.csv"
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:5] == ["Client", "Phone", "Email", "Visit date", "Quantity"]
    assert rows[1][0] == "'=cmd Stone" and rows[1][3:9] == ["Jul 1, 2026", "20", "units", "Provider 1", "Botox",
                                                              "C3709C3"]
    with clinic.session() as s:
        audited = s.execute(text("select count(*) from audit_event where action = 'recall.export' "
                                 "and client_id is not null")).scalar()
    assert audited == 1


def test_empty_recall_is_audited_without_a_client(clinic, stock):
    recall = _call(clinic, lot_recall, clinic.staff_actor("owner"), stock["old"])
    assert recall.rows == []
    with clinic.session() as s:
        rows = s.execute(text("select object_type, client_id from audit_event where action = 'recall.read'")).all()
    assert [tuple(r) for r in rows] == [("product_lot", None)]


@pytest.mark.parametrize("role", ["manager", "front_desk", "lab"])
def test_recall_is_owner_and_provider_only(clinic, stock, role):
    actor = clinic.staff_actor(role)
    for call in (lambda s: lot_recall(s, actor, stock["good"], NOW), lambda s: recall_csv(s, actor, stock["good"], NOW),
                 lambda s: find_lots(s, actor, number="C37")):
        with clinic.session() as s, pytest.raises(NotFound):
            call(s)


def test_find_lots_by_number(clinic, stock):
    with clinic.session() as s:
        found = find_lots(s, _provider(clinic), number="c37")
    assert [f.label for f in found] == ["Botox · C3709C3 · exp Nov 30, 2026"]


def test_chart_products_action_and_another_clinics_visit(clinic, stock, engine, owner_engine):
    appt = _visit(clinic)
    provider = _provider(clinic)
    choices = ia.fetch_chart_products(provider, appt, engine=engine)
    assert [c.name for c in choices] == ["Botox", "Juvéderm Voluma"]
    with pytest.raises(NotFound):
        ia.fetch_chart_products(clinic.staff_actor("front_desk"), appt, engine=engine)
    from tests.factories import build_clinic
    other = build_clinic(engine, owner_engine)
    with pytest.raises(NotFound):
        ia.fetch_chart_products(other.staff_actor("provider"), appt, engine=engine)
