"""The medical history (clinical/medical_history.py, health_record.py, history_actions.py) on
real PostgreSQL: versions with old and new value, who, when and source; validation messages
per field; who may read (every read audited) and write; the portal's own record; the merge
moving the versions; the version rows are append-only for the app."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from medspa.clock import FixedClock
from medspa.domain.clients.merge import merge_clients
from medspa.domain.clients.service import ClientInput, find_or_create_client
from medspa.domain.clinical.history_actions import (do_update_history, do_update_own_history, fetch_history,
                                                    fetch_history_versions, fetch_own_history)
from medspa.domain.clinical.medical_history import (SECTIONS, current_history, describe, record_history,
                                                    validate_section)
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.portal.service import ACTION_WORDS
from tests.conftest import utc

NOW = utc(2026, 7, 1, 16)
LATER = utc(2026, 7, 2, 9)


def _client(clinic, first: str = "Ivy") -> int:
    with clinic.session() as s:
        c = find_or_create_client(s, clinic.system, ClientInput(first, "Stone", f"{first}-{uuid.uuid4().hex[:8]}@example.com",
                                                                "+12125550160"))
        s.commit()
        return c.id


def _nurse(clinic) -> Actor:
    return Actor(org_id=clinic.org_id, role="provider", user_id=None, label="Nurse Amy", ip="203.0.113.9")


def _audit(clinic, action: str) -> list:
    with clinic.session() as s:
        return s.execute(text("select actor_role, client_id, detail from audit_event where action = :a order by id"),
                         {"a": action}).all()


def _versions(clinic, client_id: int) -> list:
    with clinic.session() as s:
        return s.execute(text("select section, old_value, value, source, by_label, changed_at from "
                              "medical_history_version where client_id = :c order by id"), {"c": client_id}).all()


# ---------------------------------------------------------------------------- versions


def test_each_change_is_a_version_with_old_new_who_when_and_source(clinic):
    cid, nurse = _client(clinic), _nurse(clinic)
    view = do_update_history(nurse, cid, {"allergies": [{"agent": " Lidocaine ", "reaction": "hives"}],
                                          "pregnancy": {"pregnant": False, "breastfeeding": False}},
                             clock=FixedClock(NOW), engine=clinic.engine)
    assert view.values["allergies"] == [{"agent": "Lidocaine", "reaction": "hives"}]
    assert view.last_change_label == "Last changed Jul 1, 2026 by Nurse Amy"
    # pregnancy equals the empty value: not a change, no version
    rows = _versions(clinic, cid)
    assert [(r.section, r.old_value, r.value, r.source, r.by_label, r.changed_at) for r in rows] == [
        ("allergies", [], [{"agent": "Lidocaine", "reaction": "hives"}], "staff", "Nurse Amy", NOW)]
    do_update_history(nurse, cid, {"allergies": [{"agent": "Lidocaine", "reaction": "hives"},
                                                 {"agent": "latex", "reaction": ""}]},
                      clock=FixedClock(LATER), engine=clinic.engine)
    do_update_history(nurse, cid, {"allergies": [{"agent": "Lidocaine", "reaction": "hives"},
                                                 {"agent": "latex", "reaction": ""}]},
                      clock=FixedClock(LATER), engine=clinic.engine)  # the same again: no version
    rows = _versions(clinic, cid)
    assert len(rows) == 2
    assert rows[1].old_value == [{"agent": "Lidocaine", "reaction": "hives"}]
    assert rows[1].value[-1] == {"agent": "latex", "reaction": ""} and rows[1].changed_at == LATER
    versions = fetch_history_versions(nurse, cid, clock=FixedClock(LATER), engine=clinic.engine)
    assert [(v.section, v.changed_at) for v in versions] == [("allergies", LATER), ("allergies", NOW)]
    assert describe("allergies", versions[0].value) == "Lidocaine (hives); latex"
    assert describe("allergies", versions[1].old_value) == "None recorded"
    assert [(v.old_text, v.new_text) for v in versions] == [  # the viewer's words, old -> new
        ("Lidocaine (hives)", "Lidocaine (hives); latex"), ("Not recorded", "Lidocaine (hives)")]
    assert versions[0].when_label == "Jul 2, 2026, 5:00 AM" and versions[0].section_label == "Allergies"
    # audit: the writes name the sections, never the values
    writes = _audit(clinic, "history.write")
    assert [(w.actor_role, w.client_id, w.detail["sections"]) for w in writes] == [
        ("provider", cid, ["allergies"]), ("provider", cid, ["allergies"])]
    assert "Lidocaine" not in str(writes)


def test_portal_client_reads_and_updates_own_history_source_portal(clinic):
    cid, other = _client(clinic), _client(clinic, "Zoe")
    me = Actor.client(clinic.org_id, cid, ip="198.51.100.7")
    view = do_update_own_history(me, {"pregnancy": {"pregnant": True, "breastfeeding": False},
                                      "goals": {"text": "Softer frown lines"}}, clock=FixedClock(NOW),
                                 engine=clinic.engine)
    assert view.values["pregnancy"]["pregnant"] and view.recorded == ("pregnancy", "goals")
    rows = _versions(clinic, cid)
    assert {(r.section, r.source, r.by_label) for r in rows} == {("pregnancy", "portal", "Ivy Stone (portal)"),
                                                                  ("goals", "portal", "Ivy Stone (portal)")}
    assert fetch_own_history(me, clock=FixedClock(NOW), engine=clinic.engine).values["goals"] == {
        "text": "Softer frown lines"}
    assert _versions(clinic, other) == []
    assert [(r.actor_role, r.client_id) for r in _audit(clinic, "history.read")] == [("client", cid)]
    assert ACTION_WORDS["history.read"] and ACTION_WORDS["history.write"] and ACTION_WORDS["history.versions.read"]
    # a portal client cannot use the staff entry points, even for their own id
    with pytest.raises(NotFound):
        fetch_history(me, cid, clock=FixedClock(NOW), engine=clinic.engine)


def test_record_history_from_an_intake_form_and_bad_source(clinic):
    cid = _client(clinic)
    with clinic.session() as s:
        assert record_history(s, cid, {"fitzpatrick": {"type": "iv"}}, by_user_id=None, by_label="Intake",
                              source="intake form", now=NOW) == ["fitzpatrick"]
        assert current_history(s, cid)["fitzpatrick"] == {"type": "IV"}
        with pytest.raises(ValidationFailed) as bad:
            record_history(s, cid, {"goals": {"text": "x"}}, by_user_id=None, by_label="", source="email", now=NOW)
        assert bad.value.fields == {"source": "Unknown source of the change"}
        with pytest.raises(NotFound):
            record_history(s, 10**12, {"goals": {"text": "x"}}, by_user_id=None, by_label="", source="staff", now=NOW)
        s.commit()


# ---------------------------------------------------------------------------- validation


def test_validation_messages_per_field_and_nothing_half_written(clinic):
    cid, nurse = _client(clinic), _nurse(clinic)
    with pytest.raises(ValidationFailed) as bad:
        do_update_history(nurse, cid, {
            "allergies": [{"agent": "", "reaction": "rash"}, {"agent": "", "reaction": ""}],
            "medications": [{"name": "Isotretinoin", "dose": "20 mg", "stopped_on": "31/03/2026"}],
            "fitzpatrick": {"type": "VII"},
            "lifestyle": {"sun_exposure": "always", "smoking": "yes"},
            "goals": {"text": "x" * 2001},
        }, clock=FixedClock(NOW), engine=clinic.engine)
    assert bad.value.fields == {
        "allergies.0.agent": "Name the agent or ingredient",
        "medications.0.stopped_on": "A date like 2026-03-31, or empty while still taking it",
        "fitzpatrick.type": "Choose a type from I to VI",
        "lifestyle.sun_exposure": "Choose low, moderate or high",
        "lifestyle.smoking": "Must be yes or no",
        "goals.text": "At most 2000 characters",
    }
    assert _versions(clinic, cid) == []
    with pytest.raises(ValidationFailed) as bad:
        validate_section("tattoos", [])
    assert bad.value.fields == {"section": "Unknown section of the medical history"}
    with pytest.raises(ValidationFailed) as bad:
        validate_section("conditions", {"name": "x"})
    assert bad.value.fields == {"conditions": "Must be a list"}
    with pytest.raises(ValidationFailed):
        validate_section("conditions", [{"name": "x"}] * 31)
    assert validate_section("medications", [{"name": "Isotretinoin", "dose": "", "stopped_on": "2026-03-01"},
                                            {"name": "", "dose": "", "stopped_on": ""}]) == [
        {"name": "Isotretinoin", "dose": "", "stopped_on": "2026-03-01"}]
    assert set(SECTIONS) == {"allergies", "medications", "conditions", "fitzpatrick", "previous_treatments",
                             "pregnancy", "lifestyle", "goals"}


# ---------------------------------------------------------------------------- permissions and audit


@pytest.mark.parametrize("role", ["manager", "front_desk", "lab", "public", "system"])
def test_everyone_but_provider_and_owner_gets_not_found(clinic, role):
    cid = _client(clinic)
    do_update_history(_nurse(clinic), cid, {"conditions": [{"name": "Asthma"}]}, clock=FixedClock(NOW),
                      engine=clinic.engine)
    actor = clinic.staff_actor(role) if role not in ("public", "system") else {
        "public": clinic.public, "system": clinic.system}[role]
    for call in (lambda: fetch_history(actor, cid, clock=FixedClock(NOW), engine=clinic.engine),
                 lambda: fetch_history_versions(actor, cid, clock=FixedClock(NOW), engine=clinic.engine),
                 lambda: do_update_history(actor, cid, {"conditions": []}, clock=FixedClock(NOW),
                                           engine=clinic.engine),
                 lambda: fetch_own_history(actor, clock=FixedClock(NOW), engine=clinic.engine),
                 lambda: do_update_own_history(actor, {"conditions": []}, clock=FixedClock(NOW),
                                               engine=clinic.engine)):
        with pytest.raises(NotFound):
            call()
    assert _audit(clinic, "history.read") == [] and _audit(clinic, "history.versions.read") == []
    assert len(_versions(clinic, cid)) == 1


@pytest.mark.parametrize("role", ["provider", "owner"])
def test_every_staff_read_is_audited(clinic, role):
    cid = _client(clinic)
    actor = clinic.staff_actor(role)
    view = fetch_history(actor, cid, clock=FixedClock(NOW), engine=clinic.engine)
    assert view.recorded == () and view.values["allergies"] == [] and view.last_change_at is None
    fetch_history_versions(actor, cid, "allergies", clock=FixedClock(NOW), engine=clinic.engine)
    assert [(r.actor_role, r.client_id) for r in _audit(clinic, "history.read")] == [(role, cid)]
    versions = _audit(clinic, "history.versions.read")
    assert [(r.actor_role, r.client_id, r.detail["section"]) for r in versions] == [(role, cid, "allergies")]
    with pytest.raises(ValidationFailed):
        fetch_history_versions(actor, cid, "tattoos", clock=FixedClock(NOW), engine=clinic.engine)


def test_other_clinics_client_and_bad_ids_are_not_found(engine, owner_engine, clinic):
    from tests.factories import build_clinic

    other = build_clinic(engine, owner_engine)
    theirs = _client(other)
    for bad in (theirs, 0, -1, 10**15, True, "1", None):
        with pytest.raises(NotFound):
            fetch_history(_nurse(clinic), bad, clock=FixedClock(NOW), engine=clinic.engine)
        with pytest.raises(NotFound):
            do_update_history(_nurse(clinic), bad, {"goals": {"text": "x"}}, clock=FixedClock(NOW),
                              engine=clinic.engine)


def test_versions_are_append_only_for_the_app(clinic):
    cid = _client(clinic)
    do_update_history(_nurse(clinic), cid, {"goals": {"text": "Glow"}}, clock=FixedClock(NOW), engine=clinic.engine)
    for sql in ("update medical_history_version set value = '{}'::jsonb", "delete from medical_history_version"):
        with clinic.session() as s:
            with pytest.raises(DBAPIError):
                s.execute(text(sql))
    assert len(_versions(clinic, cid)) == 1


# ---------------------------------------------------------------------------- merge


def test_merge_moves_the_history_and_the_newest_version_wins(clinic):
    keep, gone = _client(clinic, "Ann"), _client(clinic, "Anne")
    nurse = _nurse(clinic)
    do_update_history(nurse, keep, {"allergies": [{"agent": "latex", "reaction": ""}]}, clock=FixedClock(NOW),
                      engine=clinic.engine)
    do_update_history(nurse, gone, {"allergies": [{"agent": "lidocaine", "reaction": ""}],
                                    "conditions": [{"name": "Asthma"}]}, clock=FixedClock(LATER),
                      engine=clinic.engine)
    with clinic.session() as s:
        merge_clients(s, clinic.staff_actor("owner"), keep, gone, LATER)
        s.commit()
    assert _versions(clinic, gone) == []
    view = fetch_history(nurse, keep, clock=FixedClock(LATER), engine=clinic.engine)
    assert view.values["allergies"] == [{"agent": "lidocaine", "reaction": ""}]
    assert view.values["conditions"] == [{"name": "Asthma"}]
    assert len(fetch_history_versions(nurse, keep, clock=FixedClock(LATER), engine=clinic.engine)) == 3
