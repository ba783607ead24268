"""Intake forms (medspa/domain/clinical/forms.py, form_answers.py) on real PostgreSQL: which
forms a visit needs and which are done, validation messages per field, immutable versions,
who may read answers (provider and owner only; audited), the portal and tablet paths, the
merge moving responses, and the mapping of the medical history update to history sections."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from medspa.domain.clients.merge import merge_clients
from medspa.domain.clients.service import ClientInput, find_or_create_client
from medspa.domain.clinical.form_answers import clean_answers, history_changes_from_answers
from medspa.domain.clinical.form_models import FormResponse
from medspa.domain.clinical.form_templates import TEMPLATES, service_forms
from medspa.domain.clinical.forms import (
    due_forms,
    forms_label,
    open_form,
    submit_form,
    visit_answers,
    visit_form_status,
    visit_forms,
)
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.portal.service import access_log
from medspa.domain.scheduling.calendar import calendar_day
from medspa.domain.scheduling.daylist import arrivals
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.service import hold_slot
from tests.conftest import utc
from tests.factories import build_clinic

NOW = utc(2026, 7, 1, 16)
NY = ZoneInfo("America/New_York")
DAY = date(2026, 7, 2)

HISTORY = {"allergies_any": "yes", "allergies": "Lidocaine - hives\nLatex", "medications_any": "no",
           "pregnant": "no", "breastfeeding": "no", "smoking": "no", "fitzpatrick": "III"}
TOXIN = {"areas": "Forehead", "previous_toxin": "yes", "last_toxin": "2026-03-01", "neuromuscular": "no",
         "blood_thinners": "no"}


def _client(clinic, first="Ivy"):
    with clinic.session() as s:
        c = find_or_create_client(s, clinic.system, ClientInput(
            first, "Stone", f"{first.lower()}-{uuid.uuid4().hex[:8]}@example.com", "+12125550160"))
        s.commit()
        return c.id


def _visit(clinic, client_id, *, day=DAY, hour=10, service="botox") -> int:
    with clinic.session() as s:
        start = datetime.combine(day, time(hour), tzinfo=NY).astimezone(timezone.utc)
        appt = hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services[service],
                         start_at=start, now=NOW, client_id=client_id, confirm=True)
        s.commit()
        return appt.id


def _staff(clinic, role):
    return Actor(org_id=clinic.org_id, role=role, user_id=None, label=f"test {role}")


def _submit(clinic, actor, appt_id, key, answers, source="portal", now=NOW):
    with clinic.session() as s:
        version = submit_form(s, actor, appt_id, key, answers, source=source, now=now)
        s.commit()
        return version


def _status(clinic, *ids):
    with clinic.session() as s:
        visits = s.exec(select(Appointment).where(Appointment.id.in_(ids))).all()
        return visit_forms(s, list(visits))


def _audit(clinic, action):
    with clinic.session() as s:
        return s.execute(text("select actor_role, client_id, detail from audit_event where action = :a order by id"),
                         {"a": action}).all()


# ---------------------------------------------------------------------------- templates


def test_category_defaults():
    assert service_forms("Neuromodulators") == ("neuromodulator",)
    assert service_forms("Dermal fillers") == ("filler",)
    assert service_forms("Laser hair removal") == ("laser",)
    assert service_forms("IPL photofacial") == ("laser",)
    assert service_forms("Chemical peels") == ("peel",)
    assert service_forms("HydraFacial") == ()
    assert set(TEMPLATES) == {"medical_history", "neuromodulator", "filler", "laser", "peel"}


# ---------------------------------------------------------------------------- validation


def test_validation_messages_per_field():
    tpl = TEMPLATES["neuromodulator"]
    with pytest.raises(ValidationFailed) as exc:
        clean_answers(tpl, {"areas": "", "previous_toxin": "maybe", "last_toxin": "31/12/2025",
                            "neuromuscular": "no", "event": "2026-02-30"}, today=date(2026, 7, 1))
    assert exc.value.fields == {"areas": "Answer this question", "previous_toxin": "Choose one of the options",
                                "last_toxin": "Enter a date like 2026-05-31", "blood_thinners": "Choose yes or no",
                                "event": "Enter a date like 2026-05-31"}
    with pytest.raises(ValidationFailed) as exc:
        clean_answers(tpl, dict(TOXIN, last_toxin="2026-08-01", areas="x" * 201), today=date(2026, 7, 1))
    assert exc.value.fields == {"last_toxin": "This date cannot be in the future",
                                "areas": "Keep this under 200 characters (now 201)"}
    with pytest.raises(ValidationFailed) as exc:
        clean_answers(TEMPLATES["laser"], {"area": "legs", "tan": "yesterday", "photosensitive": "no",
                                           "isotretinoin_recent": "no"}, today=date(2026, 7, 1))
    assert exc.value.fields == {"tan": "Choose one of the options"}
    clean = clean_answers(tpl, dict(TOXIN, areas="  Forehead  ", junk="dropped"), today=date(2026, 7, 1))
    assert clean["areas"] == "Forehead" and "junk" not in clean and clean["event"] == ""


def test_a_bad_submission_stores_nothing(clinic):
    client = _client(clinic)
    appt = _visit(clinic, client)
    with pytest.raises(ValidationFailed):
        _submit(clinic, Actor.client(clinic.org_id, client), appt, "neuromodulator", {"areas": "lips"})
    with clinic.session() as s:
        assert s.exec(select(FormResponse).where(FormResponse.appointment_id == appt)).all() == []


# ---------------------------------------------------------------------------- completion


def test_completion_counts_and_history_window(clinic):
    client = _client(clinic)
    botox, facial = _visit(clinic, client, hour=10), _visit(clinic, client, hour=13, service="facial")
    status = _status(clinic, botox, facial)
    assert (status[botox].required, status[botox].done) == (2, 0)
    assert status[botox].missing == ("Medical history update", "Neuromodulator intake")
    assert forms_label(status[botox]) == "Forms 0/2" and forms_label(status[facial]) == "Forms 0/1"
    me = Actor.client(clinic.org_id, client)
    _submit(clinic, me, botox, "neuromodulator", TOXIN)
    assert forms_label(_status(clinic, botox)[botox]) == "Forms 1/2"
    _submit(clinic, me, botox, "medical_history", HISTORY)
    status = _status(clinic, botox, facial)
    # the history update of one visit serves the other visit too (valid 12 months)
    assert forms_label(status[botox]) == "Forms done" and forms_label(status[facial]) == "Forms done"
    # a visit more than a year later needs a new one
    later = _visit(clinic, client, day=DAY + timedelta(days=400))
    assert _status(clinic, later)[later].missing_keys == ("medical_history", "neuromodulator")


def test_visit_forms_is_batched(clinic, engine):
    from sqlalchemy import event

    client = _client(clinic)
    ids = [_visit(clinic, client, hour=h) for h in (9, 10, 11, 12)]
    with clinic.session() as s:
        visits = list(s.exec(select(Appointment).where(Appointment.id.in_(ids))).all())
        statements = []
        listener = lambda *a: statements.append(a[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            visit_forms(s, visits)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
    assert len(statements) == 2  # services; responses and history updates in one (issue 20)


def test_calendar_block_and_arrivals_show_the_label(clinic):
    client = _client(clinic)
    appt = _visit(clinic, client, day=date(2026, 7, 1), hour=14)
    _submit(clinic, Actor.client(clinic.org_id, client), appt, "medical_history", HISTORY)
    with clinic.session() as s:
        day = calendar_day(s, _staff(clinic, "front_desk"), location_id=clinic.location_id, day=date(2026, 7, 1),
                           now=NOW)
        block = next(b for b in day.blocks if b.appointment_id == appt)
        assert block.forms_label == "Forms 1/2"
        rows = arrivals(s, _staff(clinic, "front_desk"), location_id=clinic.location_id, now=NOW).rows
        assert next(r for r in rows if r.visit.appointment_id == appt).visit.forms_label == "Forms 1/2"
        with pytest.raises(NotFound):  # the lab reads no calendar (issue 17 user trial)
            visit_form_status(s, _staff(clinic, "lab"), appt)


# ---------------------------------------------------------------------------- versions


def test_resubmission_makes_a_new_version_and_rows_are_immutable(clinic):
    client = _client(clinic)
    appt = _visit(clinic, client)
    me = Actor.client(clinic.org_id, client)
    assert _submit(clinic, me, appt, "neuromodulator", TOXIN) == 1
    assert _submit(clinic, me, appt, "neuromodulator", dict(TOXIN, areas="Frown lines")) == 2
    with clinic.session() as s:
        view = open_form(s, me, appt, "neuromodulator", source="portal", now=NOW)
        assert view.version == 2 and view.answers["areas"] == "Frown lines"
        answered = visit_answers(s, _staff(clinic, "provider"), appt, now=NOW)
        assert [(a.template_key, a.version) for a in answered] == [("neuromodulator", 2)]
        assert ("Which areas would you like treated?", "Frown lines") in answered[0].rows
        s.commit()
    with clinic.session() as s, pytest.raises(DBAPIError, match="cannot be changed"):
        s.execute(text("update form_response set answers = '{}' where appointment_id = :a"), {"a": appt})
    with clinic.session() as s, pytest.raises(DBAPIError):
        s.execute(text("delete from form_response where appointment_id = :a"), {"a": appt})


# ---------------------------------------------------------------------------- permissions


@pytest.mark.parametrize("role", ["front_desk", "manager", "lab", "client", "public", "system"])
def test_only_provider_and_owner_read_answers(clinic, role):
    client = _client(clinic)
    appt = _visit(clinic, client)
    _submit(clinic, Actor.client(clinic.org_id, client), appt, "neuromodulator", TOXIN)
    actor = Actor.client(clinic.org_id, client) if role == "client" else _staff(clinic, role)
    with clinic.session() as s, pytest.raises(NotFound):
        visit_answers(s, actor, appt, now=NOW)
    # the completion words are not clinical content: every calendar role sees them (not the lab:
    # it reads no calendar since the issue 17 user trial)
    if role in ("front_desk", "manager"):
        with clinic.session() as s:
            assert visit_form_status(s, actor, appt).label == "Forms 1/2"


@pytest.mark.parametrize("role", ["provider", "owner"])
def test_reading_answers_is_audited(clinic, role):
    client = _client(clinic)
    appt = _visit(clinic, client)
    _submit(clinic, Actor.client(clinic.org_id, client), appt, "neuromodulator", TOXIN)
    with clinic.session() as s:
        visit_answers(s, _staff(clinic, role), appt, now=NOW)
        s.commit()
    rows = _audit(clinic, "form.read")
    assert [(r.actor_role, r.client_id, r.detail["forms"]) for r in rows] == [(role, client, ["neuromodulator"])]
    submits = _audit(clinic, "form.submit")
    assert [(r.actor_role, r.detail["template"], r.detail["version"]) for r in submits] == [
        ("client", "neuromodulator", 1)]
    assert "answers" not in submits[0].detail and "Forehead" not in str(submits[0].detail)


def test_portal_client_only_own_upcoming_visits(clinic):
    mine, other = _client(clinic), _client(clinic, "Otto")
    appt = _visit(clinic, mine)
    me, stranger = Actor.client(clinic.org_id, mine), Actor.client(clinic.org_id, other)
    with pytest.raises(NotFound):
        _submit(clinic, stranger, appt, "neuromodulator", TOXIN)
    with pytest.raises(NotFound):  # a form the visit does not need
        _submit(clinic, me, appt, "peel", {})
    with pytest.raises(NotFound):  # the visit is over
        _submit(clinic, me, appt, "neuromodulator", TOXIN, now=NOW + timedelta(days=3))
    with pytest.raises(NotFound):  # a client cannot use the tablet path
        _submit(clinic, me, appt, "neuromodulator", TOXIN, source="tablet")
    with clinic.session() as s:
        due = due_forms(s, me, now=NOW)
        assert [(d.template_key, d.done) for d in due] == [("medical_history", False), ("neuromodulator", False)]
        assert due_forms(s, stranger, now=NOW) == []
        with pytest.raises(NotFound):
            due_forms(s, _staff(clinic, "owner"), now=NOW)


@pytest.mark.parametrize("role,allowed", [("front_desk", True), ("manager", True), ("provider", True),
                                          ("owner", True), ("lab", False), ("public", False)])
def test_tablet_mode_needs_form_fill_and_starts_blank(clinic, role, allowed):
    client = _client(clinic)
    appt = _visit(clinic, client)
    _submit(clinic, Actor.client(clinic.org_id, client), appt, "neuromodulator", TOXIN)
    actor = _staff(clinic, role)
    if not allowed:
        with pytest.raises(NotFound):
            _submit(clinic, actor, appt, "neuromodulator", TOXIN, source="tablet")
        return
    with clinic.session() as s:
        view = open_form(s, actor, appt, "neuromodulator", source="tablet", now=NOW)
        assert view.answers == {} and view.title == "Neuromodulator intake"
        assert "Stone" not in repr(view)  # no other client data on the tablet
    assert _submit(clinic, actor, appt, "neuromodulator", TOXIN, source="tablet") == 2
    assert _audit(clinic, "form.read") == []  # the tablet never read the client's answers


def test_the_client_sees_form_words_in_the_access_log(clinic):
    client = _client(clinic)
    appt = _visit(clinic, client)
    _submit(clinic, Actor.client(clinic.org_id, client), appt, "neuromodulator", TOXIN)
    with clinic.session() as s:
        visit_answers(s, _staff(clinic, "provider"), appt, now=NOW)
        log = access_log(s, Actor.client(clinic.org_id, client), now=NOW)
    assert {"Viewed your intake form answers", "Received an intake form you filled in"} <= {e.what for e in log}


def test_merge_moves_responses(clinic):
    a, b = _client(clinic, "Ann"), _client(clinic, "Bea")
    appt = _visit(clinic, b)
    _submit(clinic, Actor.client(clinic.org_id, b), appt, "medical_history", HISTORY)
    with clinic.session() as s:
        merge_clients(s, _staff(clinic, "owner"), a, b, NOW)
        s.commit()
    with clinic.session() as s:
        rows = s.exec(select(FormResponse).where(FormResponse.appointment_id == appt)).all()
        assert [r.client_id for r in rows] == [a]
        # the survivor's later visit counts the moved history update
        later = _visit(clinic, a, hour=15)
        assert _status(clinic, later)[later].missing_keys == ("neuromodulator",)


def test_other_clinic_sees_nothing(clinic, engine, owner_engine):
    client = _client(clinic)
    appt = _visit(clinic, client)
    _submit(clinic, Actor.client(clinic.org_id, client), appt, "neuromodulator", TOXIN)
    other = build_clinic(engine, owner_engine)
    with other.session() as s:
        assert s.exec(select(FormResponse)).all() == []
        with pytest.raises(NotFound):
            visit_answers(s, Actor(org_id=other.org_id, role="owner", label="x"), appt, now=NOW)


# ---------------------------------------------------------------------------- history sections


def test_history_changes_from_answers():
    changes = history_changes_from_answers({
        "allergies_any": "yes", "allergies": "Lidocaine - hives\n\nLatex",
        "medications_any": "yes", "medications": "Ibuprofen, 200 mg\nAccutane", "isotretinoin_stopped": "2026-02-01",
        "conditions": "Cold sores\nDiabetes", "fitzpatrick": "not_sure",
        "previous_treatments": "Botox - March 2026", "pregnant": "no", "breastfeeding": "yes",
        "sun_exposure": "high", "smoking": "no", "goals": " Softer frown lines "})
    assert changes == {
        "allergies": [{"agent": "Lidocaine", "reaction": "hives"}, {"agent": "Latex", "reaction": ""}],
        "medications": [{"name": "Ibuprofen", "dose": "200 mg", "stopped_on": ""},
                        {"name": "isotretinoin", "dose": "", "stopped_on": "2026-02-01"}],
        "conditions": [{"name": "Cold sores"}, {"name": "Diabetes"}],
        "fitzpatrick": {"type": ""},
        "previous_treatments": [{"treatment": "Botox", "when": "March 2026"}],
        "pregnancy": {"pregnant": False, "breastfeeding": True},
        "lifestyle": {"sun_exposure": "high", "smoking": False},
        "goals": {"text": "Softer frown lines"},
    }


def test_history_changes_only_what_was_answered():
    assert history_changes_from_answers({"allergies_any": "no", "allergies": "ignored", "medications_any": "no",
                                         "conditions": "", "pregnant": "yes", "breastfeeding": ""}) == {
        "allergies": [], "medications": [], "conditions": []}
    assert history_changes_from_answers({}) == {}
    assert history_changes_from_answers({"fitzpatrick": "IV", "smoking": "yes"}) == {
        "fitzpatrick": {"type": "IV"}, "lifestyle": {"sun_exposure": "", "smoking": True}}


# ---------------------------------------------------------------------------- links and demo


def test_confirmation_email_links_the_portal_forms_tab(clinic):
    from medspa.domain.messaging.models import OutboxMessage
    from medspa.domain.scheduling.desk import book_for_client

    client = _client(clinic)
    with clinic.session() as s:
        start = datetime.combine(DAY, time(11), tzinfo=NY).astimezone(timezone.utc)
        book_for_client(s, _staff(clinic, "front_desk"), location_id=clinic.location_id,
                        service_id=clinic.services["botox"], start_at=start, now=NOW, client_id=client)
        s.commit()
        mail = s.exec(select(OutboxMessage).where(OutboxMessage.client_id == client,
                                                  OutboxMessage.kind == "booking_confirmation",
                                                  OutboxMessage.channel == "email")).one()
    assert f"/portal/{clinic.slug}?tab=forms" in mail.body


def test_demo_forms_leave_some_visits_waiting(clinic):
    from medspa.demo.forms import ANSWERS, seed_forms

    for key, answers in ANSWERS.items():  # the demo's answers are valid ones
        assert clean_answers(TEMPLATES[key], answers, today=date(2026, 7, 1))

    ids = [_visit(clinic, _client(clinic, f"C{i}"), day=date(2026, 7, 1), hour=h)
           for i, h in enumerate((13, 14, 15))]
    with clinic.session() as s:
        assert seed_forms(s, clinic.org_id, NOW) == 4  # two visits done, history + neuromodulator each
        s.commit()
    labels = [forms_label(st) for st in (_status(clinic, *ids)[i] for i in ids)]
    assert labels == ["Forms done", "Forms done", "Forms 0/2"]


def test_cancelled_visits_need_no_forms(clinic):
    from medspa.domain.scheduling.service import cancel_appointment

    appt = _visit(clinic, _client(clinic))
    with clinic.session() as s:
        cancel_appointment(s, _staff(clinic, "front_desk"), appt, now=NOW)
        s.commit()
    assert _status(clinic, appt)[appt].label == ""


def test_a_batch_of_visits_gets_what_each_visit_gets_alone(clinic):
    """visit_forms and visit_consents of many visits at once (one round trip for responses and
    history updates, statuses shared by visits with nothing in: issue 20) equal each visit's
    own, over clients with nothing, a service form, a history update (within and beyond 12
    months), signed consents, and visits that need nothing (cancelled, a hold)."""
    from medspa.domain.clinical.consent import visit_consents
    from medspa.domain.clinical.paperwork import visit_paperwork
    from medspa.domain.scheduling.desk import cancel_visit
    from tests.consent_support import sign_required_consents

    nothing, tox, hist, signed, both = (_client(clinic, n) for n in ("Nil", "Tox", "Hist", "Sig", "Both"))
    visits = {name: [_visit(clinic, c, day=DAY + timedelta(days=d), hour=h, service=svc)
                     for d, h, svc in ((0, 9 + i, "botox"), (10 + i, 10, "facial"), (400, 9 + i, "botox"))]
              for i, (name, c) in enumerate((("nothing", nothing), ("tox", tox), ("hist", hist), ("signed", signed),
                                             ("both", both)))}
    _submit(clinic, Actor.client(clinic.org_id, tox), visits["tox"][0], "neuromodulator", TOXIN)
    _submit(clinic, Actor.client(clinic.org_id, hist), visits["hist"][0], "medical_history", HISTORY)
    for key, answers in (("medical_history", HISTORY), ("neuromodulator", TOXIN)):
        _submit(clinic, Actor.client(clinic.org_id, both), visits["both"][0], key, answers)
    sign_required_consents(clinic, visits["signed"][0])
    sign_required_consents(clinic, visits["both"][1])
    with clinic.session() as s:
        held = hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services["botox"],
                         start_at=datetime.combine(DAY, time(15), tzinfo=NY).astimezone(timezone.utc), now=NOW,
                         client_id=nothing)
        cancel_visit(s, clinic.staff_actor(), visits["nothing"][1], now=NOW)
        s.commit()
        rows = list(s.exec(select(Appointment).where(Appointment.client_id.in_([nothing, tox, hist, signed, both]))))
        assert held.id in {r.id for r in rows}
        forms, consents = visit_forms(s, rows), visit_consents(s, rows, now=NOW)
        assert forms == {r.id: visit_forms(s, [r])[r.id] for r in rows}
        assert consents == {r.id: visit_consents(s, [r], now=NOW)[r.id] for r in rows}
        paperwork = visit_paperwork(s, rows, NOW)
        assert paperwork == {k: p for r in rows for k, p in visit_paperwork(s, [r], NOW).items()}
    labels = {forms_label(forms[v]) for v in visits["tox"] + visits["hist"] + visits["both"]}
    assert {"Forms 1/2", "Forms done", "Forms 0/2"} <= labels  # the data is varied
    assert {c.label for c in consents.values()} >= {"Consents signed", "Consents 0/1"}
