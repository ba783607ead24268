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


__all__ = ["live_client"]
