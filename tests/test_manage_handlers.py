"""The manage-booking page's handlers on a loaded state: only what the page offered can be
picked, "Other" needs words, a move and a cancel go through, a display code finds nothing."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from reflex.istate.data import RouterData
from reflex.state import State

import medspa.medspa  # noqa: F401  (registers every state class)
from medspa.clock import FixedClock
from medspa.domain.clients.service import ClientInput
from medspa.domain.payments.gateway import CardDetails, TestPaymentGateway
from medspa.domain.scheduling.booking import OnlineBooking, book_online
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.references import manage_url
from medspa.features.manage.state import ManageState
from tests.factories import build_clinic
from tests.test_handlers import NOW, app_settings, call, run  # noqa: F401  (fixture)

NY = ZoneInfo("America/New_York")


def _state(path: str) -> ManageState:
    root = State(_reflex_internal_init=True)
    root.router = RouterData.from_router_data({"headers": {"user-agent": "pytest"}, "pathname": "/book/[clinic]/manage/[token]",
                                               "asPath": path})
    return root.get_substate(ManageState.get_full_name().split(".")[1:])


def _visit(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    clock = FixedClock(NOW)
    req = OnlineBooking(location_id=clinic.location_id, service_id=clinic.services["botox"],
                        start_at=datetime.combine(date(2026, 7, 3), time(10), tzinfo=NY).astimezone(timezone.utc),
                        client=ClientInput("Ana", "Silva", "ana@example.com", "(212) 555-0147"),
                        card=CardDetails("4242 4242 4242 4242", 12, 2030, "123"))
    return clinic, book_online(engine, clinic.public, req, TestPaymentGateway(engine, clock.now), clock)


def test_the_page_moves_only_to_offered_times_and_cancels_with_words(engine, owner_engine, app_settings):  # noqa: F811
    clinic, appt = _visit(engine, owner_engine)
    st = _state(manage_url(clinic.slug, appt.booking_token))
    run(call(ManageState.load, st))
    assert (st.status, st.visit.service, st.visit.can_change) == ("ready", "Botox", True)

    run(call(ManageState.start_reschedule, st))
    assert st.mode == "reschedule" and len(st.days) == 14 and st.days[0].iso == "2026-07-01"
    run(call(ManageState.choose_time, st, "2026-07-20T14:00:00+00:00"))  # never offered
    run(call(ManageState.choose_day, st, "2031-01-01"))
    assert st.picked.start == "" and st.day == next(d.iso for d in st.days if d.open)
    run(call(ManageState.choose_day, st, "2026-07-06"))
    wanted = next(t for g in st.groups for t in g.slots if t.label == "11:00 AM EDT")
    run(call(ManageState.choose_time, st, wanted.start))
    assert st.picked.long_label == "Mon, Jul 6, 2026, 11:00 AM EDT (America/New_York)"
    run(call(ManageState.confirm_reschedule, st))
    assert st.mode == "view" and st.visit.day == "Monday, July 6, 2026" and "moved to Mon, Jul 6" in st.notice

    run(call(ManageState.start_cancel, st))
    run(call(ManageState.set_reason, st, "bored"))
    assert st.reason == "client_request"
    run(call(ManageState.set_reason, st, "other"))
    run(call(ManageState.confirm_cancel, st, {"note": "  "}))
    assert st.errors == {"note": "Tell us the reason in a few words"} and st.mode == "cancel"
    run(call(ManageState.confirm_cancel, st, {"note": "Moving away"}))
    assert (st.visit.status, st.visit.can_change, st.mode) == ("cancelled", False, "view")
    assert st.notice == "Your visit is cancelled and your deposit of $50.00 is being refunded."
    with clinic.session() as s:
        row = s.get(Appointment, appt.id)
        assert (row.cancellation_reason, row.cancellation_note, row.cancelled_by) == ("other", "Moving away", "client")
    run(call(ManageState.start_reschedule, st))  # a cancelled visit offers nothing
    assert st.mode == "view" and st.days == []


def test_a_display_code_or_another_clinic_finds_nothing(engine, owner_engine, app_settings):  # noqa: F811
    clinic, appt = _visit(engine, owner_engine)
    other = build_clinic(engine, owner_engine)
    for path in (f"/book/{clinic.slug}/manage/{appt.display_code}", manage_url(other.slug, appt.booking_token),
                 f"/book/{clinic.slug}/manage/", "/book/nope/manage/x"):
        st = _state(path)
        run(call(ManageState.load, st))
        assert st.status == "not_found", path
