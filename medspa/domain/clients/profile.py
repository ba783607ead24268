"""A client's profile (/clients/{id}), read only: contact, visits, the ledger, and the
clinical summary for the roles that may read charts and photos. Reads only; the action
(clients/actions.py) audits it as a PHI read of the client."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from sqlalchemy import func, select
from sqlmodel import Session

from medspa.domain.catalog.models import Service
from medspa.domain.clients.details import client_time_zone, clinic_time_zone, reminder_words
from medspa.domain.clients.duplicates import likely_duplicates_of
from medspa.domain.clients.merge import MergeNote, merge_notes
from medspa.domain.clients.models import Client
from medspa.domain.clients.service import clinic_region
from medspa.domain.clinical.models import TreatmentNote
from medspa.domain.clinical.photos import ClinicalPhoto
from medspa.domain.identity.actor import Actor
from medspa.domain.money import format_money
from medspa.domain.payments.cards import card_expiry_text, card_label, default_card
from medspa.domain.payments.ledger_words import ledger_label
from medspa.domain.payments.models import LedgerEntry, PolicyFee
from medspa.domain.phones import national_phone
from medspa.domain.practice.models import Location, Organization, StaffMember
from medspa.domain.scheduling.models import Appointment, AppointmentStatus
from medspa.domain.scheduling.references import format_display_code

UPCOMING = (AppointmentStatus.HELD, AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN)
MAX_VISITS = 100  # each of upcoming and past, newest past first
MAX_LEDGER = 50
CLINIC_ONLY_LINES = ("processing_fee",)
"""Ledger lines that are the clinic's costs, not the client's money (the gateway's fee): left
out of the client's ledger and of what they paid (a new user saw $72.52 paid for a $75 deposit)."""


@dataclass(frozen=True)
class VisitLine:
    """A visit on the profile: appointment id, display code ("K7M2-Q9XD"), local start with
    zone ("Wed, Jul 15, 2026, 10:00 AM"), status value, service, provider, price (formatted),
    location name; chart ("signed", "draft" or "") and photos (count) only for the roles that
    may read them, else "" and 0."""

    id: int
    code: str
    when: str
    status: str
    service: str
    provider: str
    price: str
    location: str
    chart: str = ""
    photos: int = 0


@dataclass(frozen=True)
class LedgerLine:
    """A ledger line: local date, entry type in words (payments.ledger_words.ledger_label: "Deposit
    paid", "Deposit kept for the fee $50.00"), amount (formatted)."""

    when: str
    kind: str
    amount: str


@dataclass(frozen=True)
class ClientProfile:
    """What the profile shows. phone in the clinic's national format; net_paid the sum of the
    client's ledger lines (what the clinic received and kept, after refunds); clinical True
    when the actor may read charts (chart.read) and photos True for photo.read: otherwise the
    visits carry no chart or photo data at all."""

    id: int
    name: str
    first_name: str
    last_name: str
    phone: str
    email: str
    date_of_birth: str
    added: str
    upcoming: list[VisitLine]
    past: list[VisitLine]
    net_paid: str
    ledger: list[LedgerLine]
    clinical: bool
    photos: bool
    duplicates: list[tuple[int, str, str]] = field(default_factory=list)  # (id, why, name): client.merge only
    merged_into: MergeNote | None = None  # this record is hidden: merged into that client
    merges: list[MergeNote] = field(default_factory=list)  # records merged into this one (client.merge only)
    details: "ClientDetails | None" = None  # address, emergency contact, consent, alerts... (migration 0034)
    # the card on file (issue 16; client.contact.read or payment.take): "Visa ••4242 · expires 04/27"
    card_on_file: str = ""
    # late-cancel / no-show fees, newest first (payments.fees, issue 16): shown with the ledger
    fees: list["FeeLine"] = field(default_factory=list)
    # visits cancelled whose time is still ahead (soonest first): neither upcoming nor past,
    # the portal's rule too (portal.service: cancelled_ahead); trial finding 13
    cancelled: list[VisitLine] = field(default_factory=list)


@dataclass(frozen=True)
class FeeLine:
    """A policy fee on the profile: local date, visit code, the fee in words
    (payments.fees.fee_line), and whether it is unpaid and needs action (amber)."""

    when: str
    code: str
    line: str
    needs_action: bool


@dataclass(frozen=True)
class ConsentLine:
    """One marketing channel: given or not, when it last changed ("Mar 4, 2030, 9:15 AM" in
    the client's zone, "" unknown), where ("desk", "portal", "sms keyword", ...) and the
    words of the consent given (clients.consent.consent_wording)."""

    given: bool
    when: str
    source: str
    wording: str = ""  # the words the client agreed to ("" when not recorded)


@dataclass(frozen=True)
class ClientDetails:
    """The profile's details card. address, emergency contact (name, phone in national
    format) and insurance only with client.contact.read (else "" and contact False);
    time_zone the client's own or their usual location's (zone_is_default True then);
    preferred_provider the staff member's name ("" none); reminders how visit reminders
    reach them in words (details.reminder_words)."""

    contact: bool
    address: str
    time_zone: str
    zone_is_default: bool
    emergency_name: str
    emergency_phone: str
    preferred_provider: str
    insurance_carrier: str
    insurance_member_id: str
    email_consent: ConsentLine
    sms_consent: ConsentLine
    alerts: str
    notes: str
    reminders: str = ""


def _local(instant: datetime, time_zone: str) -> str:
    tz = ZoneInfo(time_zone)
    return format_datetime(instant.astimezone(tz), "EEE, MMM d, y, h:mm a", tzinfo=tz, locale="en_US")


def client_profile(session: Session, actor: Actor, client: Client, *, now: datetime) -> ClientProfile:
    """The profile of `client` (already read through clients.service.get_client, which
    audits it) as `actor` may see it; `now` aware UTC splits upcoming, cancelled (still
    ahead) and past visits."""
    region = clinic_region(session, actor.org_id)
    org = session.get(Organization, actor.org_id)
    currency = org.currency if org else "USD"
    clinical, photos = actor.can("chart.read"), actor.can("photo.read")
    rows = session.execute(
        select(Appointment, Service.name, StaffMember.display_name, Location.name, Location.time_zone)
        .join(Service, Service.id == Appointment.service_id)
        .join(StaffMember, StaffMember.id == Appointment.provider_id)
        .join(Location, Location.id == Appointment.location_id)
        .where(Appointment.client_id == client.id, Appointment.status != AppointmentStatus.EXPIRED.value)
        .order_by(Appointment.start_at)).all()
    charts: dict[int, str] = {}
    counts: dict[int, int] = {}
    ids = [r[0].id for r in rows]
    if clinical and ids:
        for appt_id, status in session.execute(
                select(TreatmentNote.appointment_id, TreatmentNote.status).where(TreatmentNote.appointment_id.in_(ids))
                .order_by(TreatmentNote.appointment_id, TreatmentNote.version)).all():
            charts[appt_id] = status  # the latest version wins
    if photos and ids:
        counts = dict(session.execute(select(ClinicalPhoto.appointment_id, func.count()).where(
            ClinicalPhoto.appointment_id.in_(ids)).group_by(ClinicalPhoto.appointment_id)).all())
    upcoming: list[VisitLine] = []
    past: list[VisitLine] = []
    cancelled: list[VisitLine] = []
    for appt, service, provider, location, time_zone in rows:
        line = VisitLine(appt.id, format_display_code(appt.display_code), _local(appt.start_at, time_zone),
                         appt.status, service, provider, format_money(appt.price_cents, appt.currency), location,
                         charts.get(appt.id, "") if clinical else "", counts.get(appt.id, 0) if photos else 0)
        if appt.start_at >= now and appt.status in UPCOMING:
            upcoming.append(line)
        elif appt.status == AppointmentStatus.CANCELLED and appt.end_at > now:
            cancelled.append(line)
        else:
            past.append(line)
    past.reverse()
    entries = list(session.execute(select(LedgerEntry).where(LedgerEntry.client_id == client.id,
                                                             LedgerEntry.entry_type.not_in(CLINIC_ONLY_LINES))
                                   .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc())).scalars())
    net = sum(e.amount_cents for e in entries)
    tz = next(iter(r[4] for r in rows), "UTC")
    kept = _kept_for_fees(session, [e.appointment_id for e in entries[:MAX_LEDGER]
                                    if e.entry_type == "fee_from_deposit" and e.appointment_id])
    ledger = [LedgerLine(e.created_at.astimezone(ZoneInfo(tz)).date().isoformat(),
                         ledger_label(e.entry_type, kept_cents=kept.get(e.appointment_id, 0), currency=e.currency),
                         format_money(e.amount_cents, e.currency)) for e in entries[:MAX_LEDGER]]
    return ClientProfile(
        client.id, f"{client.first_name} {client.last_name}", client.first_name, client.last_name,
        national_phone(client.phone_e164, region) if client.phone_e164 else "", client.email or "",
        client.date_of_birth.isoformat() if client.date_of_birth else "",
        format_date(client.created_at.astimezone(ZoneInfo(clinic_time_zone(session))).date(), "medium",
                    locale="en_US") if client.created_at else "",  # the clinic's day, not UTC's
        upcoming[:MAX_VISITS], past[:MAX_VISITS], format_money(net, currency), ledger, clinical, photos,
        *_record_keeping(session, actor, client, now), client_details(session, actor, client, region),
        _card_on_file(session, actor, client.id),
        _fee_lines(session, client.id, tz, {r[0].id: r[0].display_code for r in rows}),
        cancelled[:MAX_VISITS])


