"""Changing a visit's service re-checks its contraindications (issue 17 leftover, fixed in 18):
the desk's edit to a service that flags the client needs the reason, like a booking; a time
move alone does not ask again."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from medspa.clock import FixedClock
from medspa.domain.clinical.contraindications import GENERIC
from medspa.domain.clinical.health_record import HealthFlagged
from medspa.domain.scheduling.actions.reschedule import do_edit_visit
from medspa.domain.scheduling.reschedule import VisitChange
from medspa.domain.scheduling.service import hold_slot
from medspa.features.calendar.book_health import BookHealthState
from medspa.features.calendar.edit import EditVisitState
from tests.test_calendar_move_handlers import THURSDAY, desk, ny, open_edit, sibling  # noqa: F401  (fixture)
from tests.test_contraindications import NOW, _at, _client, _visit
from tests.test_handlers import app_settings, call, run  # noqa: F401  (fixture)

PREGNANT = {"pregnancy": {"pregnant": True, "breastfeeding": False}}


def _state(clinic, appointment_id: int) -> tuple:
    with clinic.session() as s:
        service = s.execute(text("select service_id from appointment where id = :a"), {"a": appointment_id}).scalar()
        overrides = s.execute(text("select stage, reason, flags, by_label from health_override "
                                   "where appointment_id = :a order by id"), {"a": appointment_id}).all()
        return service, [tuple(o) for o in overrides]


def _edit(clinic, appointment_id: int, service: str, *, hour: int = 14, reason: str | None = None):
    extra = {} if reason is None else {"override_reason": reason}
    return do_edit_visit(clinic.staff_actor("front_desk"), appointment_id,
                         VisitChange(start_at=_at(hour), service_id=clinic.services[service]),
                         clock=FixedClock(NOW), engine=clinic.engine, **extra)


def test_changing_to_a_flagged_service_needs_the_reason_and_keeps_it(clinic):
    client = _client(clinic, history=PREGNANT)
    appt = _visit(clinic, client, "facial")  # HydraFacial: nothing in its rules flags a pregnancy
    with pytest.raises(HealthFlagged) as refused:
        _edit(clinic, appt, "botox")
    assert refused.value.flags == [GENERIC]  # the desk never reads "Pregnant"
    assert refused.value.fields == {"health_reason": "A contraindication is flagged: give the reason to go ahead"}
    assert _state(clinic, appt) == (clinic.services["facial"], [])  # nothing changed
    _edit(clinic, appt, "botox", reason="  Provider reviewed: not pregnant any more  ")
    assert _state(clinic, appt) == (clinic.services["botox"], [
        ("booking", "Provider reviewed: not pregnant any more", [{"code": "pregnancy", "detail": "Pregnant"}],
         "test front_desk")])
    _edit(clinic, appt, "botox", hour=15)  # a time move of the same service does not ask again
    assert _state(clinic, appt)[0] == clinic.services["botox"] and len(_state(clinic, appt)[1]) == 1


def test_a_flag_already_given_a_reason_is_not_asked_again(clinic):
    client = _client(clinic, history=PREGNANT)
    appt = _visit(clinic, client, "facial")
    _edit(clinic, appt, "botox", reason="Provider reviewed")
    _edit(clinic, appt, "facial")
    _edit(clinic, appt, "botox")  # back to botox: the pregnancy flag has its reason on this visit
    assert _state(clinic, appt) == (clinic.services["botox"], [
        ("booking", "Provider reviewed", [{"code": "pregnancy", "detail": "Pregnant"}], "test front_desk")])


def test_an_unflagged_client_changes_service_without_a_reason(clinic):
    client = _client(clinic)
    appt = _visit(clinic, client, "facial")
    _edit(clinic, appt, "botox")
    assert _state(clinic, appt) == (clinic.services["botox"], [])


# ---------------------------------------------------------------------------- the edit dialog


def test_the_edit_dialog_asks_for_the_reason_then_changes_the_service(desk):  # noqa: F811
    clinic = desk.clinic
    client = _client(clinic, "Nora", history=PREGNANT)
    with clinic.session() as s:
        appt = hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services["facial"],
                         start_at=ny(THURSDAY, 10), now=NOW, provider_id=clinic.provider_ids[0], client_id=client,
                         confirm=True).id
        s.commit()
    edit, _ = open_edit(desk, appt)
    health = sibling(edit, BookHealthState)
    form = {"day": "2026-07-02", "time": "10:00", "provider": str(clinic.provider_ids[0]),
            "service": str(clinic.services["botox"]), "room": "any"}
    run(call(EditVisitState.save, edit, form))
    assert edit.dialog_open and edit.errors == {
        "health_reason": "A contraindication is flagged: give the reason to go ahead"}
    assert health.flags == [GENERIC] and _state(clinic, appt) == (clinic.services["facial"], [])
    run(call(EditVisitState.save, edit, {**form, "health_reason": "Cleared by her OB"}))
    assert not edit.dialog_open and edit.errors == {}
    assert _state(clinic, appt) == (clinic.services["botox"], [
        ("booking", "Cleared by her OB", [{"code": "pregnancy", "detail": "Pregnant"}],
         f"front_desk-{clinic.slug}@example.com")])  # the signed-in user's label
    run(call(EditVisitState.open, edit))  # opened again: no flag left over from the refusal
    assert health.flags == []
