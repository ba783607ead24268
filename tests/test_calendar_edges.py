"""Issue 15 section 3, the calendar's edges: a time held online is named so on the staff
calendar and its panel; booking from an empty cell offers what that provider can do then."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from medspa.clock import FixedClock
from medspa.domain.identity.models import UserAccount, UserSession
from medspa.domain.identity.passwords import hash_password
from medspa.domain.identity.tokens import token_hash
from medspa.domain.clients.service import ClientInput, find_or_create_client
from medspa.domain.scheduling.calendar import appointment_detail, calendar_day, calendar_week
from medspa.domain.scheduling.labels import visit_who
from medspa.domain.scheduling.service import hold_slot
from tests.conftest import utc
from tests.factories import build_clinic
from tests.test_handlers import NOW as HANDLERS_NOW
from tests.test_handlers import app_settings, call, run, state_for  # noqa: F401  (fixture)

NY = ZoneInfo("America/New_York")
DAY = date(2026, 7, 15)  # a Wednesday
NOW = utc(2026, 7, 1, 12)


def at(h: int, m: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(h, m), tzinfo=NY).astimezone(timezone.utc)


def test_visit_who_names_an_online_hold_whatever_its_client():
    assert visit_who("held", "online", None) == "Held online"
    assert visit_who("held", "staff", None) == "Walk-in"
    assert visit_who("confirmed", "online", None) == "Walk-in"


def test_times_held_online_say_so_on_the_day_week_and_panel(engine, owner_engine):
    """Found: a time a client was still paying for showed as "Walk-in". Held online, with or
    without the client's details in yet; once confirmed, the client's name."""
    clinic = build_clinic(engine, owner_engine, providers=2)
    p1, p2 = clinic.provider_ids
    with clinic.session() as s:
        typing = hold_slot(s, clinic.public, location_id=clinic.location_id, service_id=clinic.services["botox"],
                           start_at=at(10), now=NOW, provider_id=p1)
        mia = find_or_create_client(s, clinic.system, ClientInput("Mia", "Wong", "mia@example.com", ""),
                                    require_contact=False)
        paying = hold_slot(s, clinic.public, location_id=clinic.location_id, service_id=clinic.services["botox"],
                           start_at=at(11), now=NOW, provider_id=p1, client_id=mia.id)
        walk_in = hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id,
                            service_id=clinic.services["botox"], start_at=at(12), now=NOW, provider_id=p2,
                            confirm=True)
        s.commit()
        typing, paying, walk_in = typing.id, paying.id, walk_in.id
        staff = clinic.staff_actor()
        day = calendar_day(s, staff, location_id=clinic.location_id, day=DAY, now=NOW)
        week = calendar_week(s, staff, location_id=clinic.location_id, day=DAY, now=NOW)
        panels = [appointment_detail(s, staff, a, now=NOW) for a in (typing, paying, walk_in)]
        s.rollback()
    names = {b.appointment_id: (b.client_name, b.status_label) for b in day.blocks if b.kind == "appointment"}
    assert names == {typing: ("Held online", "Held"), paying: ("Held online", "Held"),
                     walk_in: ("Walk-in", "Confirmed")}
    assert {e.appointment_id: e.client_name for e in week.entries} == {
        typing: "Held online", paying: "Held online", walk_in: "Walk-in"}
    assert [p.client_name for p in panels] == ["Held online", "Held online", "Walk-in"]
    from medspa.features.calendar.layout import detail_view

    assert [detail_view(p).source for p in panels] == [
        "Held online: the client is still booking; the time frees itself if they do not finish"] * 2 + [
        "Booked at the desk"]


# ---- booking from an empty cell: that provider's services and free starts -------------------

WED, THU = date(2026, 7, 8), date(2026, 7, 9)  # next week (the handlers' NOW is Wed 2026-07-01, noon NY)


def _nia(clinic) -> tuple[int, int]:
    """A provider who works Wednesdays 12:00-14:00 only and is the only one doing "Peel" (30 min)."""
    from medspa.domain.catalog.service import add_service
    from medspa.domain.practice.service import add_staff, set_working_hours

    with clinic.session() as s:
        nia = add_staff(s, clinic.system, "Nia Facials", "provider", title="LE")
        set_working_hours(s, clinic.system, nia.id, clinic.location_id, {2: [(time(12), time(14))]})
        peel = add_service(s, clinic.system, category="Chemical peels", name="Peel", duration_minutes=30,
                           price_cents=9000, provider_ids=[nia.id])
        s.commit()
        return nia.id, peel.id


def test_desk_offers_only_the_providers_services_and_free_starts(engine, owner_engine):
    from medspa.domain.scheduling.actions.desk import fetch_booking_options, fetch_free_starts

    clinic = build_clinic(engine, owner_engine)
    nia, peel = _nia(clinic)
    p1 = clinic.provider_ids[0]
    desk, clock = clinic.staff_actor(), FixedClock(NOW)
    options = fetch_booking_options(desk, clinic.location_id, engine=engine)
    assert [v.name for v in options.services_of(nia)] == ["Peel"]
    assert [v.name for v in options.services_of(p1)] == ["HydraFacial", "Laser underarms", "Botox"]
    assert len(options.services_of(None)) == 4
    with clinic.session() as s:
        hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id, service_id=peel, start_at=at(12, day=WED),
                  now=NOW, provider_id=nia, confirm=True)
        s.commit()
    starts = fetch_free_starts(desk, clinic.location_id, peel, WED, nia, clock=clock, engine=engine)
    # 12:00-12:30 is taken (12:15 would overlap it); 13:45 would run past her 14:00 end
    assert [s.astimezone(NY).strftime("%H:%M") for s in starts] == ["12:30", "12:45", "13:00", "13:15", "13:30"]
    assert fetch_free_starts(desk, clinic.location_id, peel, THU, nia, clock=clock, engine=engine) == ()
    assert fetch_free_starts(desk, clinic.location_id, clinic.services["botox"], WED, nia, clock=clock,
                             engine=engine) == ()  # she does not perform it
    anyone = fetch_free_starts(desk, clinic.location_id, clinic.services["botox"], WED, None, clock=clock,
                               engine=engine)
    assert (anyone[0].astimezone(NY).strftime("%H:%M"), anyone[-1].astimezone(NY).strftime("%H:%M")) == (
        "09:00", "16:30")
    # no notice for the desk (online: 2 hours), but never the past: today from 12:07 on
    today = fetch_free_starts(desk, clinic.location_id, clinic.services["botox"], date(2026, 7, 1), None,
                              clock=FixedClock(utc(2026, 7, 1, 16, 7)), engine=engine)
    assert today[0] == at(12, 15, day=date(2026, 7, 1))


def test_the_dialog_from_a_cell_offers_that_providers_services_and_free_starts(app_settings, engine, owner_engine):
    """Found: the dialog offered a start at the end of a shift and then refused it, and every
    service whoever performs it. Now: the column's provider's services, their free starts that
    day, the clicked time picked when it is one of them, and a clear note otherwise."""
    from medspa.features.calendar.book_dialog import BookDialogState as B
    from medspa.features.calendar.state import CalendarState

    clinic = build_clinic(engine, owner_engine)
    nia, peel = _nia(clinic)
    with clinic.session() as s:
        user = UserAccount(org_id=clinic.org_id, email=f"desk-{clinic.slug}@example.com",
                           password_hash=hash_password("x" * 16), role="front_desk", display_name="Desk")
        s.add(user)
        s.flush()
        s.add(UserSession(org_id=clinic.org_id, user_id=user.id, token_hash=token_hash(f"tok-{clinic.slug}"),
                          created_at=HANDLERS_NOW, last_seen_at=HANDLERS_NOW,
                          expires_at=HANDLERS_NOW + timedelta(hours=12)))
        s.commit()

    def dialog_on(day: date):
        dialog = state_for(B, f"tok-{clinic.slug}")
        cal = run(dialog.get_state(CalendarState))
        cal.location_id, cal.day = clinic.location_id, day.isoformat()
        run(call(CalendarState.load, cal))
        return dialog, cal

    dialog, cal = dialog_on(WED)
    assert nia in [c.id for c in cal.day_data.columns]
    run(call(B.open_slot, dialog, nia, 12 * 60 + 30))
    assert dialog.dialog_open and dialog.provider == str(nia)
    assert [o.label for o in dialog.services] == ["Peel · 30 min · $90.00"] and dialog.service == str(peel)
    assert [o.label for o in dialog.times] == [f"{h} PM EDT" for h in (
        "12:00", "12:15", "12:30", "12:45", "1:00", "1:15", "1:30")]
    assert dialog.minute == str(12 * 60 + 30) and dialog.times_note == ""
    # the last cell of her shift: 1:45 would end after 2:00, so it is not offered nor picked
    run(call(B.open_slot, dialog, nia, 13 * 60 + 45))
    assert dialog.minute == "" and dialog.times[-1].label == "1:30 PM EDT"
    assert dialog.times_note == "1:45 PM EDT is not free for Peel with Nia Facials: choose a start."
    run(call(B.submit, dialog, {}))
    assert dialog.errors.get("time") == "Choose a time"
    # another provider: their services; a service they do not perform is dropped
    p1 = clinic.provider_ids[0]
    run(call(B.set_provider, dialog, str(p1)))
    assert "Peel" not in " ".join(o.label for o in dialog.services) and dialog.service == ""
    assert dialog.times == [] and dialog.times_note == "Choose a service to see the free start times."
    run(call(B.set_service, dialog, str(peel)))  # not offered for this provider: ignored
    assert dialog.service == ""
    run(call(B.set_service, dialog, str(clinic.services["botox"])))
    assert dialog.times[0].label == "9:00 AM EDT" and dialog.times[-1].label == "4:30 PM EDT"
    run(call(B.set_service, dialog, "99999"))  # hostile values change nothing
    run(call(B.set_provider, dialog, "<script>"))
    assert dialog.service == str(clinic.services["botox"]) and dialog.provider == str(p1)
    # a day she has nothing: Thursday, from Provider 1's column, then her
    dialog, cal = dialog_on(THU)
    run(call(B.open_slot, dialog, p1, 10 * 60))
    run(call(B.set_provider, dialog, str(nia)))  # her only service is chosen
    assert [o.label for o in dialog.services] == ["Peel · 30 min · $90.00"] and dialog.service == str(peel)
    assert dialog.times == [] and dialog.minute == ""
    assert dialog.times_note == f"Nia Facials has no free time for Peel on {cal.day_data.title}."
    # and a booking at the picked free start goes through
    dialog, cal = dialog_on(WED)
    run(call(B.open_slot, dialog, nia, 13 * 60 + 30))
    dialog.mode, dialog.client_id = "new", 0
    run(call(B.submit, dialog, {"first_name": "Ola", "last_name": "Berg", "email": "", "phone": ""}))
    assert dialog.errors == {} and not dialog.dialog_open
