"""A submitted "Medical history update" form goes on the client's medical history (issue 17):
one version per changed section, source "intake form", by whoever submitted it; list sections
only ever gain rows from a form (clinical/intake_history.py)."""

from __future__ import annotations

from sqlalchemy import text

from medspa.domain.clinical.intake_history import merged_changes
from medspa.domain.clinical.medical_history import current_history, record_history
from medspa.domain.identity.actor import Actor

from tests.test_intake_forms import HISTORY, NOW, _client, _staff, _submit, _visit


def _versions(clinic, client_id):
    with clinic.session() as s:
        return s.execute(text("select section, source, by_label, value from medical_history_version "
                              "where client_id = :c order by id"), {"c": client_id}).all()


def test_a_portal_history_form_records_each_stated_section_as_an_intake_form_version(clinic):
    client = _client(clinic)
    appt = _visit(clinic, client)
    me = Actor.client(clinic.org_id, client)
    _submit(clinic, me, appt, "medical_history", HISTORY)
    rows = _versions(clinic, client)
    # "no" medications, not pregnant, not smoking equal the empty record: no version for them
    assert {r.section for r in rows} == {"allergies", "fitzpatrick"}
    assert {r.source for r in rows} == {"intake form"}
    with clinic.session() as s:
        history = current_history(s, client)
    assert history["allergies"] == [{"agent": "Lidocaine", "reaction": "hives"}, {"agent": "Latex", "reaction": ""}]
    assert history["fitzpatrick"] == {"type": "III"}
    assert history["pregnancy"] == {"pregnant": False, "breastfeeding": False}
    # the same answers again change nothing on the record (the form keeps its own version 2)
    _submit(clinic, me, appt, "medical_history", HISTORY)
    assert len(_versions(clinic, client)) == len(rows)


def test_a_form_answered_no_allergies_never_erases_the_allergy_the_provider_recorded(clinic):
    client = _client(clinic)
    appt = _visit(clinic, client)
    with clinic.session() as s:
        record_history(s, client, {"allergies": [{"agent": "hyaluronidase", "reaction": "swelling"}]},
                       by_user_id=None, by_label="Nurse Kim", source="staff", now=NOW)
        s.commit()
    _submit(clinic, _staff(clinic, "front_desk"), appt, "medical_history",
            dict(HISTORY, allergies_any="no", allergies=""), source="tablet")
    with clinic.session() as s:
        assert current_history(s, client)["allergies"] == [{"agent": "hyaluronidase", "reaction": "swelling"}]
    _submit(clinic, _staff(clinic, "front_desk"), appt, "medical_history",
            dict(HISTORY, allergies="HYALURONIDASE - rash\nLidocaine"), source="tablet")
    with clinic.session() as s:  # a known agent is not listed twice; a new one is added
        assert current_history(s, client)["allergies"] == [{"agent": "hyaluronidase", "reaction": "swelling"},
                                                           {"agent": "Lidocaine", "reaction": ""}]
    by = {r.by_label for r in _versions(clinic, client) if r.source == "intake form"}
    assert by == {"test front_desk"}


def test_merged_changes_adds_rows_updates_a_stop_date_and_clips_long_text():
    current = {"medications": [{"name": "Isotretinoin", "dose": "20 mg", "stopped_on": ""}]}
    changes = {"medications": [{"name": "isotretinoin", "dose": "", "stopped_on": "2026-02-01"},
                               {"name": "x" * 300, "dose": "", "stopped_on": ""}],
               "goals": {"text": "Smoother skin"}}
    out = merged_changes(current, changes)
    assert out["medications"][0] == {"name": "Isotretinoin", "dose": "20 mg", "stopped_on": "2026-02-01"}
    assert out["medications"][1]["name"] == "x" * 120
    assert out["goals"] == {"text": "Smoother skin"}
    assert current["medications"][0]["stopped_on"] == ""  # the current value is not changed in place


def test_calendar_blocks_and_arrivals_show_consents_beside_forms_and_a_signature_turns_them_done(clinic):
    from datetime import date

    from medspa.domain.scheduling.calendar import calendar_day
    from medspa.domain.scheduling.daylist import arrivals
    from tests.consent_support import sign_required_consents

    client = _client(clinic)
    appt = _visit(clinic, client, day=date(2026, 7, 1), hour=15)
    desk = _staff(clinic, "front_desk")

    def words():
        with clinic.session() as s:
            block = next(b for b in calendar_day(s, desk, location_id=clinic.location_id, day=date(2026, 7, 1),
                                                 now=NOW).blocks if b.appointment_id == appt)
            row = next(r for r in arrivals(s, desk, location_id=clinic.location_id, now=NOW).rows
                       if r.visit.appointment_id == appt)
            return (block.forms_label, block.consents_label), (row.visit.forms_label, row.visit.consents_label)

    assert words() == (("Forms 0/2", "Consents 0/1"),) * 2
    assert sign_required_consents(clinic, appt, now=NOW) == 1
    assert words() == (("Forms 0/2", "Consents signed"),) * 2
