"""The series handlers called directly, as a hostile browser could: the booking dialog's Repeat
part (SeriesState: check the dates, pick, book) and the panel's cancel of several visits
(DetailState.cancel with a scope). Only offered values are taken; a change of the dialog after
the check asks for a new check. The app's clock is frozen at Wednesday 2026-07-01 12:00 New York."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlmodel import select

from medspa.domain.scheduling.models import Appointment
from medspa.features.calendar.book_dialog import BookDialogState as B
from medspa.features.calendar.series_dialog import SeriesState as S
from medspa.features.calendar.state import CalendarState, DetailState
from tests.test_calendar_move_handlers import Desk, desk, sibling, visit  # noqa: F401  (fixture)
from tests.test_handlers import app_settings, call, run, state_for  # noqa: F401  (fixture)

NY = ZoneInfo("America/New_York")
THURSDAY = date(2026, 7, 2)


def ny(day: date, h: int, m: int = 0) -> datetime:
    return datetime.combine(day, time(h, m), tzinfo=NY).astimezone(timezone.utc)


def open_dialog(desk: Desk, provider: int, client_id: int):
    """The book dialog on Thursday 10:00 in `provider`'s column, the client picked and Botox chosen."""
    dialog = state_for(B, desk.tokens["front_desk"])
    cal = run(dialog.get_state(CalendarState))
    cal.location_id, cal.day = desk.clinic.location_id, THURSDAY.isoformat()
    run(call(CalendarState.load, cal))
    run(call(B.open_slot, dialog, provider, 600))
    run(call(B.set_service, dialog, str(desk.clinic.services["botox"])))
    dialog.client_id, dialog.client_label, dialog.mode = client_id, "Lena Client", "picked"
    series = sibling(dialog, S)
    run(call(S.start, series))
    return dialog, series


def client_of(desk: Desk, appointment_id: int) -> int:
    with desk.clinic.session() as s:
        return s.get(Appointment, appointment_id).client_id


def test_check_pick_and_book_a_series_from_the_dialog(desk):
    p1, _ = desk.clinic.provider_ids
    first = visit(desk, ny(THURSDAY - timedelta(days=1), 15), p1, "Lena")  # gives us a client
    visit(desk, ny(THURSDAY + timedelta(weeks=1), 10), p1, "Omar")  # the second date is busy
    dialog, series = open_dialog(desk, p1, client_of(desk, first))
    assert dialog.dialog_open and dialog.minute == "600"
    assert [o.label for o in series.repeat_options] == [
        "Does not repeat", "Weekly on Thursday", "Monthly on day 2", "Monthly on the first Thursday"]
    run(call(S.set_repeat, series, "yearly"))  # not offered: ignored
    assert series.repeat == "none"
    run(call(S.set_repeat, series, "weekly"))
    run(call(S.set_count, series, "3"))
    run(call(S.check, series))
    assert series.errors == {} and [r.free for r in series.rows] == [True, False, True]
    assert series.rows[1].reason == "Provider 1 is busy then (another visit or time blocked)"
    assert series.choices == {"0": ny(THURSDAY, 10).isoformat(), "1": "skip",
                              "2": ny(THURSDAY + timedelta(weeks=2), 10).isoformat()}
    assert series.summary.startswith("Weekly on Thursday, 3 visits · 2 of 3 free · deposit $50.00 first visit only")
    # hostile picks are ignored; an offered other time is taken
    run(call(S.pick, series, "1", ny(THURSDAY + timedelta(weeks=1), 10).isoformat()))  # busy: not offered
    run(call(S.pick, series, "9", "skip"))
    run(call(S.pick, series, "1", "<script>"))
    assert series.choices["1"] == "skip"
    run(call(S.pick, series, "1", ny(THURSDAY + timedelta(weeks=1), 11).isoformat()))
    assert series.book_label == "Book 3 visits"
    # the dialog changed after the check: check again
    dialog.minute = "630"
    run(call(S.book, series))
    assert series.errors == {"series": "The details changed: check the dates again"} and series.rows == []
    dialog.minute = "600"
    run(call(S.check, series))
    run(call(S.pick, series, "1", ny(THURSDAY + timedelta(weeks=1), 11).isoformat()))
    run(call(S.book, series))
    assert series.errors == {} and not dialog.dialog_open
    with desk.clinic.session() as s:
        rows = s.exec(select(Appointment).where(Appointment.series_id.is_not(None))
                      .order_by(Appointment.start_at)).all()
    assert [(r.series_index, r.start_at) for r in rows] == [
        (0, ny(THURSDAY, 10)), (1, ny(THURSDAY + timedelta(weeks=1), 11)), (2, ny(THURSDAY + timedelta(weeks=2), 10))]

    # the panel: cancel all visits still ahead (a bad scope first changes nothing)
    detail = state_for(DetailState, desk.tokens["front_desk"])
    run(call(DetailState.open, detail, rows[1].id))
    assert detail.detail.series_label == "Visit 2 of 3 · Weekly at 10:00 AM" and detail.detail.series_ahead == 3
    run(call(DetailState.ask_cancel, detail, True))
    run(call(DetailState.cancel, detail, {"reason": "clinic", "note": "", "scope": "every"}))
    assert detail.cancel_errors == {"scope": "Choose which visits to cancel"}
    run(call(DetailState.cancel, detail, {"reason": "clinic", "note": "", "scope": "following"}))
    assert detail.notice == "Cancelled 2 visits" and detail.detail.status == "cancelled"
    with desk.clinic.session() as s:
        assert [s.get(Appointment, r.id).status for r in rows] == ["confirmed", "cancelled", "cancelled"]


def test_a_series_needs_a_picked_client_and_a_provider(desk):
    p1, _ = desk.clinic.provider_ids
    dialog, series = open_dialog(desk, p1, 0)
    dialog.provider = "any"
    run(call(S.set_repeat, series, "weekly"))
    run(call(S.set_count, series, "99"))
    run(call(S.check, series))
    assert set(series.errors) == {"client", "provider", "count"} and series.rows == []
    run(call(S.set_ends, series, "until"))
    run(call(S.set_until, series, "not a date"))
    run(call(S.check, series))
    assert series.errors["until"] == "Pick the last date"
    for junk in (None, 7, ["1"]):
        run(call(S.set_count, series, junk))
        run(call(S.set_interval, series, junk))
    assert series.interval == "1"
    run(call(S.book, series))  # nothing checked: nothing booked
    with desk.clinic.session() as s:
        assert s.exec(select(Appointment)).all() == []
