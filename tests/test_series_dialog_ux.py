"""The series part of the booking dialog as a new user met it (trial finding 10): the note that
the clicked time is not free goes once another start is picked; a series of one visit is
refused next to its field (by count or by end date); "Book N visits" ends with a message that
names the dates booked and stays long enough to read."""

from __future__ import annotations

from datetime import timedelta

from medspa.features.calendar.book_dialog import BookDialogState as B
from medspa.features.calendar.series_dialog import SeriesState as S
from tests.test_calendar_move_handlers import desk, visit  # noqa: F401  (fixture)
from tests.test_handlers import app_settings, call, run  # noqa: F401  (fixture)
from tests.test_series_handlers import THURSDAY, client_of, ny, open_dialog


def test_the_not_free_note_goes_when_another_start_is_picked(desk):  # noqa: F811
    p1, _ = desk.clinic.provider_ids
    lena = visit(desk, ny(THURSDAY - timedelta(days=1), 15), p1, "Lena")
    visit(desk, ny(THURSDAY, 10), p1, "Omar")  # the clicked 10:00 is taken
    dialog, _ = open_dialog(desk, p1, client_of(desk, lena))
    assert dialog.minute == "" and dialog.times_note.startswith("10:00 AM EDT is not free for Botox")
    run(call(B.set_minute, dialog, "99999"))  # not offered: nothing changes
    assert dialog.times_note != ""
    run(call(B.set_minute, dialog, "660"))
    assert (dialog.minute, dialog.times_note) == ("660", "")


def test_a_one_visit_series_is_refused_next_to_its_field(desk):  # noqa: F811
    p1, _ = desk.clinic.provider_ids
    lena = visit(desk, ny(THURSDAY - timedelta(days=1), 15), p1, "Lena")
    _, series = open_dialog(desk, p1, client_of(desk, lena))
    run(call(S.set_repeat, series, "weekly"))
    run(call(S.set_count, series, "1"))
    run(call(S.check, series))
    assert series.errors == {"count": "A series has 2 to 52 visits"} and series.rows == []
    run(call(S.set_ends, series, "until"))
    run(call(S.set_until, series, (THURSDAY + timedelta(days=6)).isoformat()))
    run(call(S.check, series))
    assert series.errors == {"until": "That end date gives only 1 visit: a series has at least 2, choose a later date"}
    run(call(S.set_until, series, (THURSDAY + timedelta(days=7)).isoformat()))
    run(call(S.check, series))
    assert series.errors == {} and len(series.rows) == 2


def test_booking_the_series_says_so_with_its_dates(desk):  # noqa: F811
    p1, _ = desk.clinic.provider_ids
    lena = visit(desk, ny(THURSDAY - timedelta(days=1), 15), p1, "Lena")
    dialog, series = open_dialog(desk, p1, client_of(desk, lena))
    run(call(S.set_repeat, series, "weekly"))
    run(call(S.set_count, series, "3"))
    run(call(S.check, series))
    events = run(call(S.book, series))
    assert not dialog.dialog_open
    said = " ".join(str(e) for e in events if e is not None)
    assert "Series booked: 3 visits (Jul 2, Jul 9, Jul 16)" in said and "12000" in said
