"""Failed sign-ins: the slow-down, the lock and their exceptions (issue 12: keyed per
address AND network, so a stranger who knows the owner's address cannot keep her out, and
unknown addresses answer exactly like known ones).

Failed passwords and failed codes count together per (email, IP) pair in a SignInGuard row
(hashes only): after SLOW_DOWN_AFTER (3) consecutive failures of the pair no attempt is even
checked before `throttled_until` (retry_after hints 30, 60, ... seconds); the LOCK_AFTER-th
(5th) locks the PAIR for LOCK_DURATION: the same address from another network still signs in.
Rows are kept for unknown addresses too, so "try again in 30 seconds" tells nothing about
whether an account exists. Known accounts also count on their own row (failed_login_count,
shown to the owner) and are audited: auth.login_failed / auth.2fa_failed, auth.locked,
auth.unlocked, auth.login_refused_locked, auth.login_throttled. A full sign-in clears its
pair (sessions.open_session); the owner's unlock and a password reset clear every pair of
the address (clear_failures). Every failed sign-in from one network (IPv4 address, IPv6 /64: ratelimits.network_key, also
the network of a pair here) is also counted by Settings.limit_sign_in_per_ip
(medspa.domain.ratelimits; TooManyAttempts); successful ones are not.

A refused attempt must keep what it recorded (the counts, the lock, the audit rows) although
it raises: the functions here never commit; the sign-in actions commit before re-raising a
LoginFailed (actions/signin.py).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import hashlib

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.identity.actor import Actor
from medspa.domain.identity.models import SignInGuard, UserAccount
from medspa.domain.identity.passwords import spend_time
from medspa.domain.ratelimits import network_key

SLOW_DOWN_AFTER = 3          # failures before retry_after hints start
LOCK_AFTER = 5               # consecutive failures that lock the account
LOCK_DURATION = timedelta(minutes=15)


class LoginFailed(Exception):
    """Wrong email or password (one message for both, so accounts cannot be probed).

    retry_after: seconds the UI should ask the user to wait before trying again (0: none;
    set after 3 consecutive failures of one account). Subclasses: AccountLocked,
    signin.SecondFactorRequired, signin.InvalidCode."""

    def __init__(self, message: str = "", *, retry_after: int = 0):
        super().__init__(message)
        self.retry_after = retry_after


class AccountLocked(LoginFailed):
    """Too many failed attempts for this address from this network: every sign-in of the pair
    is refused until locked_until (retry_after: whole seconds left)."""

    def __init__(self, locked_until: datetime, now: datetime):
        super().__init__("account locked", retry_after=max(1, int((locked_until - now).total_seconds() + 0.999)))
        self.locked_until = locked_until


class SlowedDown(LoginFailed):
    """An attempt refused unchecked during the slow-down after repeated failures of the
    address from this network (retry_after: whole seconds left): it says nothing about the
    password, so the message must not call it wrong."""


class TooManyAttempts(LoginFailed):
    """Too many sign-in attempts from one IP address, whatever the addresses tried
    (Settings.limit_sign_in_per_ip); `message` is safe to show, retry_after in seconds."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message, retry_after=retry_after)
        self.message = message


def retry_hint(failures: int) -> int:
    """Seconds to suggest waiting after `failures` consecutive failures: 0, then 30, 60, ..."""
    return 0 if failures < SLOW_DOWN_AFTER else 30 * (failures - SLOW_DOWN_AFTER + 1)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def guard_for(session: Session, email: str, ip: str, now: datetime) -> SignInGuard:
    """The locked SignInGuard of (lower-cased `email`, `ip`'s network: ratelimits.network_key,
    an IPv6 /64 is one network), created at 0 failures if new."""
    key = _sha(f"{email}|{network_key(ip)}")
    session.exec(insert(SignInGuard).values(key_hash=key, email_hash=_sha(email), failures=0, updated_at=now)
                 .on_conflict_do_nothing(index_elements=["key_hash"]))
    return session.exec(select(SignInGuard).where(SignInGuard.key_hash == key).with_for_update()).one()


def forget_pair(session: Session, email: str, ip: str) -> None:
    """A full sign-in: the failures of (email, ip) are forgotten."""
    session.exec(delete(SignInGuard).where(SignInGuard.key_hash == _sha(f"{email}|{network_key(ip)}")))


def clear_failures(session: Session, user: UserAccount) -> None:
    """Forget the failed attempts, slow-downs and locks of `user` from every network (owner's
    unlock, reactivation, password reset). The caller adds the row."""
    user.failed_login_count, user.throttled_until = 0, None
    user.locked_until = None
    session.exec(delete(SignInGuard).where(SignInGuard.email_hash == _sha(user.email)))


def locked_until_of(session: Session, email: str, now: datetime) -> datetime | None:
    """The latest lock still running on any network for `email` (the owner's staff list)."""
    return session.exec(select(SignInGuard.locked_until).where(
        SignInGuard.email_hash == _sha(email), SignInGuard.locked_until > now)
        .order_by(SignInGuard.locked_until.desc())).first()


def check_guard(session: Session, guard: SignInGuard, now: datetime, actor: Actor | None = None,
                user: UserAccount | None = None) -> None:
    """Refuse an attempt of a locked pair (AccountLocked; audited auth.login_refused_locked
    for a known `user`) or during its slow-down (LoginFailed with retry_after; not counted,
    audited auth.login_throttled; SlowedDown); a lock that ended is cleared (audited auth.unlocked). The
    same work is spent whether or not the account exists."""
    audit = actor is not None and user is not None
    if guard.locked_until is not None and now >= guard.locked_until:
        guard.failures, guard.throttled_until, guard.locked_until, guard.updated_at = 0, None, None, now
        session.add(guard)
        if audit:
            record(session, actor, "auth.unlocked", "user_account", user.id, at=now, reason="expired")
    if guard.locked_until is not None:
        spend_time()
        if audit:
            record(session, actor, "auth.login_refused_locked", "user_account", user.id, at=now)
        raise AccountLocked(guard.locked_until, now)
    if guard.throttled_until is not None and now < guard.throttled_until:
        spend_time()
        wait = math.ceil((guard.throttled_until - now).total_seconds())
        if audit:
            record(session, actor, "auth.login_throttled", "user_account", user.id, at=now, retry_after=wait)
        raise SlowedDown(retry_after=wait)


def count_failure(session: Session, guard: SignInGuard, now: datetime, actor: Actor | None = None,
                  user: UserAccount | None = None, action: str = "auth.login_failed",
                  exc: type[LoginFailed] = LoginFailed) -> LoginFailed:
    """Count one failed attempt of the pair (and of a known `user`: its count, audited
    `action`) and lock the pair at LOCK_AFTER; returns the exception to raise (AccountLocked,
    or `exc` with the retry_after hint)."""
    guard.failures += 1
    guard.updated_at = now
    if user is not None:
        user.failed_login_count += 1
        session.add(user)
        record(session, actor, action, "user_account", user.id, at=now, failures=guard.failures)
    if guard.failures >= LOCK_AFTER:
        guard.locked_until = now + LOCK_DURATION
        session.add(guard)
        if user is not None:
            record(session, actor, "auth.locked", "user_account", user.id, at=now,
                   failures=guard.failures, until=guard.locked_until.isoformat())
        return AccountLocked(guard.locked_until, now)
    hint = retry_hint(guard.failures)
    if hint:  # the slow-down is enforced: no attempt of the pair is even checked before this instant
        guard.throttled_until = now + timedelta(seconds=hint)
    session.add(guard)
    return exc(retry_after=hint)
