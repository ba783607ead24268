"""Who is acting: every service receives an Actor and checks its permission."""

from __future__ import annotations

from dataclasses import dataclass

from medspa.domain.identity.permissions import has_permission
from medspa.domain.textrules import strip_invisible


class PermissionDenied(Exception):
    """The actor may not do this. Callers show it as "not found" (missing and forbidden look alike)."""


@dataclass(frozen=True)
class Actor:
    """The acting party within one clinic.

    role: owner, manager, provider, front_desk, lab, client, public (anonymous booking page
    or public API) or system (jobs, webhooks, seed). ip and user_agent go to the audit trail
    (invisible characters removed: textrules.strip_invisible).
    client_id: the client record a "client" actor (signed in to the portal) is bound to.
    """

    org_id: int
    role: str
    user_id: int | None = None
    staff_id: int | None = None
    label: str = ""
    ip: str = ""
    user_agent: str = ""
    client_id: int | None = None

    def __post_init__(self) -> None:
        # ip and user agent come from the request as sent: recorded without control, bidi or
        # zero-width characters (PostgreSQL text refuses NUL), never refused
        object.__setattr__(self, "ip", strip_invisible(self.ip, 4000))
        object.__setattr__(self, "user_agent", strip_invisible(self.user_agent, 4000))

    @classmethod
    def client(cls, org_id: int, client_id: int, ip: str = "", user_agent: str = "") -> "Actor":
        """A client signed in to the portal: sees and changes only their own record."""
        return cls(org_id=org_id, role="client", label="client portal", ip=ip, user_agent=user_agent,
                   client_id=client_id)

    @classmethod
    def public(cls, org_id: int, ip: str = "", user_agent: str = "") -> "Actor":
        """An anonymous visitor of the public booking page or API."""
        return cls(org_id=org_id, role="public", label="online booking", ip=ip, user_agent=user_agent)

    @classmethod
    def system(cls, org_id: int, label: str = "system") -> "Actor":
        """Jobs, webhooks and the seed command."""
        return cls(org_id=org_id, role="system", label=label)

    def can(self, action: str) -> bool:
        """True if this actor's role grants `action` (see permissions.ROLE_PERMISSIONS)."""
        return has_permission(self.role, action)

    def require(self, action: str) -> None:
        """Raise PermissionDenied unless the role grants `action`."""
        if not self.can(action):
            raise PermissionDenied(action)
