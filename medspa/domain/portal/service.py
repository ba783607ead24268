"""The client portal: sign-in with a one-time emailed code, and a client's own view.

Sign-in (anonymous, the clinic named by the portal URL):
  request_code -> a 6-digit code in the outbox (kind "portal_code"); only a salted SHA-256 is
  stored; it expires after CODE_MINUTES, dies after MAX_ATTEMPTS wrong tries and when used.
  An unknown email gets the very same answer (nothing is sent): no account enumeration.
  verify_code -> a client session (token hash only, absolute and idle expiry) bound to the
  client record whose email the code proved; the first success creates the ClientAccount.

Signed in, the actor is Actor.client(org, client_id): every function below works only on
that client's own rows. Another client's or another clinic's ids look missing (NotFound).
Reading the overview and the access log is audited like any read of the record.
Services take a session and an actor, write the audit row in the same transaction and leave
the commit to the caller (also on a refused code, so the attempt counter sticks).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func
from sqlmodel import Session, select

from medspa.domain.audit.models import AuditEvent
from medspa.domain.audit.service import record
from medspa.domain.catalog.models import Service
from medspa.domain.clients.consent import clinic_name_of, consent_wording, set_consent
from medspa.domain.clients.merge import live_client_id
from medspa.domain.clients.models import Client
from medspa.domain.phones import display_phone
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.identity.models import UserAccount
from medspa.domain.messaging.delivery import add_messages
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.money import format_money
from medspa.domain.payments.models import Payment, PaymentStatus
from medspa.domain.payments.fees import late_fee_preview
from medspa.domain.payments.service import succeeded_deposit
from medspa.domain.portal.models import ClientAccount, PortalCode, PortalSession
from medspa.domain.portal.words import ACTION_WORDS, ROLE_LABELS
from medspa.domain.practice.models import Location, Organization, StaffMember
from medspa.domain.scheduling.models import Appointment, AppointmentStatus
from medspa.domain.scheduling.policy import (NOTHING_PAID_RULE, cancel_rule, cancellation_deadline, fee_due,
                                             is_late_to_cancel, late_fee_status)
from medspa.domain.scheduling.references import manage_url
from medspa.domain.scheduling.service import get_appointment
from medspa.domain.timezones import format_clinic_time

CODE_MINUTES = 10
MAX_ATTEMPTS = 5
CODES_PER_HOUR = 5  # per email: more requests get the same answer and send nothing
SESSION_HOURS = 12
IDLE_TIMEOUT = timedelta(hours=1)
CODE_SENT = "If this email belongs to a client of the clinic, a 6-digit code is on its way. It is valid for 10 minutes."
CODE_REJECTED = "That code is not right or has expired. Check the email or request a new code."
SHOWN_STATUSES = (AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED,
                  AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW)
STATUS_LABELS = {AppointmentStatus.CONFIRMED: "Confirmed", AppointmentStatus.CHECKED_IN: "Checked in",
                 AppointmentStatus.COMPLETED: "Completed", AppointmentStatus.CANCELLED: "Cancelled",
                 AppointmentStatus.NO_SHOW: "Missed"}
# the client's own look at the portal is recorded, but not listed back to them as "access"
OWN_READS = ("portal.view", "portal.access_log.read")


class PortalUnavailable(Exception):
    """A sign-in step that cannot go on (message is user-facing)."""


# ---------------------------------------------------------------- shapes returned


@dataclass
class PortalSignIn:
    """A new client session: the raw token (kept server-side by the caller) and the actor."""

    token: str
    actor: Actor
    first_name: str


@dataclass
class VisitCard:
    """One of the client's visits as the portal shows it: labels in clinic time, deposit text, cancel policy."""

    id: int = 0
    service: str = ""
    provider: str = ""
    location: str = ""
    when: str = ""
    status: str = ""
    status_label: str = ""
    deposit: str = ""
    policy: str = ""
    can_cancel: bool = False
    manage_url: str = ""  # the visit's manage-booking page (reschedule), "" when it can no longer change


@dataclass
class MyDetails:
    """The client's own name, contact details and marketing consents."""

    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""  # the mobile number as people read it ("+1 908-555-0178"; user trial: it showed E.164)
    email_marketing: bool = False
    sms_marketing: bool = False
    email_wording: str = ""  # the words each consent gives (clients.consent.consent_wording)
    sms_wording: str = ""


