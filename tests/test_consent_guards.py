"""Signed consent under races and hostile input (issue 17 breaker findings): an in-place edit
committed while a signing waits, a merge committed while a signing waits, a double tap, a
failed signing's files, a PNG decompression bomb, hidden characters in a typed name, NUL in
the user agent, wrong types. Real PostgreSQL, each test its own clinic."""

from __future__ import annotations

import io
import struct
import threading
import zlib

import pytest
from pypdf import PdfReader
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError

from medspa.domain.clients.merge import merge_clients
from medspa.domain.clinical.consent import edit_template, list_templates, visit_consents
from medspa.domain.clinical.consent_signing import StaleConsent, sign_consent
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.scheduling.models import Appointment
from tests.consent_support import MemoryStore
from tests.test_consent import NOW, _client_actor, _png, _sign, _todo, _visit


def _count(clinic, sql: str, **params) -> int:
    with clinic.session() as s:
        return s.execute(text(sql), params).scalar()


def _when_template_is_locked(session, action):
    """Run action() once, just before `session` sends its lock of the consent template."""
    fired: list[str] = []
    conn = session.connection()

    def before(conn_, cursor, statement, params, context, executemany):
        if not fired and "FOR SHARE" in statement and "consent_template" in statement:
            fired.append(statement)
            action()

    event.listen(conn, "before_cursor_execute", before)
    return fired


def test_an_edit_committed_while_the_signing_waits_for_the_lock_is_stale(clinic):
    store = MemoryStore()
    appt_id, cid = _visit(clinic)
    me = _client_actor(clinic, cid)
    item = _todo(clinic, me, cid)[0]  # the page the client read: version id and hash of that text

    def manager_edits():  # in place: the version is unsigned, its id stays the same
        with clinic.session() as other:
            t = {x.key: x for x in list_templates(other, clinic.staff_actor("owner"), NOW)}[item.key]
            edit_template(other, clinic.staff_actor("manager"), t.id, t.title, t.body + " NEW CLAUSE.", NOW)
            other.commit()

    with clinic.session() as s:
        s.get(Appointment, appt_id)
        fired = _when_template_is_locked(s, manager_edits)
        with pytest.raises(StaleConsent) as stale:
            sign_consent(s, me, cid, item.version_id, item.sha256, method="typed", typed_name="Zoë Stone", now=NOW,
                         store=store)
    assert fired
    assert "NEW CLAUSE" in stale.value.current.body and stale.value.current.sha256 != item.sha256
    assert _count(clinic, "select count(*) from consent_signature") == 0 and store.files == {}
    with clinic.session() as s:
        assert item.title in visit_consents(s, [s.get(Appointment, appt_id)], now=NOW)[appt_id].missing


def test_the_database_refuses_a_signature_whose_hash_is_not_its_versions(clinic):
    store = MemoryStore()
    _, cid = _visit(clinic)
    me = _client_actor(clinic, cid)
    item = _todo(clinic, me, cid)[0]
    _sign(clinic, me, cid, item, store)
    copy = ("insert into consent_signature (org_id, client_id, template_id, version_id, signed_at, method, typed_name,"
            " signer, collected_by, choice, ip, user_agent, text_sha256, signature_key, pdf_key, pdf_sha256)"
            " select org_id, client_id, template_id, version_id, signed_at, method, typed_name, signer, collected_by,"
            " choice, ip, user_agent, {sha}, signature_key, pdf_key, pdf_sha256 from consent_signature")
    with clinic.session() as s, pytest.raises(DBAPIError, match="does not match"):
        s.execute(text(copy.format(sha="repeat('0', 64)")))
    with clinic.session() as s:  # the same row with the right hash goes in: the guard is not a blanket refusal
        s.execute(text(copy.format(sha="text_sha256")))
        s.rollback()


def test_an_uncommitted_in_place_edit_makes_a_raw_signature_insert_wait_then_fail(clinic):
    """The database alone keeps the order: the insert locks the version row and sees the edit."""
    _, cid2 = _visit(clinic)
    other = _todo(clinic, _client_actor(clinic, cid2), cid2)[0]
    outcome: list[object] = []

    def insert():
        try:
            with clinic.session() as s:
                s.execute(text(
                    "insert into consent_signature (org_id, client_id, template_id, version_id, signed_at, method,"
                    " typed_name, signer, text_sha256, pdf_key, pdf_sha256) values (:o, :c, :t, :v, now(), 'typed',"
                    " 'Zoë Stone', 'portal', :h, 'k', repeat('0', 64))"),
                    {"o": clinic.org_id, "c": cid2, "t": other.template_id, "v": other.version_id, "h": other.sha256})
                s.commit()
                outcome.append("inserted")
        except DBAPIError as exc:
            outcome.append(exc)

    with clinic.session() as editor:
        editor.execute(text("update consent_version set body = body || ' Amended.', sha256 = repeat('a', 64) "
                            "where id = :v"), {"v": other.version_id})  # unsigned: allowed, not committed yet
        worker = threading.Thread(target=insert)
        worker.start()
        worker.join(1.0)
        assert worker.is_alive(), "the insert should wait for the edit's row lock"
        editor.commit()
    worker.join(10)
    assert len(outcome) == 1 and isinstance(outcome[0], DBAPIError) and "does not match" in str(outcome[0])


