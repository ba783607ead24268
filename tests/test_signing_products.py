"""The prescriber-order rule keyed on the chart's products, and amendments keeping lines of an
archived product (issue 18, fixsign). Built on test_signing's clinic, people and helpers."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from medspa.domain.clinical.chart_review import cosign_chart, review_queue
from medspa.domain.clinical.inventory import open_vial, receive_lot, save_product, set_product_active
from medspa.domain.clinical.prescriber_orders import record_order
from medspa.domain.clinical.service import ChartLocked, LineInput, amend_chart, save_chart, sign_chart
from medspa.domain.errors import ValidationFailed
from medspa.domain.identity.actor import Actor
from tests.conftest import utc
from tests.test_breaker18 import BOTOX, BOTOX_LINE, NOW
from tests.test_signing import _call, _client_of, _org, _visit, clinic, people  # noqa: F401  (fixtures)


def _order(clinic, np, appt, scope):
    _call(clinic, record_order, np, _client_of(clinic, appt), scope=scope, examined_on=date(2026, 6, 20),
          valid_until=None, note="", time_zone="America/New_York")


def _botox_line(clinic, actor, units="20"):
    owner = clinic.staff_actor("owner")
    botox = _call(clinic, save_product, owner, None, BOTOX)
    lot = _call(clinic, receive_lot, owner, botox, "C3709C3", "2026-11-30", "500")
    vial = _call(clinic, open_vial, actor, lot, "2.5", now=utc(2026, 7, 1, 13))
    return botox, LineInput("", "", units, "glabella", product_id=botox, lot_id=lot, vial_id=vial.id)


def test_the_refusal_names_the_product_and_what_order_it_needs(clinic, people):
    rn, np = people
    _, line = _botox_line(clinic, rn)
    appt = _visit(clinic, rn.staff_id, hour=10, service="facial")
    _call(clinic, save_chart, rn, appt, [line], "")  # the draft is kept; signing is refused
    with pytest.raises(ChartLocked) as exc:
        _call(clinic, sign_chart, rn, appt)
    assert str(exc.value).startswith("Botox (a prescription product) needs a prescriber's exam or order before")
    assert "no valid order for neuromodulators" in str(exc.value)
    _call(clinic, save_chart, rn, appt, [BOTOX_LINE], "")
    with pytest.raises(ChartLocked) as exc:
        _call(clinic, sign_chart, rn, appt)
    assert "Botox (a prescription product)" in str(exc.value) and "no valid order for all treatments" in str(exc.value)


def test_a_neuromodulator_order_covers_catalog_botox_under_a_facial_and_goes_for_review(clinic, people):
    rn, np = people
    _, line = _botox_line(clinic, rn)
    appt = _visit(clinic, rn.staff_id, hour=10, service="facial")
    _order(clinic, np, appt, "neuromodulators")
    _call(clinic, save_chart, rn, appt, [line], "")
    chart = _call(clinic, sign_chart, rn, appt)
    assert chart.needs_cosign and chart.order_label.startswith("Under the order of")
    # a free-text brand has no known category: only an order for all treatments covers it
    other = _visit(clinic, rn.staff_id, hour=15, service="facial")
    _order(clinic, np, other, "neuromodulators")
    _call(clinic, save_chart, rn, other, [BOTOX_LINE], "")
    with pytest.raises(ChartLocked):
        _call(clinic, sign_chart, rn, other)
    _order(clinic, np, other, "all")
    assert _call(clinic, sign_chart, rn, other).needs_cosign


def test_a_non_prescription_line_under_a_facial_needs_no_order(clinic, people):
    rn, _ = people
    appt = _visit(clinic, rn.staff_id, hour=10, service="facial")
    _call(clinic, save_chart, rn, appt, [LineInput("Hydrating serum", "", "1", "cheeks")], "")
    chart = _call(clinic, sign_chart, rn, appt)
    assert chart.status == "signed" and not chart.needs_cosign


def test_an_amendment_changing_an_archived_products_line_is_refused(clinic, people):
    _, np = people
    owner = clinic.staff_actor("owner")
    provider = Actor(org_id=clinic.org_id, role="provider", staff_id=np.staff_id, label="Dr. Lee")
    appt = _visit(clinic, np.staff_id)
    botox, line = _botox_line(clinic, provider)
    _call(clinic, save_chart, provider, appt, [line], "")
    _call(clinic, sign_chart, provider, appt)
    _call(clinic, set_product_active, owner, botox, False, now=NOW + timedelta(days=1))
    _call(clinic, amend_chart, provider, appt, now=NOW + timedelta(days=2))
    changed = LineInput("", "", "25", "glabella", product_id=line.product_id, lot_id=line.lot_id, vial_id=line.vial_id)
    with pytest.raises(ValidationFailed) as exc:
        _call(clinic, save_chart, provider, appt, [changed], "", now=NOW + timedelta(days=2))
    assert exc.value.fields == {"lines.0.product": "Botox is archived: choose another product"}
    # the unchanged copy keeps the catalog's name, unit and lot number as signed
    chart = _call(clinic, save_chart, provider, appt, [line], "Late entry.", now=NOW + timedelta(days=2))
    assert [(ln.product, ln.lot_number, ln.units_tenths, ln.unit, ln.product_id) for ln in chart.lines] == [
        ("Botox", "C3709C3", 200, "units", botox)]


def test_a_draft_amendment_leaves_the_signed_version_in_the_queue_until_re_signed(clinic, people):
    rn, np = people
    appt = _visit(clinic, rn.staff_id)
    _order(clinic, np, appt, "all")
    _call(clinic, save_chart, rn, appt, [BOTOX_LINE], "")
    _call(clinic, sign_chart, rn, appt)
    _org(clinic, medical_director_id=np.staff_id)
    assert [(i.appointment_id, i.version) for i in _call(clinic, review_queue, np)] == [(appt, 1)]
    _call(clinic, amend_chart, rn, appt)
    _call(clinic, sign_chart, rn, appt, now=NOW + timedelta(hours=1))
    assert [(i.appointment_id, i.version) for i in _call(clinic, review_queue, np)] == [(appt, 2)]
    assert _call(clinic, cosign_chart, np, appt, "").cosign_label.startswith("Co-signed by Dr. Lee")
    assert _call(clinic, review_queue, np) == []
