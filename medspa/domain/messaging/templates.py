"""Message templates: what each kind of client message says, in Jinja2's sandbox.

Every client message kind is a `TemplateKind` in KINDS: its label, whether it is marketing
(sent only with the client's recorded consent for that channel: messaging.marketing), whether a
service may have its own wording (pre-visit instructions, post-treatment care, ...), and its
built-in default for the email (subject and body) and the SMS. A clinic's wording is a
`MessageTemplate` row (per clinic, kind, channel and optionally service): `template_source`
picks the service's, else the clinic's, else the default.

Rendering: messaging.sandbox (render_source: a narrowed Jinja2, SYNTAX_HELP; TemplateInvalid).
The context is plain dicts and strings (visit_context).

Clinical detail stays out by default: `visit.treatment` is the service's name only where the
clinic allows it for that channel (organization.treatment_in_sms, default off;
treatment_in_email, default on), else "appointment" ("your appointment tomorrow at 10:00 AM").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from sqlmodel import Session, select

from medspa.domain.catalog.models import Service
from medspa.domain.clients.models import Client
from medspa.domain.messaging.engage_models import MessageTemplate
from medspa.domain.messaging.sandbox import MAX_OUTPUT, MAX_SOURCE, SYNTAX_HELP, TemplateInvalid, render_source
from medspa.domain.money import format_money
from medspa.domain.practice.models import Location, Organization, StaffMember
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.policy import visit_terms
from medspa.domain.scheduling.references import format_display_code, manage_url, portal_forms_url
from medspa.domain.timezones import format_clinic_clock, format_clinic_time
from medspa.settings import get_settings

MAX_SUBJECT = 300
CHANNELS = ("email", "sms")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TemplateKind:
    """One kind of client message. key: the outbox kind it writes; marketing: only with consent;
    per_service: a service may have its own wording; email_subject / email_body / sms_body:
    the built-in default sources ("" body: the kind is not sent on that channel unless the clinic
    writes one, e.g. pre-visit instructions); variables: the names the editor lists."""

    key: str
    label: str
    marketing: bool = False
    per_service: bool = False
    email_subject: str = ""
    email_body: str = ""
    sms_body: str = ""
    variables: tuple[str, ...] = field(default_factory=tuple)
    channels: tuple[str, ...] = ("email", "sms")
    description: str = ""

    def default(self, channel: str) -> tuple[str, str]:
        """(subject, body) of the built-in default on `channel`."""
        return (self.email_subject, self.email_body) if channel == "email" else ("", self.sms_body)


VISIT_VARIABLES = ("client.first_name", "client.last_name", "clinic.name", "visit.when", "visit.date",
                   "visit.time", "visit.treatment", "visit.provider", "visit.location", "visit.address",
                   "visit.reference", "visit.deposit", "visit.terms", "links.manage", "links.forms", "links.book")
CLIENT_VARIABLES = ("client.first_name", "client.last_name", "clinic.name", "links.book", "links.unsubscribe")

_SIGN_OFF = "\n\n{{ clinic.name }}"
_HI = "Hi{% if client.first_name %} {{ client.first_name }}{% endif %},\n\n"  # "Hi," without a first name
_WITH = "{% if visit.provider %} with {{ visit.provider }}{% endif %}"  # nothing for a visit without one

KINDS: dict[str, TemplateKind] = {k.key: k for k in (
    TemplateKind(
        "booking_confirmation", "Booking confirmation",
        description="Sent when a visit is booked (online or at the desk); the email carries the visit as invite.ics.",
        email_subject="Confirmed: {{ visit.treatment }} on {{ visit.when }}",
        email_body=(_HI + "Your {{ visit.treatment }}" + _WITH + " is confirmed "
                    "for {{ visit.when }} at {{ visit.location }}"
                    "{% if visit.address %}, {{ visit.address }}{% endif %}.\n"
                    "{% if visit.deposit %}Deposit paid: {{ visit.deposit }}.\n{% endif %}"
                    "Booking reference: {{ visit.reference }}\n{{ visit.terms }}\n"
                    "Manage your booking: {{ links.manage }}\n"
                    "Before your visit, fill in your health forms: {{ links.forms }}" + _SIGN_OFF),
        sms_body=("{{ clinic.name }}: your {{ visit.treatment }} is confirmed for {{ visit.when }}. {{ visit.terms }} "
                  "Ref {{ visit.reference }}"),
        variables=VISIT_VARIABLES),
    TemplateKind(
        "move_notice", "Reschedule notice",
        description="Sent when a visit moves to another time; the email carries the updated invite.ics.",
        email_subject="Moved: {{ visit.treatment }} on {{ visit.when }}",
        email_body=(_HI + "Your {{ visit.treatment }} is moved to {{ visit.when }}" + _WITH
                    + " at {{ visit.location }} (it was {{ visit.old_when }}).\n"
                    "Booking reference: {{ visit.reference }}" + _SIGN_OFF),
        sms_body=("{{ clinic.name }}: your {{ visit.treatment }} is moved to {{ visit.when }}. "
                  "Ref {{ visit.reference }}"),
        variables=VISIT_VARIABLES + ("visit.old_when",)),
    TemplateKind(
        "cancellation_notice", "Cancellation notice",
        description="Sent when the clinic or the client cancels a visit, with what happens to the deposit.",
        email_subject="Cancelled: {{ visit.treatment }} on {{ visit.when }}",
        email_body=(_HI + "Your {{ visit.treatment }} on {{ visit.when }} at "
                    "{{ visit.location }} is cancelled.\n"
                    "{% if cancellation.deposit %}{{ cancellation.deposit }}\n{% endif %}"
                    "Booking reference: {{ visit.reference }}" + _SIGN_OFF),
        sms_body=("{{ clinic.name }}: your {{ visit.treatment }} on {{ visit.when }} is cancelled."
                  "{% if cancellation.deposit_short %} {{ cancellation.deposit_short }}{% endif %}"),
        variables=VISIT_VARIABLES + ("cancellation.deposit", "cancellation.deposit_short")),
    TemplateKind(
        "series_confirmation", "Series confirmation",
        description="One message for a recurring series booked at the desk, with every date.",
        email_subject="Confirmed: {{ visit.treatment }}, {{ series.count }} from {{ visit.when }}",
        email_body=(_HI + "Your {{ visit.treatment }} series" + _WITH + " at "
                    "{{ visit.location }} is confirmed: {{ series.count }} ({{ series.description }}):\n"
                    "{{ series.visits }}\n\n{% if series.deposit %}{{ series.deposit }}\n{% endif %}"
                    "{{ series.terms }}\nManage your first visit: {{ links.manage }}" + _SIGN_OFF),
        sms_body=("{{ clinic.name }}: your {{ visit.treatment }} series, {{ series.count }} confirmed from "
                  "{{ visit.when }}. Ref {{ visit.reference }}"),
        variables=VISIT_VARIABLES + ("series.count", "series.description", "series.visits", "series.deposit",
                                     "series.terms")),
    TemplateKind(
        "deposit_receipt", "Deposit receipt", channels=("email",),
        description="Sent when an online booking's deposit is charged.",
        email_subject="Receipt: deposit {{ payment.amount }}",
        email_body=(_HI + "We received your deposit of {{ payment.amount }} for "
                    "{{ visit.treatment }} on {{ visit.when }}.\nCard ending {{ payment.card_last4 }}. "
                    "Booking reference: {{ visit.reference }}." + _SIGN_OFF),
        variables=VISIT_VARIABLES + ("payment.amount", "payment.card_last4")),
    TemplateKind(
        "checkout_receipt", "Checkout receipt", channels=("email",),
        description="Sent when a visit is checked out and paid.",
        email_subject="Receipt: {{ visit.treatment }} {{ receipt.total }}",
        email_body=(_HI + "Thank you for your visit. Your receipt:\n\n"
                    "{{ visit.treatment }} on {{ visit.when }} at {{ visit.location }}\n"
                    "Price: {{ receipt.price }}\nDeposit applied: {{ receipt.deposit_applied }}\n"
                    "Charged now: {{ receipt.charged }}"
                    "{% if receipt.card_last4 %} (card ending {{ receipt.card_last4 }}){% endif %}\n"
                    "Total paid: {{ receipt.total }}\n"
                    "{% if receipt.refunding %}Deposit above the price, being refunded to your card: "
                    "{{ receipt.refunding }}\n{% endif %}" + _SIGN_OFF),
        variables=VISIT_VARIABLES + ("receipt.price", "receipt.deposit_applied", "receipt.charged",
                                     "receipt.card_last4", "receipt.total", "receipt.refunding")),
    TemplateKind(
        "deposit_refund", "Refund notice",
        description="Sent when a paid booking could not be kept and its deposit is refunded in full.",
        email_subject="Not booked: {{ visit.treatment }} on {{ visit.when }}",
        email_body=(_HI + "We could not keep your booking for {{ visit.treatment }} on "
                    "{{ visit.when }} at {{ visit.location }}: the time was no longer free when your payment went "
                    "through.\n{% if refund.pending %}Your deposit of {{ refund.amount }} is being refunded to your "
                    "card in full; the payment service has not confirmed it yet, and we will keep at it until it "
                    "does.{% else %}Your deposit of {{ refund.amount }} has been refunded to your card in full."
                    "{% endif %}\nPlease book another time, or reply to this message and we will help." + _SIGN_OFF),
        sms_body=("{{ clinic.name }}: your {{ visit.treatment }} on {{ visit.when }} could not be booked. Your "
                  "{{ refund.amount }} deposit {% if refund.pending %}is being refunded{% else %}is refunded"
                  "{% endif %}."),
        variables=VISIT_VARIABLES + ("refund.amount", "refund.pending")),
    TemplateKind(
        "fee_notice", "Fee notice",
        description="Sent when a no-show fee is settled or a fee is waived.",
        email_subject="{{ fee.title }}: {{ visit.treatment }} on {{ visit.when }}",
        email_body=(_HI + "About your {{ visit.treatment }} on {{ visit.when }} at "
                    "{{ visit.location }}:\n{{ fee.sentence }}\nBooking reference: {{ visit.reference }}" + _SIGN_OFF),
        sms_body=("{{ clinic.name }}: about your {{ visit.treatment }} on {{ visit.when }}: {{ fee.sentence }} "
                  "Ref {{ visit.reference }}"),
        variables=VISIT_VARIABLES + ("fee.title", "fee.sentence")),
    TemplateKind(
        "waitlist_offer", "Waitlist offer",
        description="Sent when a time a client waits for opens up.",
        email_subject="A time opened: {{ visit.treatment }} on {{ visit.when }}",
        email_body=(_HI + "A time you were waiting for is free: {{ visit.treatment }}" + _WITH
                    + " on {{ visit.when }} at {{ visit.location }}.\n{{ offer.terms }}\n"
                    "Book it here: {{ offer.link }}" + _SIGN_OFF),
        sms_body=("{{ clinic.name }}: the {{ visit.treatment }} time you were waiting for is free: {{ visit.when }}"
                  "{% if offer.held_until %}, held for you until {{ offer.held_until }}{% endif %}. "
                  "Book: {{ offer.link }}"),
        variables=VISIT_VARIABLES + ("offer.link", "offer.held_until", "offer.terms")),
    TemplateKind(
        "reminder", "Appointment reminder",
        email_subject="Reminder: your {{ visit.treatment }} on {{ visit.date }}",
        email_body=(_HI + "This is a reminder of your {{ visit.treatment }}" + _WITH
                    + " on {{ visit.when }} at {{ visit.location }}"
                    "{% if visit.address %}, {{ visit.address }}{% endif %}.\n"
                    "Booking reference: {{ visit.reference }}\n{{ visit.terms }}\n"
                    "Need to change it? {{ links.manage }}" + _SIGN_OFF),
        sms_body=("{{ clinic.name }}: reminder of your {{ visit.treatment }} on {{ visit.when }}. "
                  "Change it: {{ links.manage }}"),
        variables=VISIT_VARIABLES),
    TemplateKind(
        "pre_visit", "Pre-visit instructions", per_service=True,
        email_subject="Before your {{ visit.treatment }} on {{ visit.date }}",
        variables=VISIT_VARIABLES),
    TemplateKind(
        "post_care", "Post-treatment care", per_service=True,
        email_subject="Caring for your skin after your {{ visit.treatment }}",
        variables=VISIT_VARIABLES),
    TemplateKind(
        "no_show_follow_up", "No-show follow-up",
        email_subject="We missed you today",
        email_body=(_HI + "We missed you at your {{ visit.treatment }} on {{ visit.when }}. "
                    "We hope all is well. Book a new time whenever suits you: {{ links.book }}" + _SIGN_OFF),
        sms_body="{{ clinic.name }}: we missed you today. Book a new time: {{ links.book }}",
        variables=VISIT_VARIABLES),
    TemplateKind(
        "review_request", "Review request", marketing=True,
        email_subject="How was your visit?",
        email_body=(_HI + "Thank you for visiting {{ clinic.name }}. We would love to hear "
                    "how your {{ visit.treatment }} went: just reply to this email.\n\n"
                    "Unsubscribe: {{ links.unsubscribe }}" + _SIGN_OFF),
        sms_body="{{ clinic.name }}: thanks for your visit! Reply with how it went. Reply STOP to opt out.",
        variables=VISIT_VARIABLES + ("links.unsubscribe",)),
    TemplateKind(
        "birthday", "Birthday greeting", marketing=True,
        email_subject="Happy birthday{% if client.first_name %}, {{ client.first_name }}{% endif %}!",
        email_body=(_HI + "Happy birthday from all of us at {{ clinic.name }}!\n"
                    "Treat yourself: {{ links.book }}\n\nUnsubscribe: {{ links.unsubscribe }}" + _SIGN_OFF),
        sms_body=("{{ clinic.name }}: happy birthday{% if client.first_name %}, {{ client.first_name }}{% endif %}! "
                  "Reply STOP to opt out."),
        variables=CLIENT_VARIABLES),
)}


# ---------------------------------------------------------------------------------- sources


def template_source(session: Session, kind: str, channel: str, service_id: int | None = None) -> tuple[str, str]:
    """(subject, body) sources of `kind` on `channel` for the session's clinic: the service's own
    template (kinds with per_service), else the clinic's, else KINDS' default. Raises KeyError
    for an unknown kind."""
    spec = KINDS[kind]
    rows = session.exec(select(MessageTemplate).where(MessageTemplate.kind == kind,
                                                      MessageTemplate.channel == channel)).all()
    by_service = {r.service_id: r for r in rows}
    row = (by_service.get(service_id) if service_id is not None and spec.per_service else None) or by_service.get(None)
    return (row.subject, row.body) if row is not None else spec.default(channel)


@dataclass(frozen=True)
class Rendered:
    """A rendered message: the email's subject ("" for an SMS) and the text."""

    subject: str
    body: str


