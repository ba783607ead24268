"""Treatment charts (medspa/domain/clinical/service.py) on real PostgreSQL: who may read and
write, validation per field, signing makes the chart read-only (also in the database),
amendments are new versions, one audit row per read, other clinics see nothing."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from medspa.domain.clients.service import ClientInput, find_or_create_client
from medspa.domain.clinical.models import TreatmentLine, TreatmentNote
from medspa.domain.clinical.service import (
    ChartLocked,
    LineInput,
    amend_chart,
    get_chart,
    parse_units,
    save_chart,
    sign_chart,
)
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.identity.service import create_user
from medspa.domain.scheduling.service import hold_slot
from tests.conftest import utc
from tests.consent_support import sign_required_consents
from tests.factories import build_clinic

NOW = utc(2026, 7, 1, 16)
NY = ZoneInfo("America/New_York")
BOTOX = LineInput("Botox", "C3709C3", "20", "glabella")


def _visit(clinic, *, hour: int = 14, service: str = "botox", confirm: bool = True) -> int:
    with clinic.session() as s:
        client = find_or_create_client(s, clinic.system, ClientInput(
            "Ivy", "Stone", f"ivy-{uuid.uuid4().hex[:8]}@example.com", "+12125550160"))
        start = datetime.combine(date(2026, 7, 1), time(hour), tzinfo=NY).astimezone(timezone.utc)
        appt = hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services[service],
                         start_at=start, now=NOW, client_id=client.id, confirm=confirm)
        s.commit()
    if confirm:
        sign_required_consents(clinic, appt.id)  # the chart gate needs the service's consents (issue 17)
    return appt.id


def _person(clinic, role: str, name: str) -> Actor:
    with clinic.session() as s:
        user = create_user(s, clinic.system, email=f"{role}-{uuid.uuid4().hex[:8]}@example.com",
                           password="long-enough-password", role=role, display_name=name,
                           staff_id=clinic.provider_ids[0] if role == "provider" else None)
        s.commit()  # a provider is the visits' provider: they may sign (issue 18)
        return Actor(org_id=clinic.org_id, role=role, user_id=user.id, label=name, ip="203.0.113.9",
                     staff_id=user.staff_id)


@pytest.fixture
def nurse(clinic) -> Actor:
    return _person(clinic, "provider", "Nurse Amy")


def _call(clinic, fn, *args, **kwargs):
    with clinic.session() as s:
        result = fn(s, *args, now=NOW, **kwargs)
        s.commit()
        return result


def _audit(clinic, action: str) -> list:
    with clinic.session() as s:
        return s.execute(text("select actor_role, client_id, object_id, detail from audit_event where action = :a "
                              "order by id"), {"a": action}).all()


# ---------------------------------------------------------------------------- permissions


@pytest.mark.parametrize("role", ["provider", "owner"])
def test_provider_and_owner_read_and_write(clinic, role):
    appt = _visit(clinic)
    actor = clinic.staff_actor(role)
    chart = _call(clinic, save_chart, actor, appt, [BOTOX], "Mild asymmetry noted.")
    assert chart.status == "draft" and chart.version == 1
    chart = _call(clinic, get_chart, actor, appt)
    assert [(ln.product, ln.lot_number, ln.units, ln.treatment_area) for ln in chart.lines] == [
        ("Botox", "C3709C3", "20", "glabella")]
    assert chart.note == "Mild asymmetry noted." and chart.client_name == "Ivy Stone"
    assert chart.time_label == "2:00 PM – 2:30 PM EDT (America/New_York)"


@pytest.mark.parametrize("role", ["manager", "front_desk", "lab", "client", "public", "system"])
def test_everyone_else_gets_not_found(clinic, nurse, role):
    appt = _visit(clinic)
    _call(clinic, save_chart, nurse, appt, [BOTOX], "")
    actor = clinic.staff_actor(role) if role not in ("client", "public", "system") else {
        "client": Actor.client(clinic.org_id, 1), "public": clinic.public, "system": clinic.system}[role]
    for fn, args in ((get_chart, ()), (save_chart, ([BOTOX], "changed")), (sign_chart, ()), (amend_chart, ())):
        with pytest.raises(NotFound):
            _call(clinic, fn, actor, appt, *args)
    assert _audit(clinic, "chart.read") == []
    with clinic.session() as s:
        assert s.exec(select(TreatmentNote.status, TreatmentNote.note)).all() == [("draft", "")]


def test_another_clinics_visit_is_not_found(engine, owner_engine, clinic, nurse):
    other = build_clinic(engine, owner_engine)
    theirs = _visit(other)
    _call(other, save_chart, other.staff_actor("provider"), theirs, [BOTOX], "theirs")
    for fn, args in ((get_chart, ()), (save_chart, ([BOTOX], "mine now")), (sign_chart, ()), (amend_chart, ())):
        with pytest.raises(NotFound):
            _call(clinic, fn, nurse, theirs, *args)
    assert _call(other, get_chart, other.staff_actor("owner"), theirs).note == "theirs"
    assert _audit(clinic, "chart.read") == []


def test_holds_and_bad_ids_are_not_found(clinic, nurse):
    held = _visit(clinic, confirm=False)
    for bad in (held, 0, -1, 10**15, True, "1"):
        with pytest.raises(NotFound):
            _call(clinic, get_chart, nurse, bad)


# ---------------------------------------------------------------------------- validation


def test_validation_message_per_field(clinic, nurse):
    appt = _visit(clinic)
    lines = [LineInput("", "", "", ""),                       # 0: nothing
             LineInput("Botox", "", "0", "eyebrows"),         # 1: injectable without lot, units 0, unknown area
             LineInput("Botox", "C37", "200.5", "lips"),      # 2: too many units
             LineInput("Botox", "C37", "2.55", "chin"),       # 3: two decimals
             LineInput("Botox", "C3709C3", "2.5", "Crow's feet")]  # 4: fine
    with pytest.raises(ValidationFailed) as exc:
        _call(clinic, save_chart, nurse, appt, lines, "note")
    assert exc.value.fields == {
        "lines.0.product": "Enter the product",
        "lines.0.units": "Enter the units",
        "lines.0.treatment_area": exc.value.fields["lines.0.treatment_area"],
        "lines.1.lot_number": "Enter the lot number (required for injectables)",
        "lines.1.units": "Units must be more than 0",
        "lines.1.treatment_area": exc.value.fields["lines.1.treatment_area"],
        "lines.2.units": "At most 200 units per line",
        "lines.3.units": "Enter a number with at most one decimal, e.g. 20 or 2.5",
    }
    assert exc.value.fields["lines.1.treatment_area"] == "Choose a treatment area from the list (e.g. forehead, glabella, lips)"
    with clinic.session() as s:  # nothing half-written
        assert s.exec(select(TreatmentNote)).all() == [] and s.exec(select(TreatmentLine)).all() == []
    assert _audit(clinic, "chart.write") == []


def test_lot_only_required_for_injectables(clinic, nurse):
    facial = _visit(clinic, service="facial")
    chart = _call(clinic, save_chart, nurse, facial, [LineInput("HydraFacial serum", "", "1", "cheeks")], "")
    assert chart.lines[0].lot_number == ""
    with pytest.raises(ValidationFailed) as exc:  # a known injectable brand needs its lot in any visit
        _call(clinic, save_chart, nurse, facial, [LineInput("Juvederm Voluma", "", "1", "cheeks")], "")
    assert set(exc.value.fields) == {"lines.0.lot_number"}


def test_units_are_integer_tenths():
    assert [parse_units(v) for v in ("20", "2.5", "0.1", "200", " 7 ")] == [200, 25, 1, 2000, 70]
    for bad in ("", "abc", "1e2", "-1", "0", "0.0", "200.1", "NaN", "Infinity", "2,5", None, 20.0):
        with pytest.raises(ValueError):
            parse_units(bad)


def test_units_stored_as_integer_column(clinic, nurse):
    appt = _visit(clinic)
    _call(clinic, save_chart, nurse, appt, [LineInput("Dysport", "d-123", "12.5", "forehead")], "")
    with clinic.session() as s:
        assert s.execute(text("select units_tenths, pg_typeof(units_tenths)::text, lot_number "
                              "from treatment_line")).one() == (125, "integer", "D-123")


# ---------------------------------------------------------------------------- signing and amending


def test_sign_then_read_only_and_amendment_versions(clinic, nurse):
    appt = _visit(clinic)
    with pytest.raises(ChartLocked):  # nothing saved yet
        _call(clinic, sign_chart, nurse, appt)
    _call(clinic, save_chart, nurse, appt, [BOTOX], "Glabella 20u.")
    signed = _call(clinic, sign_chart, nurse, appt)
    assert signed.status == "signed" and not signed.editable
    assert signed.signed_label == "Signed by Nurse Amy, July 1, 2026 at 12:00 PM EDT"
    with clinic.session() as s:
        row = s.exec(select(TreatmentNote)).one()
        assert (row.signed_at, row.signed_by_user_id, row.version) == (NOW, nurse.user_id, 1)

    for fn, args in ((save_chart, ([BOTOX], "changed")), (sign_chart, ())):
        with pytest.raises(ChartLocked):
            _call(clinic, fn, nurse, appt, *args)

    amended = _call(clinic, amend_chart, nurse, appt)
    assert (amended.version, amended.status, amended.note, len(amended.lines)) == (2, "draft", "Glabella 20u.", 1)
    with pytest.raises(ChartLocked):  # one draft at a time
        _call(clinic, amend_chart, nurse, appt)
    _call(clinic, save_chart, nurse, appt, [BOTOX, LineInput("Botox", "C3709C3", "4", "crow's feet")],
          "Glabella 20u; touch-up 4u.")
    v2 = _call(clinic, sign_chart, nurse, appt)
    assert (v2.version, v2.status, [ln.units for ln in v2.lines]) == (2, "signed", ["20", "4"])
    assert [(h.version, h.status) for h in v2.history] == [(1, "signed")]

    with clinic.session() as s:  # the signed original is untouched
        notes = s.exec(select(TreatmentNote).order_by(TreatmentNote.version)).all()
        assert [(n.version, n.status, n.note) for n in notes] == [
            (1, "signed", "Glabella 20u."), (2, "signed", "Glabella 20u; touch-up 4u.")]
        assert notes[1].amends_id == notes[0].id
        assert len(s.exec(select(TreatmentLine).where(TreatmentLine.note_id == notes[0].id)).all()) == 1
    actions = [a for (a,) in _audit_actions(clinic)]
    assert actions == ["chart.write", "chart.sign", "chart.amend", "chart.write", "chart.sign"]


def _audit_actions(clinic):
    with clinic.session() as s:
        return s.execute(text("select action from audit_event where action like 'chart.%' order by id")).all()


def test_database_refuses_changes_to_signed_notes(clinic, nurse):
    appt = _visit(clinic)
    _call(clinic, save_chart, nurse, appt, [BOTOX], "final")
    _call(clinic, sign_chart, nurse, appt)
    for sql in ("update treatment_note set note = 'edited'", "delete from treatment_note",
                "update treatment_line set units_tenths = 10", "delete from treatment_line",
                "insert into treatment_line (org_id, note_id, position, product, lot_number, units_tenths, "
                "treatment_area) select org_id, id, 9, 'Botox', 'X1', 10, 'chin' from treatment_note"):
        with clinic.session() as s:
            with pytest.raises(DBAPIError, match="read-only"):
                s.execute(text(sql))
    assert _call(clinic, get_chart, nurse, appt).note == "final"


# ---------------------------------------------------------------------------- audit


def test_each_read_is_exactly_one_audit_row(clinic, nurse):
    appt = _visit(clinic)
    _call(clinic, save_chart, nurse, appt, [BOTOX], "secret clinical words")
    chart = _call(clinic, get_chart, nurse, appt)
    _call(clinic, get_chart, nurse, appt)
    rows = _audit(clinic, "chart.read")
    assert [(r.actor_role, r.client_id, r.object_id) for r in rows] == [("provider", chart.client_id, str(appt))] * 2
    with clinic.session() as s:  # the note text and lines never go into the trail
        details = " ".join(str(d) for (d,) in s.execute(text("select detail from audit_event")).all())
    assert "secret" not in details and "C3709C3" not in details


# ---------------------------------------------------------------------------- the actions (one transaction each)


def test_the_chart_actions_commit_their_audit_rows_and_sign_all_or_nothing(engine, clinic, nurse):
    from medspa.clock import FixedClock
    from medspa.domain.clinical import actions

    appt, clock = _visit(clinic), FixedClock(NOW)
    chart = actions.fetch_chart(nurse, appt, clock=clock, engine=engine)
    assert chart.status == "draft" and chart.note_id is None
    assert len(_audit(clinic, "chart.read")) == 1  # committed by the action
    with pytest.raises(ValidationFailed):  # a bad row: neither saved nor signed
        actions.do_sign_chart(nurse, appt, [LineInput("Botox", "C3709C3", "abc", "glabella")], "note",
                              clock=clock, engine=engine)
    with clinic.session() as s:
        assert s.exec(select(TreatmentNote)).all() == []
    signed = actions.do_sign_chart(nurse, appt, [BOTOX], "Signed as shown.", clock=clock, engine=engine)
    assert signed.status == "signed" and not signed.editable and signed.note == "Signed as shown."
    amended = actions.do_amend_chart(nurse, appt, clock=clock, engine=engine)
    assert amended.status == "draft" and amended.version == 2
    saved = actions.do_save_chart(nurse, appt, [BOTOX], "Amended.", clock=clock, engine=engine)
    assert saved.note == "Amended." and [v.version for v in saved.history] == [1]
    with pytest.raises(NotFound):
        actions.fetch_chart(clinic.staff_actor("front_desk"), appt, clock=clock, engine=engine)
