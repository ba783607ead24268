"""The calendar's side panel of one appointment: facts, deposit, cancellation policy, the
actions this actor may take now, and the checkout figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.catalog.models import Service
from medspa.domain.clients.models import Client
from medspa.domain.errors import NotFound
from medspa.domain.identity.actor import Actor
from medspa.domain.money import format_money
from medspa.domain.practice.models import Location, Resource, StaffMember
from medspa.domain.payments.cards import VisitCard, visit_card, waiting_for_card
from medspa.domain.scheduling.labels import STATUS_LABELS, WAITING_FOR_CARD, category_colour, client_name, visit_who
from medspa.domain.scheduling.models import MOVABLE_STATUSES, Appointment, AppointmentStatus, Occupancy
from medspa.domain.scheduling.references import format_display_code
from medspa.domain.scheduling.policy import cancel_reason_text, cancel_rule, is_late_cancellation, is_late_to_cancel
from medspa.domain.timezones import format_clinic_clock, zone_abbreviation
from medspa.domain.phones import display_phone

@dataclass(frozen=True)
class AppointmentDetail:
    """The side panel of one appointment; contact fields are empty without client.contact.read;
    reference is the display code as people see it ("K7M2-Q9XD")."""

    id: int
    reference: str
    status: str
    status_label: str
    client_id: int | None
    client_name: str
    contact_visible: bool
    client_phone: str
    client_email: str
    service_name: str
    category: str
    colour: str
    duration_minutes: int
    provider_name: str
    resources: list[str]
    location_name: str
    time_zone: str
    date_label: str
    time_label: str
    source: str
    price: str
    deposit_paid: str
    deposit_paid_cents: int
    currency: str
    actions: list[str]
    cancel_late: bool
    cancel_policy: str
    cancellation_window_hours: int
    notes: str
    # checkout (payments/checkout.py), integer cents: checked_out = a sale line exists; the
    # figures are filled only for actors with payment.take and a checked-in/completed visit
    checked_out: bool = False
    sale_cents: int = 0
    applied_cents: int = 0
    balance_cents: int = 0
    paid_at_checkout_cents: int = 0
    client_alerts: str = ""  # the client's alerts ("VIP", "prefers afternoons"), with client.contact.read
    # the visit's contraindication flags (issue 17): each detail for history.read (audited
    # "history.flags.read", where "panel"), else GENERIC once; [] when not flagged
    health_flags: list[str] = field(default_factory=list)
    cancel_reason: str = ""  # a cancelled visit's reason and who cancelled: "Illness (by the client)"
    # the card on file (issue 16; with client.contact.read or payment.take): "Visa ••4242", and
    # a warning when it expires before the visit ("" when fine)
    card_on_file: str = ""
    card_warning: str = ""
    # the card on file checkout may charge (payment.take, checkout offered, not expired before
    # the visit): its SavedCard id, else 0 (trial finding 6)
    checkout_card_id: int = 0
    # its late-cancel / no-show fee (payments.fees; a visit has at most one in practice): id, the
    # line in words, status, and whether this actor may waive it (fee.waive); 0 / "" without one
    fee_id: int = 0
    fee_line: str = ""
    fee_status: str = ""
    fee_waivable: bool = False
    # an unpaid fee (needs action): the card a staff member with payment.take may charge it to
    # again ("Visa ••4242"; payments.fee_actions.do_retry_fee_charge), else how to collect it
    fee_retry_card: str = ""
    fee_collect_hint: str = ""
    # the no-show confirmation's words (payments.fees.no_show_fee_preview), when "no_show" is allowed
    no_show_preview: str = ""
    # the cancel form's words when a clinic reason is picked (late-cancel fee: none for those), ""
    # when the same as cancel_policy
    cancel_policy_clinic: str = ""
    # its recurring series (scheduling.series_changes.series_info): "Visit 3 of 6 · Weekly at 10:00 AM",
    # and how many of its visits are confirmed and still ahead ("" / 0: not part of a series)
    series_label: str = ""
    series_ahead: int = 0
    # the visit's reminder in words (messaging.reminders.reminder_line): "<when> by email and SMS",
    # "Sent <when> by email", "None: booked inside the 24-hour window"; "" unless confirmed
    reminder: str = ""


def _allowed_actions(actor: Actor, appt: Appointment, today: date, visit_day: date) -> list[str]:
    actions = []
    on_or_after = today >= visit_day
    if appt.status == AppointmentStatus.CONFIRMED and on_or_after and actor.can("appointment.check_in"):
        actions.append("check_in")
    if (appt.status in (AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN) and on_or_after
            and actor.can("appointment.update_status")):
        actions.append("complete")
    if appt.status == AppointmentStatus.CONFIRMED and on_or_after and actor.can("appointment.update_status"):
        actions.append("no_show")
    if appt.status in (AppointmentStatus.CONFIRMED, AppointmentStatus.HELD) and actor.can("appointment.cancel"):
        actions.append("cancel")
    if appt.status in MOVABLE_STATUSES and actor.can("appointment.reschedule"):
        actions.append("move")  # drag on the grid, or the edit dialog (scheduling.reschedule)
    return actions


_CANCELLED_BY = {"client": "by the client", "staff": "by the clinic", "system": "automatically"}


def _cancel_reason(appt: Appointment) -> str:
    """A cancelled visit's reason and who cancelled it, in words ("" otherwise)."""
    if appt.status != AppointmentStatus.CANCELLED:
        return ""
    reason = cancel_reason_text(appt.cancellation_reason, appt.cancellation_note)
    by = _CANCELLED_BY.get(appt.cancelled_by or "", "")
    return f"{reason} ({by})" if reason and by else reason or (by.capitalize() if by else "")


