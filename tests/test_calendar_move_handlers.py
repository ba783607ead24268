"""The calendar's move handlers called directly, as a hostile browser could: the drop of a
dragged visit (MoveState.drop), the edit dialog (EditVisitState) and the desk's cancel with a
reason (DetailState.cancel). Ids are checked against what the tab showed; a refused move
changes nothing and says why. The app's clock is frozen at Wednesday 2026-07-01 12:00 New York."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from medspa.domain.clients.service import ClientInput, find_or_create_client
from medspa.domain.identity.actions import do_login
from medspa.domain.identity.service import create_user
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.service import hold_slot
from medspa.features.calendar.edit import EditVisitState
from medspa.features.calendar.move import MoveState
from medspa.features.calendar.state import CalendarState, DetailState
from tests.factories import build_clinic
from tests.test_handlers import NOW, app_settings, call, run, state_for  # noqa: F401  (fixture)

NY = ZoneInfo("America/New_York")
THURSDAY = date(2026, 7, 2)
PASSWORD = "move handler passphrase"
PX = 1.6  # layout.PX_PER_MINUTE


def ny(day: date, h: int, m: int = 0) -> datetime:
    return datetime.combine(day, time(h, m), tzinfo=NY).astimezone(timezone.utc)


@dataclass
class Desk:
    clinic: object
    tokens: dict


@pytest.fixture
def desk(engine, owner_engine, app_settings) -> Desk:  # noqa: F811
    clinic = build_clinic(engine, owner_engine, providers=2)
    tokens = {}
    with clinic.session() as s:
        for role in ("front_desk", "lab"):
            create_user(s, clinic.system, email=f"{role}-{clinic.slug}@example.com", password=PASSWORD, role=role)
        s.commit()
    for role in ("front_desk", "lab"):
        tokens[role] = do_login(f"{role}-{clinic.slug}@example.com", PASSWORD, now=NOW, engine=engine).token
    return Desk(clinic, tokens)


def visit(desk: Desk, start: datetime, provider: int, name: str) -> int:
    with desk.clinic.session() as s:
        client = find_or_create_client(s, desk.clinic.system, ClientInput(
            name, "Client", f"{name.lower()}-{desk.clinic.slug}@example.com", "+12125550160"))
        appt = hold_slot(s, desk.clinic.staff_actor(), location_id=desk.clinic.location_id,
                         service_id=desk.clinic.services["botox"], start_at=start, now=NOW,
                         provider_id=provider, client_id=client.id, confirm=True)
        s.commit()
        return appt.id


def where(desk: Desk, appointment_id: int) -> tuple[int, datetime, str]:
    with desk.clinic.session() as s:
        a = s.exec(select(Appointment).where(Appointment.id == appointment_id)).one()
        return a.provider_id, a.start_at, a.status


def sibling(state, cls):
    """`cls`'s state in the same tree as `state` (one browser tab)."""
    root = state
    while root.parent_state is not None:
        root = root.parent_state
    return root.get_substate(cls.get_full_name().split(".")[1:])


def tab(desk: Desk, role: str = "front_desk", *, span: str = "day", day: date = THURSDAY):
    """A calendar tab showing `day` (MoveState of it, its CalendarState loaded)."""
    move = state_for(MoveState, desk.tokens.get(role, "forged"))
    cal = sibling(move, CalendarState)
    cal.location_id, cal.day, cal.span = desk.clinic.location_id, day.isoformat(), span
    run(call(CalendarState.load, cal))
    return move, cal


def test_drop_moves_to_another_time_and_provider(desk):
    p1, p2 = desk.clinic.provider_ids
    appt = visit(desk, ny(THURSDAY, 10), p1, "Lena")
    move, cal = tab(desk)
    assert any(b.drag_id == f"a{appt}" and b.movable for b in cal.day_data.blocks)
    run(call(MoveState.drop, move, f"a{appt}", f"c{p2}", round(150 * PX) + 5))  # snapped: 10:00 -> 12:30
    assert where(desk, appt) == (p2, ny(THURSDAY, 12, 30), "confirmed")
    assert move.refused == "" and move.moves == 1
    block = next(b for b in cal.day_data.blocks if b.appointment_id == appt)
    assert block.home == f"c{p2}" and block.time.startswith("12:30")  # this tab redrawn at once
    # the same column, 45 minutes earlier (dragging up)
    run(call(MoveState.drop, move, f"a{appt}", f"c{p2}", -round(45 * PX)))
    assert where(desk, appt) == (p2, ny(THURSDAY, 11, 45), "confirmed")


