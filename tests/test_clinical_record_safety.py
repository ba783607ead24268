"""Breaker findings on the clinical record (issue 17), fixed: a form submitted while a merge
commits goes to the surviving client; a stated allergy is never cut from the history; NUL and
other control characters in history text and override reasons are a field message, not a
database error (medspa/domain/textcheck.py, THE check)."""

from __future__ import annotations

import pytest
from sqlalchemy import event, text

from medspa.clock import FixedClock
from medspa.domain.clients.merge import merge_clients
from medspa.domain.clinical.actions import do_sign_chart
from medspa.domain.clinical.form_actions import do_submit_form
from medspa.domain.clinical.forms import submit_form
from medspa.domain.clinical.health_record import HealthFlagged
from medspa.domain.clinical.history_actions import (do_book_checked, do_update_history, do_update_own_history,
                                                    fetch_history)
from medspa.domain.clinical.medical_history import MAX_ROWS, validate_section
from medspa.domain.clinical.service import LineInput
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.textrules import CONTROL_MESSAGE, has_control, refuse_control
from tests import test_contraindications as tc
from tests.test_intake_forms import HISTORY, NOW, TOXIN, _client, _staff, _visit


def _count(clinic, sql, **params):
    with clinic.session() as s:
        return s.execute(text(sql), params).scalar()


def _rows_of(clinic, client_id):
    return (_count(clinic, "select count(*) from form_response where client_id = :c", c=client_id),
            _count(clinic, "select count(*) from medical_history_version where client_id = :c", c=client_id))


# ---------------------------------------------------------------------------- merge during a submission


def _submit_while_merging(clinic, actor, appt, key, answers, keep, gone, source):
    """submit_form with the merge of `gone` into `keep` committing just before the submission
    takes its first row lock (the client's, then the visit's: the merge's order; before that
    it read the visit's client, now stale). The outcome or the error."""
    fired = []
    with clinic.session() as s:
        conn = s.connection()

        def merge_now(conn_, cursor, statement, params, context, executemany):
            if not fired and "FOR UPDATE" in statement:
                fired.append(statement)
                with clinic.session() as other:
                    merge_clients(other, clinic.staff_actor("owner"), keep, gone, NOW)
                    other.commit()

        event.listen(conn, "before_cursor_execute", merge_now)
        try:
            outcome = submit_form(s, actor, appt, key, answers, source=source, now=NOW)
            s.commit()
        except (NotFound, ValidationFailed) as exc:
            outcome = exc
            s.rollback()
        finally:
            event.remove(conn, "before_cursor_execute", merge_now)
    assert fired, "the merge never ran"
    return outcome


@pytest.mark.parametrize("key,answers", [("medical_history", HISTORY), ("neuromodulator", TOXIN)])
def test_a_portal_form_sent_while_the_client_is_merged_away_leaves_nothing_on_the_hidden_record(clinic, key,
                                                                                                 answers):
    keep, gone = _client(clinic, "Ann"), _client(clinic, "Anne")
    appt = _visit(clinic, gone)
    outcome = _submit_while_merging(clinic, Actor.client(clinic.org_id, gone), appt, key, answers, keep, gone,
                                    "portal")
    # the merged-away record's portal login no longer owns the visit: refused, nothing half-written
    assert isinstance(outcome, NotFound)
    assert _rows_of(clinic, gone) == (0, 0)
    assert _rows_of(clinic, keep) == (0, 0)


def test_a_tablet_history_form_sent_while_the_client_is_merged_lands_on_the_survivor(clinic):
    keep, gone = _client(clinic, "Ann"), _client(clinic, "Anne")
    appt = _visit(clinic, gone)
    outcome = _submit_while_merging(clinic, _staff(clinic, "front_desk"), appt, "medical_history", HISTORY,
                                    keep, gone, "tablet")
    assert outcome == 1
    assert _rows_of(clinic, gone) == (0, 0)
    forms, versions = _rows_of(clinic, keep)
    assert forms == 1 and versions == 2  # allergies and skin type, as the form stated them
    nurse = clinic.staff_actor("provider")
    agents = [r["agent"] for r in fetch_history(nurse, keep, clock=FixedClock(NOW), engine=clinic.engine)
              .values["allergies"]]
    assert agents == ["Lidocaine", "Latex"]


