"""Who may read and change a medical history, and the overrides of flagged visits: the
services behind history_actions.py (they take a session and never commit).

Staff: history.read / history.write (provider and owner). A portal client: their own record
only (portal.self.read / portal.self.write, source "portal"). Every read of the history, its
versions or a flag's detail writes an audit_event row in the caller's transaction (action
"history.read", "history.versions.read", "history.flags.read"; a change "history.write" with the
sections changed, never the values). Missing and forbidden look alike (NotFound).

Overrides: booking or charting a visit the contraindications flag needs a reason
(`require_override`; a booking, single visit or recurring series, through
`require_booking_overrides`): the reason, the flags as shown, who and when are kept on a
health_override row per visit and audited ("health.override").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date

from sqlmodel import Session, select

from medspa.domain.clients.live import live_client
from medspa.domain.audit.service import record
from medspa.domain.clients.models import Client
from medspa.domain.clinical.contraindications import Flag, audit_flag_reads, flags_json, shown_flags, visit_flags
from medspa.domain.clinical.health_models import HealthOverride, MedicalHistoryVersion
from medspa.domain.clinical.medical_history import (SECTIONS, HistoryVersion, current_history, history_versions,
                                                    record_history)
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.models import Location
from medspa.domain.textrules import CONTROL_MESSAGE, has_control

REASON_MAX = 500
OVERRIDE_STAGES = ("booking", "chart")


class HealthFlagged(ValidationFailed):
    """A flagged visit without an override reason: `flags` in the actor's words (shown_flags);
    the field message is keyed "health_reason"."""

    def __init__(self, flags: list[str], message: str):
        super().__init__({"health_reason": message})
        self.flags = flags


@dataclass(frozen=True)
class HistoryView:
    """A client's current medical history: section -> value (shapes in medical_history), the
    sections ever recorded, and the last change: when (aware UTC; None never), by whom, and
    in words ("Last changed Dec 1, 2026 by Dr. Lee", the clinic's local date)."""

    client_id: int
    values: dict[str, Any]
    recorded: tuple[str, ...]
    last_change_at: datetime | None
    last_change_by: str
    last_change_label: str = "Nothing recorded yet"


def _staff_client(session: Session, actor: Actor, client_id: Any, action: str) -> Client:
    if not actor.can(action):
        raise NotFound("client")
    return live_client(session, client_id)


def _own_client(session: Session, actor: Actor, action: str) -> Client:
    if actor.role != "client" or not actor.can(action) or actor.client_id is None:
        raise NotFound("client")
    return live_client(session, actor.client_id)


def _view(session: Session, client_id: int) -> HistoryView:
    values = current_history(session, client_id)
    rows = session.exec(select(MedicalHistoryVersion.section).where(MedicalHistoryVersion.client_id == client_id)
                        .distinct()).all()
    last = session.exec(select(MedicalHistoryVersion.changed_at, MedicalHistoryVersion.by_label)
                        .where(MedicalHistoryVersion.client_id == client_id)
                        .order_by(MedicalHistoryVersion.changed_at.desc(), MedicalHistoryVersion.id.desc())).first()
    recorded = tuple(s for s in SECTIONS if s in set(rows))
    if last is None:
        return HistoryView(client_id, values, recorded, None, "")
    zone = session.exec(select(Location.time_zone).order_by(Location.id)).first() or "UTC"
    day = format_date(last[0].astimezone(ZoneInfo(zone)).date(), "medium", locale="en_US")
    return HistoryView(client_id, values, recorded, last[0], last[1], f"Last changed {day} by {last[1] or 'staff'}")


def read_history(session: Session, actor: Actor, client_id: int, now: datetime) -> HistoryView:
    """The client's current history for staff with history.read; one audited "history.read".
    Raises NotFound (no such client, merged away, another clinic's, or forbidden)."""
    client = _staff_client(session, actor, client_id, "history.read")
    view = _view(session, client.id)
    record(session, actor, "history.read", "client", client.id, client_id=client.id, at=now)
    return view


def read_versions(session: Session, actor: Actor, client_id: int, now: datetime,
                  section: str | None = None) -> list[HistoryVersion]:
    """Every change of the client's history, newest first (one section when given), for staff
    with history.read; one audited "history.versions.read". Raises NotFound, ValidationFailed
    (unknown section)."""
    client = _staff_client(session, actor, client_id, "history.read")
    zone = session.exec(select(Location.time_zone).order_by(Location.id)).first() or "UTC"
    out = history_versions(session, client.id, section, time_zone=zone)
    record(session, actor, "history.versions.read", "client", client.id, client_id=client.id, at=now,
           section=section or "all", rows=len(out))
    return out


def update_history(session: Session, actor: Actor, client_id: int, changes: dict[str, Any],
                   now: datetime) -> HistoryView:
    """Staff change sections of the history (history.write; source "staff"): a version per
    changed section, audited "history.write" with the sections (not the values). Raises
    NotFound, ValidationFailed (keys as medical_history.validate_section)."""
    client = _staff_client(session, actor, client_id, "history.write")
    changed = record_history(session, client.id, changes, by_user_id=actor.user_id, by_label=actor.label,
                             source="staff", now=now)
    if changed:
        record(session, actor, "history.write", "client", client.id, client_id=client.id, at=now,
               sections=changed, source="staff")
    return _view(session, client.id)


def read_own_history(session: Session, actor: Actor, now: datetime) -> HistoryView:
    """A portal client's own history (portal.self.read); audited "history.read". Raises NotFound."""
    client = _own_client(session, actor, "portal.self.read")
    view = _view(session, client.id)
    record(session, actor, "history.read", "client", client.id, client_id=client.id, at=now, source="portal")
    return view


def update_own_history(session: Session, actor: Actor, changes: dict[str, Any], now: datetime) -> HistoryView:
    """A portal client updates their own history (portal.self.write; source "portal"),
    audited "history.write". Raises NotFound, ValidationFailed."""
    client = _own_client(session, actor, "portal.self.write")
    changed = record_history(session, client.id, changes, by_user_id=None,
                             by_label=f"{client.first_name} {client.last_name} (portal)", source="portal", now=now)
    if changed:
        record(session, actor, "history.write", "client", client.id, client_id=client.id, at=now,
               sections=changed, source="portal")
    return _view(session, client.id)


# ---------------------------------------------------------------------------- flags


def _override_text(flags: list[Flag], actor: Actor, stage: str, reason: Any) -> str:
    """The reason as kept (spaces collapsed); raises HealthFlagged (the flags in the actor's
    words) when it is missing, longer than REASON_MAX characters or holds control characters
    (textcheck.has_control)."""
    text = " ".join(reason.split()) if isinstance(reason, str) else ""
    if not text:
        raise HealthFlagged(shown_flags(flags, actor), "A contraindication is flagged: give the reason to go ahead"
                            if stage == "booking" else "A contraindication is flagged: give your clinical reason "
                                                       "to sign")
    if len(text) > REASON_MAX:
        raise HealthFlagged(shown_flags(flags, actor), f"At most {REASON_MAX} characters")
    if has_control(text):  # NUL and the like (spaces already collapsed): a message, not a DataError
        raise HealthFlagged(shown_flags(flags, actor), CONTROL_MESSAGE)
    return text


def _keep_override(session: Session, actor: Actor, *, client_id: int, appointment_id: int, stage: str,
                   flags: list[Flag], text: str, now: datetime) -> HealthOverride:
    row = HealthOverride(org_id=actor.org_id, client_id=client_id, appointment_id=appointment_id, stage=stage,
                         reason=text, flags=flags_json(flags), by_user_id=actor.user_id, by_label=actor.label[:120],
                         created_at=now)
    session.add(row)
    session.flush()
    record(session, actor, "health.override", "appointment", appointment_id, client_id=client_id, at=now,
           stage=stage, flags=[f.code for f in flags], override_id=row.id)
    return row


def require_override(session: Session, actor: Actor, *, client_id: int, appointment_id: int, stage: str,
                     flags: list[Flag], reason: Any, now: datetime) -> HealthOverride | None:
    """Nothing without flags. With flags: a reason (1..REASON_MAX characters) is required and
    kept (health_override row + "health.override" audit); raises HealthFlagged without one.
    `stage`: "booking" or "chart". A booking checks through require_booking_overrides."""
    if stage not in OVERRIDE_STAGES:
        raise ValueError(stage)
    if not flags:
        return None
    text = _override_text(flags, actor, stage, reason)
    return _keep_override(session, actor, client_id=client_id, appointment_id=appointment_id, stage=stage,
                          flags=flags, text=text, now=now)


def require_booking_overrides(session: Session, actor: Actor, visits: list, reason: Any,
                              now: datetime) -> list[HealthOverride]:
    """THE contraindication check of a booking, in its transaction: `visits` are the
    Appointment rows it booked (flushed: ids set), one (a desk booking) or several (a recurring
    series). The flags of each (contraindications.visit_flags, batched); the detail shown to a
    history.read actor is audited ("history.flags.read", where "booking": one row per client
    with its number of flags). Without flags: nothing else, [] returned. With flags `reason`
    (1..REASON_MAX characters once spaces are collapsed) is required: raises HealthFlagged
    (every flagged visit's flags in the actor's words, each line once; field "health_reason")
    before any override is kept: the caller raises it out of its transaction, so nothing is
    booked.
    With it: one health_override row (stage "booking", that visit's own flags) and one
    "health.override" audit per flagged visit, returned in the order of `visits`."""
    flagged = visit_flags(session, visits)
    if not flagged:
        return []
    order = [v for v in visits if v.id in flagged]
    per_client: dict[int, int] = {}
    for v in order:
        per_client[v.client_id] = per_client.get(v.client_id, 0) + len(flagged[v.id])
    audit_flag_reads(session, actor, per_client, now, "booking")
    every = [f for v in order for f in flagged[v.id]]
    unique = list({(f.code, f.detail): f for f in every}.values())
    text = _override_text(unique, actor, "booking", reason)
    return [_keep_override(session, actor, client_id=v.client_id, appointment_id=v.id, stage="booking",
                           flags=flagged[v.id], text=text, now=now) for v in order]


def require_change_override(session: Session, actor: Actor, visit, reason: Any, now: datetime) -> HealthOverride | None:
    """THE contraindication check of a visit whose service was changed (scheduling's edit, in
    its transaction; `visit`: the Appointment row after the change, flushed). Its flags now,
    less those a reason was already given for on this visit (same code and detail, any
    stage): none left, nothing happens. Else like a booking: `reason` is required (raises
    HealthFlagged, field "health_reason"; the caller's transaction rolls back, nothing
    changed) and kept on a health_override row (stage "booking") with the new flags."""
    flags = visit_flags(session, [visit]).get(visit.id, [])
    given = {(f.get("code"), f.get("detail")) for o in overrides_of(session, visit.id) for f in (o.flags or [])}
    new = [f for f in flags if (f.code, f.detail) not in given]
    if not new:
        return None
    audit_flag_reads(session, actor, {visit.client_id: len(new)}, now, "booking")
    text = _override_text(new, actor, "booking", reason)
    return _keep_override(session, actor, client_id=visit.client_id, appointment_id=visit.id, stage="booking",
                          flags=new, text=text, now=now)


def overrides_of(session: Session, appointment_id: int) -> list[HealthOverride]:
    """The visit's overrides, oldest first."""
    return list(session.exec(select(HealthOverride).where(HealthOverride.appointment_id == appointment_id)
                             .order_by(HealthOverride.created_at, HealthOverride.id)))


def check_chart_flags(session: Session, actor: Actor, appointment_id: int, reason: Any, now: datetime) -> None:
    """Signing a flagged chart: the provider's reason is required and kept (stage "chart").
    Called by clinical.service sign flow after its own checks (chart.write). Raises HealthFlagged."""
    from medspa.domain.scheduling.models import Appointment

    appt = session.get(Appointment, appointment_id)
    if appt is None or appt.client_id is None:
        return
    flags = visit_flags(session, [appt]).get(appt.id, [])
    require_override(session, actor, client_id=appt.client_id, appointment_id=appt.id, stage="chart", flags=flags,
                     reason=reason, now=now)
