"""The Locations tab of /settings through its Reflex event handlers: owner and manager only,
a message under the day whose intervals overlap with nothing saved, a closure that warns about
the visits it keeps."""

from __future__ import annotations

from datetime import time

import pytest
from sqlmodel import select

from medspa.domain.identity.permissions import has_permission
from medspa.domain.practice.opening_models import LocationClosure, LocationHours
from medspa.features.settings.location_state import LocationsState
from medspa.features.settings.location_text import SpanText, hours_form, parse_hours
from tests.test_handler_matrix import STAFF_ROLES, World, new_visit, staff_state, world  # noqa: F401  (fixture)
from tests.test_handlers import app_settings, call, run  # noqa: F401  (fixture)


def _loaded(w: World, role: str) -> LocationsState:
    state = staff_state(LocationsState, w, role)
    run(call(LocationsState.load_locations, state))
    return state


def _rows(w: World, table) -> list:
    with w.clinic.session() as s:
        return list(s.exec(select(table)))


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_locations_are_for_owner_and_manager_only(world: World, app_settings, role):  # noqa: F811
    state = _loaded(world, role)
    allowed = has_permission(role, "settings.write")
    assert bool(state.locations) is allowed
    # a page loaded before the role changed: the server checks the role again
    stale = staff_state(LocationsState, world, role)
    stale.closure_open, stale.closure_location_id = True, world.clinic.location_id
    stale.closure_form = {"start_date": "2026-07-20", "end_date": "", "reason": "Holiday"}
    run(call(LocationsState.save_closure, stale))
    closures = _rows(world, LocationClosure)
    assert len(closures) == (1 if allowed else 0)
    if allowed:  # reopen for the next role
        run(call(LocationsState.load_locations, state))
        run(call(LocationsState.remove_closure, state, closures[0].id))
    assert _rows(world, LocationClosure) == []


def test_overlapping_hours_get_a_message_under_the_day_and_nothing_is_saved(world: World, app_settings):  # noqa: F811
    state = _loaded(world, "owner")
    run(call(LocationsState.edit_location, state, world.clinic.location_id))
    assert state.loc_open and [d.spans for d in state.hours] == [[]] * 7
    run(call(LocationsState.set_detail, state, "address", "1 Main St"))
    run(call(LocationsState.add_span, state, 2))
    run(call(LocationsState.add_span, state, 2))
    assert [(s.start, s.end) for s in state.hours[2].spans] == [("09:00", "18:00"), ("18:00", "")]
    run(call(LocationsState.set_span, state, 2, 1, "start", "12:00"))
    run(call(LocationsState.set_span, state, 2, 1, "end", "20:00"))
    run(call(LocationsState.save_location, state))
    assert state.loc_errors == {"hours-2": "Intervals overlap: join them or fix the times"} and state.loc_open
    assert _rows(world, LocationHours) == []
    run(call(LocationsState.set_span, state, 2, 0, "end", "12:00"))
    assert "hours-2" not in state.loc_errors
    run(call(LocationsState.save_location, state))
    assert not state.loc_open and state.loc_message == "Main was saved"
    card = state.locations[0]
    assert card.address == "1 Main St" and card.hours[2] == "Wed  09:00–12:00, 12:00–20:00"
    assert card.hours[0] == "Mon  Closed"
    run(call(LocationsState.edit_location, state, world.clinic.location_id))
    for _ in range(2):
        run(call(LocationsState.remove_span, state, 2, 0))
    run(call(LocationsState.save_location, state))
    assert _rows(world, LocationHours) == []


def test_a_closure_on_a_booked_day_warns_that_the_visit_is_kept(world: World, app_settings):  # noqa: F811
    visit_id = new_visit(world)
    state = _loaded(world, "manager")
    run(call(LocationsState.new_closure, state, world.clinic.location_id))
    run(call(LocationsState.set_closure_field, state, "start_date", "2026-07-01"))
    run(call(LocationsState.set_closure_field, state, "end_date", "2026-06-30"))
    run(call(LocationsState.save_closure, state))
    assert state.loc_errors == {"end_date": "The last day cannot be before the first",
                                "reason": "Say why, e.g. Public holiday"}
    run(call(LocationsState.set_closure_field, state, "end_date", ""))
    run(call(LocationsState.set_closure_field, state, "reason", "Burst pipe"))
    run(call(LocationsState.save_closure, state))
    assert state.loc_errors == {} and not state.closure_open
    assert state.loc_message == "Main is closed on Wed, Jul 1, 2026: no slots are offered then"
    assert state.loc_warning == "1 booked visit on the closed day is kept: move or cancel it on the calendar"
    [closure] = state.locations[0].closures
    assert (closure.reason, closure.warning) == ("Burst pipe", state.loc_warning)
    run(call(LocationsState.remove_closure, state, closure.id))
    assert state.locations[0].closures == [] and visit_id


@pytest.mark.parametrize(("start", "end", "parsed"), [
    ("9", "17:00", None), ("09:00", "", None), ("25:00", "26:00", None), ("09:00", "17:30", (time(9), time(17, 30))),
])
def test_hours_text_is_parsed_with_a_message_per_day(start, end, parsed):
    days = hours_form({})
    days[4].spans.append(SpanText(start, end))
    if parsed is None:
        assert parse_hours(days) == (None, {"hours-4": "Enter both times, like 09:00"})
    else:
        assert parse_hours(days) == ({4: [parsed]}, {})
