"""Client records: validated input (email-validator, phonenumbers) and find-or-create."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from medspa.clock import app_clock
from medspa.domain.audit.service import record
from medspa.domain.clients.consent import clinic_name_of, stamp_new_consents
from medspa.domain.clients.merge import live_client_id
from medspa.domain.clients.models import Client
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.phones import normalize_phone
from medspa.domain.practice.models import Organization


@dataclass
class ClientInput:
    """Client details as typed: names, email, phone (any format; region for local numbers)."""

    first_name: str
    last_name: str
    email: str = ""
    phone: str = ""
    date_of_birth: date | None = None
    email_marketing_consent: bool = False
    sms_marketing_consent: bool = False


def validate_client_input(data: ClientInput, *, region: str = "US", require_contact: bool = True) -> ClientInput:
    """Trimmed, normalised copy of `data`; raises ValidationFailed with a message per field.

    Online bookings need both email and phone (confirmation by email and SMS).
    """
    errors: dict[str, str] = {}
    for name in ("first_name", "last_name", "email", "phone"):
        if any(ord(ch) < 32 for ch in getattr(data, name) or ""):
            errors[name] = "Remove the invisible control characters"
    if errors:
        raise ValidationFailed(errors)
    first, last = data.first_name.strip(), data.last_name.strip()
    if not first:
        errors["first_name"] = "Enter a first name"
    elif len(first) > 80:
        errors["first_name"] = "Use at most 80 characters"
    if not last:
        errors["last_name"] = "Enter a last name"
    elif len(last) > 80:
        errors["last_name"] = "Use at most 80 characters"
    email = data.email.strip()
    if email or require_contact:
        try:
            email = validate_email(email, check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            errors["email"] = "Enter an email address like name@example.com"
    phone = data.phone.strip()
    if phone or require_contact:
        try:
            phone = normalize_phone(phone, region) if phone else ""
            if not phone:
                raise ValueError("Enter a mobile number for text reminders")
        except ValueError as exc:
            errors["phone"] = str(exc)
    if data.date_of_birth and data.date_of_birth > app_clock().now().date():  # the app clock (FROZEN_NOW in tests)
        errors["date_of_birth"] = "Date of birth cannot be in the future"
    if errors:
        raise ValidationFailed(errors)
    return ClientInput(first, last, email, phone, data.date_of_birth,
                       data.email_marketing_consent, data.sms_marketing_consent)


def clinic_region(session: Session, org_id: int) -> str:
    """The clinic's country (Organization.country, ISO 3166 alpha-2), "US" when unset: the
    region phone numbers typed without a country code belong to."""
    org = session.get(Organization, org_id)
    return region_of(org.country if org else "")


def region_of(country: str | None) -> str:
    """The region of a clinic whose Organization.country is `country` (clinic_region)."""
    return (country or "US").upper()


def find_or_create_client(session: Session, actor: Actor, data: ClientInput, *, region: str | None = None,
                          require_contact: bool = True, now: datetime | None = None) -> Client:
    """The client with this email (case-insensitive) in the clinic, or a new one.

    Staff need client.write; the online booking flow (appointment.book_online) creates the
    client it books for. An existing record is never overwritten by what an anonymous
    visitor typed. A new client's consents given here are stamped with `now` (aware UTC;
    default the current time) and the source "online booking" (public or client actor) or
    "desk". Raises ValidationFailed, PermissionDenied.
    """
    if not (actor.can("client.write") or actor.can("appointment.book_online")):
        actor.require("client.write")
    region = region or clinic_region(session, actor.org_id)
    clean = validate_client_input(data, region=region, require_contact=require_contact)

    def existing() -> Client | None:
        if not clean.email:
            return None
        return session.exec(select(Client).where(func.lower(Client.email) == clean.email)).first()

    found = existing()
    if found is not None:
        return _live(session, found)
    client = Client(org_id=actor.org_id, first_name=clean.first_name, last_name=clean.last_name,
                    email=clean.email or None, phone_e164=clean.phone or None,
                    date_of_birth=clean.date_of_birth,
                    email_marketing_consent=clean.email_marketing_consent,
                    sms_marketing_consent=clean.sms_marketing_consent)
    stamp_new_consents(client, at=now or app_clock().now(),
                       source="online booking" if actor.role in ("public", "client") else "desk",
                       clinic_name=clinic_name_of(session, actor.org_id))
    try:
        with session.begin_nested():  # uq_client_email: a concurrent first booking may win the insert
            session.add(client)
            session.flush()
    except IntegrityError:
        found = existing()
        if found is None:
            raise
        return _live(session, found)
    record(session, actor, "client.create", "client", client.id, client_id=client.id)
    return client


def _live(session: Session, client: Client) -> Client:
    """`client`, or the record it was merged into (a hidden record keeps its email)."""
    if client.merged_into_id is None:
        return client
    return session.get(Client, live_client_id(session, client.id))


def create_client(session: Session, actor: Actor, data: ClientInput, *, region: str | None = None) -> Client:
    """Staff add a client (client.write): name required, email and phone optional but validated.
    An email already on file returns that client. Raises ValidationFailed, PermissionDenied."""
    actor.require("client.write")
    return find_or_create_client(session, actor, data, region=region, require_contact=False)


def search_clients(session: Session, actor: Actor, query: str, limit: int = 10) -> list[Client]:
    """Clients whose name, email or phone contains `query` (staff search box)."""
    actor.require("client.read")
    q = query.strip().lower()
    if len(q) < 2:
        return []
    like = f"%{q}%"
    digits = "".join(ch for ch in q if ch.isdigit())
    conds = [func.lower(Client.first_name + " " + Client.last_name).like(like), func.lower(Client.email).like(like)]
    if len(digits) >= 3:
        conds.append(Client.phone_e164.like(f"%{digits}%"))
    rows = list(session.exec(select(Client).where(or_(*conds), Client.merged_into_id.is_(None))
                             .order_by(Client.last_name, Client.first_name).limit(limit)))
    record(session, actor, "client.search", "client", "", results=len(rows))
    return rows


def get_client(session: Session, actor: Actor, client_id: int) -> Client:
    """A client of the current clinic, audited as a read of the record; raises NotFound
    (also for other clinics' ids and for actors without client.read: missing and forbidden look alike)."""
    if not actor.can("client.read"):
        raise NotFound("client")
    client = session.get(Client, client_id)
    if client is None:
        raise NotFound("client")
    record(session, actor, "client.read", "client", client.id, client_id=client.id)
    return client