def _checkout_figures(session: Session, actor: Actor, appt: Appointment) -> dict:
    """checked_out and, for payment.take on a checked-in/completed visit, the checkout quote."""
    from medspa.domain.payments.checkout import CHECKOUT_STATUSES, checkout_quote, is_checked_out

    if appt.status not in CHECKOUT_STATUSES:
        return {}
    if not actor.can("payment.take"):
        return {"checked_out": is_checked_out(session, appt.id)}
    q = checkout_quote(session, actor, appt.id)
    return {"checked_out": q.checked_out, "sale_cents": q.price_cents, "applied_cents": q.applied_cents,
            "balance_cents": q.balance_cents, "paid_at_checkout_cents": q.paid_cents}


def appointment_detail(session: Session, actor: Actor, appointment_id: int, *, now: datetime) -> AppointmentDetail:
    """Everything the calendar's side panel shows, with the actions this actor may take now
    ("checkout" for a checked-in/completed visit not checked out yet, with payment.take).

    cancel_late / cancel_policy say whether cancelling now keeps or refunds the paid deposit
    (the rule the visit was booked under or the location's current one, the kinder:
    scheduling.policy.cancel_rule;
    cancel_late is True only when the deposit would be kept). Raises PermissionDenied, NotFound.
    """
    from medspa.domain.payments.service import succeeded_deposit  # payments depends on scheduling models

    actor.require("calendar.read")
    row = session.exec(
        select(Appointment, Service, Client, StaffMember, Location)
        .join(Service, Service.id == Appointment.service_id)
        .join(StaffMember, StaffMember.id == Appointment.provider_id)
        .join(Location, Location.id == Appointment.location_id)
        .join(Client, Client.id == Appointment.client_id, isouter=True)
        .where(Appointment.id == appointment_id)).first()
    if row is None:
        raise NotFound("appointment")
    appt, svc, client, provider, location = row
    tz = ZoneInfo(location.time_zone)
    resources = list(session.exec(
        select(Resource.name).join(Occupancy, Occupancy.resource_id == Resource.id)
        .where(Occupancy.appointment_id == appt.id, Resource.kind.in_(("room", "device")))
        .distinct().order_by(Resource.name)))
    payment = succeeded_deposit(session, appt.id)  # a kept deposit stays paid; a refunded one is not
    paid = payment.amount_cents if payment is not None else 0
    window, late, policy, policy_clinic = _cancel_words(session, appt, location, payment, paid, now)
    contact = actor.can("client.contact.read") and client is not None
    local_start = appt.start_at.astimezone(tz)
    checkout = _checkout_figures(session, actor, appt)
    actions = _allowed_actions(actor, appt, now.astimezone(tz).date(), local_start.date())
    card = visit_card(session, appt) if actor.can("client.contact.read") or actor.can("payment.take") else VisitCard()
    waiting = appt.status == AppointmentStatus.HELD and waiting_for_card(session, appt.id)
    if "sale_cents" in checkout and not checkout["checked_out"]:
        actions.append("checkout")
    record(session, actor, "appointment.read", "appointment", appt.id, client_id=appt.client_id, at=now)
    series = _series_fields(session, appt, now)
    no_show_words = _no_show_words(session, appt, location) if "no_show" in actions else ""
    health = _health_flags(session, actor, appt, now)
    return AppointmentDetail(
        id=appt.id, reference=format_display_code(appt.display_code), status=appt.status,
        status_label=WAITING_FOR_CARD if waiting else STATUS_LABELS.get(appt.status, appt.status),
        client_id=appt.client_id, contact_visible=contact,
        client_name=client_name(client) if waiting else visit_who(appt.status, appt.source, client),
        client_phone=display_phone(client.phone_e164) if contact and client.phone_e164 else "",
        client_email=(client.email or "") if contact else "", client_alerts=(client.alerts or "") if contact else "",
        health_flags=health,
        service_name=svc.name, category=svc.category,
        colour=category_colour(svc.category), duration_minutes=svc.duration_minutes,
        provider_name=provider.display_name, resources=resources, location_name=location.name,
        time_zone=location.time_zone, date_label=format_date(local_start.date(), "EEEE, MMMM d, y", locale="en_US"),
        time_label=(f"{format_clinic_clock(appt.start_at, location.time_zone)} – "
                    f"{format_clinic_clock(appt.end_at, location.time_zone)} {zone_abbreviation(appt.end_at, tz)}"
                    f" ({location.time_zone})"),
        source=appt.source, price=format_money(appt.price_cents, appt.currency),
        deposit_paid=_deposit_words(session, appt, paid), deposit_paid_cents=paid,
        currency=appt.currency, actions=actions, cancel_late=late, cancel_policy=policy,
        cancellation_window_hours=window, notes=appt.notes, cancel_reason=_cancel_reason(appt),
        card_on_file=card.label, card_warning=card.warning, **series, **checkout,
        checkout_card_id=card.card_id if "checkout" in actions and not card.expires_before_visit else 0,
        no_show_preview=no_show_words, cancel_policy_clinic=policy_clinic,
        reminder=_reminder_words(session, appt, location.time_zone),
        **_fee_fields(session, actor, appt))


