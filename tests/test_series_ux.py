"""The recurring series as a new user met it (trial finding 10), on the real PostgreSQL: a
series has at least two visits (by count or by end date); a busy date with no other time that
day says why (the provider's day is full, or the device is booked whenever the provider is
free); the confirmation counts the visits right."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.dialects.postgresql import Range

from medspa.clock import FixedClock
from medspa.domain.errors import ValidationFailed
from medspa.domain.scheduling.actions.series import do_plan_series
from medspa.domain.scheduling.models import Occupancy, OccupancyStatus
from medspa.domain.scheduling.series import Recurrence, occurrences_of
from medspa.domain.scheduling.service import add_block
from tests.test_series import NY, at, new_client

NOW = at(NY, 2026, 3, 1, 8)


def test_a_series_needs_at_least_two_visits():
    first = at(NY, 2026, 3, 3, 10)
    with pytest.raises(ValidationFailed) as exc:
        occurrences_of(Recurrence("weekly", 1, count=1), first, NY)
    assert exc.value.fields == {"count": "A series has 2 to 52 visits"}
    with pytest.raises(ValidationFailed) as exc:
        occurrences_of(Recurrence("weekly", 1, until=date(2026, 3, 9)), first, NY)
    assert exc.value.fields == {"until": "That end date gives only 1 visit: a series has at least 2, choose a "
                                         "later date"}
    _, _, two = occurrences_of(Recurrence("weekly", 1, until=date(2026, 3, 10)), first, NY)
    assert len(two) == 2


def _plan(clinic, client: int, service: str):
    return do_plan_series(clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services[service],
                          provider_id=clinic.provider_ids[0], client_id=client,
                          recurrence=Recurrence("weekly", 1, count=3), first_start=at(NY, 2026, 3, 3, 10),
                          clock=FixedClock(NOW), engine=clinic.engine)


def test_a_busy_date_with_no_other_time_says_why(clinic):
    client = new_client(clinic)
    with clinic.session() as s:
        # Mar 10: the provider is away all day; Mar 17: busy at 10:00 only, but the laser is booked all day
        add_block(s, clinic.system, staff_id=clinic.provider_ids[0], start_at=at(NY, 2026, 3, 10, 9),
                  end_at=at(NY, 2026, 3, 10, 17), now=NOW)
        add_block(s, clinic.system, staff_id=clinic.provider_ids[0], start_at=at(NY, 2026, 3, 17, 10),
                  end_at=at(NY, 2026, 3, 17, 10, 30), now=NOW)
        s.add(Occupancy(org_id=clinic.org_id, resource_id=clinic.device_ids[0], kind="block",
                        status=OccupancyStatus.BOOKED,
                        during=Range(at(NY, 2026, 3, 17, 8), at(NY, 2026, 3, 17, 18), bounds="[)")))
        s.commit()
    plan = _plan(clinic, client, "laser")
    busy = "Provider 1 is busy then (another visit or time blocked)"
    assert [(c.free, c.reason, c.alternatives) for c in plan.checks[1:]] == [
        (False, f"{busy}; no other free time that day with Provider 1 for the 30 min visit", ()),
        (False, f"{busy}; no other free time that day: the laser gentlemax device is booked whenever Provider 1 "
                f"is free", ())]
    assert plan.checks[0].free and plan.checks[0].reason == ""
    # botox needs no device: Mar 17 offers the provider's other times, and the reason stays short
    botox = _plan(clinic, client, "botox")
    assert botox.checks[2].reason == busy and at(NY, 2026, 3, 17, 11) in botox.checks[2].alternatives
    assert botox.checks[1].reason == f"{busy}; no other free time that day with Provider 1 for the 30 min visit"


def test_gaps_shorter_than_the_visit_with_its_clean_up_are_named(clinic):
    """The trial's case (the demo's HydraFacial with Aisha): the provider's day had gaps, but
    each shorter than the visit with its buffers, so only "Skip" was offered; now it says so."""
    client = new_client(clinic)
    with clinic.session() as s:
        for (h1, m1), (h2, m2) in (((10, 0), (10, 30)), ((11, 30), (12, 0)), ((13, 0), (13, 30)),
                                   ((14, 30), (15, 0)), ((16, 0), (17, 0))):  # hour-long gaps; 75 min needed
            add_block(s, clinic.system, staff_id=clinic.provider_ids[0], start_at=at(NY, 2026, 3, 10, h1, m1),
                      end_at=at(NY, 2026, 3, 10, h2, m2), now=NOW)
        s.commit()
    plan = _plan(clinic, client, "facial")
    assert plan.checks[1].reason == ("Provider 1 is busy then (another visit or time blocked); no other free time "
                                     "that day with Provider 1 for the 60 min visit and 15 min clean-up")
    assert plan.checks[1].alternatives == () and plan.checks[0].free
