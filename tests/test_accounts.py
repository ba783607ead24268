"""Staff accounts (issue 4 part 1): password rule, TOTP two-factor with recovery codes,
sessions and deactivation, failed-login slow-down and lock, password reset."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import text
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.db import tenant_session
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.credentials import ResetLinkInvalid, change_password
from medspa.domain.identity.lockout import AccountLocked, locked_until_of
from medspa.domain.identity.signin import InvalidCode, SecondFactorRequired
from medspa.domain.identity.staff_admin import (
    deactivate_user,
    reactivate_user,
    revoke_user_sessions,
    sign_out_everywhere,
    unlock_user,
)
from medspa.domain.identity.two_factor import (
    begin_totp_enrolment,
    confirm_totp_enrolment,
    regenerate_recovery_codes,
    reset_two_factor,
    set_two_factor_required,
    two_factor_status,
)
from medspa.domain.identity.actions import (
    actor_for_token,
    do_begin_login,
    do_complete_login,
    do_confirm_enrolment,
    do_login,
    do_request_password_reset,
    do_reset_password,
    do_start_enrolment,
)
from medspa.domain.identity.actor import Actor, PermissionDenied
from medspa.domain.identity.models import UserAccount
from medspa.domain.identity.passwords import WeakPassword, check_password_strength
from medspa.domain.identity.lockout import LoginFailed
from medspa.domain.identity.service import create_user
from medspa.domain.messaging.models import OutboxMessage
from tests.conftest import utc
from tests.factories import build_clinic

T0 = utc(2026, 7, 1, 12, 0, 0)  # a multiple of 30 s: TOTP steps start here
PW = "violet kettle harbour"


@pytest.fixture
def clinic(engine, owner_engine):
    return build_clinic(engine, owner_engine)


def _user(clinic, role: str, name: str | None = None, password: str = PW) -> tuple[str, int]:
    email = f"{name or role}-{clinic.slug}@example.com"
    with clinic.session() as s:
        user = create_user(s, clinic.system, email=email, password=password, role=role, display_name=name or role)
        s.commit()
        return email, user.id


def _actor(clinic, role: str, user_id: int) -> Actor:
    return Actor(org_id=clinic.org_id, role=role, user_id=user_id, label=role)


def _actions(clinic, user_id: int) -> list[str]:
    with clinic.session() as s:
        return [a for (a,) in s.execute(text(
            "select action from audit_event where object_type = 'user_account' and object_id = :u order by id"),
            {"u": str(user_id)})]


def _account(clinic, user_id: int) -> UserAccount:
    with clinic.session() as s:
        return s.get(UserAccount, user_id)


def _enrol_owner(engine, clinic, now=T0) -> tuple[str, int, str, list[str]]:
    """An owner account with confirmed TOTP; returns (email, id, base32 secret, recovery codes)."""
    email, uid = _user(clinic, "owner")
    result = do_begin_login(email, PW, now=now, engine=engine)
    enrolment = do_start_enrolment(result.challenge, now=now, engine=engine)
    done = do_confirm_enrolment(result.challenge, pyotp.TOTP(enrolment.manual_key).at(now), now=now, engine=engine)
    return email, uid, enrolment.manual_key, done.recovery_codes


# --- password rule ---------------------------------------------------------------------

@pytest.mark.parametrize("password, email, message", [
    ("short pass1", "a@x.com", "Use at least 12 characters (a few unrelated words work well)"),
    ("Password1234", "a@x.com", "This password is too common; choose something harder to guess"),
    (" qwerty123456 ", "a@x.com", "This password is too common; choose something harder to guess"),
    ("my-Jane.Doe-secret!", "jane.doe@clinic.com", "The password must not contain your email name"),
])
def test_password_rule_refuses_with_a_clear_message(password, email, message):
    with pytest.raises(WeakPassword) as err:
        check_password_strength(password, email)
    assert err.value.fields == {"password": message}


def test_password_rule_accepts_long_unusual_passwords():
    check_password_strength("violet kettle harbour", "jane.doe@clinic.com")
    check_password_strength("x" * 12, "jo@clinic.com")  # a 2-letter local part is not checked


def test_create_user_applies_the_password_rule(clinic):
    with clinic.session() as s, pytest.raises(WeakPassword):
        create_user(s, clinic.system, email=f"weak-{clinic.slug}@example.com", password="password1234",
                    role="front_desk")
    with clinic.session() as s:
        assert s.exec(select(UserAccount)).all() == []


# --- two-factor --------------------------------------------------------------------------

def test_front_desk_signs_in_in_one_step(engine, clinic):
    email, uid = _user(clinic, "front_desk")
    result = do_begin_login(email, PW, now=T0, engine=engine)
    assert result.status == "signed_in" and result.challenge is None
    assert actor_for_token(result.signed_in.token, now=T0, engine=engine).user_id == uid
    assert do_login(email, PW, now=T0, engine=engine).actor.role == "front_desk"  # the one-step API still works


@pytest.mark.parametrize("role", ["owner", "manager", "provider"])
def test_roles_needing_2fa_must_enrol_before_a_session(engine, clinic, role):
    email, uid = _user(clinic, role)
    result = do_begin_login(email, PW, now=T0, engine=engine)
    assert (result.status, result.signed_in) == ("enrolment_required", None)
    assert len(result.challenge) > 30
    with pytest.raises(SecondFactorRequired) as err:
        do_login(email, PW, now=T0, engine=engine)
    assert err.value.status == "enrolment_required" and isinstance(err.value, LoginFailed)
    with clinic.session() as s:
        assert s.execute(text("select count(*) from user_session")).scalar() == 0


def test_forced_enrolment_qr_confirmation_and_recovery_codes(engine, clinic):
    email, uid = _user(clinic, "owner")
    challenge = do_begin_login(email, PW, now=T0, engine=engine).challenge
    enrolment = do_start_enrolment(challenge, now=T0, engine=engine)
    assert re.fullmatch(r"[A-Z2-7]{32}", enrolment.manual_key)
    assert enrolment.provisioning_uri.startswith("otpauth://totp/Test%20Clinic:")
    assert f"secret={enrolment.manual_key}" in enrolment.provisioning_uri
    assert "issuer=Test%20Clinic" in enrolment.provisioning_uri
    assert enrolment.qr_svg.startswith("<svg") and enrolment.qr_svg.rstrip().endswith("</svg>")
    stored = _account(clinic, uid)
    assert stored.totp_secret_enc and enrolment.manual_key not in stored.totp_secret_enc
    assert stored.totp_confirmed_at is None

    with pytest.raises(InvalidCode):
        do_confirm_enrolment(challenge, "000000" if pyotp.TOTP(enrolment.manual_key).at(T0) != "000000"
                          else "111111", now=T0, engine=engine)
    done = do_confirm_enrolment(challenge, pyotp.TOTP(enrolment.manual_key).at(T0), now=T0, engine=engine)
    assert actor_for_token(done.signed_in.token, now=T0, engine=engine).role == "owner"
    codes = done.recovery_codes
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", c) for c in codes)
    with clinic.session() as s:
        hashes = [h for (h,) in s.execute(text("select code_hash from user_recovery_code where used_at is null"))]
    assert len(hashes) == 10 and all(h.startswith("$argon2id$") for h in hashes)
    assert not set(codes) & set(hashes)
    account = _account(clinic, uid)
    assert account.totp_confirmed_at == T0 and account.failed_login_count == 0  # the wrong code was reset
    with pytest.raises(InvalidCode):  # the challenge is single-use
        do_start_enrolment(challenge, now=T0, engine=engine)
    assert _actions(clinic, uid) == ["user.create", "auth.password_ok", "auth.2fa_enrolment_started",
                                     "auth.2fa_failed", "auth.2fa_enabled", "auth.login"]


def test_totp_login_window_and_no_replay(engine, clinic):
    email, uid, secret, _ = _enrol_owner(engine, clinic)  # accepted step: T0
    totp = pyotp.TOTP(secret)
    clock = FixedClock(T0 + timedelta(minutes=5))
    now = clock.now()

    result = do_begin_login(email, PW, now=now, engine=engine)
    assert result.status == "totp_required"
    with pytest.raises(SecondFactorRequired):
        do_login(email, PW, now=now, engine=engine)
    with pytest.raises(InvalidCode):  # two steps ahead: outside the ±1 window
        do_complete_login(result.challenge, totp.at(now + timedelta(seconds=60)), now=now, engine=engine)
    one_behind = totp.at(now - timedelta(seconds=30))
    signed = do_complete_login(result.challenge, one_behind, now=now, engine=engine)
    assert actor_for_token(signed.token, now=now, engine=engine).user_id == uid

    second = do_begin_login(email, PW, now=now, engine=engine).challenge
    with pytest.raises(InvalidCode):  # the same code again, still within its window: replay refused
        do_complete_login(second, totp.at(now - timedelta(seconds=30)), now=now, engine=engine)
    with pytest.raises(InvalidCode):  # an older step than the last accepted one: refused too
        do_complete_login(second, totp.at(now - timedelta(seconds=60)), now=now + timedelta(seconds=-30), engine=engine)
    assert do_complete_login(second, totp.at(now), now=now, engine=engine).actor.role == "owner"
    with pytest.raises(InvalidCode):  # the challenge was spent
        do_complete_login(second, totp.at(now + timedelta(seconds=30)), now=now, engine=engine)
    with pytest.raises(InvalidCode):
        do_complete_login("forged", totp.at(now), now=now, engine=engine)
    clock.advance(minutes=11)
    expired = do_begin_login(email, PW, now=now, engine=engine).challenge
    with pytest.raises(InvalidCode):  # challenges last 10 minutes
        do_complete_login(expired, totp.at(clock.now()), now=clock.now(), engine=engine)


def test_recovery_code_works_once(engine, clinic):
    email, uid, _, codes = _enrol_owner(engine, clinic)
    now = T0 + timedelta(hours=1)
    challenge = do_begin_login(email, PW, now=now, engine=engine).challenge
    signed = do_complete_login(challenge, codes[3].upper().replace("-", " "), now=now, engine=engine)
    assert signed.actor.user_id == uid
    challenge = do_begin_login(email, PW, now=now, engine=engine).challenge
    with pytest.raises(InvalidCode):
        do_complete_login(challenge, codes[3], now=now, engine=engine)
    assert do_complete_login(challenge, codes[4], now=now, engine=engine).actor.user_id == uid
    with clinic.session() as s:
        status = two_factor_status(s, _actor(clinic, "owner", uid))
    assert status == {"enabled": True, "required": True, "recovery_codes_left": 8}
    assert _actions(clinic, uid)[-7:] == ["auth.password_ok", "auth.recovery_code_used", "auth.login",
                                          "auth.password_ok", "auth.2fa_failed", "auth.recovery_code_used",
                                          "auth.login"]


def test_optional_2fa_for_front_desk_and_regenerated_codes(engine, clinic):
    email, uid = _user(clinic, "front_desk")
    desk = _actor(clinic, "front_desk", uid)
    with clinic.session() as s:
        enrolment = begin_totp_enrolment(s, desk, now=T0)
        s.commit()
    with clinic.session() as s, pytest.raises(ValidationFailed):
        confirm_totp_enrolment(s, desk, "12345", now=T0)
    with clinic.session() as s:
        codes = confirm_totp_enrolment(s, desk, pyotp.TOTP(enrolment.manual_key).at(T0), now=T0)
        s.commit()
    assert len(codes) == 10
    with clinic.session() as s, pytest.raises(ValidationFailed):
        begin_totp_enrolment(s, desk, now=T0)  # already set up: the secret is not shown again
    now = T0 + timedelta(minutes=2)
    assert do_begin_login(email, PW, now=now, engine=engine).status == "totp_required"
    with clinic.session() as s:
        fresh = regenerate_recovery_codes(s, desk, pyotp.TOTP(enrolment.manual_key).at(now), now=now)
        s.commit()
    challenge = do_begin_login(email, PW, now=now, engine=engine).challenge
    with pytest.raises(InvalidCode):  # old codes stopped working
        do_complete_login(challenge, codes[0], now=now, engine=engine)
    assert do_complete_login(challenge, fresh[0], now=now, engine=engine).actor.user_id == uid


def test_owner_requires_2fa_for_a_staff_account_and_resets_a_lost_one(engine, clinic):
    email, uid = _user(clinic, "front_desk")
    _, owner_id = _user(clinic, "owner")
    owner = _actor(clinic, "owner", owner_id)
    with clinic.session() as s, pytest.raises(PermissionDenied):
        set_two_factor_required(s, _actor(clinic, "manager", 999), uid, True, now=T0)
    with clinic.session() as s:
        set_two_factor_required(s, owner, uid, True, now=T0)
        s.commit()
    result = do_begin_login(email, PW, now=T0, engine=engine)
    assert result.status == "enrolment_required"
    enrolment = do_start_enrolment(result.challenge, now=T0, engine=engine)
    done = do_confirm_enrolment(result.challenge, pyotp.TOTP(enrolment.manual_key).at(T0), now=T0, engine=engine)
    with clinic.session() as s:
        reset_two_factor(s, owner, uid, now=T0)
        s.commit()
    assert actor_for_token(done.signed_in.token, now=T0, engine=engine) is None  # sessions revoked
    assert do_begin_login(email, PW, now=T0, engine=engine).status == "enrolment_required"
    with clinic.session() as s:
        set_two_factor_required(s, owner, uid, False, now=T0)
        s.commit()
    assert do_begin_login(email, PW, now=T0, engine=engine).status == "signed_in"
    assert "user.require_2fa" in _actions(clinic, uid) and "auth.2fa_reset" in _actions(clinic, uid)


# --- sessions and deactivation ----------------------------------------------------------

def test_sign_out_everywhere_and_owner_revokes_sessions(engine, clinic):
    email, uid = _user(clinic, "front_desk")
    _, owner_id = _user(clinic, "owner")
    a, b = (do_login(email, PW, now=T0, engine=engine).token for _ in range(2))
    with clinic.session() as s:
        assert sign_out_everywhere(s, _actor(clinic, "front_desk", uid), now=T0) == 2
        s.commit()
    assert actor_for_token(a, now=T0, engine=engine) is None and actor_for_token(b, now=T0, engine=engine) is None
    c = do_login(email, PW, now=T0, engine=engine).token
    with clinic.session() as s, pytest.raises(PermissionDenied):
        revoke_user_sessions(s, _actor(clinic, "front_desk", uid), uid, now=T0)
    with clinic.session() as s:
        assert revoke_user_sessions(s, _actor(clinic, "owner", owner_id), uid, now=T0) == 1
        s.commit()
    assert actor_for_token(c, now=T0, engine=engine) is None
    assert _actions(clinic, uid)[-2:] == ["auth.login", "auth.sessions_revoked"]
    assert "auth.sign_out_everywhere" in _actions(clinic, uid)


def test_owner_deactivates_an_account_and_history_stays(engine, clinic):
    email, uid = _user(clinic, "front_desk")
    _, owner_id = _user(clinic, "owner")
    owner = _actor(clinic, "owner", owner_id)
    token = do_login(email, PW, now=T0, engine=engine).token
    with clinic.session() as s, pytest.raises(PermissionDenied):
        deactivate_user(s, _actor(clinic, "manager", 1), uid, now=T0)
    with clinic.session() as s, pytest.raises(ValidationFailed):
        deactivate_user(s, owner, owner_id, now=T0)
    with clinic.session() as s:
        deactivate_user(s, owner, uid, now=T0)
        s.commit()
    account = _account(clinic, uid)
    assert (account.active, account.deactivated_at, account.email) == (False, T0, email)
    assert actor_for_token(token, now=T0, engine=engine) is None
    with pytest.raises(LoginFailed) as err:
        do_begin_login(email, PW, now=T0, engine=engine)
    assert type(err.value) is LoginFailed  # looks like a wrong password
    with pytest.raises(ResetLinkInvalid):
        do_reset_password("nothing", "another long password", now=T0, engine=engine)
    assert _actions(clinic, uid) == ["user.create", "auth.login", "user.deactivate"]
    with clinic.session() as s:
        reactivate_user(s, owner, uid, now=T0)
        s.commit()
    assert do_begin_login(email, PW, now=T0, engine=engine).status == "signed_in"


def test_owner_actions_cannot_reach_another_clinic(engine, owner_engine, clinic):
    other = build_clinic(engine, owner_engine)
    _, victim = _user(other, "front_desk")
    _, owner_id = _user(clinic, "owner")
    with clinic.session() as s, pytest.raises(NotFound):
        deactivate_user(s, _actor(clinic, "owner", owner_id), victim, now=T0)
    assert _account(other, victim).active is True


# --- failed logins ----------------------------------------------------------------------

def test_slow_down_then_lock_then_unlock_after_15_minutes(engine, clinic):
    email, uid = _user(clinic, "front_desk")
    clock = FixedClock(T0)
    hints = []
    for _ in range(4):
        with pytest.raises(LoginFailed) as err:
            do_begin_login(email, "wrong password!", now=clock.now(), engine=engine)
        hints.append(err.value.retry_after)
        if err.value.retry_after:  # the slow-down is enforced: even the right password waits
            clock.advance(seconds=err.value.retry_after - 1)
            with pytest.raises(LoginFailed) as early:
                do_begin_login(email, PW, now=clock.now(), engine=engine)
            assert early.value.retry_after == 1 and not isinstance(early.value, AccountLocked)
        clock.advance(seconds=5)
    assert hints == [0, 0, 30, 60]
    with pytest.raises(AccountLocked) as err:
        do_begin_login(email, "wrong password!", now=clock.now(), engine=engine)
    assert err.value.retry_after == 900
    locked_at = clock.now()
    with clinic.session() as s:  # the owner's staff list shows the lock
        assert locked_until_of(s, email, clock.now()) == locked_at + timedelta(minutes=15)
    clock.advance(minutes=14, seconds=59)
    with pytest.raises(AccountLocked) as err:  # even the right password
        do_begin_login(email, PW, now=clock.now(), engine=engine)
    assert err.value.retry_after == 1
    clock.advance(seconds=1)
    assert do_begin_login(email, PW, now=clock.now(), engine=engine).status == "signed_in"
    account = _account(clinic, uid)
    assert (account.failed_login_count, account.locked_until) == (0, None)
    assert _actions(clinic, uid) == ["user.create"] + ["auth.login_failed"] * 3 + ["auth.login_throttled"] + [
        "auth.login_failed", "auth.login_throttled", "auth.login_failed",
        "auth.locked", "auth.login_refused_locked", "auth.unlocked", "auth.login"]
    with clinic.session() as s:
        detail = s.execute(text("select detail from audit_event where action = 'auth.locked'")).scalar()
    assert detail == {"failures": 5, "until": (locked_at + timedelta(minutes=15)).isoformat()}


def test_success_resets_the_failure_count(engine, clinic):
    email, uid = _user(clinic, "front_desk")
    clock = FixedClock(T0)
    for _ in range(4):
        with pytest.raises(LoginFailed):
            do_begin_login(email, "wrong password!", now=clock.now(), engine=engine)
        clock.advance(seconds=61)  # past each enforced slow-down
    do_begin_login(email, PW, now=clock.now(), engine=engine)
    assert _account(clinic, uid).throttled_until is None
    with pytest.raises(LoginFailed) as err:
        do_begin_login(email, "wrong password!", now=clock.now(), engine=engine)
    assert err.value.retry_after == 0 and not isinstance(err.value, AccountLocked)
    assert _account(clinic, uid).failed_login_count == 1


def test_wrong_totp_codes_count_toward_the_lock_and_owner_unlocks(engine, clinic):
    email, uid, secret, _ = _enrol_owner(engine, clinic)
    clock = FixedClock(T0 + timedelta(minutes=10))
    challenge = do_begin_login(email, PW, now=clock.now(), engine=engine).challenge
    totp = pyotp.TOTP(secret)
    for _ in range(4):
        bad = "000000" if totp.at(clock.now()) != "000000" else "111111"
        with pytest.raises(InvalidCode):
            do_complete_login(challenge, bad, now=clock.now(), engine=engine)
        clock.advance(seconds=61)  # past the enforced slow-down
    now = clock.now()
    bad = "000000" if totp.at(now) != "000000" else "111111"
    with pytest.raises(AccountLocked):
        do_complete_login(challenge, bad, now=now, engine=engine)
    with pytest.raises(AccountLocked):  # the right code is refused while locked
        do_complete_login(challenge, pyotp.TOTP(secret).at(now), now=now, engine=engine)
    _, other_owner = _user(clinic, "owner", name="boss")
    with clinic.session() as s:
        unlock_user(s, _actor(clinic, "owner", other_owner), uid, now=now)
        s.commit()
    assert do_complete_login(challenge, pyotp.TOTP(secret).at(now), now=now, engine=engine).actor.user_id == uid
    assert _actions(clinic, uid).count("auth.unlocked") == 1


# --- passwords --------------------------------------------------------------------------

def _reset_token(clinic, to: str) -> str:
    with clinic.session() as s:
        bodies = s.exec(select(OutboxMessage.body).where(OutboxMessage.to_address == to,
                                                         OutboxMessage.kind == "password_reset")
                        .order_by(OutboxMessage.id)).all()
    return re.search(r"/reset-password\?token=(\S+)", bodies[-1]).group(1)


def test_password_reset_link_single_use_and_revokes_sessions(engine, clinic):
    email, uid = _user(clinic, "front_desk")
    old_session = do_login(email, PW, now=T0, engine=engine).token
    assert do_request_password_reset(email.upper(), now=T0, base_url="https://spa.example/", engine=engine) is None
    assert do_request_password_reset(f"nobody-{clinic.slug}@example.com", now=T0,
                                  base_url="https://spa.example", engine=engine) is None  # identical answer
    with clinic.session() as s:
        msgs = s.exec(select(OutboxMessage).where(OutboxMessage.kind == "password_reset")).all()
        stored = s.execute(text("select token_hash, expires_at from password_reset_token")).all()
    assert [(m.channel, m.to_address) for m in msgs] == [("email", email)]
    token = _reset_token(clinic, email)
    assert "https://spa.example/reset-password?token=" in msgs[0].body
    # the link is in the body only: the outbox page lists subjects (a reset email's subject names no secret)
    assert token not in msgs[0].subject and "token" not in msgs[0].subject and "http" not in msgs[0].subject
    assert stored == [(hashlib.sha256(token.encode()).hexdigest(), T0 + timedelta(minutes=30))]
    assert msgs[0].dedupe_key.startswith("password-reset-")

    with pytest.raises(WeakPassword):  # the rule applies; the link stays usable
        do_reset_password(token, "short", now=T0 + timedelta(minutes=5), engine=engine)
    do_reset_password(token, "a brand new passphrase", now=T0 + timedelta(minutes=5), engine=engine)
    assert actor_for_token(old_session, now=T0 + timedelta(minutes=5), engine=engine) is None
    with pytest.raises(LoginFailed):
        do_begin_login(email, PW, now=T0 + timedelta(minutes=6), engine=engine)
    later = T0 + timedelta(minutes=6)
    assert do_begin_login(email, "a brand new passphrase", now=later, engine=engine).status == "signed_in"
    with pytest.raises(ResetLinkInvalid):
        do_reset_password(token, "yet another passphrase", now=T0 + timedelta(minutes=7), engine=engine)
    assert _actions(clinic, uid) == ["user.create", "auth.login", "auth.password_reset_requested",
                                     "auth.password_reset", "auth.login_failed", "auth.login"]
    assert _account(clinic, uid).password_changed_at == T0 + timedelta(minutes=5)


def test_password_reset_link_expires_and_a_new_one_replaces_it(engine, clinic):
    email, _ = _user(clinic, "front_desk")
    do_request_password_reset(email, now=T0, base_url="http://x", engine=engine)
    first = _reset_token(clinic, email)
    do_request_password_reset(email, now=T0 + timedelta(minutes=1), base_url="http://x", engine=engine)
    second = _reset_token(clinic, email)
    assert first != second
    with pytest.raises(ResetLinkInvalid):
        do_reset_password(first, "a brand new passphrase", now=T0 + timedelta(minutes=2), engine=engine)
    with pytest.raises(ResetLinkInvalid):
        do_reset_password(second, "a brand new passphrase", now=T0 + timedelta(minutes=31), engine=engine)
    with clinic.session() as s:
        keys = s.exec(select(OutboxMessage.dedupe_key).where(OutboxMessage.kind == "password_reset")).all()
    assert len(set(keys)) == 2


def test_change_password_keeps_this_session_and_revokes_the_others(engine, clinic):
    email, uid = _user(clinic, "front_desk")
    mine, other = (do_login(email, PW, now=T0, engine=engine).token for _ in range(2))
    desk = _actor(clinic, "front_desk", uid)
    with clinic.session() as s, pytest.raises(ValidationFailed) as err:
        change_password(s, desk, "not it", "a brand new passphrase", now=T0, keep_token=mine)
    assert err.value.fields == {"current_password": "Your current password is not right"}
    with clinic.session() as s, pytest.raises(WeakPassword):
        change_password(s, desk, PW, f"front_desk-{clinic.slug}!!", now=T0, keep_token=mine)
    with clinic.session() as s:
        assert change_password(s, desk, PW, "a brand new passphrase", now=T0, keep_token=mine) == 1
        s.commit()
    assert actor_for_token(mine, now=T0, engine=engine).user_id == uid
    assert actor_for_token(other, now=T0, engine=engine) is None
    assert do_login(email, "a brand new passphrase", now=T0, engine=engine).actor.user_id == uid


def test_new_tables_are_tenant_isolated(engine, owner_engine, clinic):
    _enrol_owner(engine, clinic)
    with tenant_session(None, engine) as s:
        for table in ("user_recovery_code", "login_challenge", "password_reset_token"):
            assert s.execute(text(f"select count(*) from {table}")).scalar() == 0
    other = build_clinic(engine, owner_engine)
    with tenant_session(other.org_id, engine) as s:
        assert s.execute(text("select count(*) from user_recovery_code")).scalar() == 0
    with clinic.session() as s:
        assert s.execute(text("select count(*) from user_recovery_code")).scalar() == 10
