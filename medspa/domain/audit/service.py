"""Writing the audit trail, always inside the caller's transaction."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlmodel import Session

from medspa.domain.audit.models import AuditEvent
from medspa.domain.identity.actor import Actor


def record(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: Any = "",
    *,
    client_id: int | None = None,
    at: datetime | None = None,
    **detail: Any,
) -> AuditEvent:
    """Add one audit_event row to the session (committed with the change it describes).

    action: dotted verb such as "appointment.book"; detail: small JSON-safe facts (never
    clinical notes). `at` is the service's clock instant (UTC); defaults to now.
    """
    event = AuditEvent(
        org_id=actor.org_id,
        occurred_at=at or datetime.now(timezone.utc),
        actor_user_id=actor.user_id,
        actor_role=actor.role,
        actor_label=actor.label,
        client_id=client_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id) if object_id is not None else "",
        detail={k: v for k, v in detail.items()},
        ip=actor.ip,
        user_agent=actor.user_agent[:400],
    )
    session.add(event)
    return event
