"""clients.live.live_client: the one check that a client id names a live record of the clinic."""

from __future__ import annotations

import pytest

from medspa.domain.base import is_row_id
from medspa.domain.clients.live import live_client
from medspa.domain.clients.models import Client
from medspa.domain.errors import NotFound
from tests.factories import build_clinic


def _client(clinic, first: str, merged_into: int | None = None) -> int:
    with clinic.session() as s:
        row = Client(org_id=clinic.org_id, first_name=first, last_name="Test", merged_into_id=merged_into)
        s.add(row)
        s.commit()
        return row.id


@pytest.mark.parametrize("value, ok", [(1, True), (2**63 - 1, True), (0, False), (-3, False), (2**63, False),
                                       (True, False), ("7", False), (7.0, False), (None, False)])
def test_is_row_id(value, ok):
    assert is_row_id(value) is ok


def test_live_client_refuses_merged_other_clinics_and_non_ids(engine, owner_engine):
    clinic, other = build_clinic(engine, owner_engine), build_clinic(engine, owner_engine)
    survivor = _client(clinic, "Mia")
    merged = _client(clinic, "M.", merged_into=survivor)
    foreign = _client(other, "Zoe")
    with clinic.session() as s:
        assert live_client(s, survivor).first_name == "Mia"
        assert live_client(s, survivor, lock=True, org_id=clinic.org_id).id == survivor
        for bad in (merged, foreign, "1", True, 0):
            with pytest.raises(NotFound):
                live_client(s, bad)
            with pytest.raises(NotFound):
                live_client(s, bad, lock=True)
    with other.session() as s:  # the org_id check refuses even where the row is visible
        with pytest.raises(NotFound):
            live_client(s, foreign, org_id=clinic.org_id)
        assert live_client(s, foreign, org_id=other.org_id).first_name == "Zoe"
