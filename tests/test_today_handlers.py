"""/today's state (features/today/state.py) called as a hostile browser could: a provider gets
only their own day and no arrivals tab; the desk's one-click check-in takes only a visit its
list offered; the lab and signed-out tabs get nothing. The clock is the app's frozen NOW
(12:00 in New York, July 1, 2026)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from medspa.domain.clients.service import ClientInput, find_or_create_client
from medspa.domain.identity.models import UserAccount, UserSession
from medspa.domain.identity.passwords import hash_password
from medspa.domain.identity.tokens import token_hash
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.service import hold_slot
from medspa.features.today.state import ARRIVALS, MY_DAY, TodayState as T
from tests.factories import build_clinic
from tests.test_handler_matrix import TODAY, ny
from tests.test_handlers import NOW, app_settings, call, run, state_for  # noqa: F401  (fixture)


@pytest.fixture(scope="module")
def place(engine, owner_engine):
    """A clinic with two providers, a login per role (the provider's linked to provider 1),
    visits today at 13:00 for provider 1 and at 13:30 for provider 2, and another clinic's visit."""
    clinic = build_clinic(engine, owner_engine, providers=2)
    other = build_clinic(engine, owner_engine)
    tokens = {}
    with clinic.session() as s:
        for role in ("provider", "front_desk", "lab", "manager"):
            user = UserAccount(org_id=clinic.org_id, email=f"{role}-{clinic.slug}@example.com",
                               password_hash=hash_password("x" * 16), role=role, display_name=role,
                               staff_id=clinic.provider_ids[0] if role == "provider" else None)
            s.add(user)
            s.flush()
            tokens[role] = f"tok-today-{role}-{clinic.slug}"
            s.add(UserSession(org_id=clinic.org_id, user_id=user.id, token_hash=token_hash(tokens[role]),
                              created_at=NOW, last_seen_at=NOW, expires_at=NOW + timedelta(hours=12)))
        visits = []
        for i, (first, hour, minute) in enumerate((("Mia", 13, 0), ("Noor", 13, 30))):
            c = find_or_create_client(s, clinic.system, ClientInput(first, "Day", f"{first}-{clinic.slug}@example.com",
                                                                     "+12125550190"))
            visits.append(hold_slot(s, clinic.system, location_id=clinic.location_id,
                                    service_id=clinic.services["botox"], start_at=ny(TODAY, hour, minute), now=NOW,
                                    provider_id=clinic.provider_ids[i], client_id=c.id, confirm=True).id)
        s.commit()
    with other.session() as s:
        c = find_or_create_client(s, other.system, ClientInput("Oz", "Elsewhere", f"oz-{other.slug}@example.com",
                                                                "+12125550191"))
        foreign = hold_slot(s, other.system, location_id=other.location_id, service_id=other.services["botox"],
                            start_at=ny(TODAY, 14), now=NOW, client_id=c.id, confirm=True).id
        s.commit()
    return clinic, tokens, visits, other, foreign


def status(clinic, appointment_id: int) -> str:
    with clinic.session() as s:
        return s.exec(select(Appointment.status).where(Appointment.id == appointment_id)).one()


def loaded(token: str | None):
    state = state_for(T, token)
    run(call(T.load, state))
    return state


def test_a_provider_gets_only_their_own_day(place, app_settings):
    clinic, tokens, (mine, theirs), _other, _foreign = place
    state = loaded(tokens["provider"])
    assert (state.allowed, state.tabs, state.tab) == (True, [MY_DAY], MY_DAY)
    assert [(v.id, v.client_name, v.start, v.href.startswith("/clients/")) for v in state.my_visits] == [
        (mine, "Mia Day", "1:00 PM", True)]
    assert [a.text for a in state.my_visits[0].alerts] == ["New client"]
    for hostile in (ARRIVALS, None, 2**70, ["arrivals"], {"tab": "arrivals"}):
        run(call(T.set_tab, state, hostile))
        assert state.tab == MY_DAY and state.rows == []
    run(call(T.check_in, state, mine))  # no check-in from "My day"
    assert status(clinic, mine) == "confirmed"


def test_the_desk_checks_in_only_what_its_list_offered(place, app_settings):
    clinic, tokens, (mine, theirs), _other, foreign = place
    state = loaded(tokens["front_desk"])
    assert (state.tabs, state.tab) == ([ARRIVALS], ARRIVALS)
    assert [(r.id, r.bucket, r.timing, r.can_check_in) for r in state.rows] == [
        (mine, "expected", "in 1 h", True), (theirs, "expected", "in 1 h 30 min", True)]
    assert state.now_label == "12:00 PM EDT"
    for hostile in (foreign, -1, 2**70, "1e9", None, {"id": mine}, [mine], True, "x" * 10_000):
        run(call(T.check_in, state, hostile))
    assert status(clinic, mine) == "confirmed" and status(clinic, theirs) == "confirmed"
    run(call(T.check_in, state, str(mine)))
    assert status(clinic, mine) == "checked_in"
    assert state.notice == "Mia Day is checked in."
    assert [(r.id, r.bucket, r.timing, r.can_check_in) for r in state.rows][0] == (mine, "waiting", "just checked in",
                                                                                    False)
    run(call(T.check_in, state, mine))  # no longer offered: nothing happens twice
    assert state.error == ""
    for hostile in (str(place[3].location_id), "0", None, {"a": 1}):
        run(call(T.set_location, state, hostile))
        assert state.location == str(clinic.location_id)
    run(call(T.refresh, state))
    assert [r.id for r in state.rows] == [mine, theirs]


def test_a_manager_without_a_staff_record_sees_arrivals_only(place, app_settings):
    state = loaded(place[1]["manager"])
    assert (state.tabs, state.tab) == ([ARRIVALS], ARRIVALS)


def test_the_lab_and_signed_out_tabs_get_nothing(place, app_settings):
    clinic, tokens, (_mine, theirs), _other, _foreign = place
    lab = loaded(tokens["lab"])
    assert (lab.allowed, lab.not_found, lab.rows, lab.my_visits) == (False, True, [], [])
    lab._check_in_ids, lab.allowed, lab.tab = [theirs], True, ARRIVALS  # a tampered state still checks the role
    run(call(T.check_in, lab, theirs))
    assert status(clinic, theirs) == "confirmed" and lab.error == "Not allowed."
    run(call(T.refresh, lab))
    assert lab.rows == [] and lab.not_found
    gone = state_for(T, None)
    result = run(call(T.load, gone))
    assert gone.allowed is False and result is not None  # the redirect to sign in
