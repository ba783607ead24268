"""A client's record as staff type it on /clients/new and /clients/<id>/edit (issue 14 part 2):
the form, its validation (one message per bad field), marketing consent with the time and
source of its last change, and the client's time zone (their own, else their usual
location's). Services: they take a session and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, select

from medspa.domain.clients.models import Client
from medspa.domain.clients.service import ClientInput, validate_client_input
from medspa.domain.errors import ValidationFailed
from medspa.domain.phones import national_phone, normalize_phone
from medspa.domain.practice.models import Location, StaffMember
from medspa.domain.practice.service import validate_time_zone
from medspa.domain.scheduling.models import Appointment, AppointmentStatus

LIMITS = {"address": 400, "emergency_name": 120, "insurance_carrier": 120, "insurance_member_id": 60,
          "alerts": 80, "notes": 2000, "time_zone": 64}
"""Longest accepted text per field (characters, after trimming)."""

MULTILINE = ("address", "notes")  # line breaks allowed; every other field is one line

REMINDER_CHANNELS = {"both": "Email and text", "email": "Email only", "sms": "Text only", "none": "No reminders"}
"""client.reminder_channel values and how staff read them (migration 0053's check)."""
MAX_REMINDER_HOURS = 168  # a week: migration 0053's check on client and organization


@dataclass
class ClientForm:
    """The client form as typed (all text, as the browser sends it): names, email, phone (any
    format; the clinic's country for local numbers), date_of_birth ("YYYY-MM-DD" or ""),
    address, time_zone (IANA name, "" for the usual location's), emergency contact name and
    phone, preferred_provider_id (a staff id as text, "" none), insurance carrier and member id,
    the two marketing consents, alerts (one short line shown on the calendar), notes, and how
    visit reminders reach them: reminder_channel (a REMINDER_CHANNELS key) and reminder_hours
    (whole hours before the visit as text, 1-168; "" for the clinic's)."""

    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    date_of_birth: str = ""
    address: str = ""
    time_zone: str = ""
    emergency_name: str = ""
    emergency_phone: str = ""
    preferred_provider_id: str = ""
    insurance_carrier: str = ""
    insurance_member_id: str = ""
    email_marketing_consent: bool = False
    sms_marketing_consent: bool = False
    alerts: str = ""
    notes: str = ""
    reminder_channel: str = "both"
    reminder_hours: str = ""


@dataclass(frozen=True)
class ClientFields:
    """A validated ClientForm, named like the Client columns it is written to."""

    first_name: str
    last_name: str
    email: str | None
    phone_e164: str | None
    date_of_birth: date | None
    address: str
    time_zone: str | None
    emergency_name: str
    emergency_phone_e164: str | None
    preferred_provider_id: int | None
    insurance_carrier: str
    insurance_member_id: str
    email_marketing_consent: bool
    sms_marketing_consent: bool
    alerts: str
    notes: str
    reminder_channel: str = "both"
    reminder_hours: int | None = None


EDITABLE = tuple(f.name for f in fields(ClientFields) if not f.name.endswith("_consent"))
"""The columns the form writes as they are (the consents go through set_consent)."""


def _text(form: ClientForm, name: str, errors: dict[str, str]) -> str:
    raw = getattr(form, name)
    value = raw if isinstance(raw, str) else ""
    allowed = "\n\t" if name in MULTILINE else ""
    if any(ord(ch) < 32 and ch not in allowed for ch in value.replace("\r\n", "\n")):
        errors[name] = "Remove the invisible control characters"
        return ""
    value = value.replace("\r\n", "\n").strip()
    if name in LIMITS and len(value) > LIMITS[name]:
        errors[name] = f"Use at most {LIMITS[name]} characters"
    return value


def _date_of_birth(text: str, today: date, errors: dict[str, str]) -> date | None:
    if not text:
        return None
    try:
        if not text.isascii() or len(text) != 10:
            raise ValueError
        born = date.fromisoformat(text)
    except ValueError:
        errors["date_of_birth"] = "Enter a date like 1990-04-23"
        return None
    if born > today:
        errors["date_of_birth"] = "Date of birth cannot be in the future"
    elif born.year < today.year - 130:
        errors["date_of_birth"] = "Check the year"
    return born


def validate_client_form(session: Session, org_id: int, form: ClientForm, *, region: str,
                         today: date) -> ClientFields:
    """The validated, normalised form, or ValidationFailed({field: message}) naming every bad
    field at once. Names are kept exactly as typed (trimmed); email and phone as
    clients.service.validate_client_input reads them (optional here); the emergency phone with
    the clinic's `region`; date_of_birth not after `today` (the clinic's clock); time_zone an
    IANA name or ""; preferred_provider_id an active staff member of this clinic (row-level
    security hides the others)."""
    errors: dict[str, str] = {}
    text = {name: _text(form, name, errors) for name in (
        "first_name", "last_name", "email", "phone", "date_of_birth", "address", "time_zone", "emergency_name",
        "emergency_phone", "preferred_provider_id", "insurance_carrier", "insurance_member_id", "alerts", "notes")}
    try:
        contact = validate_client_input(ClientInput(text["first_name"], text["last_name"], text["email"],
                                                    text["phone"]), region=region, require_contact=False)
    except ValidationFailed as exc:
        contact = None
        for name, message in exc.fields.items():
            errors.setdefault(name, message)
    born = _date_of_birth(text["date_of_birth"], today, errors)
    zone = text["time_zone"] or None
    if zone and "time_zone" not in errors:
        try:
            validate_time_zone(zone)
        except ValidationFailed:
            errors["time_zone"] = "Choose a time zone from the list (like Europe/London)"
    emergency_phone = None
    if text["emergency_phone"] and "emergency_phone" not in errors:
        try:
            emergency_phone = normalize_phone(text["emergency_phone"], region)
        except ValueError as exc:
            errors["emergency_phone"] = str(exc)
    if emergency_phone and not text["emergency_name"] and "emergency_name" not in errors:
        errors["emergency_name"] = "Enter who to call"
    provider_id = None
    raw_provider = text["preferred_provider_id"]
    if raw_provider and "preferred_provider_id" not in errors:
        staff = (session.get(StaffMember, int(raw_provider))
                 if raw_provider.isascii() and raw_provider.isdigit() and len(raw_provider) < 18 else None)
        if staff is None or staff.org_id != org_id or not staff.active or not staff.is_bookable:
            errors["preferred_provider_id"] = "Choose a provider of the clinic"
        else:
            provider_id = staff.id
    channel = form.reminder_channel if isinstance(form.reminder_channel, str) else ""
    if channel not in REMINDER_CHANNELS:
        errors["reminder_channel"] = "Choose how reminders reach them"
    hours = _reminder_hours(form.reminder_hours, errors)
    consents = {}
    for name in ("email_marketing_consent", "sms_marketing_consent"):
        value = getattr(form, name)
        if not isinstance(value, bool):
            errors[name] = "Choose yes or no"
        consents[name] = value is True
    if errors or contact is None:
        raise ValidationFailed(errors)
    return ClientFields(contact.first_name, contact.last_name, contact.email or None, contact.phone or None, born,
                        text["address"], zone, text["emergency_name"], emergency_phone, provider_id,
                        text["insurance_carrier"], text["insurance_member_id"], consents["email_marketing_consent"],
                        consents["sms_marketing_consent"], text["alerts"], text["notes"], channel, hours)


def _reminder_hours(raw, errors: dict[str, str]) -> int | None:
    """Whole hours 1-MAX_REMINDER_HOURS from the form's text ("" or None: the clinic's)."""
    value = raw.strip() if isinstance(raw, str) else ""
    if not value:
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 4) or not 1 <= int(value) <= MAX_REMINDER_HOURS:
        errors["reminder_hours"] = f"Enter whole hours from 1 to {MAX_REMINDER_HOURS}, or leave empty"
        return None
    return int(value)


