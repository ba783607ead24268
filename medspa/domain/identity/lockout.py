"""Failed sign-ins: the slow-down, the lock and their exceptions.

Failed passwords and failed codes count together per account: after SLOW_DOWN_AFTER (3)
consecutive failures no attempt is even checked before `throttled_until` (retry_after hints
30, 60, ... seconds); the LOCK_AFTER-th (5th) locks the account for LOCK_DURATION (audited
"auth.locked"); the first attempt after the lock ends is audited "auth.unlocked". A full
sign-in resets the count (sessions.open_session).

A refused attempt must keep what it recorded (the count, the lock, the audit rows) although
it raises: the functions here never commit; the sign-in actions commit before re-raising a
LoginFailed (actions/signin.py).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlmodel import Session

from medspa.domain.audit.service import record
from medspa.domain.identity.actor import Actor
from medspa.domain.identity.models import UserAccount
from medspa.domain.identity.passwords import spend_time

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
    """Too many failed attempts: the account refuses every sign-in until locked_until
    (retry_after: whole seconds left)."""

    def __init__(self, locked_until: datetime, now: datetime):
        super().__init__("account locked", retry_after=max(1, int((locked_until - now).total_seconds() + 0.999)))
        self.locked_until = locked_until


def retry_hint(failures: int) -> int:
    """Seconds to suggest waiting after `failures` consecutive failures: 0, then 30, 60, ..."""
    return 0 if failures < SLOW_DOWN_AFTER else 30 * (failures - SLOW_DOWN_AFTER + 1)


def clear_failures(user: UserAccount) -> None:
    """Forget the failed attempts, the slow-down and the lock of `user` (caller adds the row)."""
    user.failed_login_count, user.throttled_until = 0, None
    user.locked_until = None


def check_lock(session: Session, user: UserAccount, now: datetime, actor: Actor) -> None:
    """Raise AccountLocked while locked (audited auth.login_refused_locked); after the lock
    ended, clear it (audited auth.unlocked): the unlock stays even when the attempt then fails."""
    if user.locked_until is None:
        return
    if now < user.locked_until:
        record(session, actor, "auth.login_refused_locked", "user_account", user.id, at=now)
        raise AccountLocked(user.locked_until, now)
    clear_failures(user)
    session.add(user)
    record(session, actor, "auth.unlocked", "user_account", user.id, at=now, reason="expired")


def check_throttle(session: Session, user: UserAccount, now: datetime, actor: Actor) -> None:
    """Refuse an attempt during the slow-down after repeated failures (LoginFailed with
    retry_after; not counted, audited auth.login_throttled)."""
    if user.throttled_until is not None and now < user.throttled_until:
        spend_time()
        wait = math.ceil((user.throttled_until - now).total_seconds())
        record(session, actor, "auth.login_throttled", "user_account", user.id, at=now, retry_after=wait)
        raise LoginFailed(retry_after=wait)


def count_failure(session: Session, user: UserAccount, now: datetime, actor: Actor, action: str,
                  exc: type[LoginFailed] = LoginFailed) -> LoginFailed:
    """Count one failed attempt (audited `action`) and lock at LOCK_AFTER; returns the
    exception to raise (AccountLocked, or `exc` with the retry_after hint)."""
    user.failed_login_count += 1
    record(session, actor, action, "user_account", user.id, at=now, failures=user.failed_login_count)
    if user.failed_login_count >= LOCK_AFTER:
        user.locked_until = now + LOCK_DURATION
        record(session, actor, "auth.locked", "user_account", user.id, at=now,
               failures=user.failed_login_count, until=user.locked_until.isoformat())
        session.add(user)
        return AccountLocked(user.locked_until, now)
    hint = retry_hint(user.failed_login_count)
    if hint:  # the slow-down is enforced: no attempt is even checked before this instant
        user.throttled_until = now + timedelta(seconds=hint)
    session.add(user)
    return exc(retry_after=hint)
