"""The account page's calls into the domain, one transaction each (run in a worker thread)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine

from medspa.db import tenant_session
from medspa.domain.identity import accounts
from medspa.domain.identity.actor import Actor


def status(engine: Engine, actor: Actor) -> dict:
    with tenant_session(actor.org_id, engine) as s:
        return accounts.two_factor_status(s, actor)


def start_enrolment(engine: Engine, actor: Actor, *, now: datetime) -> accounts.TotpEnrolment:
    with tenant_session(actor.org_id, engine) as s:
        enrolment = accounts.begin_totp_enrolment(s, actor, now=now)
        s.commit()
        return enrolment


def confirm_enrolment(engine: Engine, actor: Actor, code: str, *, now: datetime) -> list[str]:
    with tenant_session(actor.org_id, engine) as s:
        codes = accounts.confirm_totp_enrolment(s, actor, code, now=now)
        s.commit()
        return codes


def regenerate_codes(engine: Engine, actor: Actor, code: str, *, now: datetime) -> list[str]:
    with tenant_session(actor.org_id, engine) as s:
        codes = accounts.regenerate_recovery_codes(s, actor, code, now=now)
        s.commit()
        return codes


def change_password(engine: Engine, actor: Actor, current: str, new: str, *, now: datetime,
                    keep_token: str) -> int:
    with tenant_session(actor.org_id, engine) as s:
        revoked = accounts.change_password(s, actor, current, new, now=now, keep_token=keep_token)
        s.commit()
        return revoked


def sign_out_everywhere(engine: Engine, actor: Actor, *, now: datetime) -> int:
    with tenant_session(actor.org_id, engine) as s:
        revoked = accounts.sign_out_everywhere(s, actor, now=now)
        s.commit()
        return revoked
