"""/settings through its Reflex event handlers: the role matrix (settings.write: owner and
manager), a field message for a deposit above the price with nothing saved, edit, archive."""

from __future__ import annotations

import pytest
from sqlmodel import select

from medspa.domain.catalog.models import Service
from medspa.domain.identity.permissions import has_permission
from medspa.features.settings.form import parse_form
from medspa.features.settings.state import SettingsState
from tests.test_handler_matrix import STAFF_ROLES, World, staff_state, world  # noqa: F401  (fixture)
from tests.test_handlers import app_settings, call, run  # noqa: F401  (fixture)


def _loaded(w: World, role: str) -> SettingsState:
    state = staff_state(SettingsState, w, role)
    run(call(SettingsState.load, state))
    return state


def _fill(state: SettingsState, **values: str) -> None:
    for name, value in values.items():
        run(call(SettingsState.set_field, state, name, value))


def _names(w: World) -> list[str]:
    with w.clinic.session() as s:
        return list(s.exec(select(Service.name).order_by(Service.id)))


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_settings_page_is_for_owner_and_manager_only(world: World, app_settings, role):  # noqa: F811
    state = _loaded(world, role)
    allowed = has_permission(role, "settings.write")
    assert state.allowed is allowed and state.not_found is (not allowed)
    assert bool(state.services) is allowed
    laser = world.clinic.services["laser"]
    # a call from a page that never loaded does nothing
    run(call(SettingsState.set_active, staff_state(SettingsState, world, role), laser, False))
    # a page loaded before the role changed: the server checks the role again
    stale = staff_state(SettingsState, world, role)
    stale.allowed, stale._rows = True, {laser: None}
    run(call(SettingsState.set_active, stale, laser, False))
    with world.clinic.session() as s:
        svc = s.get(Service, laser)
        assert svc.active is (not allowed)
        svc.active = True
        s.commit()


def test_signed_out_load_goes_to_sign_in(world: World, app_settings):  # noqa: F811
    state = staff_state(SettingsState, world, "nobody")
    result = run(call(SettingsState.load, state))
    assert state.allowed is False and "/login?next=" in str(result)


def test_deposit_above_price_gets_a_field_message_then_saves_once_fixed(world: World, app_settings):  # noqa: F811
    state = _loaded(world, "manager")
    run(call(SettingsState.new_service, state))
    _fill(state, name="Lip filler", category="Dermal fillers", price_cents="650", deposit_cents="700")
    run(call(SettingsState.save, state))
    assert state.errors == {"deposit_cents": "Deposit cannot be more than the price"}
    assert state.form_open and "Lip filler" not in _names(world)
    _fill(state, deposit_cents="100.50")
    assert "deposit_cents" not in state.errors  # typing clears the field's message
    run(call(SettingsState.save, state))
    assert state.errors == {} and not state.form_open and state.message == "Lip filler was added"
    row = next(v for v in state.services if v.name == "Lip filler")
    assert (row.price, row.deposit, row.heading) == ("$650.00", "$100.50", "Dermal fillers")
    with world.clinic.session() as s:
        svc = s.exec(select(Service).where(Service.name == "Lip filler")).one()
        assert (svc.price_cents, svc.deposit_cents, svc.currency) == (65000, 10050, "USD")


def test_domain_messages_land_next_to_the_field(world: World, app_settings):  # noqa: F811
    state = _loaded(world, "owner")
    run(call(SettingsState.new_service, state))
    _fill(state, name="", category="Peels", price_cents="10", duration_minutes="0")
    run(call(SettingsState.save, state))
    assert state.errors == {"name": "Give the service a name", "duration_minutes": "Between 1 and 720 minutes"}
    assert state.error == "Check the fields marked in red"


def test_edit_archive_and_restore_from_the_page(world: World, app_settings):  # noqa: F811
    state = _loaded(world, "owner")
    facial = world.clinic.services["facial"]
    run(call(SettingsState.edit_service, state, facial))
    assert state.form["price_cents"] == "200" and state.form["room_type"] == "treatment_room"
    _fill(state, price_cents="215.75")
    run(call(SettingsState.save, state))
    assert next(v for v in state.services if v.id == facial).price == "$215.75"
    run(call(SettingsState.set_active, state, facial, False))
    assert facial not in [v.id for v in state.services] and state.archived_count == 1
    run(call(SettingsState.toggle_archived, state, True))
    assert [v.active for v in state.services if v.id == facial] == [False]
    run(call(SettingsState.set_active, state, facial, True))
    assert state.archived_count == 0


@pytest.mark.parametrize(("form", "errors"), [
    ({"price_cents": "12.345"}, {"price_cents": "Use at most two decimals"}),
    ({"price_cents": "-5"}, {"price_cents": "Enter an amount of zero or more"}),
    ({"price_cents": "abc"}, {"price_cents": "Enter an amount like 19.99"}),
    ({"price_cents": ""}, {"price_cents": "Required (0 for free)"}),
    ({"duration_minutes": "4.5"}, {"duration_minutes": "Enter a whole number"}),
    ({"duration_minutes": "٣"}, {"duration_minutes": "Enter a whole number"}),
    ({"max_advance_days": ""}, {}),
])
def test_form_text_is_parsed_with_a_message_per_field(form, errors):
    base = {"category": "C", "name": "N", "description": "", "duration_minutes": "30", "buffer_before_minutes": "0",
            "buffer_after_minutes": "0", "price_cents": "10", "deposit_cents": "0", "room_type": "__none__",
            "device_type": "__none__", "min_notice_minutes": "0", "slot_grid_minutes": "15", "max_advance_days": ""}
    data, found = parse_form({**base, **form}, True, [])
    assert found == errors
    assert (data is None) is bool(errors)


def test_the_checklist_is_read_again_after_a_save(world: World, app_settings):  # noqa: F811
    """The end-to-end run found "Set your providers' hours" unticked right after saving the
    hours: each tab's save now asks the checklist to refresh (SettingsNavState.refresh_steps)."""
    from medspa.features.settings.checklist import SettingsNavState

    state = staff_state(SettingsNavState, world, "owner")
    run(call(SettingsNavState.refresh_steps, state))
    assert [s.key for s in state.steps][:3] == ["team", "services", "hours"]
    assert state.steps_done == sum(1 for s in state.steps if s.done) and state.steps_done > 0
    desk = staff_state(SettingsNavState, world, "front_desk")
    run(call(SettingsNavState.refresh_steps, desk))
    assert desk.steps == []  # not for the front desk
