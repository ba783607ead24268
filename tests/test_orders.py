"""Orders and results (medspa/domain/clinical/orders.py, order_reads.py, lab_tests.py, and the
actions in order_actions.py) on real PostgreSQL: the status steps (valid and refused, each
stamped), result value checks and flags, who reads what (front desk and manager never; lab
the worklist only; the client only own reviewed results), audit rows, the catalog, merge."""

from __future__ import annotations

import io
import uuid
from datetime import date

import pytest
from PIL import Image
from sqlalchemy import text

from medspa.clock import FixedClock
from medspa.domain.clients.merge import merge_clients
from medspa.domain.clients.service import ClientInput, find_or_create_client
from medspa.domain.clinical import order_actions as oa
from medspa.domain.clinical.lab_tests import BUILTIN_TESTS
from medspa.domain.clinical.orders import LabOrder, clean_values
from medspa.domain.clinical.photos import LocalMediaStore
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from tests.conftest import utc
from tests.factories import build_clinic

NOW = utc(2026, 7, 1, 16)
CLOCK = FixedClock(NOW)
CBC = [{"name": "Hemoglobin", "value": "11.2", "unit": "g/dL", "low": "12", "high": "15.5"},
       {"name": "WBC", "value": "6.1", "unit": "10^9/L", "low": "4", "high": "11"},
       {"name": "Platelets", "value": "480", "unit": "10^9/L", "low": "150", "high": "450"}]


@pytest.fixture
def store(tmp_path) -> LocalMediaStore:
    return LocalMediaStore(tmp_path / "media")


def new_client(clinic, first: str = "Ivy", dob: date | None = date(1990, 4, 2)) -> int:
    with clinic.session() as s:
        c = find_or_create_client(s, clinic.system, ClientInput(first, "Stone", f"{first}-{uuid.uuid4().hex[:8]}@example.com",
                                                                "+12125550160"))
        c.date_of_birth = dob
        s.add(c)
        s.commit()
        return c.id


def who(clinic, role: str, client_id: int | None = None) -> Actor:
    if role == "client":
        return Actor.client(clinic.org_id, client_id)
    return Actor(org_id=clinic.org_id, role=role, label=f"test {role}")


def kw(clinic) -> dict:
    return {"clock": CLOCK, "engine": clinic.engine}


def test_id(clinic, name: str = "Complete blood count (CBC)") -> int:
    tests = oa.fetch_tests(who(clinic, "provider"), **kw(clinic))
    return next(t.id for t in tests if t.name == name)


test_id.__test__ = False


def audit(clinic, action: str) -> list:
    with clinic.session() as s:
        return s.execute(text("select actor_role, client_id, object_id, detail from audit_event where action = :a "
                              "order by id"), {"a": action}).all()


def order(clinic, client_id: int, **extra) -> int:
    return oa.do_order_test(who(clinic, "provider"), client_id, test_id(clinic), **extra, **kw(clinic))


def resulted(clinic, client_id: int, store) -> int:
    oid = order(clinic, client_id)
    oa.do_collect(who(clinic, "lab"), oid, **kw(clinic))
    oa.do_record_result(who(clinic, "lab"), oid, CBC, "Slightly haemolysed.", store=store, **kw(clinic))
    return oid


def row(clinic, oid: int) -> LabOrder:
    with clinic.session() as s:
        return s.get(LabOrder, oid)


# ---------------------------------------------------------------------------- catalog


def test_builtin_catalog_is_seeded_once_and_settings_edit_it(clinic):
    owner = who(clinic, "owner")
    first = oa.fetch_tests(owner, **kw(clinic))
    again = oa.fetch_tests(owner, **kw(clinic))
    assert sorted(t.name for t in first) == sorted(n for n, _, _ in BUILTIN_TESTS) == sorted(t.name for t in again)
    added = oa.do_save_test(owner, None, "Vitamin D", "lab_panel", 5500, **kw(clinic))
    assert (added.category_label, added.price_cents) == ("Lab panel", 5500)
    with pytest.raises(ValidationFailed) as err:
        oa.do_save_test(owner, None, "vitamin d", "lab_panel", 100, **kw(clinic))
    assert "name" in err.value.fields
    with pytest.raises(ValidationFailed) as err:
        oa.do_save_test(owner, None, "", "blood", -1, **kw(clinic))
    assert set(err.value.fields) == {"name", "category", "price"}
    oa.do_set_test_active(owner, added.id, False, **kw(clinic))
    assert "Vitamin D" not in [t.name for t in oa.fetch_tests(who(clinic, "provider"), **kw(clinic))]
    assert "Vitamin D" in [t.name for t in oa.fetch_tests(owner, **kw(clinic))]
    with pytest.raises(ValidationFailed):
        oa.do_order_test(who(clinic, "provider"), new_client(clinic), added.id, **kw(clinic))
    for role in ("front_desk", "lab", "client"):
        with pytest.raises(NotFound):
            oa.fetch_tests(who(clinic, role, 1), **kw(clinic))
    with pytest.raises(NotFound):
        oa.do_save_test(who(clinic, "provider"), None, "X", "other", 0, **kw(clinic))
    assert len(audit(clinic, "lab_test.create")) == 1 and len(audit(clinic, "lab_test.update")) == 1


