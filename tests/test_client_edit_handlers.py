"""The client form's state (features/clients/edit.py) with hostile values: any JSON a browser
sends as the form gives field messages or nothing, never an exception nor a half-saved client;
the lab and signed-out tabs get nothing; "Create anyway" creates exactly the form that was
flagged; an edit of another clinic's client is "not found"."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import select

from medspa.domain.clients.models import Client
from medspa.domain.clients.service import ClientInput, find_or_create_client
from medspa.features.clients.edit import ClientEditState as E
from medspa.features.clients.edit import edit_target, form_from
from tests.factories import build_clinic
from tests.test_handler_matrix import staff_state, world  # noqa: F401  (fixture)
from tests.test_handlers import app_settings, call, run  # noqa: F401  (fixture)

HOSTILE = [None, -1, 2**70, "x" * 100_000, {"a": 1}, [1], True, 1.5, "",
           {"first_name": ["x"], "email": {"a": 1}, "phone": 2**70, "date_of_birth": "9999-99-99",
            "preferred_provider_id": "-1", "email_marketing_consent": {"x": 1}, "alerts": "a" * 10_000,
            "notes": "\x00" * 50, "time_zone": "../../etc/passwd"}]


def at(state, path: str):
    root = state
    while root.parent_state is not None:
        root = root.parent_state
    root.router = type(root.router).from_router_data({"headers": dict(root.router.headers.raw_headers),
                                                      "pathname": path, "asPath": path})
    return state


def opened(w, role: str | None, path: str):
    state = at(staff_state(E, w, role) if role else staff_state(E, w, "none"), path)
    run(call(E.load, state))
    return state


def clients(w) -> int:
    with w.clinic.session() as s:
        return s.exec(select(func.count()).select_from(Client)).one()


def test_edit_target_reads_only_the_two_routes():
    assert edit_target("/clients/new") == ("new", 0)
    assert edit_target("/clients/12/edit") == ("edit", 12)
    for path in ("/clients/12", "/clients/x/edit", "/clients/０1/edit", "/clients/12/edit/more", "", None):
        assert edit_target(path) == ("", 0)


def test_form_from_hostile_json():
    for value in HOSTILE:
        form = form_from(value)
        assert all(isinstance(getattr(form, n), str) for n in ("first_name", "email", "alerts", "notes"))
        assert isinstance(form.email_marketing_consent, bool)
    assert len(form_from({"alerts": "a" * 10_000}).alerts) == 81  # one past the limit: the domain says so


def test_hostile_forms_give_messages_and_write_nothing(world, app_settings):  # noqa: F811
    before = clients(world)
    state = opened(world, "front_desk", "/clients/new")
    assert state.status == "ready" and state.mode == "new"
    for value in HOSTILE:
        run(call(E.save, state, value))
        assert state.errors or state.error, value
        assert not state.saving
    run(call(E.create_anyway, state))  # nothing was flagged: ignored
    assert clients(world) == before


def test_lab_and_signed_out_get_nothing(world, app_settings):  # noqa: F811
    before = clients(world)
    lab = opened(world, "lab", "/clients/new")
    assert lab.status == "not_found"
    run(call(E.save, lab, {"first_name": "Lab", "last_name": "Made"}))
    signed_out = opened(world, None, "/clients/new")
    assert signed_out.status != "ready"
    run(call(E.save, signed_out, {"first_name": "No", "last_name": "Session"}))
    assert clients(world) == before


def test_create_flags_duplicates_then_create_anyway(world, app_settings):  # noqa: F811
    state = opened(world, "front_desk", "/clients/new")
    sent = {"first_name": "Hana", "last_name": "Sato", "phone": "212 555 0177", "alerts": "VIP",
            "email_marketing_consent": "on", "preferred_provider_id": "none"}
    run(call(E.save, state, sent))
    assert state.errors == {} and state.duplicates == []
    with world.clinic.session() as s:
        hana = s.exec(select(Client).where(Client.first_name == "Hana")).one()
        assert (hana.alerts, hana.email_marketing_consent, hana.email_marketing_consent_source) == ("VIP", True, "desk")
    state = opened(world, "front_desk", "/clients/new")
    run(call(E.save, state, {**sent, "first_name": "Hanna"}))
    assert [(d.id, d.why) for d in state.duplicates] == [(hana.id, "Same phone and a similar name")]
    run(call(E.create_anyway, state))
    with world.clinic.session() as s:
        assert [c.first_name for c in s.exec(select(Client).where(Client.last_name == "Sato")
                                             .order_by(Client.id)).all()] == ["Hana", "Hanna"]


def test_edit_saves_and_refuses_another_clinics_client(world, app_settings, engine, owner_engine):  # noqa: F811
    with world.clinic.session() as s:
        c = find_or_create_client(s, world.clinic.system, ClientInput("Ivo", "Petrov", "ivo@example.com", ""),
                                 require_contact=False)
        s.commit()
        ivo = c.id
    state = opened(world, "front_desk", f"/clients/{ivo}/edit")
    assert state.status == "ready" and state.values["first_name"] == "Ivo"
    run(call(E.save, state, {**state.values, "alerts": "Needle-shy", "date_of_birth": "2999-01-01"}))
    assert state.errors == {"date_of_birth": "Date of birth cannot be in the future"}
    run(call(E.save, state, {**state.values, "alerts": "Needle-shy"}))
    assert state.errors == {}
    with world.clinic.session() as s:
        assert s.get(Client, ivo).alerts == "Needle-shy"
    other = build_clinic(engine, owner_engine)
    with other.session() as s:
        stranger = find_or_create_client(s, other.system, ClientInput("Zed", "Ext", "zed@example.com", ""),
                                         require_contact=False).id
        s.commit()
    foreign = opened(world, "owner", f"/clients/{stranger}/edit")
    assert foreign.status == "not_found"
    run(call(E.save, foreign, {"first_name": "Hacked", "last_name": "X"}))
    with other.session() as s:
        assert s.get(Client, stranger).first_name == "Zed"


@pytest.mark.parametrize("path", ["/clients/0/edit", "/clients/99999999999/edit", "/clients/abc/edit"])
def test_odd_paths_are_not_found(world, app_settings, path):  # noqa: F811
    assert opened(world, "owner", path).status == "not_found"


def test_an_edit_that_makes_two_records_look_alike_says_so(world, app_settings):  # noqa: F811
    """Issue 14: duplicates are flagged when editing too. The desk types the mobile of a client
    already on file into another record: it saves, and the tab is told who it may be (a toast
    before the profile opens); an edit of the alerts alone checks nothing."""
    with world.clinic.session() as s:
        ruth = find_or_create_client(s, world.clinic.system, ClientInput("Ruth", "Adler", "", "+12125550188"),
                                     require_contact=False)
        other = find_or_create_client(s, world.clinic.system, ClientInput("Ruthie", "Adler", "", ""),
                                      require_contact=False)
        s.commit()
        other_id = other.id
    state = opened(world, "front_desk", f"/clients/{other_id}/edit")
    events = run(call(E.save, state, {**state.values, "alerts": "VIP"}))
    assert not any("may also be on file" in repr(e) for e in events)
    events = run(call(E.save, state, {**state.values, "alerts": "VIP", "phone": "(212) 555-0188"}))
    assert state.errors == {}
    assert any("may also be on file as Ruth Adler (same phone and a similar name)" in repr(e) for e in events), events
    assert any(f"/clients/{other_id}" in repr(e) for e in events)
