"""work.on_rollback: what a service did outside the database (a file in the media store) is
undone when its transaction does not commit, also when the COMMIT itself fails (issue 17
leftover: a failure at the commit left the signed consent's files behind). The commit failure
is real: a deferred unique constraint that PostgreSQL checks only at COMMIT."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from medspa.domain.clinical import documents as docs
from medspa.domain.clinical.consent_signing import sign_consent
from medspa.domain.work import atomic, on_rollback
from tests.consent_support import MemoryStore
from tests.test_consent import NOW, _client_actor, _todo, _visit
from tests.test_documents import pdf


def _fail_at_commit(session) -> None:
    """Make this transaction's COMMIT fail (and nothing before it)."""
    session.execute(text("create temp table commit_trap (x int unique deferrable initially deferred) on commit drop"))
    session.execute(text("insert into commit_trap values (1), (1)"))


def test_effects_run_when_the_commit_fails_or_the_block_raises_and_never_after_a_commit(clinic):
    ran: list[str] = []
    with pytest.raises(IntegrityError):
        with atomic(clinic.org_id, engine=clinic.engine) as work:
            on_rollback(work.session, lambda: ran.append("first"))
            on_rollback(work.session, lambda: ran.append("second"))
            _fail_at_commit(work.session)
    assert ran == ["second", "first"]  # newest first
    ran.clear()
    with pytest.raises(RuntimeError):
        with atomic(clinic.org_id, engine=clinic.engine) as work:
            on_rollback(work.session, lambda: ran.append("raised"))
            raise RuntimeError("the action failed")
    assert ran == ["raised"]
    ran.clear()
    with atomic(clinic.org_id, engine=clinic.engine) as work:
        on_rollback(work.session, lambda: ran.append("committed"))
    assert ran == []
    with pytest.raises(RuntimeError):  # a step committed mid-action is kept when a later one fails
        with atomic(clinic.org_id, engine=clinic.engine) as work:
            on_rollback(work.session, lambda: ran.append("kept"))
            work.commit()
            on_rollback(work.session, lambda: ran.append("later"))
            raise RuntimeError("the second step failed")
    assert ran == ["later"]


def test_a_consent_signing_whose_commit_fails_leaves_no_files(clinic):
    store = MemoryStore()
    _, cid = _visit(clinic)
    me = _client_actor(clinic, cid)
    item = _todo(clinic, me, cid)[0]
    with pytest.raises(IntegrityError):
        with atomic(clinic.org_id, engine=clinic.engine) as work:
            sign_consent(work.session, me, cid, item.version_id, item.sha256, method="typed", typed_name="Zoë Stone",
                         now=NOW, store=store)
            assert any(k.endswith(".pdf") for k in store.files)  # written before the commit
            _fail_at_commit(work.session)
    assert store.files == {}
    with clinic.session() as s:
        assert s.execute(text("select count(*) from consent_signature")).scalar() == 0


def test_a_document_whose_commit_fails_leaves_no_file(clinic):
    store = MemoryStore()
    _, cid = _visit(clinic)
    with pytest.raises(IntegrityError):
        with atomic(clinic.org_id, engine=clinic.engine) as work:
            docs.add_document(work.session, _client_actor(clinic, cid), pdf(), "Rx", "prescription", NOW, store)
            assert len(store.files) == 1
            _fail_at_commit(work.session)
    assert store.files == {}