def reminder_words(channel: str, hours: int | None, clinic_hours: int) -> str:
    """How the client's reminders go, for the profile: "Email and text, 24 hours before (the
    clinic's)", "Text only, 48 hours before", "No reminders"."""
    if channel == "none":
        return REMINDER_CHANNELS["none"]
    count = hours or clinic_hours
    words = f"{REMINDER_CHANNELS.get(channel, channel)}, {count} hour{'s' if count != 1 else ''} before"
    return words if hours else f"{words} (the clinic's)"


def form_of(client: Client, region: str) -> ClientForm:
    """The form filled with a client's current values; phones as the desk of a clinic in
    `region` types them (national format for that country's numbers, else international)."""
    return ClientForm(
        client.first_name, client.last_name, client.email or "",
        national_phone(client.phone_e164, region) if client.phone_e164 else "",
        client.date_of_birth.isoformat() if client.date_of_birth else "", client.address, client.time_zone or "",
        client.emergency_name,
        national_phone(client.emergency_phone_e164, region) if client.emergency_phone_e164 else "",
        str(client.preferred_provider_id) if client.preferred_provider_id else "", client.insurance_carrier,
        client.insurance_member_id, client.email_marketing_consent, client.sms_marketing_consent, client.alerts,
        client.notes, client.reminder_channel, str(client.reminder_hours) if client.reminder_hours else "")