# ---------------------------------------------------------------------------- statuses


def test_steps_in_order_each_stamped_and_audited(clinic, store):
    cid = new_client(clinic)
    oid = order(clinic, cid, note="Draw fasting")
    o = row(clinic, oid)
    assert (o.status, o.test_name, o.price_cents, o.ordered_at, o.order_note) == ("ordered", "Complete blood count (CBC)",
                                                                                 4500, NOW, "Draw fasting")
    assert oa.do_collect(who(clinic, "lab"), oid, **kw(clinic)) == "collected"
    assert row(clinic, oid).collected_at == NOW and row(clinic, oid).collected_by_label == "test lab"
    assert oa.do_record_result(who(clinic, "lab"), oid, CBC, "", store=store, **kw(clinic)) == "resulted"
    assert oa.do_review_result(who(clinic, "provider"), oid, "Mild anaemia, iron advised.", **kw(clinic)) == "reviewed"
    o = row(clinic, oid)
    assert (o.reviewed_at, o.reviewed_by_label, o.review_note) == (NOW, "test provider", "Mild anaemia, iron advised.")
    for action in ("order.create", "order.collect", "order.result", "order.review"):
        rows = audit(clinic, action)
        assert len(rows) == 1 and rows[0].client_id == cid and rows[0].object_id == str(oid)
    assert "Hemoglobin" not in str(audit(clinic, "order.result")[0].detail)  # counts only, never values


def test_wrong_steps_are_refused_with_a_clear_message(clinic, store):
    cid = new_client(clinic)
    oid = order(clinic, cid)
    lab, provider = who(clinic, "lab"), who(clinic, "provider")
    with pytest.raises(ValidationFailed) as err:
        oa.do_record_result(lab, oid, CBC, "", store=store, **kw(clinic))
    assert err.value.fields["status"] == "Results can be recorded only after the sample is collected; this one is ordered."
    with pytest.raises(ValidationFailed) as err:
        oa.do_review_result(provider, oid, "", **kw(clinic))
    assert "Only a test with results can be reviewed" in err.value.fields["status"]
    oa.do_collect(lab, oid, **kw(clinic))
    with pytest.raises(ValidationFailed) as err:
        oa.do_collect(lab, oid, **kw(clinic))
    assert err.value.fields["status"] == "Only an ordered test can be marked collected; this one is collected."
    oa.do_record_result(lab, oid, CBC, "", store=store, **kw(clinic))
    with pytest.raises(ValidationFailed):
        oa.do_record_result(lab, oid, CBC, "", store=store, **kw(clinic))
    oa.do_review_result(provider, oid, "", **kw(clinic))
    with pytest.raises(ValidationFailed) as err:
        oa.do_review_result(provider, oid, "", **kw(clinic))
    assert err.value.fields["status"].endswith("this one is reviewed.")
    assert row(clinic, oid).status == "reviewed"


def test_order_checks_test_visit_and_note(clinic):
    cid, other = new_client(clinic), new_client(clinic, "Zoe")
    provider = who(clinic, "provider")
    with pytest.raises(ValidationFailed) as err:
        oa.do_order_test(provider, cid, 999_999_999, **kw(clinic))
    assert "test" in err.value.fields
    with pytest.raises(NotFound):
        oa.do_order_test(provider, 999_999_999, test_id(clinic), **kw(clinic))
    with pytest.raises(ValidationFailed) as err:
        oa.do_order_test(provider, cid, test_id(clinic), note="x" * 501, **kw(clinic))
    assert "note" in err.value.fields
    with pytest.raises(ValidationFailed) as err:
        oa.do_order_test(provider, cid, test_id(clinic), appointment_id=999_999_999, **kw(clinic))
    assert "visit" in err.value.fields
    assert other != cid


