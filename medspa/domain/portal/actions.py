"""Use cases of the client portal (`/portal/<clinic>`), one transaction each.

The caller is the portal page (medspa/features/portal/state.py). Two kinds of steps:

- anonymous, for the clinic named in the URL: `fetch_clinic`, `do_request_code`,
  `do_verify_code`, `fetch_portal_actor` (the signed-in client of a portal session token)
  and `do_sign_out` take the clinic (slug or org id) and identifiers instead of an actor;
- signed in: every other action takes the client actor that `fetch_portal_actor` returned and
  works only on that client's own rows (anything else looks missing: NotFound).

Each opens ONE tenant transaction with `atomic`, does the work through
medspa.domain.portal.service (which checks the permission and writes the audit row in that
transaction) and commits when it returns; a refused code commits too, so the attempt counter
sticks. Keyword-only extras: `clock` (default: the app clock), `engine` (default: the
app-role engine; tests pass theirs), `gateway` where money moves (default: this deployment's,
chosen by medspa.domain.payments.factory.gateway_of).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from medspa.clock import Clock, app_clock
from medspa.domain.errors import NotFound
from medspa.domain.identity.actor import Actor
from medspa.domain.payments.factory import gateway_of
from medspa.domain.payments.gateway import PaymentGateway
from medspa.domain.payments.fees import send_fee_charges_now
from medspa.domain.payments.refunds import send_refunds_now
from medspa.domain.portal import cancellation
from medspa.domain.portal import service as portal
from medspa.domain.portal.service import AccessEntry, CancelPreview, MyDetails, PortalOverview
from medspa.domain.practice.service import organization_by_slug
from medspa.domain.ratelimits import network_key, hit
from medspa.domain.work import atomic, engine_of, now_of
from medspa.settings import get_settings

__all__ = ["Clinic", "do_cancel_own_visit", "do_request_code", "do_set_marketing_consent", "do_sign_out",
           "do_verify_code", "fetch_access_log", "fetch_cancel_preview", "fetch_clinic", "fetch_overview",
           "fetch_portal_actor"]


@dataclass(frozen=True)
class Clinic:
    """The clinic a portal URL names: its org id and display name."""

    org_id: int
    name: str


# ---------------------------------------------------------------- anonymous steps


def fetch_clinic(slug: str, *, engine: Engine | None = None) -> Clinic | None:
    """The clinic whose URL slug is `slug` ("glow-medspa"), or None when there is none."""
    try:
        with atomic(None, engine=engine) as work:
            org = organization_by_slug(work.session, slug)
            return Clinic(org.id, org.name)
    except NotFound:
        return None


def do_request_code(org_id: int, email: str, *, ip: str = "", user_agent: str = "", clock: Clock | None = None,
                    engine: Engine | None = None) -> str:
    """Queue a 6-digit sign-in code for `email` at clinic `org_id` (if a client has it).

    Returns the one answer for every email (portal.CODE_SENT): it never tells whether an
    account exists (beyond portal.CODES_PER_HOUR codes per email, nothing is sent). Raises
    ValidationFailed({"email": ...}) for a malformed email, RateLimited beyond
    Settings.limit_portal_code_per_ip requests from one IP address to this clinic."""
    if ip:
        hit(get_settings().limit_portal_code_per_ip, "portal-code-ip", str(org_id), network_key(ip),
            message="Too many sign-in code requests from your network.")
    with atomic(org_id, engine=engine) as work:
        return portal.request_code(work.session, Actor.public(org_id, ip, user_agent), email, now=now_of(clock))


def do_verify_code(org_id: int, email: str, code: str, *, ip: str = "", user_agent: str = "",
                   clock: Clock | None = None, engine: Engine | None = None) -> str | None:
    """Check `code` (6 digits as typed) for `email`; on success open a client session of at
    most portal.SESSION_HOURS (and never longer than Settings.session_hours).

    Returns the new session token (the caller keeps it server-side only), or None for any
    failure (wrong, expired, used, too many tries, unknown email): one answer for all. A wrong
    code counts an attempt, committed like a success."""
    hours = min(get_settings().session_hours, portal.SESSION_HOURS)
    with atomic(org_id, engine=engine) as work:
        signed = portal.verify_code(work.session, Actor.public(org_id, ip, user_agent), email, code,
                                    now=now_of(clock), session_hours=hours)
        return signed.token if signed else None


def fetch_portal_actor(org_id: int, token: str | None, *, ip: str = "", user_agent: str = "",
                       clock: Clock | None = None, engine: Engine | None = None) -> Actor | None:
    """The client actor of a live portal session `token` of clinic `org_id`, or None (empty,
    unknown, revoked, expired or idle: the tab goes back to sign-in). Counts as activity."""
    if not token:
        return None
    with atomic(org_id, engine=engine) as work:
        return portal.actor_for_portal_token(work.session, token, now=now_of(clock), ip=ip, user_agent=user_agent)


def do_sign_out(org_id: int, token: str | None, *, clock: Clock | None = None, engine: Engine | None = None) -> None:
    """Revoke the portal session `token` of clinic `org_id` (audited; unknown tokens: no-op)."""
    with atomic(org_id, engine=engine) as work:
        portal.sign_out(work.session, token, now=now_of(clock))


# ---------------------------------------------------------------- the signed-in client


def fetch_overview(actor: Actor, *, clock: Clock | None = None, engine: Engine | None = None) -> PortalOverview:
    """The client's own details and visits: upcoming (soonest first), cancelled ones still
    ahead (soonest first) and past (newest first). Audited ("portal.view").

    Raises NotFound for any actor that is not a signed-in client of this clinic."""
    with atomic(actor.org_id, engine=engine) as work:
        return portal.portal_overview(work.session, actor, now=now_of(clock))


def fetch_access_log(actor: Actor, *, limit: int = 100, offset: int = 0, clock: Clock | None = None,
                     engine: Engine | None = None) -> list[AccessEntry]:
    """Who viewed or changed the client's record and when (newest first): at most `limit`
    entries after the `offset` newest. Reading it is audited. Raises NotFound for anyone but a
    signed-in client."""
    with atomic(actor.org_id, engine=engine) as work:
        return portal.access_log(work.session, actor, now=now_of(clock), limit=limit, offset=offset)


def do_set_marketing_consent(actor: Actor, *, email: bool, sms: bool, clock: Clock | None = None,
                             engine: Engine | None = None) -> MyDetails:
    """Set the client's own email and SMS marketing consent (audited with before and after).
    Returns the details as now stored. Raises NotFound for anyone but a signed-in client."""
    with atomic(actor.org_id, engine=engine) as work:
        return portal.set_marketing_consent(work.session, actor, email=email, sms=sms, now=now_of(clock))


def fetch_cancel_preview(actor: Actor, appointment_id: int, *, clock: Clock | None = None,
                         engine: Engine | None = None) -> CancelPreview:
    """What cancelling the client's own upcoming visit would do to its deposit, in plain words.

    Raises NotFound (not the client's own visit), portal.PortalUnavailable (no longer
    cancellable online; str() is the user-facing reason)."""
    with atomic(actor.org_id, engine=engine) as work:
        return portal.cancel_preview(work.session, actor, appointment_id, now=now_of(clock))


def do_cancel_own_visit(actor: Actor, appointment_id: int, *, reason: str = "client_request", note: str = "",
                        gateway: PaymentGateway | None = None, clock: Clock | None = None,
                        engine: Engine | None = None) -> str:
    """Cancel the client's own upcoming visit by the location's policy and settle its deposit
    (kept when the policy keeps it, scheduling.policy; else refunded through `gateway`). The
    cancellation commits with its refund written pending, then the refund is sent (payments.refunds: a crash in
    between leaves it to reconciliation).

    `reason` (scheduling.policy.CANCEL_REASONS code) and `note` are recorded on the visit.
    Returns the outcome in plain words. Raises NotFound, portal.PortalUnavailable, ValidationFailed."""
    clock = clock or app_clock()
    now = clock.now()
    with atomic(actor.org_id, engine=engine) as work:
        cancelled = cancellation.cancel_own_appointment(work.session, actor, appointment_id, now=now, reason=reason,
                                                        note=note)
    engine = engine_of(engine)
    pay = gateway_of(gateway, engine, clock)
    send_refunds_now(engine, actor, cancelled.refund_ids, pay, now)
    send_fee_charges_now(engine, actor, appointment_id, pay, now)  # a late-cancel fee's card charge
    with atomic(actor.org_id, engine=engine) as work:
        return cancellation.own_cancellation_message(work.session, actor, cancelled)