def clinic_time_zone(session: Session) -> str:
    """The zone of the session's clinic's first location ("UTC" when it has none)."""
    return session.exec(select(Location.time_zone).order_by(Location.id).limit(1)).first() or "UTC"


def usual_time_zone(session: Session, client_id: int | None) -> str:
    """The zone of the location where the client has had most visits (the latest on a tie),
    else the clinic's first location's."""
    if client_id:
        rows = session.exec(select(Appointment.location_id, func.max(Appointment.start_at), func.count())
                            .where(Appointment.client_id == client_id,
                                   Appointment.status != AppointmentStatus.EXPIRED.value)
                            .group_by(Appointment.location_id)).all()
        if rows:
            best = max(rows, key=lambda r: (r[2], r[1]))[0]
            zone = session.exec(select(Location.time_zone).where(Location.id == best)).first()
            if zone:
                return zone
    return clinic_time_zone(session)


def client_time_zone(session: Session, client: Client) -> str:
    """The client's time zone: their own when set, else their usual location's (what
    reminders' quiet hours use)."""
    return client.time_zone or usual_time_zone(session, client.id)


def client_time_zones(session: Session, clients: list[Client]) -> dict[int, str]:
    """client_time_zone for many clients with two queries: {client id: IANA zone}."""
    out = {c.id: c.time_zone for c in clients if c.time_zone}
    missing = [c.id for c in clients if not c.time_zone]
    if missing:
        rows = session.exec(select(Appointment.client_id, Location.time_zone, func.max(Appointment.start_at), func.count())
                            .join(Location, Location.id == Appointment.location_id)
                            .where(Appointment.client_id.in_(missing),
                                   Appointment.status != AppointmentStatus.EXPIRED.value)
                            .group_by(Appointment.client_id, Appointment.location_id, Location.time_zone)).all()
        best: dict[int, tuple] = {}
        for client_id, zone, latest, count in rows:
            if client_id not in best or (count, latest) > best[client_id][1:]:
                best[client_id] = (zone, count, latest)
        fallback = clinic_time_zone(session)
        out.update({cid: (best[cid][0] if cid in best else fallback) for cid in missing})
    return out


def provider_choices(session: Session) -> list[tuple[int, str]]:
    """[(staff id, name)] of the clinic's active bookable staff, by name: the preferred
    provider's choices."""
    rows = session.exec(select(StaffMember.id, StaffMember.display_name).where(
        StaffMember.active, StaffMember.is_bookable).order_by(StaffMember.display_name, StaffMember.id)).all()
    return [(r[0], r[1]) for r in rows]