def render_message(session: Session, kind: str, channel: str, context: dict[str, Any], *,
                   service_id: int | None = None) -> Rendered | None:
    """`kind` on `channel` rendered with `context` from the clinic's wording (template_source).
    None when that wording's body is empty (the kind is off on that channel). A stored template
    that fails to render (it was checked when saved, so only a changed context or a stricter
    sandbox could) or renders to an empty text for this visit falls back to the built-in
    default; when the default is empty too, or fails as well, None (logged): one message's
    wording never stops the others. The subject is one line, at most MAX_SUBJECT characters."""
    subject_src, body_src = template_source(session, kind, channel, service_id)
    if not body_src.strip():
        return None
    sources = [(subject_src, body_src)]
    default = KINDS[kind].default(channel)
    if default != (subject_src, body_src) and default[1].strip():
        sources.append(default)
    for subject_src, body_src in sources:
        try:
            subject, body = render_source(subject_src, context), render_source(body_src, context)
        except TemplateInvalid as exc:
            log.warning("message %s/%s (service %s) did not render: %s", kind, channel, service_id, exc.message)
            continue
        if body.strip():
            return Rendered(" ".join(subject.split())[:MAX_SUBJECT], body.strip())
        log.info("message %s/%s (service %s) rendered empty: trying the default", kind, channel, service_id)
    return None