def _card_on_file(session: Session, actor: Actor, client_id: int) -> str:
    """The client's default card on file as the profile shows it ("Visa ••4242 · expires
    04/27"; "" without one or without client.contact.read / payment.take)."""
    if not (actor.can("client.contact.read") or actor.can("payment.take")):
        return ""
    card = default_card(session, client_id)
    return f"{card_label(card)} · expires {card_expiry_text(card)}" if card is not None else ""


def _fee_lines(session: Session, client_id: int, tz: str, codes: dict[int, str]) -> list[FeeLine]:
    """The client's late-cancel / no-show fees in words, newest first (payments.fees)."""
    from medspa.domain.payments.fees import fee_line, fees_of_client

    return [FeeLine(f.created_at.astimezone(ZoneInfo(tz)).date().isoformat(),
                    format_display_code(codes[f.appointment_id]) if f.appointment_id in codes else "", fee_line(f),
                    f.status == "unpaid_needs_action") for f in fees_of_client(session, client_id)]


def client_details(session: Session, actor: Actor, client: Client, region: str) -> ClientDetails:
    """The details card of `client` as `actor` may see it (see ClientDetails)."""
    zone = client_time_zone(session, client)
    contact = actor.can("client.contact.read")

    def consent(column: str) -> ConsentLine:
        at = getattr(client, f"{column}_at")
        return ConsentLine(bool(getattr(client, column)), _local(at, zone) if at else "",
                           getattr(client, f"{column}_source") or "", getattr(client, f"{column}_wording") or "")

    provider = session.get(StaffMember, client.preferred_provider_id) if client.preferred_provider_id else None
    emergency = client.emergency_phone_e164
    return ClientDetails(
        contact, client.address if contact else "", zone, client.time_zone is None,
        client.emergency_name if contact else "",
        national_phone(emergency, region) if contact and emergency else "",
        provider.display_name if provider else "",
        client.insurance_carrier if contact else "", client.insurance_member_id if contact else "",
        consent("email_marketing_consent"), consent("sms_marketing_consent"), client.alerts, client.notes,
        reminder_words(client.reminder_channel, client.reminder_hours,
                       session.get(Organization, client.org_id).reminder_hours))


def _record_keeping(session: Session, actor: Actor, client: Client, now: datetime) -> tuple:
    """(likely duplicates, the merge that hid this record, merges into it): the first and the
    last only for the roles that merge (client.merge)."""
    hid, into = merge_notes(session, client, now)
    if not actor.can("client.merge"):
        return [], hid, []
    return ([] if client.merged_into_id else likely_duplicates_of(session, client)), hid, into


def _kept_for_fees(session: Session, appointment_ids: list[int]) -> dict[int, int]:
    """appointment id -> integer cents of its deposit kept for its late-cancel / no-show fees
    (PolicyFee.applied_cents), for the words of its fee_from_deposit ledger line."""
    if not appointment_ids:
        return {}
    rows = session.execute(select(PolicyFee.appointment_id, func.sum(PolicyFee.applied_cents))
                           .where(PolicyFee.appointment_id.in_(appointment_ids))
                           .group_by(PolicyFee.appointment_id)).all()
    return {a: int(c or 0) for a, c in rows}