def _reminder_words(session: Session, appt: Appointment, time_zone: str) -> str:
    from medspa.domain.messaging.reminders import reminder_line  # messaging depends on scheduling models
    from medspa.settings import get_settings

    settings = get_settings()  # whether a mail server / SMS provider is set up: the outbox's words
    return reminder_line(session, appt, time_zone, mail_enabled=settings.mail_enabled,
                         sms_enabled=settings.sms_enabled)


def _health_flags(session: Session, actor: Actor, appt: Appointment, now: datetime) -> list[str]:
    """The visit's contraindication flags in `actor`'s words (contraindications.shown_flags);
    the detail a history.read role sees is audited like the chart panel's read."""
    from medspa.domain.clinical.contraindications import audit_flag_reads, shown_flags, visit_flags

    if appt.client_id is None:
        return []
    flags = visit_flags(session, [appt]).get(appt.id, [])
    if flags and actor.can("history.read"):
        audit_flag_reads(session, actor, {appt.client_id: len(flags)}, now, "panel")
    return shown_flags(flags, actor)


def _cancel_words(session: Session, appt: Appointment, location: Location, payment, paid: int,
                  now: datetime) -> tuple[int, bool, str, str]:
    """(window hours, late, the cancel form's words, its words for a clinic reason or ""): the
    deposit rule (scheduling.policy.cancel_rule) or, inside the window with a late-cancel fee
    set, the fee by the reason picked (payments.fees.late_fee_preview)."""
    window, late_keeps = cancel_rule(appt, location)
    inside = is_late_to_cancel(appt, window, now)
    late = late_keeps and inside
    where = (f"Inside the {window}-hour window" if is_late_cancellation(appt.start_at, window, now)
             else "Moved inside the window by the client")
    if paid == 0:
        policy = "No deposit was paid, so nothing is refunded or kept."
    elif inside and not late:
        policy = (f"{where}, but this location refunds late cancellations: the "
                  f"{format_money(paid, payment.currency)} deposit will be refunded.")
    elif late:
        policy = (f"{where}: the {format_money(paid, payment.currency)} deposit "
                  "will be kept.")
    else:
        policy = (f"More than {window} hours ahead: the {format_money(paid, payment.currency)} deposit "
                  "will be refunded.")
    fee_words = _late_fee_words(session, appt, location, "client_request") if inside else ""
    policy_clinic = ""
    if fee_words:  # a late-cancel fee applies instead of the deposit rule (payments.fees), by the reason
        policy, late = f"{where}: {fee_words}", True
        policy_clinic = f"{where}: {_late_fee_words(session, appt, location, 'clinic')}"
    elif late and paid:  # the deposit rule keeps it, but never for the clinic's own reasons (cancel_visit)
        policy_clinic = (f"{where}: cancelled for the clinic's reason, the {format_money(paid, payment.currency)} "
                         "deposit will be refunded.")
    return window, late, policy, policy_clinic