# ---------------------------------------------------------------------------- values


def test_values_numbers_units_ranges_and_flags():
    got = clean_values([*CBC, {"name": "", "value": "", "unit": "", "low": "", "high": ""},
                        {"name": "hCG", "value": "Negative"}, {"name": "K", "value": "-0.50", "low": "-1", "high": "1"}])
    assert [(v.name, v.value, v.flag) for v in got] == [("Hemoglobin", "11.2", "low"), ("WBC", "6.1", ""),
                                                        ("Platelets", "480", "high"), ("hCG", "Negative", ""),
                                                        ("K", "-0.50", "")]
    assert got[0].unit == "g/dL" and (got[0].low, got[0].high) == ("12", "15.5")
    with pytest.raises(ValidationFailed) as err:
        clean_values([{"name": "Hb", "value": "low-ish", "low": "12"}, {"value": "3"},
                      {"name": "X", "value": "1", "low": "5", "high": "2"}, {"name": "Y", "value": "1", "high": "abc"},
                      {"name": "Z", "value": "1", "unit": "u" * 21}, {"name": "N", "value": "NaN", "low": "1"}])
    assert err.value.fields == {
        "values.0.value": "Enter a number to compare with the reference range.", "values.1.name": "Name the value (e.g. Hemoglobin).",
        "values.2.high": "The upper limit is below the lower one.", "values.3.high": "Enter a number.",
        "values.4.unit": "At most 20 characters.", "values.5.value": "Enter a number to compare with the reference range."}
    for junk in (None, "x", {"a": 1}, [{}] * 31):
        with pytest.raises(ValidationFailed):
            clean_values(junk)


def test_a_result_needs_something_and_its_file_follows_document_rules(clinic, store):
    cid = new_client(clinic)
    oid = order(clinic, cid)
    lab = who(clinic, "lab")
    oa.do_collect(lab, oid, **kw(clinic))
    with pytest.raises(ValidationFailed) as err:
        oa.do_record_result(lab, oid, [], "  ", store=store, **kw(clinic))
    assert "values" in err.value.fields
    with pytest.raises(ValidationFailed) as err:
        oa.do_record_result(lab, oid, [], "", file=b"MZ\x90\x00 not a pdf", store=store, **kw(clinic))
    assert err.value.fields["file"] == "This file is not a PDF, JPEG or PNG."
    assert row(clinic, oid).status == "collected"  # nothing half-written
    out = io.BytesIO()
    Image.new("RGB", (50, 40), (200, 10, 10)).save(out, "PNG")
    oa.do_record_result(lab, oid, [], "Patch: no reaction at 48 h.", file=out.getvalue(), store=store, **kw(clinic))
    got = oa.fetch_result_file(who(clinic, "provider"), oid, store=store, **kw(clinic))
    assert got.content_type == "image/png" and got.filename == f"result-{oid}.png"


# ---------------------------------------------------------------------------- who reads what