@dataclass
class PortalOverview:
    """What the portal shows a signed-in client: the clinic name, their details and visits by group."""

    clinic_name: str = ""
    details: MyDetails = field(default_factory=MyDetails)
    upcoming: list[VisitCard] = field(default_factory=list)
    cancelled: list[VisitCard] = field(default_factory=list)  # cancelled visits still ahead, soonest first
    past: list[VisitCard] = field(default_factory=list)


@dataclass
class AccessEntry:
    """One line of the client's access log: when (clinic time), who, their role and what they did."""

    when: str = ""
    who: str = ""
    role: str = ""
    what: str = ""


@dataclass
class CancelPreview:
    """What cancelling a visit would do: the visit summary, the deposit message, and `late`:
    whether cancelling now keeps the deposit (late under a policy that keeps it)."""

    appointment_id: int = 0
    summary: str = ""
    message: str = ""
    late: bool = False


# ---------------------------------------------------------------- helpers


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _code_hash(salt: str, code: str) -> str:
    return _hash(f"{salt}:{code}")


def normalize_email(raw: str) -> str:
    """Lower-cased, validated email; raises ValidationFailed({"email": ...})."""
    raw = (raw or "").strip()
    if not raw or len(raw) > 254 or any(ord(ch) < 32 for ch in raw):
        raise ValidationFailed({"email": "Enter the email address you booked with"})
    try:
        return validate_email(raw, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationFailed({"email": "Enter an email address like name@example.com"}) from exc


def _client_by_email(session: Session, email: str) -> Client | None:
    return session.exec(select(Client).where(func.lower(Client.email) == email)).first()


def _own(actor: Actor, action: str = "portal.self.read") -> int:
    """The client id a portal actor is bound to; anything else looks like missing."""
    if not actor.can(action) or actor.client_id is None:
        raise NotFound("client")
    return actor.client_id


def _clinic_zone(session: Session) -> str:
    zone = session.exec(select(Location.time_zone).order_by(Location.id)).first()
    return zone or "UTC"


# ---------------------------------------------------------------- sign-in


def request_code(session: Session, actor: Actor, email: str, *, now: datetime) -> str:
    """Queue a 6-digit sign-in code for `email` if a client of this clinic has it.

    Returns CODE_SENT whatever the email (known, unknown, rate-limited): the answer never
    tells whether an account exists. Raises ValidationFailed only for a malformed email.
    """
    email = normalize_email(email)
    recent = session.exec(select(func.count()).select_from(PortalCode).where(
        PortalCode.email == email, PortalCode.created_at > now - timedelta(hours=1))).one()
    client = _client_by_email(session, email)
    if recent >= CODES_PER_HOUR:
        record(session, actor, "portal.code_throttled", "client", client.id if client else "",
               client_id=client.id if client else None, at=now)
        return CODE_SENT
    code = f"{secrets.randbelow(10**6):06d}"
    salt = secrets.token_hex(16)
    # unknown emails get a row too (never usable): the same work and the same answer
    session.add(PortalCode(org_id=actor.org_id, email=email, client_id=client.id if client else None, salt=salt,
                           code_hash=_code_hash(salt, code), created_at=now,
                           expires_at=now + timedelta(minutes=CODE_MINUTES)))
    if client is not None:
        org = session.get(Organization, actor.org_id)
        clinic = org.name if org else "your clinic"
        add_messages(session, [OutboxMessage(
            org_id=actor.org_id, channel="email", kind="portal_code", to_address=email,
            subject=f"Your {clinic} sign-in code",  # the code only in the body: subjects show in lists
            body=(f"Hi {client.first_name},\n\nYour code to sign in to the client portal of {clinic} is {code}.\n"
                  f"It works once, for {CODE_MINUTES} minutes. If you did not ask for it, ignore this email: "
                  f"nobody can sign in without the code.\n\n{clinic}"),
            client_id=client.id)])
        record(session, actor, "portal.code_request", "client", client.id, client_id=client.id, at=now)
    session.flush()
    return CODE_SENT


def verify_code(session: Session, actor: Actor, email: str, code: str, *, now: datetime,
                session_hours: int = SESSION_HOURS) -> PortalSignIn | None:
    """Check the newest code sent to `email`; on success open a client session.

    Returns None for any failure (wrong, expired, used, too many tries, unknown email): one
    answer for all. A wrong code counts an attempt. The caller commits in both cases.
    """
    try:
        email = normalize_email(email)
    except ValidationFailed:
        return None
    code = (code or "").strip().replace(" ", "")
    row = session.exec(select(PortalCode).where(PortalCode.email == email, PortalCode.used_at.is_(None))
                       .order_by(PortalCode.created_at.desc(), PortalCode.id.desc()).limit(1)
                       .with_for_update()).first()
    if row is None or now >= row.expires_at or row.attempts >= MAX_ATTEMPTS:
        return None
    good = (len(code) == 6 and code.isascii() and code.isdigit()
            and hmac.compare_digest(row.code_hash, _code_hash(row.salt, code)))
    if not good or row.client_id is None:
        row.attempts += 1
        session.add(row)
        record(session, actor, "portal.code_rejected", "client", row.client_id or "", client_id=row.client_id,
               at=now, attempts=row.attempts)
        session.flush()
        return None
    row.used_at = now
    session.add(row)
    client = session.get(Client, row.client_id)
    if client is None or (client.email or "").lower() != email:  # the record's email changed meanwhile
        session.flush()
        return None
    if client.merged_into_id is not None:  # a record merged into another: the person's live record
        client = session.get(Client, live_client_id(session, client.id))
    account = session.exec(select(ClientAccount).where(ClientAccount.client_id == client.id)).first()
    if account is None:
        account = ClientAccount(org_id=actor.org_id, client_id=client.id, email=email, verified_at=now)
    account.email, account.last_login_at = email, now
    session.add(account)
    token = secrets.token_urlsafe(32)
    session.add(PortalSession(org_id=actor.org_id, client_id=client.id, token_hash=_hash(token), created_at=now,
                              last_seen_at=now, expires_at=now + timedelta(hours=session_hours)))
    signed = Actor.client(actor.org_id, client.id, actor.ip, actor.user_agent)
    record(session, signed, "portal.sign_in", "client", client.id, client_id=client.id, at=now)
    session.flush()
    return PortalSignIn(token, signed, client.first_name)


def actor_for_portal_token(session: Session, token: str | None, *, now: datetime, ip: str = "",
                           user_agent: str = "") -> Actor | None:
    """The client actor of a live portal session of this clinic, or None (unknown, revoked,
    expired, idle). Refreshes last_seen_at at most once a minute (the caller commits)."""
    if not token or len(token) > 200:
        return None
    sess = session.exec(select(PortalSession).where(PortalSession.token_hash == _hash(token))).first()
    if sess is None or sess.revoked_at or now >= sess.expires_at or now - sess.last_seen_at >= IDLE_TIMEOUT:
        return None
    if now - sess.last_seen_at > timedelta(minutes=1):
        sess.last_seen_at = now
        session.add(sess)
    return Actor.client(sess.org_id, sess.client_id, ip, user_agent)


def sign_out(session: Session, token: str | None, *, now: datetime) -> None:
    """Revoke the portal session of `token` (no-op for unknown ones)."""
    if not token or len(token) > 200:
        return
    sess = session.exec(select(PortalSession).where(PortalSession.token_hash == _hash(token))).first()
    if sess is None or sess.revoked_at:
        return
    sess.revoked_at = now
    session.add(sess)
    record(session, Actor.client(sess.org_id, sess.client_id), "portal.sign_out", "client", sess.client_id,
           client_id=sess.client_id, at=now)


# ---------------------------------------------------------------- the client's own view


def _deposit_text(appt: Appointment, payments: list[Payment]) -> str:
    if not appt.deposit_cents:
        return "No deposit"
    paid = [p for p in payments if p.status in (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED,
                                                PaymentStatus.PARTIALLY_REFUNDED)]
    if not paid:
        return f"Deposit {format_money(appt.deposit_cents, appt.currency)} not paid"
    amount = format_money(paid[0].amount_cents, paid[0].currency)
    if any(p.status == PaymentStatus.REFUNDED for p in paid):
        return f"Deposit {amount} refunded"
    if appt.status == AppointmentStatus.CANCELLED and appt.cancellation_late:
        return f"Deposit {amount} kept (late cancellation)"
    return f"Deposit {amount} paid"


def _policy(appt: Appointment, location: Location, now: datetime) -> tuple[bool, str]:
    """(kept, sentence) for cancelling `appt` at `now` under its rule (kept: the deposit would
    be kept; scheduling.policy.cancel_rule: the kinder of the booked and the current rule)."""
    window, late_keeps = cancel_rule(appt, location)
    if late_fee := fee_due(appt, location, "late_cancel"):  # the fee speaks where one applies
        until = format_clinic_time(cancellation_deadline(appt.start_at, window), location.time_zone)
        return late_keeps and is_late_to_cancel(appt, window, now), late_fee_status(appt, window, late_fee, now, until)
    if not appt.deposit_cents:  # nothing to keep: what the confirmation said (user trial, issue 19)
        return False, NOTHING_PAID_RULE
    if not late_keeps:
        return False, "Free cancellation until the visit starts: the deposit is refunded."
    late = is_late_to_cancel(appt, window, now)
    if late and now <= cancellation_deadline(appt.start_at, window):  # moved inside the window before
        return True, "This visit was moved inside the cancellation window: cancelling it keeps the deposit."
    if late:
        return True, (f"Less than {window} hours before the visit: "
                      "cancelling now keeps the deposit.")
    until = format_clinic_time(cancellation_deadline(appt.start_at, window), location.time_zone)
    return False, f"Free cancellation until {until}."


def portal_overview(session: Session, actor: Actor, *, now: datetime) -> PortalOverview:
    """The client's own record and visits: upcoming (soonest first), cancelled visits whose time
    is still ahead (soonest first; before, they were listed under past) and past (newest first:
    visits that are over, cancelled or not). Audited."""
    client_id = _own(actor)
    client = session.get(Client, client_id)
    if client is None:
        raise NotFound("client")
    org = session.get(Organization, actor.org_id)
    rows = session.exec(
        select(Appointment, Service.name, StaffMember.display_name, Location)
        .join(Service, Service.id == Appointment.service_id)
        .join(StaffMember, StaffMember.id == Appointment.provider_id)
        .join(Location, Location.id == Appointment.location_id)
        .where(Appointment.client_id == client_id, Appointment.status.in_(SHOWN_STATUSES))
        .order_by(Appointment.start_at)).all()
    ids = [a.id for a, *_ in rows]
    payments: dict[int, list[Payment]] = {}
    if ids:
        for p in session.exec(select(Payment).where(Payment.appointment_id.in_(ids), Payment.purpose == "deposit")):
            payments.setdefault(p.appointment_id, []).append(p)
    view = PortalOverview(
        clinic_name=org.name if org else "",
        details=MyDetails(client.first_name, client.last_name, client.email or "", display_phone(client.phone_e164 or ""),
                          client.email_marketing_consent, client.sms_marketing_consent,
                          consent_wording("email", org.name if org else ""), consent_wording("sms", org.name if org else "")))
    for appt, service, provider, location in rows:
        ahead = appt.end_at > now
        upcoming = appt.status in (AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN) and ahead
        can_cancel = appt.status == AppointmentStatus.CONFIRMED and appt.start_at > now
        policy = _policy(appt, location, now)[1] if can_cancel else ""
        card = VisitCard(appt.id, service, provider, location.name, format_clinic_time(appt.start_at, location.time_zone),
                         str(appt.status), STATUS_LABELS.get(appt.status, appt.status),
                         _deposit_text(appt, payments.get(appt.id, [])), policy, can_cancel,
                         manage_url(org.slug, appt.booking_token) if (can_cancel and org) else "")
        cancelled_ahead = appt.status == AppointmentStatus.CANCELLED and ahead
        (view.upcoming if upcoming else view.cancelled if cancelled_ahead else view.past).append(card)
    view.past.reverse()
    record(session, actor, "portal.view", "client", client_id, client_id=client_id, at=now,
           visits=len(rows))
    return view


def access_log(session: Session, actor: Actor, *, now: datetime, limit: int = 100, offset: int = 0) -> list[AccessEntry]:
    """Who viewed or changed this client's record and when (newest first), from the audit
    trail: at most `limit` entries (1..500) after skipping the `offset` newest (paging back).
    Reading it is itself audited (rows and offset)."""
    client_id = _own(actor)
    zone = _clinic_zone(session)
    limit = max(1, min(int(limit), 500)) if isinstance(limit, int) and not isinstance(limit, bool) else 100
    offset = max(0, int(offset)) if isinstance(offset, int) and not isinstance(offset, bool) else 0
    events = session.exec(select(AuditEvent).where(AuditEvent.client_id == client_id,
                                                   AuditEvent.action.not_in(OWN_READS))
                          .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
                          .offset(offset).limit(limit)).all()
    user_ids = {e.actor_user_id for e in events if e.actor_user_id}
    names: dict[int, str] = {}
    if user_ids:
        for uid, name in session.exec(select(UserAccount.id, UserAccount.display_name).where(UserAccount.id.in_(user_ids))):
            names[uid] = name
    out = []
    for e in events:
        if e.actor_role == "client":
            who = "You"
        elif e.actor_user_id and names.get(e.actor_user_id):
            who = names[e.actor_user_id]
        elif e.actor_role == "public":
            who = "Portal sign-in page" if e.action.startswith("portal.") else "Online booking"
        elif e.actor_role == "system":
            who = "Clinic system"
        else:
            who = e.actor_label or "Clinic staff"
        what = ACTION_WORDS.get(e.action) or e.action.replace("_", " ").replace(".", ": ").capitalize()
        out.append(AccessEntry(format_clinic_time(e.occurred_at, zone), who, ROLE_LABELS.get(e.actor_role, e.actor_role),
                               what))
    record(session, actor, "portal.access_log.read", "client", client_id, client_id=client_id, at=now,
           rows=len(out), **({"offset": offset} if offset else {}))
    return out


def set_marketing_consent(session: Session, actor: Actor, *, email: bool, sms: bool, now: datetime) -> MyDetails:
    """The client changes their own marketing consent (audited with before and after)."""
    client_id = _own(actor, "portal.self.write")
    client = session.get(Client, client_id)
    if client is None:
        raise NotFound("client")
    before = {"email": client.email_marketing_consent, "sms": client.sms_marketing_consent}
    clinic = clinic_name_of(session, client.org_id)
    set_consent(client, "email", bool(email), at=now, source="portal", wording=consent_wording("email", clinic))
    set_consent(client, "sms", bool(sms), at=now, source="portal", wording=consent_wording("sms", clinic))
    session.add(client)
    record(session, actor, "client.consent_update", "client", client_id, client_id=client_id, at=now,
           before=before, after={"email": bool(email), "sms": bool(sms)})
    session.flush()
    return MyDetails(client.first_name, client.last_name, client.email or "", display_phone(client.phone_e164 or ""),
                     client.email_marketing_consent, client.sms_marketing_consent,
                     consent_wording("email", clinic), consent_wording("sms", clinic))


def own_appointment(session: Session, actor: Actor, appointment_id: int, *, lock: bool = False) -> Appointment:
    """One of the signed-in client's own visits (shown statuses). Raises NotFound for any
    other (another client's, another clinic's, a lapsed hold), PermissionDenied for staff.
    lock: FOR UPDATE (a change checks the status under it)."""
    client_id = _own(actor)
    appt = get_appointment(session, appointment_id, lock=lock)
    if appt.client_id != client_id or appt.status not in SHOWN_STATUSES:
        raise NotFound("appointment")
    return appt


def cancel_preview(session: Session, actor: Actor, appointment_id: int, *, now: datetime) -> CancelPreview:
    """What cancelling this own upcoming visit would do to the deposit, in plain words."""
    return preview_cancellation(session, own_appointment(session, actor, appointment_id), now=now)


def preview_cancellation(session: Session, appt: Appointment, *, now: datetime) -> CancelPreview:
    """What a client cancelling `appt` at `now` would do to its deposit, in plain words (the
    one wording of the portal and the manage link; the caller found `appt` as the client's
    own or by its booking token). Raises PortalUnavailable when it can no longer be cancelled
    online."""
    if appt.status != AppointmentStatus.CONFIRMED or appt.start_at <= now:
        raise PortalUnavailable("This visit can no longer be cancelled online. Please call the clinic.")
    location = session.get(Location, appt.location_id)
    service = session.get(Service, appt.service_id)
    late, _ = _policy(appt, location, now)
    paid = succeeded_deposit(session, appt.id)
    summary = f"{service.name if service else 'Visit'} on {format_clinic_time(appt.start_at, location.time_zone)}"
    if paid is None:
        message = "No deposit was paid for this visit, so there is nothing to refund or keep."
    else:
        amount = format_money(paid.amount_cents, paid.currency)
        hours, _ = cancel_rule(appt, location)
        message = (f"You are cancelling less than {hours} hours before your visit: your deposit of {amount} "
                   "will be kept, as the cancellation policy says." if late else
                   f"Your deposit of {amount} will be refunded to the card you paid with.")
    inside = is_late_to_cancel(appt, cancel_rule(appt, location)[0], now)
    fee = late_fee_preview(session, appt, location, client=True) if inside else ""
    return CancelPreview(appt.id, summary, f"You are cancelling inside the cancellation window. {fee}" if fee
                         else message, late or bool(fee))
