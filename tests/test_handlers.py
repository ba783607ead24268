"""Reflex event handlers called directly, as a hostile browser could: every public handler is
an entry point. The session comes from the handshake cookie, ids from the caller; another
clinic's ids and forbidden roles change nothing and look like "not found"."""

from __future__ import annotations

import inspect
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest
from reflex.istate.data import RouterData
from reflex.state import State
from sqlmodel import select

import medspa.db
import medspa.medspa  # noqa: F401  (registers every state class)
import medspa.settings
from medspa.web.auth import SESSION_COOKIE
from medspa.domain.clients.service import ClientInput, find_or_create_client
from medspa.domain.identity.actions import do_login
from medspa.domain.identity.service import create_user
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.service import hold_slot
from medspa.features.audit.state import AuditState
from medspa.features.calendar.state import DetailState
from tests.conftest import utc
from tests.factories import build_clinic

NOW = utc(2026, 7, 1, 16)
NY = ZoneInfo("America/New_York")
PASSWORD = "handler test passphrase"


@pytest.fixture
def app_settings(monkeypatch, db_urls):
    settings = medspa.settings.Settings(database_url=db_urls[0], database_owner_url=db_urls[1],
                                        frozen_now=NOW.isoformat())
    monkeypatch.setattr(medspa.db, "get_settings", lambda: settings)
    monkeypatch.setattr(medspa.settings, "get_settings", lambda: settings)
    return settings


def state_for(cls, token: str | None):
    """A fresh state tree whose handshake carried `token` as the session cookie."""
    root = State(_reflex_internal_init=True)
    cookie = f"{SESSION_COOKIE}={token}" if token else ""
    root.router = RouterData.from_router_data({"headers": {"cookie": cookie, "user-agent": "pytest"},
                                               "pathname": "/calendar"})
    return root.get_substate(cls.get_full_name().split(".")[1:])


async def call(handler, state, *args):
    """Run an event handler function like Reflex does (plain, coroutine or async generator)."""
    result = handler.fn(state, *args)
    if inspect.isasyncgen(result):
        return [item async for item in result]
    if inspect.isawaitable(result):
        return await result
    return result


def run(coro):
    from tests.conftest import run_in_fresh_loop

    return run_in_fresh_loop(coro)


def clinic_with_visit(engine, owner_engine, role: str = "front_desk"):
    clinic = build_clinic(engine, owner_engine)
    email = f"{role}-{clinic.slug}@example.com"
    with clinic.session() as s:
        create_user(s, clinic.system, email=email, password=PASSWORD, role=role)
        client = find_or_create_client(s, clinic.system, ClientInput("Ivy", "Stone", f"ivy-{clinic.slug}@example.com",
                                                                      "+12125550160"))
        start = datetime.combine(date(2026, 7, 1), time(14), tzinfo=NY).astimezone(timezone.utc)
        appt = hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services["botox"],
                         start_at=start, now=NOW, client_id=client.id, confirm=True)
        s.commit()
    token = do_login(email, PASSWORD, now=NOW, engine=engine).token
    return clinic, appt.id, token


def status(clinic, appointment_id: int) -> str:
    with clinic.session() as s:
        return s.exec(select(Appointment.status).where(Appointment.id == appointment_id)).one()


def test_detail_handlers_refuse_another_clinics_appointment(engine, owner_engine, app_settings):
    a, a_appt, a_token = clinic_with_visit(engine, owner_engine)
    b, b_appt, _ = clinic_with_visit(engine, owner_engine)
    state = state_for(DetailState, a_token)
    run(call(DetailState.open, state, b_appt))
    assert state.panel_open is False and state.detail.id != b_appt
    run(call(DetailState.open, state, a_appt))
    assert state.panel_open is True and state.detail.id == a_appt
    # a browser that smuggles the other clinic's id into the panel still changes nothing there
    state.detail.id = b_appt
    run(call(DetailState.step, state, "check_in"))
    assert status(b, b_appt) == "confirmed"
    state.confirm_cancel = True
    run(call(DetailState.cancel, state))
    assert status(b, b_appt) == "confirmed"
    assert status(a, a_appt) == "confirmed"


def test_detail_handlers_check_the_role_not_the_ui(engine, owner_engine, app_settings):
    clinic, appt, lab_token = clinic_with_visit(engine, owner_engine, role="lab")
    state = state_for(DetailState, lab_token)
    state.panel_open, state.confirm_cancel = True, True
    state.detail.id = appt
    run(call(DetailState.step, state, "check_in"))
    run(call(DetailState.cancel, state))
    assert status(clinic, appt) == "confirmed"
    assert state.error == "Not allowed."


def test_handlers_without_a_session_do_nothing(engine, owner_engine, app_settings):
    clinic, appt, _ = clinic_with_visit(engine, owner_engine)
    state = state_for(DetailState, None)
    run(call(DetailState.open, state, appt))
    assert state.panel_open is False
    forged = state_for(DetailState, "forged-token")
    forged.panel_open, forged.confirm_cancel = True, True
    forged.detail.id = appt
    run(call(DetailState.cancel, forged))
    assert status(clinic, appt) == "confirmed"


def test_audit_handlers_are_owner_only(engine, owner_engine, app_settings):
    _, _, desk_token = clinic_with_visit(engine, owner_engine)
    state = state_for(AuditState, desk_token)
    run(call(AuditState.load, state))
    assert state.not_found is True and state.rows == [] and state.allowed is False
    run(call(AuditState.export, state))
    assert state.rows == []
