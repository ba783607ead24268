"""Retention by monthly cohort (medspa/domain/analytics/cohorts.py) on a real PostgreSQL:
exact values on a hand-made history, windows not yet over left blank, the cohort month cut at
local midnight east and west of UTC, the location filter, rows that tie out to each cell,
report.read, and clinics kept apart."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from medspa.domain.analytics import cohorts
from medspa.domain.analytics import service as an
from medspa.domain.identity.actor import PermissionDenied
from medspa.domain.practice.service import add_location
from tests.factories import build_clinic
from tests.test_analytics import _client, local
from tests.test_analytics_trends import _visit

LATER = datetime(2027, 6, 1, tzinfo=timezone.utc)  # every window of 2026 is over


def kw(start: date, end: date | None = None, location_id: int | None = None, now: datetime = LATER) -> dict:
    return {"start": start, "end": end or start, "location_id": location_id, "now": now}


def cells(result: list[cohorts.Cohort]) -> list[tuple]:
    return [(c.month, c.size, c.returned_90, c.returned_180, c.returned_365) for c in result]


def _assert_rows_tie_out(s, actor, result, **args):
    for c in result:
        for n, returned in zip(cohorts.WINDOWS, (c.returned_90, c.returned_180, c.returned_365)):
            rows = cohorts.retention_rows(s, actor, **args, month=c.month, within_days=n)
            assert len(rows) == c.size
            assert len({client for client, _, _ in rows}) == c.size
            if returned is not None:
                assert sum(1 for _, _, back in rows if back) == returned


def test_retention_exact_values_blank_windows_and_rows(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine, time_zone="America/New_York")
    tz = clinic.time_zone
    owner = clinic.staff_actor("owner")
    with clinic.session() as s:
        c1, c2, c3, c4, c5, c6 = (_client(s, clinic, n) for n in range(6))
        # January cohort: c1, c2, c3
        v1 = _visit(s, clinic, local(tz, date(2026, 1, 10), 10), client_id=c1)
        _visit(s, clinic, local(tz, date(2026, 3, 1), 10), client_id=c1)                   # back within 90
        v2 = _visit(s, clinic, local(tz, date(2026, 1, 20), 10), client_id=c2)
        _visit(s, clinic, local(tz, date(2026, 6, 1), 10), client_id=c2)                   # within 180, not 90
        v3 = _visit(s, clinic, local(tz, date(2026, 1, 31), 23), client_id=c3)             # the month's last hour
        _visit(s, clinic, local(tz, date(2026, 2, 5), 10), client_id=c3, status="no_show")  # not a return
        _visit(s, clinic, local(tz, date(2026, 2, 6), 10), client_id=c3, status="cancelled")
        _visit(s, clinic, local(tz, date(2026, 3, 6), 10), client_id=c3, status="confirmed")
        _visit(s, clinic, local(tz, date(2026, 12, 20), 10), client_id=c3)                 # within 365 only
        # c4 is a December 2025 client who also came in January: not new in January
        _visit(s, clinic, local(tz, date(2025, 12, 15), 10), client_id=c4)
        _visit(s, clinic, local(tz, date(2026, 1, 15), 10), client_id=c4)
        # February cohort: c5 (a no-show in January does not make January its month), c6.
        # 90 days after Feb 3 10:00 local is May 4 10:00 local (wall clock, across the March DST change)
        _visit(s, clinic, local(tz, date(2026, 1, 5), 10), client_id=c5, status="no_show")
        v5 = _visit(s, clinic, local(tz, date(2026, 2, 3), 10), client_id=c5)
        _visit(s, clinic, local(tz, date(2026, 5, 4), 10), client_id=c5)                   # exactly at 90 days
        v6 = _visit(s, clinic, local(tz, date(2026, 2, 3), 11), client_id=c6)
        _visit(s, clinic, local(tz, date(2026, 5, 4), 11, 1), client_id=c6)                # a minute too late
        _visit(s, clinic, local(tz, date(2026, 2, 3), 12), status="completed")            # no client: no cohort
        s.flush()

        args = kw(date(2026, 1, 15), date(2026, 3, 10))  # touches January to March: whole cohort months
        result = cohorts.retention(s, owner, **args)
        assert cells(result) == [("2026-01", 3, 1, 2, 3), ("2026-02", 2, 1, 2, 2), ("2026-03", 0, 0, 0, 0)]
        jan, feb, mar = result
        assert (jan.rate_90, jan.rate_180, jan.rate_365) == (1 / 3, 2 / 3, 1.0)
        assert (feb.rate_90, feb.rate_180, feb.rate_365) == (0.5, 1.0, 1.0)
        assert (mar.rate_90, mar.rate_180, mar.rate_365) == (None, None, None)  # empty cohort
        assert cohorts.retention_rows(s, owner, **args, month="2026-01", within_days=90) == [
            (c1, v1.id, True), (c2, v2.id, False), (c3, v3.id, False)]
        assert cohorts.retention_rows(s, owner, **args, month="2026-01", within_days=180) == [
            (c1, v1.id, True), (c2, v2.id, True), (c3, v3.id, False)]
        assert cohorts.retention_rows(s, owner, **args, month="2026-02", within_days=90) == [
            (c5, v5.id, True), (c6, v6.id, False)]
        assert cohorts.retention_rows(s, owner, **args, month="2026-03", within_days=365) == []
        _assert_rows_tie_out(s, owner, result, **args)
        # the cohort is new_clients' rule over the whole month
        assert an.new_clients(s, owner, **kw(date(2026, 1, 1), date(2026, 1, 31))).count == jan.size
        assert sorted(an.new_client_rows(s, owner, **kw(date(2026, 2, 1), date(2026, 2, 28)))) == [
            (c5, v5.id), (c6, v6.id)]

        # windows not yet over are blank: January's 90-day window ends at local midnight
        # starting February 1 + 90 days = May 2 2026 00:00 in New York
        closes_90 = datetime(2026, 5, 2, tzinfo=ZoneInfo(tz))
        before = cohorts.retention(s, owner, **kw(date(2026, 1, 1), date(2026, 2, 28),
                                                  now=closes_90 - timedelta(microseconds=1)))
        assert cells(before) == [("2026-01", 3, None, None, None), ("2026-02", 2, None, None, None)]
        assert (before[0].rate_90, before[0].rate_365) == (None, None)
        at = cohorts.retention(s, owner, **kw(date(2026, 1, 1), date(2026, 2, 28), now=closes_90))
        assert cells(at) == [("2026-01", 3, 1, None, None), ("2026-02", 2, None, None, None)]
        # a month still filling up: every window blank, the rows still list its members so far
        early = cohorts.retention(s, owner, **kw(date(2026, 2, 1), now=local(tz, date(2026, 2, 10), 9)))
        assert cells(early) == [("2026-02", 2, None, None, None)]
        assert len(cohorts.retention_rows(s, owner, **kw(date(2026, 2, 1), now=local(tz, date(2026, 2, 10), 9)),
                                          month="2026-02", within_days=90)) == 2

        for bad in ({"month": "2026-1", "within_days": 90}, {"month": "2026-13", "within_days": 90},
                    {"month": "2025-12", "within_days": 90}, {"month": "2026-01", "within_days": 0}):
            with pytest.raises(ValueError):
                cohorts.retention_rows(s, owner, **args, **bad)
        with pytest.raises(ValueError):
            cohorts.retention(s, owner, **kw(date(2026, 3, 1), date(2026, 2, 1)))
        s.rollback()


def test_location_filter_keeps_clients_whose_first_visit_was_there(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine, time_zone="America/New_York")
    owner = clinic.staff_actor("manager")
    ny, tk = "America/New_York", "Asia/Tokyo"
    with clinic.session() as s:
        tokyo = add_location(s, clinic.system, "Ginza", tk)
        s.flush()
        a, b, c = (_client(s, clinic, n) for n in range(3))
        va = _visit(s, clinic, local(tk, date(2026, 3, 10), 10), client_id=a, location_id=tokyo.id)
        _visit(s, clinic, local(ny, date(2026, 4, 10), 10), client_id=a)          # back, at the other location
        _visit(s, clinic, local(ny, date(2026, 3, 12), 10), client_id=b)          # first visit in New York
        _visit(s, clinic, local(tk, date(2026, 3, 20), 10), client_id=b, location_id=tokyo.id)
        vc = _visit(s, clinic, local(tk, date(2026, 3, 25), 10), client_id=c, location_id=tokyo.id)
        s.flush()
        month = date(2026, 3, 1)
        assert cells(cohorts.retention(s, owner, **kw(month))) == [("2026-03", 3, 2, 2, 2)]
        assert cells(cohorts.retention(s, owner, **kw(month, location_id=tokyo.id))) == [("2026-03", 2, 1, 1, 1)]
        assert cells(cohorts.retention(s, owner, **kw(month, location_id=clinic.location_id))) == [
            ("2026-03", 1, 1, 1, 1)]
        assert cohorts.retention_rows(s, owner, **kw(month, location_id=tokyo.id), month="2026-03",
                                      within_days=90) == [(a, va.id, True), (c, vc.id, False)]
        # with a filter the windows close in that location's zone: Tokyo's April 1 00:00 + 90 days
        tokyo_close = datetime(2026, 6, 30, tzinfo=ZoneInfo(tk))
        assert cells(cohorts.retention(s, owner, **kw(month, location_id=tokyo.id, now=tokyo_close))) == [
            ("2026-03", 2, 1, None, None)]
        # without one, the latest zone of the clinic (New York) decides
        assert cells(cohorts.retention(s, owner, **kw(month, now=tokyo_close))) == [("2026-03", 3, None, None, None)]
        assert cells(cohorts.retention(s, owner, **kw(month, now=datetime(2026, 6, 30, tzinfo=ZoneInfo(ny))))) == [
            ("2026-03", 3, 2, None, None)]
        s.rollback()


@pytest.mark.parametrize("tz", ["Asia/Tokyo", "America/Los_Angeles"])
def test_cohort_month_is_cut_at_local_midnight(engine, owner_engine, tz):
    clinic = build_clinic(engine, owner_engine, time_zone=tz)
    owner = clinic.staff_actor("owner")
    apr1, mar31 = date(2026, 4, 1), date(2026, 3, 31)
    with clinic.session() as s:
        early, late = _client(s, clinic, 1), _client(s, clinic, 2)
        after = _visit(s, clinic, local(tz, apr1, 0, 10), client_id=early)     # first minutes of April 1
        before = _visit(s, clinic, local(tz, mar31, 23, 30), client_id=late)   # last half hour of March 31
        # back exactly 90 local days later (in April) and a minute more than 90 days later
        _visit(s, clinic, local(tz, apr1 + timedelta(days=90), 0, 10), client_id=early)
        _visit(s, clinic, local(tz, mar31 + timedelta(days=90), 23, 31), client_id=late)
        s.flush()
        assert {after.start_at.astimezone(timezone.utc).date(), before.start_at.astimezone(timezone.utc).date()} \
            != {apr1, mar31}
        result = cohorts.retention(s, owner, **kw(mar31, apr1))
        assert cells(result) == [("2026-03", 1, 0, 1, 1), ("2026-04", 1, 1, 1, 1)]
        assert cohorts.retention_rows(s, owner, **kw(mar31, apr1), month="2026-04", within_days=90) == [
            (early, after.id, True)]
        assert cohorts.retention_rows(s, owner, **kw(mar31, apr1), month="2026-03", within_days=90) == [
            (late, before.id, False)]
        _assert_rows_tie_out(s, owner, result, **kw(mar31, apr1))
        # March's 90-day window closes at local midnight starting April 1 + 90 days
        closes = datetime.combine(apr1 + timedelta(days=90), datetime.min.time(), tzinfo=ZoneInfo(tz))
        assert [c.returned_90 for c in cohorts.retention(s, owner, **kw(mar31, apr1, now=closes))] == [0, None]
        assert [c.returned_90 for c in cohorts.retention(
            s, owner, **kw(mar31, apr1, now=closes - timedelta(seconds=1)))] == [None, None]
        s.rollback()


@pytest.mark.parametrize("role", ["front_desk", "provider"])
def test_retention_needs_report_read(clinic, role):
    actor = clinic.staff_actor(role)
    with clinic.session() as s:
        with pytest.raises(PermissionDenied):
            cohorts.retention(s, actor, **kw(date(2026, 1, 1)))
        with pytest.raises(PermissionDenied):
            cohorts.retention_rows(s, actor, **kw(date(2026, 1, 1)), month="2026-01", within_days=90)


def test_another_clinics_clients_are_not_in_the_cohorts(engine, owner_engine):
    mine = build_clinic(engine, owner_engine)
    theirs = build_clinic(engine, owner_engine)
    day = date(2026, 1, 10)
    with theirs.session() as s:
        client = _client(s, theirs, 7)
        _visit(s, theirs, local(theirs.time_zone, day, 10), client_id=client)
        s.commit()
    with mine.session() as s:
        assert cells(cohorts.retention(s, mine.staff_actor("owner"), **kw(day))) == [("2026-01", 0, 0, 0, 0)]
        assert cohorts.retention_rows(s, mine.staff_actor("owner"), **kw(day), month="2026-01", within_days=90) == []
    with theirs.session() as s:
        assert cells(cohorts.retention(s, theirs.staff_actor("owner"), **kw(day))) == [("2026-01", 1, 0, 0, 0)]