# ---------------------------------------------------------------------------- the row cap


def _pollen(n):
    return {"allergies": [{"agent": f"pollen {i}", "reaction": ""} for i in range(n)]}


def test_a_stated_allergy_past_the_cap_refuses_the_form_with_a_message_and_keeps_nothing(clinic):
    cid = _client(clinic)
    nurse = clinic.staff_actor("provider")
    do_update_history(nurse, cid, _pollen(MAX_ROWS), clock=FixedClock(NOW), engine=clinic.engine)
    appt = _visit(clinic, cid)
    me = Actor.client(clinic.org_id, cid)
    with pytest.raises(ValidationFailed) as refused:
        do_submit_form(me, appt, "medical_history", dict(HISTORY, allergies="Lidocaine - anaphylaxis"),
                       source="portal", clock=FixedClock(NOW), engine=clinic.engine)
    assert set(refused.value.fields) == {"allergies"}  # next to the allergies question of the form
    assert "already lists 30 allergies" in refused.value.fields["allergies"]
    assert "Nothing was saved" in refused.value.fields["allergies"]
    assert _rows_of(clinic, cid) == (0, 1)  # no form row; only the staff's own version
    # once the clinic removes an old row, the same answer goes on the record
    do_update_history(nurse, cid, _pollen(MAX_ROWS - 1), clock=FixedClock(NOW), engine=clinic.engine)
    assert do_submit_form(me, appt, "medical_history", dict(HISTORY, allergies="Lidocaine - anaphylaxis"),
                          source="portal", clock=FixedClock(NOW), engine=clinic.engine) == 1
    agents = [r["agent"] for r in fetch_history(nurse, cid, clock=FixedClock(NOW), engine=clinic.engine)
              .values["allergies"]]
    assert len(agents) == MAX_ROWS and agents[-1] == "Lidocaine"


def test_an_allergy_already_listed_is_no_new_row_so_a_full_list_still_takes_the_form(clinic):
    cid = _client(clinic)
    nurse = clinic.staff_actor("provider")
    rows = _pollen(MAX_ROWS - 1)["allergies"] + [{"agent": "Lidocaine", "reaction": "hives"}]
    do_update_history(nurse, cid, {"allergies": rows}, clock=FixedClock(NOW), engine=clinic.engine)
    appt = _visit(clinic, cid)
    assert do_submit_form(Actor.client(clinic.org_id, cid), appt, "medical_history",
                          dict(HISTORY, allergies="lidocaine - hives"), source="portal", clock=FixedClock(NOW),
                          engine=clinic.engine) == 1


def test_a_form_listing_more_allergies_than_the_cap_is_refused_not_cut(clinic):
    cid = _client(clinic)
    appt = _visit(clinic, cid)
    many = "\n".join(f"agent {i}" for i in range(MAX_ROWS + 1))
    with pytest.raises(ValidationFailed) as refused:
        do_submit_form(_staff(clinic, "front_desk"), appt, "medical_history", dict(HISTORY, allergies=many),
                       source="tablet", clock=FixedClock(NOW), engine=clinic.engine)
    assert refused.value.fields == {"allergies": "List at most 30 allergies, one per line"}
    assert _rows_of(clinic, cid) == (0, 0)


# ---------------------------------------------------------------------------- control characters


@pytest.mark.parametrize("bad", ["lido\x00caine", "lido\x07caine", "lido\x7fcaine", "lido\x85caine", "lido\ud800"])
def test_the_one_check_refuses_control_characters_and_lone_surrogates(bad):
    errors: dict[str, str] = {}
    assert refuse_control(bad, "agent", errors) and errors == {"agent": CONTROL_MESSAGE}
    assert has_control(bad, multiline=True)


