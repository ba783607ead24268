"""The one check that a client id names a live record of the clinic (not merged away).

A merged record is hidden: its rows moved to the survivor (clients/merge.py), so nothing may be
read from it or written onto it. Writers lock the row (`lock=True`): a merge locks the same row,
so a write either lands before the merge, which then moves it, or sees the merge and stops.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from medspa.domain.base import is_row_id
from medspa.domain.clients.models import Client
from medspa.domain.errors import NotFound


def live_client(session: Session, client_id: Any, *, lock: bool = False, org_id: int | None = None) -> Client:
    """The client `client_id`, re-read from the database (a merge committed meanwhile is seen),
    FOR UPDATE with `lock`. `org_id`: also refuse another clinic's row (row-level security
    already hides it; belt and braces). No permission check: the caller has done it.

    Raises NotFound("client"): not an id, missing, another clinic's, or merged away."""
    if not is_row_id(client_id):
        raise NotFound("client")
    query = select(Client).where(Client.id == client_id).execution_options(populate_existing=True)
    client = session.exec(query.with_for_update() if lock else query).first()
    if client is None or client.merged_into_id is not None or (org_id is not None and client.org_id != org_id):
        raise NotFound("client")
    return client


def lock_visit(session: Session, appointment_id: int):
    """The appointment `appointment_id` locked FOR UPDATE and read fresh, its client's row locked
    first: the merge's lock order (clients, then their visits), so a write on a visit and a
    merge of its client queue instead of deadlocking. A merge that committed between reading
    the visit's client and locking it moved the visit: the new client is locked instead
    (retried). None when there is no such appointment (the caller says NotFound)."""
    from medspa.domain.scheduling.models import Appointment  # scheduling imports clients

    locked = None
    for _ in range(3):
        owner = session.exec(select(Appointment.client_id).where(Appointment.id == appointment_id)).first()
        if owner is not None:
            session.exec(select(Client.id).where(Client.id == owner).with_for_update()).first()
        locked = session.exec(select(Appointment).where(Appointment.id == appointment_id).with_for_update()
                              .execution_options(populate_existing=True)).first()
        if locked is None or locked.client_id == owner:
            break
    return locked


__all__ = ["live_client", "lock_visit"]
