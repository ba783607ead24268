"""A medical-history form submitted while the client's records are merged (issue 17 leftover):
both take the client's row lock before the visit's, so they queue instead of deadlocking. The
race is forced: the submission pauses between its two row locks while the merge starts."""

from __future__ import annotations

import threading
import time

from sqlalchemy import event, text
from sqlmodel import select

from medspa.domain.clients.merge import merge_clients
from medspa.domain.clinical.form_models import FormResponse
from medspa.domain.clinical.forms import submit_form
from medspa.domain.identity.actor import Actor
from tests.test_intake_forms import HISTORY, NOW, _client, _staff, _visit


def _waiting_pids(clinic) -> set[int]:
    with clinic.engine.connect() as conn:
        return set(conn.execute(text("select pid from pg_stat_activity where wait_event_type = 'Lock'")).scalars())


def test_a_merge_during_a_history_form_queues_behind_it_without_deadlock(clinic):
    survivor, absorbed = _client(clinic, "Ann"), _client(clinic, "Bea")
    appt = _visit(clinic, absorbed)
    merge_error: list[BaseException] = []
    merge_pid: list[int] = []

    def merge() -> None:
        try:
            with clinic.session() as s:
                merge_pid.append(s.execute(text("select pg_backend_pid()")).scalar())
                merge_clients(s, _staff(clinic, "owner"), survivor, absorbed, NOW)
                s.commit()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            merge_error.append(exc)

    merger = threading.Thread(target=merge)
    locks_seen: list[str] = []

    with clinic.session() as s:
        def between_locks(conn_, cursor, statement, params, context, executemany):
            if "FOR UPDATE" not in statement:
                return
            locks_seen.append(statement)
            if len(locks_seen) == 2:  # holding its first row lock: let the merge start and block
                merger.start()
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline and not (merge_pid and merge_pid[0] in _waiting_pids(clinic)):
                    time.sleep(0.05)

        event.listen(s.connection(), "before_cursor_execute", between_locks)
        submit_form(s, Actor.client(clinic.org_id, absorbed), appt, "medical_history", HISTORY, source="portal",
                    now=NOW)
        s.commit()
    merger.join(30)
    assert not merger.is_alive() and merge_error == []
    assert "client" in locks_seen[0].split("FROM", 1)[1].split("WHERE", 1)[0]  # the client's row first
    with clinic.session() as s:  # the merge came second: it moved the form onto the survivor
        assert [r.client_id for r in s.exec(select(FormResponse).where(FormResponse.appointment_id == appt))] == [
            survivor]