def test_the_one_check_allows_line_breaks_only_where_text_is_multi_line():
    assert has_control("a\nb") and has_control("a\tb")
    assert not has_control("a\r\n\tb", multiline=True)
    assert not has_control("Crème brûlée, 日本語 – ok") and not has_control(None)
    errors = {"agent": "At most 120 characters"}
    assert refuse_control("x\x00", "agent", errors) and errors == {"agent": "At most 120 characters"}


def test_staff_history_with_a_nul_is_a_field_message_and_nothing_written(clinic):
    cid = _client(clinic)
    nurse = clinic.staff_actor("provider")
    with pytest.raises(ValidationFailed) as refused:
        do_update_history(nurse, cid, {"allergies": [{"agent": "lido\x00caine", "reaction": "hives"}],
                                       "conditions": [{"name": "ok"}, {"name": "bad\x1b[31m"}]},
                          clock=FixedClock(NOW), engine=clinic.engine)
    assert refused.value.fields == {"allergies.0.agent": CONTROL_MESSAGE, "conditions.1.name": CONTROL_MESSAGE}
    assert _rows_of(clinic, cid) == (0, 0)


@pytest.mark.parametrize("changes,key", [({"goals": {"text": "glow\x00"}}, "goals.text"),
                                         ({"medications": [{"name": "Retinol", "dose": "0.5%\x00"}]},
                                          "medications.0.dose"),
                                         ({"previous_treatments": [{"treatment": "Botox", "when": "\ud800"}]},
                                          "previous_treatments.0.when")])
def test_portal_history_with_control_characters_is_a_field_message_and_nothing_written(clinic, changes, key):
    cid = _client(clinic)
    with pytest.raises(ValidationFailed) as refused:
        do_update_own_history(Actor.client(clinic.org_id, cid), changes, clock=FixedClock(NOW), engine=clinic.engine)
    assert refused.value.fields == {key: CONTROL_MESSAGE}
    assert _rows_of(clinic, cid) == (0, 0)


def test_history_text_whitespace_is_still_collapsed_not_refused():
    assert validate_section("goals", {"text": "smoother\n\tskin"}) == {"text": "smoother skin"}


def test_a_booking_override_reason_with_a_nul_is_refused_and_nothing_booked(clinic):
    cid = tc._client(clinic, history={"pregnancy": {"pregnant": True, "breastfeeding": False}})
    desk = clinic.staff_actor("front_desk")
    for reason in ("postpartum\x00", "postpartum\x1b"):
        with pytest.raises(HealthFlagged) as refused:
            do_book_checked(desk, location_id=clinic.location_id, service_id=clinic.services["botox"],
                            provider_id=None, start_at=tc._at(14), client_id=cid, new_client=None,
                            override_reason=reason, clock=FixedClock(tc.NOW), engine=clinic.engine)
        assert refused.value.fields == {"health_reason": CONTROL_MESSAGE} and refused.value.flags
    assert _count(clinic, "select count(*) from appointment") == 0
    assert _count(clinic, "select count(*) from health_override") == 0


def test_a_chart_override_reason_with_a_nul_is_refused_and_the_chart_not_signed(clinic):
    cid = tc._client(clinic, history={"allergies": [{"agent": "Albumin", "reaction": "anaphylaxis"}]})
    appt = tc._visit(clinic, cid)
    tc.sign_required_consents(clinic, appt)
    nurse = tc._person(clinic, "provider")
    with pytest.raises(HealthFlagged) as refused:
        do_sign_chart(nurse, appt, [LineInput("Botox", "C3709C3", "20", "glabella")], "",
                      override_reason="Xeomin\x00", clock=FixedClock(tc.NOW), engine=clinic.engine)
    assert refused.value.fields == {"health_reason": CONTROL_MESSAGE}
    assert _count(clinic, "select count(*) from treatment_note") == 0
    assert _count(clinic, "select count(*) from health_override") == 0
