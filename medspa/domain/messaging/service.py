"""Messages written to the outbox in the transaction that causes them.

Times are in clinic time with the zone named (acceptance case TZ-3): a booking at 10:00 in
Berlin reads "10:00 AM CEST (Europe/Berlin)" in the email and the SMS alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from sqlmodel import Session, select

from medspa.domain.catalog.models import Service
from medspa.domain.identity.actor import Actor
from medspa.domain.clients.models import Client
from medspa.domain.messaging.attachments import attach_booking_invite
from medspa.domain.messaging.delivery import add_messages
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.messaging.templates import KINDS, render_message, visit_context, with_extra
from medspa.domain.money import format_money
from medspa.domain.payments.models import Payment
from medspa.domain.practice.models import Location, Organization, StaffMember
from medspa.domain.scheduling.models import Appointment
from medspa.domain.timezones import format_clinic_time


def add_new_messages(session: Session, messages: list[OutboxMessage]) -> list[OutboxMessage]:
    """Add the messages whose dedupe_key this clinic has not queued yet; returns those added.

    Makes re-running a step (a webhook after the booking request confirmed the visit) a no-op
    instead of a unique violation on uq_outbox_dedupe. Callers serialise on the appointment
    row (confirm_hold locks it), so check-then-insert does not race. Emails get their
    delivery job in this transaction (messaging.delivery.add_messages)."""
    keys = [m.dedupe_key for m in messages if m.dedupe_key]
    if keys:
        existing = set(session.exec(select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(keys))))
        messages = [m for m in messages if m.dedupe_key not in existing]
    return add_messages(session, messages)


@dataclass(frozen=True)
class VisitFacts:
    """What a notice about a visit names: its client, clinic, location, service and start in
    clinic time with the zone named ("Tue, Jun 30, 2026, 2:00 PM EDT")."""

    client: Client
    org: Organization
    location: Location
    service: Service
    when: str


def visit_facts(session: Session, appointment: Appointment, *, needs: str = "email or phone") -> VisitFacts | None:
    """The facts of `appointment` for a client notice; None when its client cannot be reached:
    no client, or (`needs`) no "email", or neither email nor phone ("email or phone")."""
    client = session.get(Client, appointment.client_id) if appointment.client_id else None
    reachable = client is not None and (client.email if needs == "email" else (client.email or client.phone_e164))
    if not reachable:
        return None
    location = session.get(Location, appointment.location_id)
    return VisitFacts(client, session.get(Organization, appointment.org_id), location,
                      session.get(Service, appointment.service_id),
                      format_clinic_time(appointment.start_at, location.time_zone))


def visit_messages(appointment: Appointment, client: Client, *, kind: str, key: str, subject: str, body: str,
                   sms: str) -> list[OutboxMessage]:
    """One visit message to a client: the email (`subject`, `body`) when they have an address and
    the SMS (`sms`) when they have a phone; dedupe keys "<key>-email-<appointment id>" and
    "<key>-sms-<appointment id>". Not added to the session (add_new_messages does that)."""
    messages = []
    if client.email:
        messages.append(OutboxMessage(
            org_id=appointment.org_id, channel="email", kind=kind, to_address=client.email, subject=subject,
            body=body, client_id=client.id, appointment_id=appointment.id, dedupe_key=f"{key}-email-{appointment.id}"))
    if client.phone_e164:
        messages.append(OutboxMessage(
            org_id=appointment.org_id, channel="sms", kind=kind, to_address=client.phone_e164, body=sms,
            client_id=client.id, appointment_id=appointment.id, dedupe_key=f"{key}-sms-{appointment.id}"))
    return messages


def templated_messages(session: Session, appointment: Appointment, client: Client, *, kind: str, key: str,
                       extra: dict[str, Any] | None = None, dedupe: str = "{key}-{channel}-{id}",
                       context_of: Callable[[str], dict[str, Any]] | None = None, service_id: int | None = None,
                       **message_fields: Any) -> list[OutboxMessage]:
    """The client's messages of template `kind` (messaging.templates.KINDS) about
    `appointment`: on each channel the kind is sent on and the client can be reached by
    (email address, phone), rendered from the clinic's wording (service > clinic > default:
    templates.render_message) with the visit's variables (templates.visit_context) and the
    kind's own (`extra`, merged by namespace). A channel whose wording is empty sends nothing.
    Dedupe keys as `dedupe` says ("{key}-{channel}-{id}": "confirm-email-12"). `context_of`
    replaces visit_context (channel -> context; a waitlist offer's free time, `appointment`
    None or its hold), `service_id` the visit's service (whose own wording wins);
    `message_fields` go to every OutboxMessage (e.g. created_at). Not added to the session
    (add_new_messages does that)."""
    spec = KINDS[kind]
    messages = []
    for channel, address in (("email", client.email), ("sms", client.phone_e164)):
        if not address or channel not in spec.channels:
            continue
        context = context_of(channel) if context_of is not None else visit_context(session, appointment, client,
                                                                                   channel=channel)
        rendered = render_message(session, kind, channel, with_extra(context, extra),
                                  service_id=service_id if service_id is not None
                                  else appointment.service_id if appointment is not None else None)
        if rendered is None:
            continue
        fields = {"org_id": client.org_id, "client_id": client.id,
                  "appointment_id": appointment.id if appointment is not None else None, **message_fields}
        messages.append(OutboxMessage(
            channel=channel, kind=kind, to_address=address, subject=rendered.subject if channel == "email" else "",
            body=rendered.body, dedupe_key=dedupe.format(key=key, channel=channel,
                                                         id=appointment.id if appointment is not None else ""),
            **fields))
    return messages


def queue_booking_confirmation(session: Session, *, org: Organization, appointment: Appointment,
                               client: Client, location: Location, service: Service,
                               provider: StaffMember) -> list[OutboxMessage]:
    """An email and (with a phone) an SMS confirming the booking, in the clinic's wording of
    "booking_confirmation" (messaging.templates; the default names the visit's time in the
    location's zone, the terms, the reference, the manage link by the booking's token and the
    forms link). Deduplicated per appointment (dedupe keys confirm-email-<id> /
    confirm-sms-<id>; already queued ones are skipped; returns the messages added). The email
    carries the visit as `invite.ics` (messaging.attachments.booking_invite), written with it
    in this transaction: only when the email is added, never for a skipped re-add."""
    added = add_new_messages(session, templated_messages(session, appointment, client, kind="booking_confirmation",
                                                         key="confirm"))
    for email in (m for m in added if m.channel == "email"):
        attach_booking_invite(session, email, org=org, appointment=appointment, location=location, service=service,
                              provider=provider)
    return added


def queue_deposit_receipt(session: Session, *, org: Organization, payment: Payment, client: Client,
                          appointment: Appointment, location: Location, service: Service) -> OutboxMessage | None:
    """One receipt email per payment (dedupe key receipt-<payment id>) in the clinic's wording
    of "deposit_receipt" (payment.amount formatted from integer cents, payment.card_last4);
    None without an email or when it is already queued."""
    if not client.email:
        return None
    messages = templated_messages(
        session, appointment, client, kind="deposit_receipt", key="receipt", dedupe=f"receipt-{payment.id}",
        extra={"payment": {"amount": format_money(payment.amount_cents, payment.currency),
                           "card_last4": payment.card_last4 or "----"}}, org_id=payment.org_id)
    added = add_new_messages(session, messages)
    return added[0] if added else None


def list_outbox(session: Session, actor: Actor, *, limit: int = 50) -> list[OutboxMessage]:
    """The newest messages of the clinic's outbox (outbox.read), newest first; limit 1-200."""
    from sqlmodel import select

    actor.require("outbox.read")
    return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
                             .limit(max(1, min(limit, 200)))))