def test_drop_on_a_conflict_changes_nothing_and_says_why(desk):
    p1, _ = desk.clinic.provider_ids
    appt = visit(desk, ny(THURSDAY, 10), p1, "Omar")
    visit(desk, ny(THURSDAY, 11), p1, "Pia")
    move, _ = tab(desk)
    run(call(MoveState.drop, move, f"a{appt}", f"c{p1}", round(60 * PX)))
    assert where(desk, appt) == (p1, ny(THURSDAY, 10), "confirmed")
    assert move.refused == "Provider 1 is busy then (another visit or time blocked)" and move.moves == 1
    assert move.nearby == "10:15 AM, 10:30 AM, 11:30 AM, 11:45 AM"  # the nearest free starts, not its own
    # outside the provider's hours (17:00 - 18:00 would end after 17:00)
    run(call(MoveState.drop, move, f"a{appt}", f"c{p1}", round(7 * 60 * PX)))
    assert where(desk, appt) == (p1, ny(THURSDAY, 10), "confirmed")
    assert move.refused and move.moves == 2
    run(call(MoveState.dismiss, move))
    assert move.refused == ""


def test_drop_on_the_week_grid_keeps_the_local_time(desk):
    p1, p2 = desk.clinic.provider_ids
    appt = visit(desk, ny(THURSDAY, 10), p1, "Ravi")
    move, cal = tab(desk, span="week")
    assert cal.span == "week" and cal.week_data.rows
    run(call(MoveState.drop, move, f"a{appt}", f"w{p2}_2026-07-03", 0))
    assert where(desk, appt) == (p2, ny(date(2026, 7, 3), 10), "confirmed")
    run(call(MoveState.drop, move, f"a{appt}", f"w{p2}_2026-07-04", 0))
    assert where(desk, appt)[1] == ny(date(2026, 7, 4), 10)


def test_drop_takes_only_what_the_tab_shows(desk, engine, owner_engine):
    p1, p2 = desk.clinic.provider_ids
    appt = visit(desk, ny(THURSDAY, 10), p1, "Sana")
    friday = visit(desk, ny(date(2026, 7, 3), 10), p1, "Theo")  # not on Thursday's grid
    other = build_clinic(engine, owner_engine)
    with other.session() as s:
        client = find_or_create_client(s, other.system, ClientInput("Una", "Else", f"una-{other.slug}@example.com",
                                                                     "+12125550161"))
        theirs = hold_slot(s, other.staff_actor(), location_id=other.location_id, service_id=other.services["botox"],
                           start_at=ny(THURSDAY, 10), now=NOW, client_id=client.id, confirm=True).id
        s.commit()
    move, _ = tab(desk)
    for item, target, dy in [(f"a{friday}", f"c{p2}", 0), (f"a{theirs}", f"c{p2}", 0), (f"a{appt}", "c999999", 0),
                             (f"a{appt}", f"c{p2}", float("nan")), (f"a{appt}", f"c{p2}", float("inf")),
                             (f"a{appt}", f"c{p2}", 2**70), (f"a{appt}", f"c{p2}", True), (f"a{appt}", ["c1"], 0),
                             (f"a{appt}", f"c{p2}", "96"), (f"a{appt}x", f"c{p2}", 0), (f"a{appt}", f"w{p2}_x", 0)]:
        run(call(MoveState.drop, move, item, target, dy))
    assert where(desk, appt) == (p1, ny(THURSDAY, 10), "confirmed")
    assert where(desk, friday)[1] == ny(date(2026, 7, 3), 10)
    with other.session() as s:
        assert s.exec(select(Appointment.start_at).where(Appointment.id == theirs)).one() == ny(THURSDAY, 10)
    # a role without appointment.reschedule sees nothing movable, and a forged drop changes nothing
    lab, _ = tab(desk, "lab")
    run(call(MoveState.drop, lab, f"a{appt}", f"c{p2}", 0))
    assert where(desk, appt) == (p1, ny(THURSDAY, 10), "confirmed")
    # no session: nothing
    forged, _ = tab(desk, "nobody")
    run(call(MoveState.drop, forged, f"a{appt}", f"c{p2}", 0))
    assert where(desk, appt) == (p1, ny(THURSDAY, 10), "confirmed")


