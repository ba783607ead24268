"""Guards of documents, orders, results and the test catalog (breaker findings of issue 17):
a merged (hidden) client is NotFound on every read and write; list reads of several clients
show in each client's "Record access"; control characters and wrong types are field
messages (never a database error); absurd numbers are refused; the database keeps a reviewed
result frozen and statuses one way, while a merge still moves the order."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from medspa.domain.clients.merge import merge_clients
from medspa.domain.clinical import order_actions as oa
from medspa.domain.clinical.orders import clean_values
from medspa.domain.clinical.photos import LocalMediaStore
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.portal.service import access_log
from tests.test_documents import pdf
from tests.test_orders import CBC, NOW, kw, new_client, order, who


@pytest.fixture
def store(tmp_path) -> LocalMediaStore:
    return LocalMediaStore(tmp_path / "media")


def count(clinic, sql: str, **params) -> int:
    with clinic.session() as s:
        return s.execute(text(sql), params).scalar()


def merged_pair(clinic) -> tuple[int, int]:
    keep, gone = new_client(clinic, "Ann"), new_client(clinic, "Anne")
    with clinic.session() as s:
        merge_clients(s, who(clinic, "owner"), keep, gone, NOW)
        s.commit()
    return keep, gone


def resulted(clinic, cid: int, notes: str = "haemolysed sample") -> int:
    oid = order(clinic, cid)
    oa.do_collect(who(clinic, "lab"), oid, **kw(clinic))
    oa.do_record_result(who(clinic, "lab"), oid, CBC, notes, **kw(clinic))
    return oid


# ---------------------------------------------------------------------------- merged client


def test_a_merged_away_client_is_not_found_for_documents_orders_and_results(clinic, store):
    keep, gone = merged_pair(clinic)
    with pytest.raises(NotFound):
        oa.do_add_document(who(clinic, "client", gone), pdf(), "Rx", "prescription", store=store, **kw(clinic))
    with pytest.raises(NotFound):
        oa.fetch_documents(who(clinic, "provider"), gone, **kw(clinic))
    with pytest.raises(NotFound):
        oa.fetch_documents(who(clinic, "client", gone), **kw(clinic))
    with pytest.raises(NotFound):
        oa.fetch_client_orders(who(clinic, "provider"), gone, **kw(clinic))
    with pytest.raises(NotFound):
        oa.fetch_my_results(who(clinic, "client", gone), **kw(clinic))
    with pytest.raises(NotFound):
        order(clinic, gone)
    assert count(clinic, "select count(*) from client_document") == 0
    assert not list(store.root.rglob("*.pdf"))
    assert count(clinic, "select count(*) from audit_event where client_id = :c and action in "
                 "('document.read', 'result.read', 'document.add')", c=gone) == 0
    # the surviving record works as before
    oa.do_add_document(who(clinic, "client", keep), pdf(), "Rx", "prescription", store=store, **kw(clinic))
    assert len(oa.fetch_documents(who(clinic, "provider"), keep, **kw(clinic))) == 1


# ---------------------------------------------------------------------------- access log


def _access(clinic, cid: int) -> list[tuple[str, str]]:
    with clinic.session() as s:
        rows = access_log(s, who(clinic, "client", cid), now=NOW)
        s.commit()
    return [(e.role, e.what) for e in rows]


def test_results_to_review_and_worklist_show_in_each_clients_access_log(clinic):
    ivy, zoe, kim = new_client(clinic, "Ivy"), new_client(clinic, "Zoe"), new_client(clinic, "Kim")
    resulted(clinic, ivy)
    order(clinic, zoe)  # on the worklist, not to review
    before = {c: len(_access(clinic, c)) for c in (ivy, zoe, kim)}
    assert [v.client_id for v in oa.fetch_results_to_review(who(clinic, "provider"), **kw(clinic))] == [ivy]
    after_review = {c: _access(clinic, c) for c in (ivy, zoe, kim)}
    assert len(after_review[ivy]) == before[ivy] + 1
    assert [what for _, what in after_review[ivy]].count("Viewed your test results") == 1
    assert len(after_review[zoe]) == before[zoe] and len(after_review[kim]) == before[kim]
    work = oa.fetch_worklist(who(clinic, "lab"), **kw(clinic))
    assert {w.client_name for w in work} == {"Ivy Stone", "Zoe Stone"}
    after_work = {c: _access(clinic, c) for c in (ivy, zoe, kim)}
    for cid in (ivy, zoe):
        assert len(after_work[cid]) == len(after_review[cid]) + 1
        assert ("Lab", "Saw your test on the lab worklist") in after_work[cid]
    assert len(after_work[kim]) == before[kim]
    rows = count(clinic, "select count(*) from audit_event where action = 'order.worklist.read' and client_id is null")
    assert rows == 0  # each row names its client


def test_an_empty_worklist_read_is_still_audited(clinic):
    assert oa.fetch_worklist(who(clinic, "lab"), **kw(clinic)) == []
    assert count(clinic, "select count(*) from audit_event where action = 'order.worklist.read'") == 1


# ---------------------------------------------------------------------------- control characters, types


def test_control_characters_are_field_messages_and_nothing_is_written(clinic, store):
    cid = new_client(clinic)
    with pytest.raises(ValidationFailed) as exc:
        order(clinic, cid, note="fasting\x00")
    assert "note" in exc.value.fields
    assert count(clinic, "select count(*) from lab_order") == 0
    order(clinic, cid, note="Fasting.\nMorning draw.")  # line breaks are fine in a note
    with pytest.raises(ValidationFailed) as exc:
        oa.do_add_document(who(clinic, "client", cid), pdf(), "rx\x00", "prescription", store=store, **kw(clinic))
    assert "title" in exc.value.fields
    assert count(clinic, "select count(*) from client_document") == 0
    oid = order(clinic, cid)
    oa.do_collect(who(clinic, "lab"), oid, **kw(clinic))
    for rows, notes, key in (([{"name": "Hb\x00", "value": "12"}], "", "values.0.name"),
                             ([{"name": "Hb", "value": "12\x07"}], "", "values.0.value"),
                             ([{"name": "Hb", "value": "12", "unit": "g/dL\x1b"}], "", "values.0.unit"),
                             ([], "haemolysed\x00", "notes"),
                             ([], "bad \ud800 text", "notes")):
        with pytest.raises(ValidationFailed) as exc:
            oa.do_record_result(who(clinic, "lab"), oid, rows, notes, **kw(clinic))
        assert key in exc.value.fields, (rows, notes, exc.value.fields)
    oa.do_record_result(who(clinic, "lab"), oid, [], "Haemolysed.\r\n\tRepeat draw advised.", **kw(clinic))
    with pytest.raises(ValidationFailed) as exc:
        oa.do_review_result(who(clinic, "provider"), oid, "ok\x00", **kw(clinic))
    assert "note" in exc.value.fields


def test_wrong_types_are_field_messages(clinic, store):
    cid = new_client(clinic)
    for title, kind, key in ((["Rx"], "other", "title"), ("Rx", ["other"], "kind"), ("Rx", {"a": 1}, "kind")):
        with pytest.raises(ValidationFailed) as exc:
            oa.do_add_document(who(clinic, "client", cid), pdf(), title, kind, store=store, **kw(clinic))
        assert key in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        order(clinic, cid, note=["fasting"])
    assert "note" in exc.value.fields
    assert count(clinic, "select count(*) from client_document") + count(clinic, "select count(*) from lab_order") == 0


@pytest.mark.parametrize("name,category,field", [
    ("Patch\x00test", "patch_test", "name"),
    ("Patch\x1btest", "patch_test", "name"),
    (["Patch"], "patch_test", "name"),
    ("Patch test", ["patch_test"], "category"),
    ("Patch test", {"patch_test": 1}, "category"),
])
def test_catalog_refuses_control_characters_and_wrong_types(clinic, name, category, field):
    owner = who(clinic, "owner")
    before = len(oa.fetch_tests(owner, **kw(clinic)))
    with pytest.raises(ValidationFailed) as exc:
        oa.do_save_test(owner, None, name, category, 100, **kw(clinic))
    assert field in exc.value.fields
    assert len(oa.fetch_tests(owner, **kw(clinic))) == before


# ---------------------------------------------------------------------------- absurd numbers


@pytest.mark.parametrize("value,low,high,field,words", [
    ("1e999999999", "1", "2", "value", "plain digits"),
    ("1E3", "", "", None, ""),  # no range: kept as typed text, never parsed as a number
    ("5", "1e2", "200", "low", "plain digits"),
    ("5", "1", "2000000000000000", "high", "too large"),
    ("-9999999999999999", "1", "2", "value", "too large"),
])
def test_absurd_numbers_are_refused_with_a_clear_message(value, low, high, field, words):
    rows = [{"name": "Hb", "value": value, "low": low, "high": high}]
    if field is None:
        assert [(v.value, v.flag) for v in clean_values(rows)] == [(value, "")]
        return
    with pytest.raises(ValidationFailed) as exc:
        clean_values(rows)
    assert words in exc.value.fields[f"values.0.{field}"]


def test_small_and_plain_numbers_are_stored_in_plain_digits():
    got = clean_values([{"name": "TSH", "value": "0.0000004", "low": "0.0000001", "high": "999999999999999"}])
    assert [(v.value, v.low, v.high, v.flag) for v in got] == [("0.0000004", "0.0000001", "999999999999999", "")]


# ---------------------------------------------------------------------------- database guard


def _try(clinic, sql: str, **params) -> bool:
    with clinic.session() as s:
        try:
            s.execute(text(sql), params)
            s.commit()
            return True
        except Exception:  # noqa: BLE001 - any refusal by the database
            s.rollback()
            return False


def test_the_database_freezes_a_reviewed_result_and_keeps_statuses_one_way(clinic):
    cid = new_client(clinic)
    oid = resulted(clinic, cid)
    assert not _try(clinic, "update lab_order set status = 'collected' where id = :o", o=oid)  # backwards
    oa.do_review_result(who(clinic, "provider"), oid, "fine", **kw(clinic))
    for sql in ("update lab_order set result_values = '[]' where id = :o",
                "update lab_order set result_notes = 'rewritten' where id = :o",
                "update lab_order set review_note = 'rewritten' where id = :o",
                "update lab_order set status = 'ordered' where id = :o",
                "delete from lab_order where id = :o"):
        assert not _try(clinic, sql, o=oid), sql
    with clinic.session() as s:
        row = s.execute(text("select status, result_notes, jsonb_array_length(result_values) from lab_order "
                             "where id = :o"), {"o": oid}).one()
    assert tuple(row) == ("reviewed", "haemolysed sample", 3)
    # a merge still moves the reviewed order to the surviving record
    keep = new_client(clinic, "Ivy2")
    with clinic.session() as s:
        merge_clients(s, who(clinic, "owner"), keep, cid, NOW)
        s.commit()
    assert count(clinic, "select client_id from lab_order where id = :o", o=oid) == keep


def test_an_upload_in_flight_during_a_merge_waits_and_is_refused(clinic, store):
    """The merge holds the client rows; the portal upload waits on the same lock, then sees
    the record merged away and stops (before the fix it landed on the hidden client)."""
    import threading

    keep, gone = new_client(clinic, "Ann"), new_client(clinic, "Anne")
    outcome: list[object] = []

    def upload() -> None:
        try:
            outcome.append(oa.do_add_document(who(clinic, "client", gone), pdf(), "Rx", "prescription", store=store,
                                              **kw(clinic)))
        except Exception as exc:  # noqa: BLE001 - the outcome is asserted below
            outcome.append(exc)

    with clinic.session() as s:
        merge_clients(s, who(clinic, "owner"), keep, gone, NOW)
        s.flush()
        worker = threading.Thread(target=upload)
        worker.start()
        worker.join(1.0)
        assert worker.is_alive(), f"the upload did not wait for the merge: {outcome}"
        s.commit()
    worker.join(10)
    assert len(outcome) == 1 and isinstance(outcome[0], NotFound), outcome
    assert count(clinic, "select count(*) from client_document") == 0
