"""The chart's autosave word and the save notice never contradict each other (issue 18 new-user
check: "Not saved yet: complete the lines" stayed beside "Draft saved."): an autosave clears the
older notice; the page shows the autosave word only while no newer notice stands."""

from __future__ import annotations

from medspa.features.charting.autosave import ChartDraftState as D
from medspa.features.charting.state import ChartState, RowView
from tests.test_handler_matrix import new_visit, staff_state, world  # noqa: F401  (fixture)
from tests.test_handlers import app_settings, call, run  # noqa: F401  (fixture)
from tests.test_health_handlers import _routed


def test_an_autosave_replaces_the_older_notice(world, app_settings):  # noqa: F811
    appt = new_visit(world)
    state = _routed(staff_state(D, world, "owner"), f"/chart/{appt}", "/chart/[appointment_id]")
    assert isinstance(state, D)
    run(call(ChartState.load, state))
    state.notice = "Draft saved."  # what a manual save said earlier
    state.rows = [RowView("Botox", "", "", "glabella")]  # an incomplete line: the autosave waits
    run(call(D.autosave, state))
    assert (state.autosave_label, state.notice) == ("Not saved yet: complete the lines, then Save draft.", "")
    state.notice = "Draft saved."
    state.rows = [RowView("Botox", "C3709C3", "20", "glabella")]
    run(call(D.autosave, state))
    assert state.autosave_label.startswith("Saved automatically at ") and state.notice == ""
