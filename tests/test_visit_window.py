"""A visit is at most a day long (migration 0058), and reads of the visits overlapping a window
bound start_at from below with it (scheduling.models.visits_overlapping, issue 20): a visit
that began the day before still shows; the database refuses a longer one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from medspa.domain.scheduling.calendar import _appointments
from medspa.domain.scheduling.models import MAX_VISIT_LENGTH
from tests.test_hold_slot import at, hold


def _stretch(clinic, appointment_id: int, start, end) -> None:
    with clinic.session() as s:
        s.execute(text("update appointment set start_at = :a, end_at = :b where id = :id"),
                  {"a": start, "b": end, "id": appointment_id})
        s.commit()


def test_a_visit_that_began_the_day_before_shows_on_the_next_day(clinic):
    appt = hold(clinic, "botox", at(9), confirm=True)
    # 23 hours from 10:00 the day before: it overlaps the 15th only by its last 9 hours
    start = at(10) - timedelta(days=1)
    _stretch(clinic, appt.id, start, start + timedelta(hours=23))
    with clinic.session() as s:
        shown = [a.id for a, _svc, _client in _appointments(s, clinic.location_id, at(0), at(0) + timedelta(days=1))]
        later = [a.id for a, _svc, _client in _appointments(s, clinic.location_id, at(9, 1), at(12))]
        after = [a.id for a, _svc, _client in _appointments(s, clinic.location_id, at(9), at(12))]
    assert shown == [appt.id]
    assert later == []  # it ended at 09:00
    assert after == []  # [09:00, 12:00) starts where it ended


def test_the_database_refuses_a_visit_longer_than_a_day(clinic):
    appt = hold(clinic, "botox", at(9), confirm=True)
    _stretch(clinic, appt.id, at(9), at(9) + MAX_VISIT_LENGTH)  # exactly a day: allowed
    with pytest.raises(IntegrityError, match="appointment_at_most_a_day"):
        _stretch(clinic, appt.id, at(9), at(9) + MAX_VISIT_LENGTH + timedelta(minutes=1))