# ---------------------------------------------------------------------------------- context


def _treatment(org: Organization, service: Service | None, channel: str) -> str:
    shown = org.treatment_in_sms if channel == "sms" else org.treatment_in_email
    return service.name if (shown and service is not None) else "appointment"


def client_context(org: Organization, client: Client, *, channel: str, unsubscribe_url: str = "") -> dict[str, Any]:
    """The variables about a client and the clinic (CLIENT_VARIABLES): names, the clinic's
    booking page and the unsubscribe link (`unsubscribe_url`, "" outside marketing)."""
    base = get_settings().base_url
    return {"client": {"first_name": client.first_name, "last_name": client.last_name},
            "clinic": {"name": org.name},
            "links": {"book": f"{base}/book/{org.slug}", "unsubscribe": unsubscribe_url,
                      "manage": "", "forms": portal_forms_url(org.slug, base)},
            "channel": channel}


def visit_variables(org: Organization, location: Location, service: Service | None, provider: StaffMember | None,
                    start_at: datetime, *, channel: str, appointment: Appointment | None = None) -> dict[str, str]:
    """The `visit` variables (VISIT_VARIABLES' visit.*) of a visit at `location` starting at
    `start_at` (aware UTC), in the location's zone with the zone named; the treatment as the
    clinic allows on `channel`. Without an `appointment` (a waitlist offer's free time) the
    reference, deposit and terms are ""."""
    tz = ZoneInfo(location.time_zone)
    return {
        "when": format_clinic_time(start_at, location.time_zone),
        "date": format_datetime(start_at.astimezone(tz), "EEE, MMM d", tzinfo=tz, locale="en_US"),
        "time": format_clinic_clock(start_at, location.time_zone),
        "treatment": _treatment(org, service, channel),
        "provider": provider.display_name if provider is not None else "",
        "location": location.name,
        "address": location.address or "",
        "reference": format_display_code(appointment.display_code) if appointment is not None else "",
        "deposit": (format_money(appointment.deposit_cents, appointment.currency)
                    if appointment is not None and appointment.deposit_cents else ""),
        "terms": visit_terms(appointment, location) if appointment is not None else "",
    }