def test_an_uncommitted_signature_makes_an_in_place_edit_wait_then_fail(clinic):
    """The other order: the signing transaction holds the version; the edit waits for it, then
    sees the committed signature and is refused (0043's guard)."""
    _, cid = _visit(clinic)
    item = _todo(clinic, _client_actor(clinic, cid), cid)[0]
    outcome: list[object] = []

    def edit():
        try:
            with clinic.session() as s:
                s.execute(text("update consent_version set body = body || ' Amended.', sha256 = repeat('a', 64) "
                               "where id = :v"), {"v": item.version_id})
                s.commit()
                outcome.append("edited")
        except DBAPIError as exc:
            outcome.append(exc)

    with clinic.session() as signer:
        signer.execute(text(
            "insert into consent_signature (org_id, client_id, template_id, version_id, signed_at, method,"
            " typed_name, signer, text_sha256, pdf_key, pdf_sha256) values (:o, :c, :t, :v, now(), 'typed',"
            " 'Zoë Stone', 'portal', :h, 'k', repeat('0', 64))"),
            {"o": clinic.org_id, "c": cid, "t": item.template_id, "v": item.version_id, "h": item.sha256})
        worker = threading.Thread(target=edit)
        worker.start()
        worker.join(1.0)
        assert worker.is_alive(), "the edit should wait for the signing transaction"
        signer.commit()
    worker.join(10)
    assert len(outcome) == 1 and isinstance(outcome[0], DBAPIError) and "read-only" in str(outcome[0])
    assert _count(clinic, "select sha256 from consent_version where id = :v", v=item.version_id) == item.sha256


def test_a_merge_committed_while_the_signing_waits_keeps_the_signature_off_the_hidden_client(clinic):
    store = MemoryStore()
    _, gone = _visit(clinic)
    _, keep = _visit(clinic, hour=11)
    me = _client_actor(clinic, gone)
    item = _todo(clinic, me, gone)[0]

    def owner_merges():
        with clinic.session() as other:
            merge_clients(other, clinic.staff_actor("owner"), keep, gone, NOW)
            other.commit()

    with clinic.session() as s:
        fired = _when_template_is_locked(s, owner_merges)
        with pytest.raises(NotFound):
            sign_consent(s, me, gone, item.version_id, item.sha256, method="typed", typed_name="Zoë Stone", now=NOW,
                         store=store)
    assert fired
    assert _count(clinic, "select merged_into_id from client where id = :g", g=gone) == keep
    assert _count(clinic, "select count(*) from consent_signature") == 0 and store.files == {}


def test_a_double_tap_on_sign_makes_one_signature_and_one_pdf(clinic):
    store = MemoryStore()
    _, cid = _visit(clinic)
    me = _client_actor(clinic, cid)
    item = _todo(clinic, me, cid)[0]
    barrier = threading.Barrier(2)
    results, errors = [], []

    def tap():
        try:
            with clinic.session() as s:
                barrier.wait()
                results.append(sign_consent(s, me, cid, item.version_id, item.sha256, method="typed",
                                            typed_name="Zoë Stone", now=NOW, store=store))
                s.commit()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=tap) for _ in range(2)]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    assert errors == []
    assert len(results) == 2 and results[0].id == results[1].id
    assert _count(clinic, "select count(*) from consent_signature") == 1
    assert len([k for k in store.files if k.endswith(".pdf")]) == 1
    assert _count(clinic, "select count(*) from audit_event where action = 'consent.sign'") == 1
    again = _sign(clinic, me, cid, item, store)  # later, from another device: still the first
    assert again.id == results[0].id and _count(clinic, "select count(*) from consent_signature") == 1


