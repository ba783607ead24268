"""ClientHistoryState on /clients/<id>: book again from the server's own offer (hostile and
foreign visit ids ignored, a second press books nothing), the calendar link, and the
"Charts & photos" lists held only for provider and owner."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from medspa.domain.clients.service import ClientInput, find_or_create_client
from medspa.features.clients.history import ClientHistoryState as H
from medspa.features.clients.state import ClientProfileState as P
from tests.test_analytics_trends import _visit
from tests.test_handler_matrix import NOW, staff_state, world  # noqa: F401  (fixture)
from tests.test_handlers import app_settings, call, run  # noqa: F401  (fixture)

HOSTILE = [None, -1, 0, 2**70, "1", True, 1.5, {"a": 1}, [1]]


def _profile(w, role: str, client_id: int):
    state = staff_state(H, w, role)
    root = state
    while root.parent_state is not None:
        root = root.parent_state
    root.router = type(root.router).from_router_data({"headers": dict(root.router.headers.raw_headers),
                                                      "pathname": f"/clients/{client_id}",
                                                      "asPath": f"/clients/{client_id}"})
    run(call(P.load, state))
    run(call(H.load, state))
    return state


def _client_with_visit(w, n: int) -> tuple[int, int]:
    with w.clinic.session() as s:
        c = find_or_create_client(s, w.clinic.system, ClientInput("Past", f"Visit{n}", f"past{n}-{w.clinic.slug}@x.com",
                                                                  "+12125550180"))
        s.flush()
        visit = _visit(s, w.clinic, NOW - timedelta(days=7 + n), client_id=c.id).id
        s.commit()
        return c.id, visit


def _count(w, client_id: int) -> int:
    with w.clinic.session() as s:
        return s.execute(text("SELECT count(*) FROM appointment WHERE client_id = :c"), {"c": client_id}).scalar()


def test_book_again_from_the_servers_offer_once(world, app_settings):  # noqa: F811
    client_id, visit = _client_with_visit(world, 1)
    _, foreign = _client_with_visit(world, 2)
    desk = _profile(world, "front_desk", client_id)
    assert desk.status == "ready" and [v.id for v in desk.past] == [visit]
    assert desk.top_id == visit and desk.top_label == "Wed, Jul 1, 12:00 PM EDT with Provider 1"
    assert desk.book_href == f"/calendar?location={world.clinic.location_id}&client={client_id}"
    for bad in [*HOSTILE, foreign, visit + 10**6]:  # not a past visit on this profile: ignored
        run(call(H.ask, desk, bad))
        assert not desk.ask_open and desk._offer == {}
    run(call(H.confirm, desk))  # nothing offered: nothing booked
    assert _count(world, client_id) == 1
    run(call(H.ask, desk, visit))
    assert desk.ask_open and desk.ask_title == "Botox with Provider 1" and desk.ask_label == desk.top_label
    then = run(call(H.confirm, desk))
    assert then is not None and desk.book_message == "Booked Botox on Wed, Jul 1, 12:00 PM EDT with Provider 1."
    run(call(H.confirm, desk))  # a second press: the offer is spent
    assert _count(world, client_id) == 2
    run(call(P.load, desk))
    run(call(H.refresh, desk))
    assert [(v.service, v.provider, v.when) for v in desk.upcoming] == [
        ("Botox", "Provider 1", "Wed, Jul 1, 2026, 12:00 PM")]
    assert desk.top_label == "Wed, Jul 1, 12:30 PM EDT with Provider 1"  # the next free time now
    assert desk.show_charts is False and desk.charts == [] and desk.thumbs == []


def test_the_clinical_lists_are_held_for_provider_and_owner_only(world, app_settings):  # noqa: F811
    client_id, visit = _client_with_visit(world, 3)
    with world.clinic.session() as s:
        s.execute(text("INSERT INTO treatment_note (org_id, appointment_id, client_id, provider_id, version, status, "
                       "note, author_label, signed_by_label, created_at, updated_at, signed_at) VALUES "
                       "(:o, :a, :c, :p, 1, 'signed', '', '', '', :t, :t, :t)"),
                  {"o": world.clinic.org_id, "a": visit, "c": client_id, "p": world.clinic.provider_ids[0], "t": NOW})
        s.commit()
    for role in ("front_desk", "manager"):
        state = _profile(world, role, client_id)
        assert state.status == "ready" and not (state.show_charts or state.show_photos)
        assert state.charts == [] and state.thumbs == []
    for role in ("provider", "owner"):
        state = _profile(world, role, client_id)
        assert state.show_charts and state.show_photos
        assert [(c.status, c.href) for c in state.charts] == [("signed", f"/chart/{visit}")]
    with world.clinic.session() as s:
        rows = s.execute(text("SELECT actor_role, action FROM audit_event WHERE client_id = :c AND object_type = "
                              "'client' AND action IN ('chart.read', 'photo.read') ORDER BY id"),
                         {"c": client_id}).all()
        assert [tuple(r) for r in rows] == [("provider", "chart.read"), ("provider", "photo.read"),
                                            ("owner", "chart.read"), ("owner", "photo.read")]


def test_signed_out_and_lab_get_nothing(world, app_settings):  # noqa: F811
    client_id, visit = _client_with_visit(world, 4)
    lab = _profile(world, "lab", client_id)
    assert lab.status == "not_found" and lab.top_id == 0 and lab.charts == []
    run(call(H.ask, lab, visit))
    assert not lab.ask_open


def test_the_calendar_books_for_the_client_the_profile_handed_over(world, app_settings):  # noqa: F811
    """/calendar?client=<id>: the banner names the client and the dialog opens with them
    picked; a hostile or foreign id, or the lab, presets nothing; booking clears it."""
    from medspa.features.calendar.book_dialog import BookDialogState as B
    from medspa.features.calendar.preset import ClientPresetState as C
    from medspa.features.calendar.state import CalendarState
    from tests.test_handler_matrix import TODAY

    client_id, _ = _client_with_visit(world, 5)

    def calendar(role: str, query: str):
        state = staff_state(B, world, role)
        root = state
        while root.parent_state is not None:
            root = root.parent_state
        root.router = type(root.router).from_router_data({
            "headers": dict(root.router.headers.raw_headers), "pathname": "/calendar",
            "asPath": f"/calendar?location={world.clinic.location_id}&day={TODAY.isoformat()}&{query}",
            "query": {"location": str(world.clinic.location_id), "day": TODAY.isoformat(),
                      **dict(p.split("=", 1) for p in query.split("&") if "=" in p)}})
        cal = run(state.get_state(CalendarState))
        run(call(CalendarState.load, cal))
        preset = run(state.get_state(C))
        run(call(C.load, preset))
        return state, cal, preset

    for bad in ("client=x", "client=-1", "client=99999999999", "client=%C2%B2", "client="):
        _, _, preset = calendar("front_desk", bad)
        assert preset.preset_label == "" and preset._preset_id == 0
    _, _, preset = calendar("lab", f"client={client_id}")
    assert preset.preset_label == ""
    dialog, cal, preset = calendar("front_desk", f"client={client_id}")
    assert (preset.preset_label, preset.preset_href) == ("Past Visit5", f"/clients/{client_id}")
    column = cal.day_data.columns[-1].id
    run(call(B.open_slot, dialog, column, 16 * 60))
    assert dialog.dialog_open and (dialog.mode, dialog.client_id, dialog.client_label) == (
        "picked", client_id, "Past Visit5")
    run(call(B.set_service, dialog, str(world.clinic.services["botox"])))  # the clicked 4 PM is free: picked
    assert dialog.minute == str(16 * 60)
    run(call(B.submit, dialog, {}))
    assert dialog.errors == {} and not dialog.dialog_open and preset._preset_id == 0
    assert _count(world, client_id) == 2
