"""Who may treat and sign (issue 18; domain/clinical/signing.py, prescriber_orders.py,
chart_review.py) on real PostgreSQL: the prescriber-order rule, who signs and the covering
setting, addenda only after signing, the medical director's queue and once-only co-sign."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from medspa.domain.clients.service import ClientInput, find_or_create_client
from medspa.domain.clinical.chart_review import add_addendum, cosign_chart, review_queue
from medspa.domain.clinical.models import TreatmentNote
from medspa.domain.clinical.prescriber_orders import client_orders, record_order
from medspa.domain.clinical.service import ChartLocked, LineInput, get_chart, save_chart, sign_chart
from medspa.domain.clinical.signing import PRESCRIBER_LICENCES, order_default
from medspa.domain.clinical.signing_models import ChartCosign
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.models import Organization, StaffMember
from medspa.domain.scheduling.service import hold_slot
from tests.conftest import utc
from tests.consent_support import sign_required_consents

NOW = utc(2026, 7, 1, 16)  # noon in New York
NY = ZoneInfo("America/New_York")
BOTOX = LineInput("Botox", "C3709C3", "20", "glabella")


@pytest.fixture
def clinic(engine, owner_engine):
    from tests.factories import build_clinic
    return build_clinic(engine, owner_engine, providers=2)


def _licence(clinic, staff_id: int, licence: str) -> None:
    with clinic.session() as s:
        s.get(StaffMember, staff_id).licence = licence
        s.commit()


def _org(clinic, **values) -> None:
    with clinic.session() as s:
        org = s.get(Organization, clinic.org_id)
        for k, v in values.items():
            setattr(org, k, v)
        s.commit()


def _visit(clinic, provider: int, *, hour: int = 14, service: str = "botox", client_id: int | None = None) -> int:
    with clinic.session() as s:
        if client_id is None:
            client_id = find_or_create_client(s, clinic.system, ClientInput(
                "Ivy", "Stone", f"ivy-{uuid.uuid4().hex[:8]}@example.com", "+12125550160")).id
        start = datetime.combine(date(2026, 7, 1), time(hour), tzinfo=NY).astimezone(timezone.utc)
        appt = hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services[service],
                         start_at=start, now=NOW - timedelta(days=3), client_id=client_id, provider_id=provider,
                         confirm=True)
        s.commit()
    sign_required_consents(clinic, appt.id)
    return appt.id


def _client_of(clinic, appt: int) -> int:
    with clinic.session() as s:
        return s.execute(text("select client_id from appointment where id = :a"), {"a": appt}).scalar_one()


def _call(clinic, fn, *args, now=NOW, **kwargs):
    with clinic.session() as s:
        result = fn(s, *args, now=now, **kwargs)
        s.commit()
        return result


def _audit(clinic, action: str) -> list:
    with clinic.session() as s:
        return s.execute(text("select client_id, detail from audit_event where action = :a order by id"),
                         {"a": action}).all()


@pytest.fixture
def people(clinic):
    """rn: the nurse (RN) who treats; np: the nurse practitioner (a prescriber)."""
    rn_id, np_id = clinic.provider_ids
    _licence(clinic, rn_id, "RN")
    rn = Actor(org_id=clinic.org_id, role="provider", staff_id=rn_id, label="Nurse Amy")
    np = Actor(org_id=clinic.org_id, role="provider", staff_id=np_id, label="Dr. Lee")
    return rn, np


def test_prescribers_are_md_do_np_pa_and_injectables_default_to_orders():
    assert PRESCRIBER_LICENCES == {"MD", "DO", "NP", "PA"}
    assert order_default("Neuromodulators") and order_default("dermal fillers") and not order_default("HydraFacial")


def test_a_nurse_charts_an_injectable_only_under_a_valid_order(clinic, people):
    rn, np = people
    appt = _visit(clinic, rn.staff_id)
    client = _client_of(clinic, appt)
    draft = _call(clinic, save_chart, rn, appt, [BOTOX], "")  # the draft is kept (nothing typed is lost)...
    assert draft.status == "draft" and draft.order_label == ""
    with pytest.raises(ChartLocked) as exc:  # ...but it is not signed without the order
        _call(clinic, sign_chart, rn, appt)
    assert str(exc.value).startswith("Botox needs a prescriber's exam or order before Provider 1 (RN) charts it")
    chart = _call(clinic, get_chart, rn, appt)
    assert chart.order_problem == str(exc.value) and chart.order_label == ""
    # the nurse cannot record an order herself; the NP can
    with pytest.raises(ValidationFailed) as exc:
        _call(clinic, record_order, rn, client, scope="all", examined_on=date(2026, 7, 1), valid_until=None,
              note="", time_zone="America/New_York")
    assert exc.value.fields == {"scope": "Only an MD, DO, NP or PA (licence on the staff page) can record an exam"}
    with pytest.raises(ValidationFailed) as exc:
        _call(clinic, record_order, np, client, scope="lasers", examined_on=date(2026, 7, 2), valid_until=None,
              note="", time_zone="America/New_York")
    assert set(exc.value.fields) == {"scope", "examined_on"}
    # an order for another category does not cover botox; an expired one neither
    _call(clinic, record_order, np, client, scope="hydrafacial", examined_on=date(2026, 6, 1), valid_until=None,
          note="", time_zone="America/New_York")
    _call(clinic, record_order, np, client, scope="all", examined_on=date(2025, 6, 1),
          valid_until=date(2026, 7, 1), note="", time_zone="America/New_York")
    with pytest.raises(ChartLocked):
        _call(clinic, sign_chart, rn, appt)
    order = _call(clinic, record_order, np, client, scope="neuromodulators", examined_on=date(2026, 7, 1),
                  valid_until=None, note="Good candidate; 20 u glabella.", time_zone="America/New_York")
    assert order.valid_until == datetime(2027, 7, 1, 4, tzinfo=timezone.utc)  # 12 months, local midnight
    chart = _call(clinic, save_chart, rn, appt, [BOTOX], "")
    assert chart.order_label == "Under the order of Provider 2 (NP), exam Jul 1, 2026, valid until Jul 1, 2027"
    signed = _call(clinic, sign_chart, rn, appt)
    assert signed.status == "signed" and signed.order_label == chart.order_label and signed.needs_cosign
    with clinic.session() as s:
        assert s.get(TreatmentNote, signed.note_id).prescriber_order_id == order.id
    assert _audit(clinic, "prescriber_order.create")[-1][0] == client
    views = _call(clinic, client_orders, np, client, "America/New_York")
    assert [v.scope for v in views] == ["neuromodulators", "hydrafacial", "all"]
    assert [v.valid for v in views] == [True, True, False]


def test_a_prescriber_needs_no_order_and_non_injectables_need_none(clinic, people):
    rn, np = people
    mine = _visit(clinic, np.staff_id)
    chart = _call(clinic, save_chart, np, mine, [BOTOX], "")
    assert chart.order_label == "" and chart.order_problem == ""
    assert not _call(clinic, sign_chart, np, mine).needs_cosign
    facial = _visit(clinic, rn.staff_id, hour=10, service="facial")
    assert _call(clinic, save_chart, rn, facial, [], "Hydrafacial, tolerated well.").status == "draft"


def test_an_unrecorded_licence_counts_as_non_prescriber(clinic, people):
    rn, np = people
    _licence(clinic, rn.staff_id, "")
    appt = _visit(clinic, rn.staff_id)
    _call(clinic, save_chart, rn, appt, [BOTOX], "")
    with pytest.raises(ChartLocked, match=r"before Provider 1 \(licence not recorded\) charts it"):
        _call(clinic, sign_chart, rn, appt)


def test_only_the_visits_provider_signs_unless_covering_is_allowed(clinic, people):
    rn, np = people
    appt = _visit(clinic, np.staff_id)
    _call(clinic, save_chart, rn, appt, [BOTOX], "charted by the nurse")  # anyone with chart.write may draft
    owner = clinic.staff_actor("owner")
    for other in (rn, owner):
        with pytest.raises(ChartLocked) as exc:
            _call(clinic, sign_chart, other, appt)
        assert str(exc.value) == ("Only Provider 2, who performed this visit, can sign this chart. You can add an "
                                  "addendum once it is signed; the owner can let covering providers sign (Settings).")
    _org(clinic, covering_may_sign=True)
    chart = _call(clinic, sign_chart, rn, appt)
    assert chart.status == "signed" and chart.signed_label.startswith("Signed by Nurse Amy")


def test_addenda_only_after_signing_and_append_only(clinic, people):
    rn, np = people
    appt = _visit(clinic, np.staff_id)
    _call(clinic, save_chart, np, appt, [BOTOX], "")
    with pytest.raises(ChartLocked, match="Addenda are added under a signed chart"):
        _call(clinic, add_addendum, rn, appt, "late entry")
    _call(clinic, sign_chart, np, appt)
    with pytest.raises(ValidationFailed) as exc:
        _call(clinic, add_addendum, rn, appt, "   ")
    assert exc.value.fields == {"addendum": "Write the addendum first"}
    with pytest.raises(NotFound):
        _call(clinic, add_addendum, clinic.staff_actor("front_desk"), appt, "desk note")
    chart = _call(clinic, add_addendum, rn, appt, "Client called: mild bruising, ice advised.",
                  now=NOW + timedelta(hours=2))
    assert [(a.author, a.at_label, a.text) for a in chart.addenda] == [
        ("Nurse Amy", "Jul 1, 2026 2:00 PM EDT", "Client called: mild bruising, ice advised.")]
    assert _audit(clinic, "chart.addendum")[0][0] == _client_of(clinic, appt)
    with clinic.session() as s, pytest.raises(DBAPIError):  # append-only for the app role
        s.execute(text("update chart_addendum set text = 'changed'"))
        s.flush()
    with clinic.session() as s, pytest.raises(DBAPIError):  # and never under a draft (database trigger)
        note = s.execute(text("select id from treatment_note where appointment_id = :a"), {"a": appt}).scalar_one()
        s.execute(text("update treatment_note set status = 'draft' where id = :n"), {"n": note})
        s.flush()


def test_review_queue_and_cosign_once_by_the_medical_director(clinic, people):
    rn, np = people
    appt = _visit(clinic, rn.staff_id)
    client = _client_of(clinic, appt)
    _call(clinic, record_order, np, client, scope="all", examined_on=date(2026, 6, 20), valid_until=None, note="",
          time_zone="America/New_York")
    _call(clinic, save_chart, rn, appt, [BOTOX], "")
    _call(clinic, sign_chart, rn, appt)
    owner = clinic.staff_actor("owner")
    with pytest.raises(NotFound):  # no director named: only the owner sees the queue
        _call(clinic, review_queue, np)
    assert [i.appointment_id for i in _call(clinic, review_queue, owner)] == [appt]
    with pytest.raises(ChartLocked, match="Only the clinic's medical director"):
        _call(clinic, cosign_chart, owner, appt, "")
    _org(clinic, medical_director_id=np.staff_id)
    items = _call(clinic, review_queue, np)
    assert [(i.client_name, i.service_name, i.provider_name, i.signed_label) for i in items] == [
        ("Ivy Stone", "Botox", "Provider 1", "Signed by Nurse Amy, Jul 1, 2026 12:00 PM EDT")]
    assert [row[0] for row in _audit(clinic, "chart.review.read")] == [client, client]
    with pytest.raises(NotFound):
        _call(clinic, review_queue, rn)  # not the director
    with pytest.raises(NotFound):
        _call(clinic, cosign_chart, clinic.staff_actor("manager"), appt, "")
    chart = _call(clinic, cosign_chart, np, appt, "Reviewed: dosing appropriate.", now=NOW + timedelta(days=1))
    assert chart.cosign_label == "Co-signed by Dr. Lee, Jul 2, 2026 12:00 PM EDT: Reviewed: dosing appropriate."
    assert not chart.needs_cosign
    with pytest.raises(ChartLocked, match="already co-signed"):
        _call(clinic, cosign_chart, np, appt, "")
    assert _call(clinic, review_queue, np) == []
    with clinic.session() as s:
        assert len(s.exec(__import__("sqlmodel").select(ChartCosign)).all()) == 1
    with clinic.session() as s, pytest.raises((DBAPIError, IntegrityError)):
        s.execute(text("delete from chart_cosign"))
        s.flush()


def test_a_director_who_is_not_a_prescriber_cannot_cosign(clinic, people):
    rn, np = people
    _org(clinic, medical_director_id=rn.staff_id)
    with pytest.raises(NotFound):
        _call(clinic, review_queue, rn)


def test_owner_records_licences_and_the_signing_settings(clinic, people):
    from medspa.domain.clinical.signing_admin import set_licence, set_signing_settings, signing_settings
    rn, np = people
    owner = clinic.staff_actor("owner")
    for other in (clinic.staff_actor("manager"), rn):
        with pytest.raises(NotFound):
            _call(clinic, set_licence, other, rn.staff_id, "NP")
        with pytest.raises(NotFound):
            _call(clinic, set_signing_settings, other, covering_may_sign=True, medical_director_id=None)
    with pytest.raises(ValidationFailed) as exc:
        _call(clinic, set_licence, owner, rn.staff_id, "CNA")
    assert exc.value.fields == {"licence": "Choose a licence from the list"}
    with pytest.raises(ValidationFailed) as exc:
        _call(clinic, set_signing_settings, owner, covering_may_sign=False, medical_director_id=rn.staff_id)
    assert exc.value.fields == {"medical_director_id": "Choose an active MD, DO, NP or PA of the clinic"}
    _call(clinic, set_licence, owner, rn.staff_id, "PA")
    got = _call(clinic, set_signing_settings, owner, covering_may_sign=True, medical_director_id=rn.staff_id)
    assert got.covering_may_sign and got.medical_director_id == rn.staff_id
    assert got.prescribers == [(rn.staff_id, "Provider 1 (PA)"), (np.staff_id, "Provider 2 (NP)")]
    assert _audit(clinic, "staff.licence")[0][1]["changes"] == {"licence": ["RN", "PA"]}
    with clinic.session() as s:
        assert signing_settings(s, owner).covering_may_sign


def test_chart_models_resolve_their_foreign_keys_alone():
    """The app (unlike the tests) never imports medspa.domain.models: a re-save of a chart with
    lines (which deletes the old lines) crashed with NoReferencedTableError 'product' until the
    chart models imported the tables their foreign keys name (found by the draft reload test)."""
    import subprocess
    import sys
    code = ("import medspa.domain.clinical.actions\n"
            "from medspa.domain.clinical.models import TreatmentLine, TreatmentNote\n"
            "for t in (TreatmentLine.__table__, TreatmentNote.__table__):\n"
            "    [fk.column for fk in t.foreign_keys]\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-800:]


def test_only_a_prescriber_is_offered_the_exam_form(clinic, people):
    """User trial: the RN saw "Record today's exam (prescriber)" and was refused only after the click."""
    from medspa.domain.clinical.signing_actions import fetch_order_scopes

    rn, np = people
    assert fetch_order_scopes(rn, engine=clinic.engine) == []
    scopes = fetch_order_scopes(np, engine=clinic.engine)
    assert scopes[0] == "all" and "neuromodulators" in scopes