def test_a_failed_signing_leaves_no_files_in_the_store(clinic):
    store = MemoryStore()
    _, cid = _visit(clinic)
    me = _client_actor(clinic, cid)
    item = _todo(clinic, me, cid)[0]
    with clinic.session() as s:
        def refuse(conn_, cursor, statement, params, context, executemany):
            if statement.startswith("INSERT INTO audit_event"):
                raise RuntimeError("the database went away")

        event.listen(s.connection(), "before_cursor_execute", refuse)
        with pytest.raises(RuntimeError):
            sign_consent(s, me, cid, item.version_id, item.sha256, method="drawn", signature_png=_png(), now=NOW,
                         store=store)
    assert store.files == {}
    assert _count(clinic, "select count(*) from consent_signature") == 0


def test_nul_and_controls_in_the_user_agent_are_recorded_without_them(clinic):
    store = MemoryStore()
    _, cid = _visit(clinic)
    me = Actor.client(clinic.org_id, cid, ip="198.51.100.7\x00", user_agent="Mozilla\x00\x01<script>\u202e")
    item = _todo(clinic, me, cid)[0]
    _sign(clinic, me, cid, item, store, method="drawn", signature_png=_png())
    with clinic.session() as s:
        assert s.execute(text("select ip, user_agent from consent_signature")).one() == ("198.51.100.7",
                                                                                         "Mozilla<script>")
        assert s.execute(text("select user_agent from audit_event where action = 'consent.sign'")).scalar() == \
            "Mozilla<script>"
    pdf = next(v for k, v in store.files.items() if k.endswith(".pdf"))
    assert PdfReader(io.BytesIO(pdf)).pages


def _bomb(side: int = 60000) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = zlib.compress(b"\x00" * (side // 8 + 1) * 200, 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", rows) + chunk(b"IEND", b""))


@pytest.mark.parametrize("png", [_bomb(), _bomb(3000), _bomb()[:20], b"\x89PNG\r\n\x1a\n" + b"\x00" * 40],
                         ids=["60000px-bomb", "3000px", "cut-header", "no-header"])
def test_a_png_bomb_or_broken_header_is_refused_like_a_bad_image(clinic, png):
    store = MemoryStore()
    _, cid = _visit(clinic)
    me = _client_actor(clinic, cid)
    item = _todo(clinic, me, cid)[0]
    with pytest.raises(ValidationFailed) as refused:
        _sign(clinic, me, cid, item, store, method="drawn", signature_png=png)
    assert refused.value.fields == {"signature": "The signature is not a PNG image. Clear it and sign again."}
    assert store.files == {}


@pytest.mark.parametrize("name", ["Zoë \u202eenotS", "Zoë\u200bStone", "Zoë Stone\u2066", "\ufeffZoë Stone",
                                  "Zoë\u00adStone", "Zoë \x07Stone", "Zoë \u200fStone"])
def test_hidden_characters_in_a_typed_name_are_refused(clinic, name):
    store = MemoryStore()
    _, cid = _visit(clinic)
    me = _client_actor(clinic, cid)
    item = _todo(clinic, me, cid)[0]
    with pytest.raises(ValidationFailed) as refused:
        _sign(clinic, me, cid, item, store, typed_name=name)
    assert set(refused.value.fields) == {"typed_name"}
    assert store.files == {} and _count(clinic, "select count(*) from consent_signature") == 0


@pytest.mark.parametrize("name", ["张伟 王", "Zoë 😀 Stone", "עִבְרִית Stone", "Siobhán O'Neill-Ó Súilleabháin"])
def test_names_in_any_script_are_kept(clinic, name):
    store = MemoryStore()
    _, cid = _visit(clinic)
    me = _client_actor(clinic, cid)
    item = _todo(clinic, me, cid)[0]
    _sign(clinic, me, cid, item, store, typed_name=name)
    assert _count(clinic, "select count(*) from consent_signature where typed_name = :n", n=name) == 1


@pytest.mark.parametrize("kw,field", [({"choice": ["marketing"]}, "choice"), ({"choice": {"a": 1}}, "choice"),
                                      ({"choice": "clinical", "method": ["typed"]}, "method"),
                                      ({"choice": "clinical", "typed_name": ["Zoë"]}, "typed_name"),
                                      ({"choice": "clinical", "method": "drawn", "signature_png": "x"}, "signature")])
def test_wrong_types_are_validation_failed(clinic, kw, field):
    store = MemoryStore()
    _, cid = _visit(clinic)
    me = _client_actor(clinic, cid)
    photo = [c for c in _todo(clinic, me, cid) if c.key == "photo_use"][0]
    with pytest.raises(ValidationFailed) as refused:
        _sign(clinic, me, cid, photo, store, **kw)
    assert set(refused.value.fields) == {field}
    assert _count(clinic, "select count(*) from consent_signature") == 0
