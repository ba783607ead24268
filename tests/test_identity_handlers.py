"""The account, staff and landing page handlers called directly (as any browser could), on the
identity actions: the session comes from the handshake cookie; a non-owner sees nothing of
/staff; a signed-out tab goes to /login."""

from __future__ import annotations

from medspa.domain.identity.actions import actor_for_token, do_login
from medspa.domain.identity.models import UserAccount
from medspa.domain.identity.service import create_user
from medspa.domain.identity.sessions import open_session
from medspa.features.account.state import AccountState
from medspa.features.home.page import HomeState
from medspa.features.staff.state import StaffPageState
from tests.factories import build_clinic
from tests.test_handlers import NOW, PASSWORD, app_settings, call, run, state_for  # noqa: F401 (fixture)


def _people(engine, owner_engine):
    """A clinic with an owner (signed in without the second step: a session opened directly)
    and a front desk account; returns (clinic, owner token, desk token, desk user id)."""
    clinic = build_clinic(engine, owner_engine)
    with clinic.session() as s:
        owner = create_user(s, clinic.system, email=f"owner-{clinic.slug}@example.com", password=PASSWORD,
                            role="owner", display_name="Olive Owner")
        desk = create_user(s, clinic.system, email=f"desk-{clinic.slug}@example.com", password=PASSWORD,
                           role="front_desk", display_name="Dana Desk")
        s.commit()
        owner_token = open_session(s, s.get(UserAccount, owner.id), NOW, 12, "", "", "password").token
        s.commit()
        desk_id = desk.id
    desk_token = do_login(f"desk-{clinic.slug}@example.com", PASSWORD, now=NOW, engine=engine).token
    return clinic, owner_token, desk_token, desk_id


def test_staff_page_lists_for_the_owner_and_deactivates(engine, owner_engine, app_settings):
    clinic, owner_token, desk_token, desk_id = _people(engine, owner_engine)
    state = state_for(StaffPageState, owner_token)
    run(call(StaffPageState.load, state))
    assert state.allowed and not state.not_found
    assert [r.name for r in state.rows] == ["Dana Desk", "Olive Owner"]
    assert state.org_name == "Test Clinic"
    run(call(StaffPageState.act, state, desk_id, "deactivate"))
    assert state.message == "Dana Desk was deactivated and signed out" and state.error == ""
    assert [r.active for r in state.rows] == [True, False]  # active ones first
    assert actor_for_token(desk_token, now=NOW, engine=engine) is None
    run(call(StaffPageState.act, state, desk_id, "drop_tables"))  # unknown action: nothing
    assert state.message == "Dana Desk was deactivated and signed out"


def test_staff_page_shows_nothing_to_a_front_desk_and_another_clinics_ids_do_nothing(engine, owner_engine,
                                                                                     app_settings):
    clinic, owner_token, desk_token, desk_id = _people(engine, owner_engine)
    other, other_owner, _, other_desk = _people(engine, owner_engine)
    desk = state_for(StaffPageState, desk_token)
    run(call(StaffPageState.load, desk))
    assert desk.not_found and not desk.allowed and desk.rows == []
    run(call(StaffPageState.act, desk, desk_id, "deactivate"))
    assert desk.rows == [] and desk.message == ""
    owner = state_for(StaffPageState, owner_token)
    run(call(StaffPageState.load, owner))
    run(call(StaffPageState.act, owner, other_desk, "deactivate"))  # not on this clinic's list
    assert owner.message == ""
    with other.session() as s:
        assert s.get(UserAccount, other_desk).active


def test_account_page_status_password_check_and_sign_out_everywhere(engine, owner_engine, app_settings):
    clinic, _, desk_token, _ = _people(engine, owner_engine)
    state = state_for(AccountState, desk_token)
    run(call(AccountState.load, state))
    assert state.ready and not state.tf_enabled and not state.tf_required and state.codes_left == 0
    run(call(AccountState.change_password, state, {"current_password": PASSWORD, "new_password": "one long phrase",
                                                   "new_password_again": "another phrase"}))
    assert state.pw_error_new == "The two new passwords are not the same"
    run(call(AccountState.change_password, state, {"current_password": "not it", "new_password": "one long phrase",
                                                   "new_password_again": "one long phrase"}))
    assert state.pw_error_current == "Your current password is not right"
    run(call(AccountState.start_enrolment, state))
    assert state.qr_src.startswith("data:image/svg+xml;base64,") and len(state.manual_key.replace(" ", "")) == 32
    run(call(AccountState.confirm_enrolment, state, {"code": "000000x"}))
    assert state.tf_error == "That code is not right; enter the current 6-digit code"
    redirect = run(call(AccountState.sign_out_everywhere, state))
    assert redirect is not None and not state.ready
    assert actor_for_token(desk_token, now=NOW, engine=engine) is None


def test_signed_out_tabs_go_to_login(engine, owner_engine, app_settings):
    for cls in (AccountState, StaffPageState):
        state = state_for(cls, "forged-token")
        assert run(call(cls.load, state)) is not None
        assert state.staff_name == "" and getattr(state, "rows", []) == []


def test_landing_page_lists_the_clinics(engine, owner_engine, app_settings):
    """Its own listed clinic, not another test's: run alone it found none (clinics are unlisted
    until they choose to be)."""
    from sqlmodel import Session

    from medspa.domain.practice.models import Organization

    clinic = build_clinic(engine, owner_engine)
    with Session(owner_engine) as s:
        org = s.get(Organization, clinic.org_id)
        org.listed = True
        s.add(org)
        s.commit()
    state = state_for(HomeState, None)
    run(call(HomeState.load, state))
    assert state.clinics and all(c.slug and c.name for c in state.clinics)  # the 12 oldest, public facts only