def test_who_reads_results_and_the_worklist(clinic, store):
    cid, other = new_client(clinic), new_client(clinic, "Zoe")
    oid = resulted(clinic, cid, store)
    order(clinic, other)
    work = oa.fetch_worklist(who(clinic, "lab"), **kw(clinic))
    assert {(w.client_name, w.date_of_birth, w.status) for w in work} == {
        ("Zoe Stone", date(1990, 4, 2), "ordered"), ("Ivy Stone", date(1990, 4, 2), "resulted")}
    assert not hasattr(work[0], "values")  # the worklist carries no result values
    for role in ("front_desk", "manager", "client"):
        with pytest.raises(NotFound):
            oa.fetch_worklist(who(clinic, role, cid), **kw(clinic))
    for role in ("front_desk", "manager", "lab", "client"):
        with pytest.raises(NotFound):
            oa.fetch_client_orders(who(clinic, role, cid), cid, **kw(clinic))
        with pytest.raises(NotFound):
            oa.fetch_results_to_review(who(clinic, role, cid), **kw(clinic))
        with pytest.raises(NotFound):
            oa.fetch_result_file(who(clinic, role, cid), oid, store=store, **kw(clinic))
    views = oa.fetch_client_orders(who(clinic, "provider"), cid, **kw(clinic))
    assert [v["flag"] for v in views[0].values] == ["low", "", "high"]
    assert [v.id for v in oa.fetch_results_to_review(who(clinic, "owner"), **kw(clinic))] == [oid]
    # the client: nothing before review, then own reviewed result; never another's
    assert oa.fetch_my_results(who(clinic, "client", cid), **kw(clinic)) == []
    oa.do_review_result(who(clinic, "provider"), oid, "Iron advised.", **kw(clinic))
    mine = oa.fetch_my_results(who(clinic, "client", cid), **kw(clinic))
    assert [(m.id, m.review_note, len(m.values)) for m in mine] == [(oid, "Iron advised.", 3)]
    assert oa.fetch_my_results(who(clinic, "client", other), **kw(clinic)) == []
    for role in ("provider", "lab"):
        with pytest.raises(NotFound):
            oa.fetch_my_results(who(clinic, role), **kw(clinic))
    # lab cannot order or review; front desk cannot collect
    with pytest.raises(NotFound):
        oa.do_order_test(who(clinic, "lab"), cid, test_id(clinic), **kw(clinic))
    with pytest.raises(NotFound):
        oa.do_collect(who(clinic, "front_desk"), oid, **kw(clinic))
    reads = audit(clinic, "result.read")
    assert [r.actor_role for r in reads] == ["provider", "owner", "client", "client", "client"]
    assert [r.client_id for r in reads if r.actor_role == "client"] == [cid, cid, other]
    # the worklist read: one row per client shown, so each client's "Record access" lists it
    assert sorted(r.client_id for r in audit(clinic, "order.worklist.read")) == sorted([cid, other])


def test_another_clinic_sees_nothing(clinic, engine, owner_engine, store):
    cid = new_client(clinic)
    oid = resulted(clinic, cid, store)
    far = build_clinic(engine, owner_engine)
    provider = Actor(org_id=far.org_id, role="provider", label="far")
    assert oa.fetch_worklist(Actor(org_id=far.org_id, role="lab", label="far"), **kw(far)) == []
    with pytest.raises(NotFound):
        oa.fetch_client_orders(provider, cid, **kw(far))
    with pytest.raises(NotFound):
        oa.do_review_result(provider, oid, "", **kw(far))


def test_merge_moves_orders_and_documents(clinic, store):
    keep, gone = new_client(clinic), new_client(clinic, "Ivy2")
    oid = order(clinic, gone)
    with clinic.session() as s:
        s.execute(text("insert into client_document (org_id, client_id, title, kind, storage_key, content_type, bytes,"
                       " sha256, created_at) values (:o, :c, 'Rx', 'prescription', :k, 'application/pdf', 10, 'x', :t)"),
                  {"o": clinic.org_id, "c": gone, "k": f"k-{uuid.uuid4().hex}", "t": NOW})
        merge_clients(s, who(clinic, "owner"), keep, gone, now=NOW)
        s.commit()
        assert s.execute(text("select client_id from lab_order where id = :i"), {"i": oid}).scalar() == keep
        assert s.execute(text("select count(*) from client_document where client_id = :c"), {"c": keep}).scalar() == 1


def test_an_order_is_for_a_live_visit_and_its_card_names_that_visit(clinic):
    """Trial finding: the "For visit" list offered cancelled visits, and an ordered test did not
    say which visit it was for."""
    from medspa.domain.scheduling.models import Appointment
    from medspa.domain.scheduling.service import hold_slot

    cid = new_client(clinic)
    with clinic.session() as s:
        live = hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services["botox"],
                         start_at=utc(2026, 7, 3, 14), now=NOW, client_id=cid, confirm=True)
        gone = hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services["botox"],
                         start_at=utc(2026, 7, 3, 16), now=NOW, client_id=cid, confirm=True)
        s.flush()
        s.get(Appointment, gone.id).status = "cancelled"
        s.commit()
        live_id, gone_id = live.id, gone.id
    with pytest.raises(ValidationFailed) as err:
        order(clinic, cid, appointment_id=gone_id)
    assert err.value.fields == {"visit": "Choose one of this client's confirmed, checked-in or completed visits."}
    order(clinic, cid, appointment_id=live_id)
    order(clinic, cid)
    views = oa.fetch_client_orders(who(clinic, "provider"), cid, **kw(clinic))
    assert sorted(v.visit for v in views) == ["", "Fri, Jul 3, 2026 · Botox"]
