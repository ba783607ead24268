"""Open holds per network and per client: a slot held while its client pays (3-D Secure can
keep it for the whole hold) is capacity nobody else can book, so one IP address or one email
may hold only a few at once (Settings.max_open_holds_per_ip / _per_client). The hold's IP is
the one in its audit row (appointment.hold), so nothing new is stored about visitors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, cast, func, text
from sqlmodel import Session, select

from medspa.domain.audit.models import AuditEvent
from medspa.domain.identity.actor import Actor
from medspa.domain.ratelimits import RateLimited, wait_words
from medspa.domain.clients.models import Client
from medspa.domain.scheduling.models import Appointment, AppointmentStatus


@dataclass(frozen=True)
class HoldCaps:
    """Slots one IP address / one client email may hold at once while paying (0: no cap);
    from Settings.max_open_holds_per_ip / max_open_holds_per_client."""

    per_ip: int = 0
    per_client: int = 0


@dataclass(frozen=True)
class OpenHolds:
    """Holds still running at `now`: how many, and the earliest instant one of them lapses
    (aware UTC; None when there is none)."""

    count: int
    first_lapse: datetime | None


def _open(session: Session, stmt, now: datetime, exclude_id: int | None) -> OpenHolds:
    stmt = stmt.where(Appointment.status == AppointmentStatus.HELD, Appointment.hold_expires_at > now)
    if exclude_id is not None:
        stmt = stmt.where(Appointment.id != exclude_id)
    count, first = session.exec(stmt).one()
    return OpenHolds(int(count or 0), first)


def open_holds_from_ip(session: Session, ip: str, now: datetime, *, exclude_id: int | None = None) -> OpenHolds:
    """The session's clinic's running holds made from `ip` (their appointment.hold audit row),
    except `exclude_id` (the hold a retry reuses: it does not count twice)."""
    stmt = (select(func.count(func.distinct(Appointment.id)), func.min(Appointment.hold_expires_at))
            .select_from(Appointment)
            .join(AuditEvent, (AuditEvent.object_type == "appointment")
                  & (AuditEvent.object_id == cast(Appointment.id, String))
                  & (AuditEvent.action == "appointment.hold"))
            .where(AuditEvent.ip == ip))
    return _open(session, stmt, now, exclude_id)


def open_holds_for_email(session: Session, email: str, now: datetime, *,
                         exclude_id: int | None = None) -> OpenHolds:
    """The session's clinic's running holds of the client(s) with `email` (lower-cased),
    except `exclude_id`."""
    stmt = (select(func.count(Appointment.id), func.min(Appointment.hold_expires_at)).select_from(Appointment)
            .join(Client, Client.id == Appointment.client_id).where(Client.email == email.strip().lower()))
    return _open(session, stmt, now, exclude_id)


def _refuse_full(holds: OpenHolds, cap: int, now: datetime, who: str) -> None:
    if cap and holds.count >= cap:
        wait = max(1, int((holds.first_lapse - now).total_seconds())) if holds.first_lapse else 60
        raise RateLimited(f"{who} already holds {holds.count} time{'s' if holds.count != 1 else ''} while paying. "
                          f"Finish or cancel one, or try again in {wait_words(wait)}.", wait)


def refuse_excess_holds(session: Session, actor: Actor, caps: HoldCaps | None, *, email: str, now: datetime,
                        keep_hold_id: int | None = None) -> None:
    """In the transaction that is about to hold a slot for an anonymous visitor: raise
    RateLimited (the wait: until the earliest of their holds lapses) when actor.ip or `email`
    already holds `caps` slots (the hold `keep_hold_id`, reused or replaced, not counted).
    Transaction-scoped advisory locks on (clinic, IP) then (clinic, email) serialise
    concurrent requests of one visitor, so a burst cannot slip past the cap. No cap without
    `caps`; no IP cap without an IP (internal callers)."""
    if caps is None:
        return
    email = email.strip().lower()
    checks = []
    if caps.per_ip and actor.ip:
        checks.append(("ip", actor.ip))
    if caps.per_client and email:
        checks.append(("email", email))
    for kind, value in checks:  # always IP before email: no two requests wait on each other crosswise
        session.exec(text("select pg_advisory_xact_lock(hashtextextended(:key, 0))")
                     .bindparams(key=f"holds|{actor.org_id}|{kind}|{value}"))
    for kind, value in checks:
        if kind == "ip":
            _refuse_full(open_holds_from_ip(session, value, now, exclude_id=keep_hold_id), caps.per_ip, now,
                         "Your network")
        else:
            _refuse_full(open_holds_for_email(session, value, now, exclude_id=keep_hold_id), caps.per_client, now,
                         "This email address")
