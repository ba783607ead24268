"""The waitlist's staff handlers: the desk page /waitlist (list per day, add at the desk with
messages next to the fields, remove) for roles with waitlist.manage only, and the Locations
card's waitlist block (settings.write only, saved at once, audited)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from medspa.domain.identity.permissions import has_permission
from medspa.domain.practice.models import Location
from medspa.domain.waitlist.models import WaitlistEntry
from medspa.features.settings.waitlist_block import WaitlistSettingsState
from medspa.features.waitlist.client_pick import WaitlistClientState
from medspa.features.waitlist.state import WaitlistState
from tests.test_handler_matrix import STAFF_ROLES, World, staff_state, world  # noqa: F401  (fixture)
from tests.test_handlers import app_settings, call, run  # noqa: F401  (fixture)

DAY = "2026-07-03"
FORM = {"first_name": "Nia", "last_name": "Desk", "email": "", "phone": "(212) 555-0190", "service": "",
        "provider": "any", "first_day": DAY, "last_day": DAY, "window_start": "09:00", "window_end": "12:00",
        "note": "prefers mornings"}


def _page(w: World, role: str) -> WaitlistState:
    state = staff_state(WaitlistState, w, role)
    run(call(WaitlistState.load, state))
    return state


def _entries(w: World) -> list[WaitlistEntry]:
    with w.clinic.session() as s:
        return list(s.exec(select(WaitlistEntry).order_by(WaitlistEntry.id)))


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_the_desk_page_is_for_staff_who_book(world: World, app_settings, role):  # noqa: F811
    state = _page(world, role)
    assert state.allowed is has_permission(role, "waitlist.manage")
    assert state.not_found is not state.allowed
    if state.allowed:  # the add form's dates: the day and the next four weeks, as the public form's
        assert date.fromisoformat(state.until) - date.fromisoformat(state.day) == timedelta(weeks=4)


def test_the_desk_adds_a_wish_with_messages_by_the_fields_and_removes_it(world: World, app_settings):  # noqa: F811
    state = _page(world, "front_desk")
    state.day = DAY
    run(call(WaitlistState.open_form, state))
    assert state.form_open and state.services and state.providers[0].label == "Anyone"
    botox = str(world.clinic.services["botox"])
    run(call(WaitlistState.add, state, {**FORM, "service": botox}))  # nobody found or typed yet
    assert state.form_errors == {"client": "Find the client and pick them, or add a new client"}
    pick = run(state.get_state(WaitlistClientState))
    run(call(WaitlistClientState.set_mode, pick, "new"))
    run(call(WaitlistState.add, state, {**FORM, "service": botox, "window_end": "09:15"}))
    assert state.form_errors == {"window_end": "Leave at least 30 minutes for the visit"}
    run(call(WaitlistState.add, state, {**FORM, "service": "999999", "first_day": "soon"}))
    assert set(state.form_errors) == {"service", "first_day"}
    assert _entries(world) == []
    run(call(WaitlistState.add, state, {**FORM, "service": botox}))
    assert not state.form_open and state.notice == "Nia is on the waitlist."
    assert [(r.client_name, r.window, r.source, r.note) for r in state.rows] == [
        ("Nia Desk", "9:00 AM – 12:00 PM", "Desk", "prefers mornings")]
    run(call(WaitlistState.close_entry, state, 10**9))  # not on the page: nothing happens
    assert [e.status for e in _entries(world)] == ["waiting"]
    run(call(WaitlistState.close_entry, state, state.rows[0].id))
    assert [e.status for e in _entries(world)] == ["closed"] and state.rows == []
    assert [(r.client_name, r.outcome.split(" 2026")[0]) for r in state.closed_rows] == [
        ("Nia Desk", "Taken off the list Wed, Jul 1,")]  # still listed, with what happened
    run(call(WaitlistState.close_entry, state, state.closed_rows[0].id))  # a closed one is not removed again
    # the same client again, found with the client search: nothing to retype
    run(call(WaitlistState.open_form, state))
    pick = run(state.get_state(WaitlistClientState))
    assert pick.mode == "search"
    run(call(WaitlistClientState.search, pick, "Nia De"))
    assert [h.name for h in pick.hits] == ["Nia Desk"]
    run(call(WaitlistClientState.pick, pick, 10**9))  # not a hit: ignored
    assert pick.mode == "search"
    run(call(WaitlistClientState.pick, pick, pick.hits[0].id))
    run(call(WaitlistState.add, state, {**FORM, "first_name": "", "phone": "", "service": botox}))
    assert state.notice == "Nia is on the waitlist." and [r.client_name for r in state.rows] == ["Nia Desk"]
    entries = _entries(world)
    assert len(entries) == 2 and entries[0].client_id == entries[1].client_id


@pytest.mark.parametrize("role, outbox", [("front_desk", False), ("provider", False), ("manager", True),
                                          ("owner", True)])
def test_the_hint_points_to_the_outbox_only_for_roles_that_open_it(world: World, app_settings, role,  # noqa: F811
                                                                   outbox):
    assert _page(world, role).can_open_outbox is outbox


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_the_waitlist_block_is_for_owner_and_manager(world: World, app_settings, role):  # noqa: F811
    state = staff_state(WaitlistSettingsState, world, role)
    run(call(WaitlistSettingsState.load_waitlist, state))
    key = str(world.clinic.location_id)
    allowed = has_permission(role, "settings.write")
    assert (key in state.wl_mode) is allowed
    if not allowed:
        return
    assert (state.wl_mode[key], state.wl_hold[key]) == ("one_at_a_time", "30")
    run(call(WaitlistSettingsState.set_waitlist_hold, state, world.clinic.location_id, "99999"))
    assert state.wl_message[key] == "Hold a time between 5 and 1440 minutes"
    run(call(WaitlistSettingsState.set_waitlist_mode, state, world.clinic.location_id, "all_at_once"))
    run(call(WaitlistSettingsState.set_waitlist_hold, state, world.clinic.location_id, "60"))
    with world.clinic.session() as s:
        loc = s.get(Location, world.clinic.location_id)
        assert (loc.waitlist_mode, loc.waitlist_hold_minutes) == ("all_at_once", 60)
    run(call(WaitlistSettingsState.set_waitlist_mode, state, world.clinic.location_id, "one_at_a_time"))
    run(call(WaitlistSettingsState.set_waitlist_hold, state, world.clinic.location_id, "30"))
