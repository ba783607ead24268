"""The role x action matrix again, through the Reflex event handlers called directly.

Every handler is an entry point a browser can call with any arguments. Staff handlers take
the staff session from the handshake cookie; portal handlers take the client's portal
session. For each action a UI handler performs, every role is tried: it must take effect
exactly when the permission table grants the action AND the role can hold that kind of
session (staff roles for staff pages, the client for the portal; the public page and system
jobs have no session to present). fee.waive: the calendar panel's "Waive fee". Actions without
a UI handler yet (settings.write,
block.write, refund.issue, outbox.read (the system's console print-out), staff.manage, and the
public booking page's reads, which always act as role "public") are covered by
tests/test_permissions.py.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlmodel import select

from medspa.domain.clients.service import ClientInput, find_or_create_client
from medspa.domain.identity.actor import Actor
from medspa.domain.identity.models import UserAccount, UserSession
from medspa.domain.identity.permissions import has_permission
from medspa.domain.identity.passwords import hash_password
from medspa.domain.identity.tokens import token_hash as _token_hash
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.portal.service import request_code, verify_code
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.service import change_status, hold_slot
from medspa.domain.payments.models import LedgerEntry
from medspa.features.audit.state import AuditState
from medspa.features.clients.state import ClientProfileState, ClientsState
from medspa.features.dashboard import data as dashboard_data
from medspa.features.dashboard.state import DashboardState, DrillState
from medspa.features.calendar.book_dialog import BookDialogState, Option
from medspa.features.calendar.edit import EditVisitState
from medspa.features.calendar.state import CalendarState, DetailState
from medspa.features.charting.state import ChartState, RowView
from medspa.features.outbox.detail import JobsState, MessageState
from medspa.features.outbox.state import OutboxState
from medspa.features.portal.state import PortalState
from tests.factories import build_clinic
from tests.test_handlers import NOW, app_settings, call, run, state_for  # noqa: F401  (fixture)

NY = ZoneInfo("America/New_York")
TODAY = date(2026, 7, 1)  # NOW is 12:00 in New York
STAFF_ROLES = ("owner", "manager", "provider", "front_desk", "lab")
ROLES = (*STAFF_ROLES, "client", "public", "system")


@dataclass
class World:
    """One clinic per test module; its visit slots are counted per world, so modules that
    share these helpers never take each other's times."""

    clinic: object
    tokens: dict
    client_id: int
    portal_token: str
    visit_slots: itertools.count = field(default_factory=itertools.count)  # 9 half-hours (12:30-16:30) x 6 providers
    own_slots: itertools.count = field(default_factory=itertools.count)  # the portal client's visits, one after another
    dialog_slots: itertools.count = field(default_factory=itertools.count)  # the desk dialog's bookings


def ny(day: date, h: int, m: int = 0) -> datetime:
    return datetime.combine(day, time(h, m), tzinfo=NY).astimezone(timezone.utc)


@pytest.fixture(scope="module")
def world(engine, owner_engine) -> World:
    clinic = build_clinic(engine, owner_engine, providers=6)
    tokens = {}
    with clinic.session() as s:
        for role in STAFF_ROLES:  # sessions made directly: the 2FA sign-in flow has its own tests
            user = UserAccount(org_id=clinic.org_id, email=f"{role}-{clinic.slug}@example.com",
                               password_hash=hash_password("x" * 16), role=role, display_name=role)
            s.add(user)
            s.flush()
            tokens[role] = f"tok-{role}-{clinic.slug}"
            s.add(UserSession(org_id=clinic.org_id, user_id=user.id, token_hash=_token_hash(tokens[role]),
                              created_at=NOW, last_seen_at=NOW, expires_at=NOW + timedelta(hours=12)))
        client = find_or_create_client(s, clinic.system, ClientInput("Cleo", "Vance", f"cleo-{clinic.slug}@example.com",
                                                                      "+12125550170"))
        request_code(s, Actor.public(clinic.org_id), client.email, now=NOW)
        s.commit()
        body = s.exec(select(OutboxMessage.body).where(OutboxMessage.kind == "portal_code")).one()
        code = re.search(r"\b(\d{6})\b", body).group(1)
        portal_token = verify_code(s, Actor.public(clinic.org_id), client.email, code, now=NOW).token
        s.commit()
    return World(clinic, tokens, client.id, portal_token)


