"""Contraindications of a recurring series (issue 17): a series booked from the calendar's book
dialog goes through the same check as a single desk booking (clinical.health_record.
require_booking_overrides, in the booking's transaction): a flagged series is booked only with
the reason, kept once per flagged visit; without it nothing is booked and no deposit charged.
The series dialog shows the flags, the reason field and the refusal's message next to it.
Real PostgreSQL; the clock and the test gateway are injected."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from medspa.clock import FixedClock
from medspa.domain.clinical.contraindications import GENERIC
from medspa.domain.clinical.health_record import REASON_MAX, HealthFlagged
from medspa.domain.clinical.history_actions import do_update_history
from medspa.domain.payments.gateway import TestPaymentGateway
from medspa.domain.scheduling.actions.series import do_book_series, do_plan_series
from medspa.domain.scheduling.series import Recurrence
from medspa.features.calendar.book_health import BookHealthState
from medspa.features.calendar.series_dialog import SeriesState as S
from tests.card_support import save_test_card
from tests.test_calendar_move_handlers import desk, sibling, visit  # noqa: F401  (fixture)
from tests.test_contraindications import _person
from tests.test_handlers import app_settings, call, run  # noqa: F401  (fixture)
from tests.test_series import new_client
from tests.test_series_handlers import THURSDAY, client_of, open_dialog

NY = ZoneInfo("America/New_York")
BOOKED_AT = datetime(2026, 3, 1, 8, tzinfo=NY)
FIRST = datetime(2026, 3, 3, 10, tzinfo=NY)  # a Tuesday; weekly: Mar 3, 10, 17, 24
PREGNANT = {"pregnancy": {"pregnant": True, "breastfeeding": False}}
REASON = "Provider reviewed: client delivered in January, not breastfeeding"


def _history(clinic, client_id: int, changes: dict) -> None:
    do_update_history(clinic.staff_actor("provider"), client_id, changes, clock=FixedClock(BOOKED_AT),
                      engine=clinic.engine)


def _series(clinic, client_id: int, *, actor=None, service: str = "botox", count: int = 3, reason: str | None = None,
            first: datetime = FIRST):
    """Plan then book every free date of a weekly series from FIRST (the desk unless `actor`);
    `reason` None: no override_reason argument at all (as callers before issue 17)."""
    clock = FixedClock(BOOKED_AT)
    kw = dict(location_id=clinic.location_id, service_id=clinic.services[service],
              provider_id=clinic.provider_ids[0], client_id=client_id,
              recurrence=Recurrence("weekly", 1, count=count), first_start=first)
    actor = actor or clinic.staff_actor("front_desk")
    plan = do_plan_series(actor, clock=clock, engine=clinic.engine, **kw)
    extra = {} if reason is None else {"override_reason": reason}
    return do_book_series(actor, picks={c.index: c.start_at for c in plan.checks if c.free}, clock=clock,
                          engine=clinic.engine, gateway=TestPaymentGateway(clinic.engine, lambda: BOOKED_AT),
                          **kw, **extra)


def _count(clinic, table: str) -> int:
    with clinic.session() as s:
        return s.execute(text(f"select count(*) from {table}")).scalar()


def _overrides(clinic) -> list:
    with clinic.session() as s:
        return s.execute(text("select o.appointment_id, o.client_id, o.stage, o.reason, o.flags, o.by_label, "
                              "o.created_at, a.series_index from health_override o "
                              "join appointment a on a.id = o.appointment_id order by a.series_index")).all()


def _audit(clinic, action: str) -> list:
    with clinic.session() as s:
        return s.execute(text("select actor_role, client_id, object_id, detail from audit_event "
                              "where action = :a order by id"), {"a": action}).all()


# ---------------------------------------------------------------------------- the service


@pytest.mark.parametrize("reason", [None, "", "   \n  "])
def test_a_flagged_series_without_a_reason_books_nothing(clinic, reason):
    client = new_client(clinic)
    _history(clinic, client, PREGNANT)
    save_test_card(clinic.engine, clinic, client, "4242424242424242", at=BOOKED_AT, key=f"setup-{client}")
    with pytest.raises(HealthFlagged) as refused:
        _series(clinic, client, reason=reason)
    assert refused.value.flags == [GENERIC]  # the desk never reads "Pregnant"
    assert refused.value.fields == {"health_reason": "A contraindication is flagged: give the reason to go ahead"}
    for table in ("appointment", "appointment_series", "health_override", "payment", "outbox_message"):
        assert _count(clinic, table) == 0, table  # nothing booked, no deposit charged, no confirmation sent
    assert _audit(clinic, "series.book") == [] and _audit(clinic, "health.override") == []


def test_a_flagged_series_with_a_reason_keeps_one_override_per_visit(clinic):
    client = new_client(clinic)
    _history(clinic, client, PREGNANT)
    booked = _series(clinic, client, reason=f"  {REASON}  ")
    assert [i for i, _ in booked.booked] == [0, 1, 2] and booked.lost == ()
    rows = _overrides(clinic)
    assert [(r.appointment_id, r.series_index) for r in rows] == [(a, i) for i, a in booked.booked]
    assert {(r.client_id, r.stage, r.reason, r.by_label, r.created_at) for r in rows} == {
        (client, "booking", REASON, "test front_desk", BOOKED_AT)}
    assert all(r.flags == [{"code": "pregnancy", "detail": "Pregnant"}] for r in rows)
    audit = _audit(clinic, "health.override")
    assert [(a.actor_role, a.client_id, int(a.object_id), a.detail["stage"], a.detail["flags"]) for a in audit] == [
        ("front_desk", client, appt, "booking", ["pregnancy"]) for _, appt in booked.booked]
    assert _audit(clinic, "history.flags.read") == []  # the desk saw the generic words only: no detail read
    assert _count(clinic, "appointment") == 3 and _count(clinic, "appointment_series") == 1


def test_a_provider_sees_each_flag_once_and_the_detail_read_is_audited(clinic):
    client = new_client(clinic)
    _history(clinic, client, PREGNANT)
    nurse = _person(clinic, "provider")  # a signed-in person: the detail shown to them is a read
    with pytest.raises(HealthFlagged) as refused:
        _series(clinic, client, actor=nurse)
    assert refused.value.flags == ["Pregnant"]  # three flagged visits, one line
    booked = _series(clinic, client, actor=nurse, reason=REASON)
    assert len(_overrides(clinic)) == len(booked.booked) == 3
    reads = _audit(clinic, "history.flags.read")
    assert [(a.client_id, a.detail["where"], a.detail["flags"]) for a in reads] == [(client, "booking", 3)]


def test_only_the_flagged_visits_of_a_series_get_an_override(clinic):
    # isotretinoin stopped 2025-09-12 flags a laser visit up to six months later: Mar 3 and 10, not 17 and 24
    client = new_client(clinic)
    _history(clinic, client, {"medications": [{"name": "Isotretinoin", "dose": "20 mg", "stopped_on": "2025-09-12"}]})
    with pytest.raises(HealthFlagged):
        _series(clinic, client, service="laser", count=4)
    assert _count(clinic, "appointment") == 0
    booked = _series(clinic, client, service="laser", count=4, reason=REASON)
    assert len(booked.booked) == 4
    rows = _overrides(clinic)
    assert [r.series_index for r in rows] == [0, 1]
    assert rows[0].flags[0]["code"] == "medication"


def test_an_unflagged_series_needs_no_reason(clinic):
    client = new_client(clinic)
    _history(clinic, client, PREGNANT)
    booked = _series(clinic, client, service="facial")  # the facial has no pregnancy rule
    assert len(booked.booked) == 3 and _count(clinic, "health_override") == 0
    other = new_client(clinic, "Noa")  # nothing recorded: nothing flagged
    assert len(_series(clinic, other, first=FIRST.replace(hour=14)).booked) == 3 and _count(clinic, "health_override") == 0


def test_a_too_long_reason_is_refused_with_nothing_booked(clinic):
    client = new_client(clinic)
    _history(clinic, client, PREGNANT)
    with pytest.raises(HealthFlagged) as refused:
        _series(clinic, client, reason="x" * (REASON_MAX + 1))
    assert refused.value.fields == {"health_reason": f"At most {REASON_MAX} characters"}
    assert _count(clinic, "appointment") == 0 and _count(clinic, "appointment_series") == 0


# ---------------------------------------------------------------------------- the dialog


def test_the_series_dialog_asks_for_the_reason_and_books_with_it(desk):  # noqa: F811
    p1, _ = desk.clinic.provider_ids
    first = visit(desk, datetime(2026, 7, 1, 15, tzinfo=NY), p1, "Lena")  # gives us a client
    client = client_of(desk, first)
    do_update_history(desk.clinic.staff_actor("provider"), client, PREGNANT, engine=desk.clinic.engine)
    dialog, series = open_dialog(desk, p1, client)
    health = sibling(series, BookHealthState)
    run(call(S.set_repeat, series, "weekly"))
    run(call(S.set_count, series, "3"))
    run(call(S.check, series))
    assert series.errors == {} and [r.free for r in series.rows] == [True, True, True]
    run(call(S.book, series))
    assert series.errors == {"health_reason": "A contraindication is flagged: give the reason to go ahead"}
    assert health.flags == [GENERIC] and dialog.dialog_open and series.rows and not series.busy
    with desk.clinic.session() as s:
        assert s.execute(text("select count(*) from appointment where series_id is not null")).scalar() == 0
    for junk in (None, 7, ["x"], {"a": 1}):
        run(call(S.set_health_reason, series, junk))
        assert series.health_reason == ""
    run(call(S.set_health_reason, series, "y" * 900))
    assert len(series.health_reason) == REASON_MAX
    run(call(S.set_health_reason, series, REASON))
    assert series.health_reason == REASON and "health_reason" not in series.errors
    run(call(S.book, series))
    assert series.errors == {} and not dialog.dialog_open
    with desk.clinic.session() as s:
        rows = s.execute(text("select o.reason, o.stage, a.start_at from health_override o join appointment a "
                              "on a.id = o.appointment_id order by a.start_at")).all()
    assert [(r.reason, r.stage) for r in rows] == [(REASON, "booking")] * 3
    assert rows[0].start_at.astimezone(NY).date() == THURSDAY
    run(call(S.start, series))  # the dialog opened again: no reason carried over
    assert series.health_reason == ""


def test_a_blank_reason_typed_in_the_series_dialog_is_refused(desk):  # noqa: F811
    p1, _ = desk.clinic.provider_ids
    first = visit(desk, datetime(2026, 7, 1, 15, tzinfo=NY), p1, "Omar")
    client = client_of(desk, first)
    do_update_history(desk.clinic.staff_actor("provider"), client, PREGNANT, engine=desk.clinic.engine)
    dialog, series = open_dialog(desk, p1, client)
    run(call(S.set_repeat, series, "weekly"))
    run(call(S.set_count, series, "2"))
    run(call(S.check, series))
    run(call(S.set_health_reason, series, "   "))
    run(call(S.book, series))
    assert set(series.errors) == {"health_reason"} and dialog.dialog_open
    with desk.clinic.session() as s:
        assert s.execute(text("select count(*) from appointment_series")).scalar() == 0
