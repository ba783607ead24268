"""Findings of the breaker pass, each a test first: what a browser (or a crafted event)
sends must never crash a handler, reach the gateway as something else, or leave figures on
screen that belong to another range."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from medspa.domain.identity.models import UserAccount, UserSession
from medspa.domain.identity.passwords import hash_password
from medspa.domain.identity.tokens import token_hash as _token_hash
from medspa.domain.payments.gateway import CardDetails, validate_card
from medspa.domain.payments.models import LedgerEntry, Payment
from medspa.domain.scheduling.service import change_status
from medspa.features.calendar.state import DetailState
from medspa.features.dashboard import data as dashboard_data
from medspa.features.dashboard.state import DashboardState, DrillState
from tests.test_handlers import NOW, app_settings, call, clinic_with_visit, run, state_for  # noqa: F401

import pytest

from medspa.domain.errors import ValidationFailed

CARD = {"card_number": "4242 4242 4242 4242", "exp_month": "12", "exp_year": "2030", "cvc": "123"}


def _checked_in_panel(engine, owner_engine):
    clinic, appt, token = clinic_with_visit(engine, owner_engine)
    with clinic.session() as s:
        change_status(s, clinic.system, appt, "check_in", now=NOW)
        s.commit()
    state = state_for(DetailState, token)
    run(call(DetailState.open, state, appt))
    assert state.panel_open and state.detail.can_checkout
    return clinic, appt, state


def _money_rows(clinic, appt):
    with clinic.session() as s:
        return (len(s.exec(select(Payment.id).where(Payment.appointment_id == appt, Payment.purpose == "balance")).all()),
                len(s.exec(select(LedgerEntry.id).where(LedgerEntry.appointment_id == appt,
                                                        LedgerEntry.entry_type == "sale")).all()))


@pytest.mark.parametrize("field,value", [("exp_month", "¹²"), ("exp_year", "³⁰"), ("exp_month", "１２")])
def test_checkout_with_non_ascii_digits_in_the_expiry_says_so(engine, owner_engine, app_settings, field, value):
    clinic, appt, state = _checked_in_panel(engine, owner_engine)
    run(call(DetailState.checkout, state, {**CARD, field: value}))
    assert field in state.checkout_errors and not state.busy
    assert _money_rows(clinic, appt) == (0, 0)
    run(call(DetailState.checkout, state, CARD))  # a correct retry goes through
    assert _money_rows(clinic, appt) == (1, 1)


@pytest.mark.parametrize("number", ["4242abcd4242xyz4242 4242", "４２４２ ４２４２ ４２４２ ４２４２", "4242 4242 4242 424²"])
def test_a_card_number_with_letters_or_other_digits_is_refused_before_the_gateway(
        engine, owner_engine, app_settings, number):
    with pytest.raises(ValidationFailed) as exc:
        validate_card(CardDetails(number, 12, 2030, "123"), NOW)
    assert "card_number" in exc.value.fields
    clinic, appt, state = _checked_in_panel(engine, owner_engine)
    run(call(DetailState.checkout, state, {**CARD, "card_number": number}))
    assert "card_number" in state.checkout_errors
    with clinic.session() as s:  # not even a declined attempt reached the gateway
        assert s.exec(select(Payment.id).where(Payment.appointment_id == appt, Payment.purpose == "balance")).all() == []


def test_spaces_and_dashes_in_a_card_number_are_fine():
    validate_card(CardDetails("4242-4242-4242-4242", 12, 2030, "123"), NOW)
    validate_card(CardDetails(" 4242 4242 4242 4242 ", 12, 2030, "123"), NOW)


def test_opening_an_absurd_appointment_id_does_nothing(engine, owner_engine, app_settings):
    _, _, token = clinic_with_visit(engine, owner_engine)
    state = state_for(DetailState, token)
    run(call(DetailState.open, state, 2**70))
    assert state.panel_open is False


def _owner_dashboard(engine, owner_engine):
    clinic, _, _ = clinic_with_visit(engine, owner_engine)
    with clinic.session() as s:
        user = UserAccount(org_id=clinic.org_id, email=f"boss-{clinic.slug}@example.com",
                           password_hash=hash_password("x" * 16), role="owner", display_name="Boss")
        s.add(user)
        s.flush()
        token = f"tok-boss-{clinic.slug}"
        s.add(UserSession(org_id=clinic.org_id, user_id=user.id, token_hash=_token_hash(token), created_at=NOW,
                          last_seen_at=NOW, expires_at=NOW + timedelta(hours=12)))
        s.commit()
    state = state_for(DashboardState, token)
    run(call(DashboardState.load, state))
    assert state.allowed and len(state.tiles) == len(dashboard_data.TILE_KEYS)
    return state


def test_dashboard_handlers_take_any_argument_without_crashing(engine, owner_engine, app_settings):
    state = _owner_dashboard(engine, owner_engine)
    for bad in (["all"], {"x": 1}, None, 3, "²"):
        run(call(DashboardState.set_location, state, bad))
    assert state.location == "all"
    for key, arg in (("hour", "1-²"), ("provider_util", "²"), ("retention", "2026-01:⁹⁰"), ("top_service", "١٢"),
                     ("hour", ["1-2"]), (["hour"], "1-2")):
        drill = state.get_substate([DrillState.get_name()])
        run(call(DrillState.open_drill, drill, key, arg))
        assert drill.drill_key == "" and not state.error


@pytest.mark.parametrize("field,value,message", [
    ("end", "9999-12-31", "between 1900 and 9000"),
    ("start", "0001-01-01", "between 1900 and 9000"),
    ("end", "2026-01-01", "before the start"),
    ("start", "2020-01-01", "at most three years"),
    ("end", "not a date", "date"),
])
def test_a_date_the_dashboard_cannot_use_clears_the_figures_and_says_why(
        engine, owner_engine, app_settings, field, value, message):
    state = _owner_dashboard(engine, owner_engine)
    handler = DashboardState.set_end if field == "end" else DashboardState.set_start
    run(call(handler, state, value))
    assert getattr(state, field) == value  # the box and the state agree
    assert message in state.error
    # no figure on screen that belongs to another range than the boxes show
    assert state.tiles == [] and state.util_chart == [] and state.trend_chart == [] and state.revenue_chart == []
    assert state.period_note == ""
    run(call(DashboardState.export_report, state, "tiles"))  # nothing to export, and no crash
    # a valid date brings everything back
    run(call(DashboardState.set_preset, state, 30))
    assert state.error == "" and len(state.tiles) == len(dashboard_data.TILE_KEYS)


def test_no_minus_zero_money():
    assert dashboard_data.money(0) == "$0.00"
    assert dashboard_data.money(-0) == "$0.00"
    assert dashboard_data.money(-150) == "-$1.50"