def _late_fee_words(session: Session, appt: Appointment, location: Location, reason: str) -> str:
    from medspa.domain.payments.fees import late_fee_preview  # payments depends on scheduling models

    return late_fee_preview(session, appt, location, client=False, reason=reason)


def _no_show_words(session: Session, appt: Appointment, location: Location) -> str:
    from medspa.domain.payments.fees import no_show_fee_preview  # payments depends on scheduling models

    return no_show_fee_preview(session, appt, location)


def _fee_fields(session: Session, actor: Actor, appt: Appointment) -> dict:
    """The visit's latest late-cancel / no-show fee for the panel (payments.fees.fee_line), and
    for an unpaid one how to collect it (payments.fees.collect_fee_words)."""
    from medspa.domain.payments.fee_collect import collect_fee_words  # payments depends on scheduling
    from medspa.domain.payments.fees import fee_line, fees_of_visit

    fees = fees_of_visit(session, appt.id)
    if not fees:
        return {}
    fee = fees[-1]
    retry_card, hint = collect_fee_words(session, actor, fee, appt)
    return {"fee_id": fee.id, "fee_line": fee_line(fee), "fee_status": fee.status,
            "fee_waivable": actor.can("fee.waive") and fee.status in ("paid", "unpaid_needs_action"),
            "fee_retry_card": retry_card, "fee_collect_hint": hint}


def _series_fields(session: Session, appt: Appointment, now: datetime) -> dict:
    """series_label / series_ahead of a visit in a recurring series (none: {})."""
    from medspa.domain.scheduling.series_changes import series_info  # series builds on desk and reschedule

    info = series_info(session, appt, now)
    return {} if info is None else {"series_label": info.label, "series_ahead": info.ahead}


def _deposit_words(session: Session, appt: Appointment, paid_cents: int) -> str:
    """The panel's "Deposit paid" figure: the amount held ("$50.00 · Refund of $50.00 pending"
    while a refund waits for the gateway's answer), "$50.00 refunded" once it went back to the
    client, the deposit still owed ("$50.00 due · no card on file: collect it at checkout":
    payments.deposit_due, a series visit whose deposit was not charged), or "None"."""
    from medspa.domain.payments.deposit_due import deposit_due  # payments depends on scheduling models
    from medspa.domain.payments.models import RefundStatus
    from medspa.domain.payments.service import refunded_deposit_cents

    if paid_cents:
        pending = refunded_deposit_cents(session, appt.id, RefundStatus.PENDING)
        held = format_money(paid_cents, appt.currency)
        return f"{held} · Refund of {format_money(pending, appt.currency)} pending" if pending else held
    refunded = refunded_deposit_cents(session, appt.id)
    due = deposit_due(session, appt) if not refunded else None
    if due is not None:
        return due.text
    return f"{format_money(refunded, appt.currency)} refunded" if refunded else "None"