def new_visit(w: World, *, own: bool = False) -> int:
    """A confirmed visit: later today for a new client of its own (each case its own
    provider/time), or (own=True) for the portal's client on a day the desk dialog never uses."""
    with w.clinic.session() as s:
        if own:
            k, provider, client_id, day = next(w.own_slots), 0, w.client_id, TODAY + timedelta(days=6)
        else:
            n = next(w.visit_slots)
            k, provider, day = n // 6 - 1, n % 6, TODAY  # k = -1: 12:30, the first start after NOW
            client_id = find_or_create_client(s, w.clinic.system, ClientInput(
                "Walk", f"In{n}", f"walkin{n}-{w.clinic.slug}@example.com", "+12125550171")).id
        appt = hold_slot(s, w.clinic.system, location_id=w.clinic.location_id, service_id=w.clinic.services["botox"],
                         start_at=ny(day, 13 + k // 2, 30 * (k % 2)), provider_id=w.clinic.provider_ids[provider],
                         now=NOW, client_id=client_id, confirm=True)
        s.commit()
        return appt.id


def status(w: World, appointment_id: int) -> str:
    with w.clinic.session() as s:
        return s.exec(select(Appointment.status).where(Appointment.id == appointment_id)).one()


def staff_state(cls, w: World, role: str):
    return state_for(cls, w.tokens.get(role))


# ---- what each handler does when allowed (True = it took effect) ----

def calendar_read(w, role):
    state = staff_state(CalendarState, w, role)
    state.location_id, state.day = w.clinic.location_id, TODAY.isoformat()
    run(call(CalendarState.load, state))
    return state.loads > 0 and not state.error


def contact_read(w, role):
    state = staff_state(DetailState, w, role)
    run(call(DetailState.open, state, new_visit(w)))
    return state.panel_open and bool(state.detail.client_phone or state.detail.client_email)


def step(action: str, after: str):
    def run_step(w, role):
        appt = new_visit(w)
        state = staff_state(DetailState, w, role)
        state.panel_open, state.confirm_no_show = True, True  # a no-show is marked from its confirmation
        state.detail.id = appt
        run(call(DetailState.step, state, action))
        return status(w, appt) == after
    return run_step


def cancel(w, role):
    appt = new_visit(w)
    state = staff_state(DetailState, w, role)
    state.panel_open, state.confirm_cancel = True, True
    state.detail.id = appt
    run(call(DetailState.cancel, state))
    return status(w, appt) == "cancelled"


def _dialog(w, role, **fields):
    state = staff_state(BookDialogState, w, role)
    n = next(w.dialog_slots)
    state.dialog_open, state._location_id, state._day, state._time_zone = True, w.clinic.location_id, \
        (TODAY + timedelta(days=1 + n // 14)).isoformat(), "America/New_York"
    state.services = [Option(str(w.clinic.services["botox"]), "Botox")]
    state.service = str(w.clinic.services["botox"])
    minute = 9 * 60 + 30 * (n % 14)
    state.times, state.minute = [Option(str(minute), "t")], str(minute)
    for k, v in fields.items():
        setattr(state, k, v)
    return state


def _count(w) -> int:
    with w.clinic.session() as s:
        return s.execute(text("select count(*) from appointment")).scalar()


def book_existing(w, role):
    before = _count(w)
    state = _dialog(w, role, mode="picked", client_id=w.client_id)
    run(call(BookDialogState.submit, state, {}))
    return _count(w) == before + 1


def reschedule(w, role):
    """The panel's Edit dialog moves a visit to Friday (each role its own half-hour)."""
    appt = new_visit(w)
    edit = staff_state(EditVisitState, w, role)
    root = edit
    while root.parent_state is not None:
        root = root.parent_state
    detail = root.get_substate(DetailState.get_full_name().split(".")[1:])
    run(call(DetailState.open, detail, appt))
    run(call(EditVisitState.open, edit))
    at = 9 * 60 + 30 * ROLES.index(role)
    run(call(EditVisitState.save, edit, {"day": (TODAY + timedelta(days=2)).isoformat(),
                                         "time": f"{at // 60:02d}:{at % 60:02d}"}))
    with w.clinic.session() as s:
        start = s.exec(select(Appointment.start_at).where(Appointment.id == appt)).one()
    return start == ny(TODAY + timedelta(days=2), at // 60, at % 60)


def book_new_client(w, role):
    with w.clinic.session() as s:
        before = s.execute(text("select count(*) from client")).scalar()
    n = next(w.dialog_slots)
    state = _dialog(w, role, mode="new")
    run(call(BookDialogState.submit, state, {"first_name": "New", "last_name": f"Client{n}", "email": "", "phone": ""}))
    with w.clinic.session() as s:
        return s.execute(text("select count(*) from client")).scalar() == before + 1


def client_search(w, role):
    state = staff_state(BookDialogState, w, role)
    state.dialog_open = True
    run(call(BookDialogState.search, state, "Cleo"))
    return any(h.id == w.client_id for h in state.hits)


def client_list(w, role):
    state = staff_state(ClientsState, w, role)
    run(call(ClientsState.search, state, "Cleo"))
    return state.allowed and any(r.id == w.client_id for r in state.rows)


def client_profile(w, role):
    from reflex.istate.data import RouterData

    from medspa.features.auth.state import SESSION_COOKIE

    state = staff_state(ClientProfileState, w, role)
    root = state.parent_state
    while root.parent_state is not None:
        root = root.parent_state
    token = w.tokens.get(role)
    root.router = RouterData.from_router_data({
        "headers": {"cookie": f"{SESSION_COOKIE}={token}" if token else "", "user-agent": "pytest"},
        "pathname": "/clients/[client_id]", "asPath": f"/clients/{w.client_id}"})
    run(call(ClientProfileState.load, state))
    return state.status == "ready" and state.name == "Cleo Vance"


def client_read(w, role):
    """The booking dialog's search, the client list and the profile agree."""
    found = (client_search(w, role), client_list(w, role), client_profile(w, role))
    assert len(set(found)) == 1, found
    return found[0]


def audit_read(w, role):
    state = staff_state(AuditState, w, role)
    run(call(AuditState.load, state))
    return state.allowed and not state.not_found


def _is_download(event) -> bool:
    """True for rx.download(...) (not for None or a redirect to sign in)."""
    return getattr(getattr(getattr(event, "handler", None), "fn", None), "__qualname__", "") == "_download"


def report_read(w, role):
    state = staff_state(DashboardState, w, role)
    run(call(DashboardState.load, state))
    loaded = state.allowed and not state.not_found and len(state.tiles) == len(dashboard_data.TILE_KEYS)
    # every other handler again on a state that looks loaded: each checks the session and permission
    other = staff_state(DrillState, w, role)
    other.start, other.end = "2026-06-01", "2026-06-30"
    run(call(DrillState.open_drill, other, "cancellations"))
    drilled = other.drill_key == "cancellations"
    export = staff_state(DrillState, w, role)  # a drill-down open as far as the state shows
    export.start, export.end, export.drill_key = "2026-06-01", "2026-06-30", "cancellations"
    drill_csv = _is_download(run(call(DrillState.export_drill, export)))
    report = staff_state(DashboardState, w, role)
    report.start, report.end = "2026-06-01", "2026-06-30"
    report_csv = _is_download(run(call(DashboardState.export_report, report, "trend")))
    preset = staff_state(DashboardState, w, role)
    preset.start, preset.end = "2026-06-01", "2026-06-30"
    run(call(DashboardState.set_preset, preset, 90))
    preset_ran = bool(preset.tiles)
    results = {loaded, drilled, drill_csv, report_csv, preset_ran}
    assert len(results) == 1, (role, loaded, drilled, drill_csv, report_csv, preset_ran)  # all or nothing
    return loaded


def take_payment(w, role):
    """Check out a checked-in visit with the test card through the calendar's detail panel."""
    appt = new_visit(w)
    with w.clinic.session() as s:
        change_status(s, w.clinic.system, appt, "check_in", now=NOW)
        s.commit()
    state = staff_state(DetailState, w, role)
    state.panel_open = True
    state.detail.id, state.detail.can_checkout, state.detail.balance_due = appt, True, "$350.00"
    run(call(DetailState.checkout, state, {"card_number": "4242 4242 4242 4242", "exp_month": "12",
                                           "exp_year": "2030", "cvc": "123"}))
    with w.clinic.session() as s:
        return s.exec(select(LedgerEntry.id).where(LedgerEntry.appointment_id == appt,
                                                   LedgerEntry.entry_type == "sale")).first() is not None


def portal_state(w, role):
    state = state_for(PortalState, None)
    state.status, state.step, state._org_id = "ready", "portal", w.clinic.org_id
    state._token = w.portal_token if role == "client" else ""
    return state


def portal_read(w, role):
    state = portal_state(w, role)
    run(call(PortalState.open_tab, state, "visits"))
    return state.step == "portal" and state.details.first_name == "Cleo"


def portal_write(w, role):
    state = portal_state(w, role)
    run(call(PortalState.set_sms_consent, state, True))
    return state.notice == "Your marketing preferences are saved."


def cancel_own(w, role):
    appt = new_visit(w, own=True)
    state = portal_state(w, role)
    state._cancellable = [appt]
    run(call(PortalState.ask_cancel, state, appt))
    if not state.cancel_open:
        return False
    run(call(PortalState.confirm_cancel, state))
    return status(w, appt) == "cancelled"


def chart_state(w, role, appointment_id: int):
    """The chart page's state of a tab at /chart/<appointment_id>."""
    from reflex.istate.data import RouterData

    state = staff_state(ChartState, w, role)
    root = state
    while root.parent_state is not None:
        root = root.parent_state
    root.router = RouterData.from_router_data({"headers": dict(root.router.headers.raw_headers), "pathname":
                                               "/chart/[appointment_id]", "asPath": f"/chart/{appointment_id}"})
    return state


_chart_visits: dict[int, int] = {}


def chart_visit(w) -> int:
    """One visit for every chart case (reads change nothing; writes are counted in the trail)."""
    if w.clinic.org_id not in _chart_visits:
        _chart_visits[w.clinic.org_id] = new_visit(w)
    return _chart_visits[w.clinic.org_id]


def chart_read(w, role):
    state = chart_state(w, role, appt := chart_visit(w))
    run(call(ChartState.load, state))
    return state.status == "ready" and state.client_name.startswith("Walk") and state._appointment_id == appt


def chart_write(w, role):
    appt = chart_visit(w)

    def writes() -> int:
        with w.clinic.session() as s:
            return s.execute(text("select count(*) from audit_event where action = 'chart.write' "
                                  "and detail->>'appointment_id' = :a"), {"a": str(appt)}).scalar()

    before = writes()
    state = chart_state(w, role, appt)  # as if loaded: the handler itself must check again
    state.status, state.editable, state._appointment_id = "ready", True, appt
    state.rows, state.note = [RowView("Botox", "C3709C3", "20", "glabella")], f"by {role}"
    run(call(ChartState.save, state))
    return writes() == before + 1


def _failed_message(w) -> int:
    with w.clinic.session() as s:
        msg = OutboxMessage(org_id=w.clinic.org_id, channel="email", kind="booking_confirmation",
                            to_address="cleo@exmaple.com", subject="Confirmed: Botox", body="Hi Cleo",
                            client_id=w.client_id, status="failed", failure_reason="550 no such user", attempts=1)
        s.add(msg)
        s.commit()
        return msg.id


def _message_status(w, message_id: int) -> str:
    with w.clinic.session() as s:
        return s.exec(select(OutboxMessage.status).where(OutboxMessage.id == message_id)).one()


def outbox_manage(w, role):
    """The outbox page: its list, a message opened (audited) and a failed one resent, each
    handler on a fresh state that looks loaded (each checks the session and permission)."""
    mid = _failed_message(w)
    listing = staff_state(OutboxState, w, role)
    listing.status = "failed"
    run(call(OutboxState.load, listing))
    listed = listing.allowed and not listing.not_found and mid in [r.id for r in listing.rows]
    reader = staff_state(MessageState, w, role)
    reader._row_ids = [mid]
    run(call(MessageState.open_message, reader, mid))
    opened = reader.view.id == mid and reader.view.body == "Hi Cleo"
    sender = staff_state(MessageState, w, role)
    sender._message_id, sender.confirming, sender.view_open = mid, True, True
    run(call(MessageState.resend, sender))
    resent = _message_status(w, mid) == "queued"
    results = {listed, opened, resent}
    assert len(results) == 1, (role, listed, opened, resent)  # all or nothing
    return listed


def jobs_read(w, role):
    state = staff_state(JobsState, w, role)
    state.show_jobs = True  # as if the page had loaded for an owner
    run(call(JobsState.open_tab, state, "jobs"))
    return state.jobs_loaded and state.tab == "jobs"


def waive_fee(w, role):
    """The panel's "Waive fee" on a no-show's fee (made by the system: the location's no-show fee
    set for this one visit in the same transaction, then put back)."""
    from medspa.domain.payments.fees import apply_policy_fee
    from medspa.domain.payments.models import PolicyFee
    from medspa.domain.practice.models import Location
    from medspa.features.calendar.fee_panel import FeeWaiveState

    with w.clinic.session() as s:  # yesterday's no-show (a row of its own: today's visit slots are counted)
        loc = s.get(Location, w.clinic.location_id)
        loc.no_show_fee_kind, loc.no_show_fee_amount = "flat", 2500
        visit = Appointment(org_id=w.clinic.org_id, location_id=loc.id, service_id=w.clinic.services["botox"],
                            provider_id=w.clinic.provider_ids[0], client_id=w.client_id, status="no_show",
                            start_at=ny(TODAY - timedelta(days=1), 10), end_at=ny(TODAY - timedelta(days=1), 10, 30),
                            price_cents=35000, booked_no_show_fee_cents=2500)  # booked under the fee
        s.add(visit)
        s.flush()
        appt = visit.id
        fee_id = apply_policy_fee(s, w.clinic.system, visit, "no_show", now=NOW).fee_id
        loc.no_show_fee_kind, loc.no_show_fee_amount = "none", 0
        s.commit()
    state = staff_state(FeeWaiveState, w, role)
    root = state
    while root.parent_state is not None:
        root = root.parent_state
    detail = root.get_substate(DetailState.get_full_name().split(".")[1:])
    detail.panel_open, detail.detail.id, detail.detail.fee_id = True, appt, fee_id
    run(call(FeeWaiveState.waive, state, {"reason": f"goodwill ({role})"}))
    with w.clinic.session() as s:
        return s.exec(select(PolicyFee.status).where(PolicyFee.id == fee_id)).one() == "waived"


HANDLERS = {
    "calendar.read": ("staff", calendar_read),
    "client.contact.read": ("staff", contact_read),
    "appointment.check_in": ("staff", step("check_in", "checked_in")),
    "appointment.update_status": ("staff", step("no_show", "no_show")),
    "appointment.cancel": ("staff", cancel),
    "appointment.book": ("staff", book_existing),
    "appointment.reschedule": ("staff", reschedule),
    "client.write": ("staff", book_new_client),
    "client.read": ("staff", client_read),
    "audit.read": ("staff", audit_read),
    "report.read": ("staff", report_read),
    "outbox.manage": ("staff", outbox_manage),
    "jobs.read": ("staff", jobs_read),
    "payment.take": ("staff", take_payment),
    "chart.read": ("staff", chart_read),
    "chart.write": ("staff", chart_write),
    "portal.self.read": ("portal", portal_read),
    "portal.self.write": ("portal", portal_write),
    "appointment.cancel_own": ("portal", cancel_own),
    "fee.waive": ("staff", waive_fee),
}
SESSION_ROLES = {"staff": STAFF_ROLES, "portal": ("client",)}


@pytest.mark.parametrize(("role", "action"), list(itertools.product(ROLES, sorted(HANDLERS))))
def test_handler_matrix(world: World, app_settings, role: str, action: str):  # noqa: F811
    family, handler = HANDLERS[action]
    expected = has_permission(role, action) and role in SESSION_ROLES[family]
    assert handler(world, role) is expected, (role, action)