def open_edit(desk: Desk, appt: int, role: str = "front_desk"):
    edit = state_for(EditVisitState, desk.tokens[role])
    detail = sibling(edit, DetailState)
    run(call(DetailState.open, detail, appt))
    run(call(EditVisitState.open, edit))
    return edit, detail


def test_edit_dialog_changes_time_and_notes(desk):
    p1, p2 = desk.clinic.provider_ids
    appt = visit(desk, ny(THURSDAY, 10), p1, "Vera")
    edit, detail = open_edit(desk, appt)
    assert edit.dialog_open and edit.day == "2026-07-02" and edit.start == "10:00" and edit.provider == str(p1)
    assert {o.value for o in edit.providers} == {str(p1), str(p2)}
    form = {"day": "2026-07-02", "time": "15:30", "provider": str(p2), "service": edit.service, "room": "any",
            "notes": "Moved by phone"}
    run(call(EditVisitState.save, edit, form))
    assert edit.errors == {} and edit.reason == "" and not edit.dialog_open
    assert where(desk, appt) == (p2, ny(THURSDAY, 15, 30), "confirmed")
    assert "3:30" in detail.detail.time_label and detail.notice == "Visit changed"


def test_edit_dialog_names_bad_fields_and_conflicts(desk):
    p1, _ = desk.clinic.provider_ids
    appt = visit(desk, ny(THURSDAY, 10), p1, "Wes")
    edit, _ = open_edit(desk, appt)
    good = {"day": "2026-07-02", "time": "10:00", "provider": str(p1), "service": edit.service, "room": "any"}
    for field, value in [("day", "2026-13-01"), ("time", "25:00"), ("time", "10:03"), ("time", "¹⁰:00"),
                         ("provider", "999999"), ("service", "1e9"), ("room", "77777"), ("provider", ["1"])]:
        run(call(EditVisitState.save, edit, {**good, field: value}))
        assert field in edit.errors, (field, value)
        assert where(desk, appt) == (p1, ny(THURSDAY, 10), "confirmed")
    run(call(EditVisitState.save, edit, {**good, "time": "19:00"}))  # outside the provider's hours
    assert edit.reason and edit.dialog_open
    assert where(desk, appt) == (p1, ny(THURSDAY, 10), "confirmed")
    for junk in (None, [], "x", {"day": None}):
        run(call(EditVisitState.save, edit, junk))
    assert where(desk, appt) == (p1, ny(THURSDAY, 10), "confirmed")


def test_cancel_takes_a_reason_and_other_needs_a_note(desk):
    p1, _ = desk.clinic.provider_ids
    appt = visit(desk, ny(THURSDAY, 10), p1, "Xena")
    detail = state_for(DetailState, desk.tokens["front_desk"])
    run(call(DetailState.open, detail, appt))
    run(call(DetailState.ask_cancel, detail, True))
    run(call(DetailState.cancel, detail, {"reason": "other", "note": "  "}))
    assert "note" in detail.cancel_errors and where(desk, appt)[2] == "confirmed"
    run(call(DetailState.cancel, detail, {"reason": "hurricane"}))
    assert "reason" in detail.cancel_errors and where(desk, appt)[2] == "confirmed"
    run(call(DetailState.cancel, detail, {"reason": "weather", "note": "Snow storm"}))
    assert detail.cancel_errors == {} and where(desk, appt)[2] == "cancelled"
    with desk.clinic.session() as s:
        a = s.exec(select(Appointment).where(Appointment.id == appt)).one()
        assert (a.cancellation_reason, a.cancellation_note) == ("weather", "Snow storm")
