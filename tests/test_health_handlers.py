"""The medical history's Reflex states called directly, as a hostile browser could: the
profile card holds nothing for the desk, saves a version with field messages for the provider;
the chart panel refuses to sign a flagged visit without the provider's reason, then signs it
and keeps the reason."""

from __future__ import annotations

from sqlalchemy import text

from medspa.domain.clinical.history_actions import do_update_history
from medspa.features.charting.health_panel import ChartHealthState as CH
from medspa.features.charting.state import ChartState, RowView
from medspa.features.clients.health_state import HealthCardState as HC
from medspa.features.clients.state import ClientProfileState as P
from tests.consent_support import sign_required_consents
from tests.test_handler_matrix import new_visit, staff_state, world  # noqa: F401  (fixture)
from tests.test_handlers import app_settings, call, run  # noqa: F401  (fixture)

HOSTILE = [None, -1, 0, 2**70, "allergies ", True, 1.5, {"a": 1}, [1], "tattoos"]


def _routed(state, path: str, pattern: str = ""):
    """`state` as if its tab were at `path` (the page's route `pattern`)."""
    from reflex.istate.data import RouterData

    root = state
    while root.parent_state is not None:
        root = root.parent_state
    root.router = RouterData.from_router_data({"headers": dict(root.router.headers.raw_headers),
                                               "pathname": pattern or path, "asPath": path})
    return state


def _card(w, role: str, client_id: int):
    state = _routed(staff_state(HC, w, role), f"/clients/{client_id}")
    run(call(P.load, state))
    run(call(HC.load_health, state))
    return state


def _client_of(w, appt: int) -> int:
    with w.clinic.session() as s:
        return s.execute(text("select client_id from appointment where id = :a"), {"a": appt}).scalar()


def test_the_card_is_for_provider_and_owner_and_saves_a_version(world, app_settings):  # noqa: F811
    client_id = _client_of(world, new_visit(world))
    for role in ("front_desk", "manager"):
        desk = _card(world, role, client_id)
        assert desk.status == "ready" and not desk.health_show and desk.health_rows == []
        run(call(HC.start_edit, desk, "allergies"))
        assert desk.edit_section == ""
        run(call(HC.open_versions, desk))
        assert not desk.versions_open and desk.versions == []
    nurse = _card(world, "provider", client_id)
    assert nurse.health_show and [r.key for r in nurse.health_rows][:2] == ["allergies", "medications"]
    for bad in HOSTILE:
        run(call(HC.start_edit, nurse, bad))
        assert nurse.edit_section == ""
    run(call(HC.start_edit, nurse, "medications"))
    assert nurse.edit_cols[0] == "Medication" and len(nurse.edit_rows) == 2
    run(call(HC.save_edit, nurse, {"r0_0": "Isotretinoin", "r0_2": "March"}))
    assert nurse.edit_errors == {"r0_2": "A date like 2026-03-31, or empty while still taking it"}
    run(call(HC.save_edit, nurse, {"r0_0": "Isotretinoin", "r0_1": "20 mg", "r0_2": "2026-03-31"}))
    assert nurse.edit_section == "" and "Isotretinoin 20 mg, stopped 2026-03-31" in [r.text for r in nurse.health_rows]
    run(call(HC.open_versions, nurse))
    assert nurse.versions_open and [(v.section, v.old, v.new) for v in nurse.versions] == [
        ("Medications", "Not recorded", "Isotretinoin 20 mg, stopped 2026-03-31")]
    run(call(HC.save_edit, nurse, {"r0_0": "sneaky"}))  # no section open: nothing saved
    with world.clinic.session() as s:
        assert s.execute(text("select count(*) from medical_history_version where client_id = :c"),
                         {"c": client_id}).scalar() == 1


def test_signing_a_flagged_chart_needs_the_reason_typed_on_the_panel(world, app_settings):  # noqa: F811
    appt = new_visit(world)
    sign_required_consents(world.clinic, appt)  # the consent gate is not what this test is about
    client_id = _client_of(world, appt)
    do_update_history(world.clinic.staff_actor("provider"), client_id,
                      {"pregnancy": {"pregnant": True, "breastfeeding": False}}, engine=world.clinic.engine)
    with world.clinic.session() as s:  # the provider user signs as the visit's provider (who signs: issue 18)
        s.execute(text("update user_account set staff_id = (select provider_id from appointment where id = :a) "
                       "where email = :e"), {"a": appt, "e": f"provider-{world.clinic.slug}@example.com"})
        s.commit()
    try:
        _sign_flagged_chart_with_reason(world, appt)
    finally:
        with world.clinic.session() as s:
            s.execute(text("update user_account set staff_id = null where email = :e"),
                      {"e": f"provider-{world.clinic.slug}@example.com"})
            s.commit()


def _sign_flagged_chart_with_reason(world, appt: int) -> None:
    state = _routed(staff_state(CH, world, "provider"), f"/chart/{appt}", "/chart/[appointment_id]")
    assert isinstance(state, CH)
    run(call(ChartState.load, state))
    run(call(CH.load_health, state))
    assert state.health_flags == ["Pregnant"]
    state.rows = [RowView("Botox", "C3709C3", "20", "glabella")]
    state.confirm_sign = True
    run(call(CH.sign_with_reason, state))
    assert state.health_error.startswith("A contraindication is flagged") and state.chart_status == "draft"
    run(call(CH.set_health_reason, state, "Confirmed not pregnant today (test negative)"))
    state.confirm_sign = True
    run(call(CH.sign_with_reason, state))
    assert state.chart_status == "signed"
    assert state.health_overrides[-1].startswith("Chart · ")
    assert " AM " in state.health_overrides[-1] or " PM " in state.health_overrides[-1]  # when, clinic-local
    assert state.health_overrides[-1].endswith(": Confirmed not pregnant today (test negative)")
    with world.clinic.session() as s:
        row = s.execute(text("select stage, reason from health_override where appointment_id = :a"), {"a": appt}).one()
    assert tuple(row) == ("chart", "Confirmed not pregnant today (test negative)")


def test_sign_with_client_saves_the_draft_and_keeps_the_reason_before_the_consent_page(world, app_settings):  # noqa: F811
    """Finding 1: "Sign with client" left for /consent/<visit> and threw away the unsaved chart."""
    appt = new_visit(world)
    client_id = _client_of(world, appt)
    do_update_history(world.clinic.staff_actor("provider"), client_id,
                      {"pregnancy": {"pregnant": True, "breastfeeding": False}}, engine=world.clinic.engine)
    state = _routed(staff_state(CH, world, "provider"), f"/chart/{appt}", "/chart/[appointment_id]")
    run(call(ChartState.load, state))
    run(call(CH.load_health, state))
    state.rows = [RowView("Botox", "C3709C3", "20", "glabella")]
    run(call(ChartState.set_note, state, "Relaxed, no bruising"))
    run(call(CH.set_health_reason, state, "Test negative today"))
    out = run(call(CH.sign_with_client, state))
    assert f"/consent/{appt}" in repr(out)
    with world.clinic.session() as s:
        note = s.execute(text("select note from treatment_note where appointment_id = :a order by version desc"),
                         {"a": appt}).first()
    assert note is not None and "Relaxed, no bruising" in str(note[0])
    # back from the consent page: the chart reloads from the saved draft; the reason is still typed
    run(call(ChartState.load, state))
    run(call(CH.load_health, state))
    assert [r.product for r in state.rows] == ["Botox"] and state.note == "Relaxed, no bruising"
    assert state.health_reason == "Test negative today"