def visit_context(session: Session, appointment: Appointment, client: Client, *, channel: str,
                  unsubscribe_url: str = "") -> dict[str, Any]:
    """The variables of a message about `appointment` (VISIT_VARIABLES) on `channel`: times in
    the location's zone with the zone named ("Tue, Jun 30, 2026, 2:00 PM EDT (America/New_York)",
    the same instant as the calendar and the .ics), the treatment as the clinic allows on that
    channel, the deposit paid (integer cents formatted in the visit's currency), the
    cancellation terms and the manage link by the booking's token."""
    org = session.get(Organization, appointment.org_id)
    location = session.get(Location, appointment.location_id)
    service = session.get(Service, appointment.service_id) if appointment.service_id else None
    provider = session.get(StaffMember, appointment.provider_id) if appointment.provider_id else None
    base = get_settings().base_url
    context = client_context(org, client, channel=channel, unsubscribe_url=unsubscribe_url)
    context["visit"] = visit_variables(org, location, service, provider, appointment.start_at, channel=channel,
                                       appointment=appointment)
    context["links"]["manage"] = manage_url(org.slug, appointment.booking_token, base) if appointment.booking_token \
        else ""
    return context


def with_extra(context: dict[str, Any], extra: dict[str, Any] | None) -> dict[str, Any]:
    """`context` with a kind's own variables added: a dict value is merged into the namespace of
    the same name ({"visit": {"old_when": ...}} adds visit.old_when), anything else is set."""
    out = dict(context)
    for key, value in (extra or {}).items():
        out[key] = {**out[key], **value} if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


__all__ = ["CHANNELS", "KINDS", "MAX_OUTPUT", "MAX_SOURCE", "MAX_SUBJECT", "SYNTAX_HELP", "Rendered", "TemplateInvalid",
           "TemplateKind", "client_context", "render_message", "render_source", "template_source", "visit_context",
           "visit_variables", "with_extra"]
