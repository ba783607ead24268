"""What the client portal page asks of the domain, one function per event.

Plain synchronous Python (no Reflex): PortalState calls ONE function here per event in a
worker thread and keeps only the small result. Every function that needs a signed-in client
takes the portal token and re-checks it (medspa.domain.portal.service.actor_for_portal_token)
in the same transaction as the work; None means "signed out" and the page goes back to
sign-in. Each opens its own tenant session (clinic from the URL slug) and commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from medspa.clock import app_clock
from medspa.db import get_engine, tenant_session
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.portal import service as portal
from medspa.domain.portal.service import AccessEntry, CancelPreview, MyDetails, PortalOverview
from medspa.domain.practice.service import organization_by_slug
from medspa.settings import get_settings


@dataclass
class Clinic:
    org_id: int
    name: str


def load_clinic(slug: str) -> Clinic | None:
    """The clinic named in the URL, or None."""
    try:
        with tenant_session(None, get_engine()) as s:
            org = organization_by_slug(s, slug)
            return Clinic(org.id, org.name)
    except NotFound:
        return None


def request_code(org_id: int, email: str, ip: str, ua: str) -> str:
    """The one answer for any email; raises ValidationFailed for a malformed one."""
    with tenant_session(org_id, get_engine()) as s:
        answer = portal.request_code(s, Actor.public(org_id, ip, ua), email, now=app_clock().now())
        s.commit()
        return answer


def verify_code(org_id: int, email: str, code: str, ip: str, ua: str) -> str | None:
    """The new session token, or None (one answer for every failure)."""
    with tenant_session(org_id, get_engine()) as s:
        signed = portal.verify_code(s, Actor.public(org_id, ip, ua), email, code, now=app_clock().now(),
                                    session_hours=min(get_settings().session_hours, portal.SESSION_HOURS))
        s.commit()
        return signed.token if signed else None


def _run(org_id: int, token: str, ip: str, ua: str, work):
    now = app_clock().now()
    with tenant_session(org_id, get_engine()) as s:
        actor = portal.actor_for_portal_token(s, token, now=now, ip=ip, user_agent=ua)
        if actor is None:
            return None
        result = work(s, actor, now)
        s.commit()
        return result


def overview(org_id: int, token: str, ip: str, ua: str) -> PortalOverview | None:
    return _run(org_id, token, ip, ua, lambda s, a, now: portal.portal_overview(s, a, now=now))


def access_log(org_id: int, token: str, ip: str, ua: str) -> list[AccessEntry] | None:
    return _run(org_id, token, ip, ua, lambda s, a, now: portal.access_log(s, a, now=now))


def set_consent(org_id: int, token: str, ip: str, ua: str, email: bool, sms: bool) -> MyDetails | None:
    return _run(org_id, token, ip, ua,
                lambda s, a, now: portal.set_marketing_consent(s, a, email=email, sms=sms, now=now))


def preview_cancel(org_id: int, token: str, ip: str, ua: str, appointment_id: int) -> CancelPreview | str | None:
    """The preview, or a user-facing reason it cannot be cancelled online, or None (signed out)."""
    def work(s, a, now):
        try:
            return portal.cancel_preview(s, a, appointment_id, now=now)
        except portal.PortalUnavailable as exc:
            return str(exc)
        except NotFound:
            return "This visit was not found."
    return _run(org_id, token, ip, ua, work)


def cancel(org_id: int, token: str, ip: str, ua: str, appointment_id: int) -> str | None:
    """The outcome in plain words, or None (signed out)."""
    from medspa.domain.payments.factory import gateway_for

    clock = app_clock()
    gateway = gateway_for(get_settings(), get_engine(), clock)

    def work(s, a, now):
        try:
            return portal.cancel_own_appointment(s, a, appointment_id, gateway=gateway, now=now)
        except portal.PortalUnavailable as exc:
            return str(exc)
        except NotFound:
            return "This visit was not found."
    return _run(org_id, token, ip, ua, work)


def sign_out(org_id: int, token: str) -> None:
    with tenant_session(org_id, get_engine()) as s:
        portal.sign_out(s, token, now=app_clock().now())
        s.commit()


__all__ = ["Clinic", "ValidationFailed", "load_clinic", "request_code", "verify_code", "overview", "access_log",
           "set_consent", "preview_cancel", "cancel", "sign_out"]
