"""Message templates: what each kind of client message says, in Jinja2's sandbox.

Every client message kind is a `TemplateKind` in KINDS: its label, whether it is marketing
(sent only with the client's recorded consent for that channel: messaging.marketing), whether a
service may have its own wording (pre-visit instructions, post-treatment care, ...), and its
built-in default for the email (subject and body) and the SMS. A clinic's wording is a
`MessageTemplate` row (per clinic, kind, channel and optionally service): `template_source`
picks the service's, else the clinic's, else the default.

Rendering: `jinja2.sandbox.ImmutableSandboxedEnvironment` (no attribute of Python objects
beyond plain data, no mutation), plain text (no HTML escaping: emails are text/plain, SMS are
text), StrictUndefined (a misspelt variable is an error the editor shows, never a silent blank),
`range` capped at MAX_RANGE, string/list repetition and powers refused, output capped at
MAX_OUTPUT characters. The context is plain dicts and strings (visit_context).

Clinical detail stays out by default: `visit.treatment` is the service's name only where the
clinic allows it for that channel (organization.treatment_in_sms, default off;
treatment_in_email, default on), else "appointment" ("your appointment tomorrow at 10:00 AM").
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from sqlmodel import Session, select

from medspa.domain.catalog.models import Service
from medspa.domain.clients.models import Client
from medspa.domain.messaging.engage_models import MessageTemplate
from medspa.domain.money import format_money
from medspa.domain.practice.models import Location, Organization, StaffMember
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.policy import visit_terms
from medspa.domain.scheduling.references import format_display_code, manage_url, portal_forms_url
from medspa.domain.timezones import format_clinic_clock, format_clinic_time
from medspa.settings import get_settings

MAX_RANGE = 100
MAX_OUTPUT = 20_000
MAX_SOURCE = 20_000
MAX_SUBJECT = 300
CHANNELS = ("email", "sms")


class TemplateInvalid(ValueError):
    """A template that does not parse or render: `message` in words for the editor."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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

    def default(self, channel: str) -> tuple[str, str]:
        """(subject, body) of the built-in default on `channel`."""
        return (self.email_subject, self.email_body) if channel == "email" else ("", self.sms_body)


VISIT_VARIABLES = ("client.first_name", "client.last_name", "clinic.name", "visit.when", "visit.date",
                   "visit.time", "visit.treatment", "visit.provider", "visit.location", "visit.address",
                   "visit.reference", "visit.deposit", "visit.terms", "links.manage", "links.forms", "links.book")
CLIENT_VARIABLES = ("client.first_name", "client.last_name", "clinic.name", "links.book", "links.unsubscribe")

_SIGN_OFF = "\n\n{{ clinic.name }}"

KINDS: dict[str, TemplateKind] = {k.key: k for k in (
    TemplateKind(
        "reminder", "Appointment reminder",
        email_subject="Reminder: your {{ visit.treatment }} on {{ visit.date }}",
        email_body=("Hi {{ client.first_name }},\n\nThis is a reminder of your {{ visit.treatment }} with "
                    "{{ visit.provider }} on {{ visit.when }} at {{ visit.location }}"
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
        email_body=("Hi {{ client.first_name }},\n\nWe missed you at your {{ visit.treatment }} on {{ visit.when }}. "
                    "We hope all is well. Book a new time whenever suits you: {{ links.book }}" + _SIGN_OFF),
        sms_body="{{ clinic.name }}: we missed you today. Book a new time: {{ links.book }}",
        variables=VISIT_VARIABLES),
    TemplateKind(
        "review_request", "Review request", marketing=True,
        email_subject="How was your visit?",
        email_body=("Hi {{ client.first_name }},\n\nThank you for visiting {{ clinic.name }}. We would love to hear "
                    "how your {{ visit.treatment }} went: just reply to this email.\n\n"
                    "Unsubscribe: {{ links.unsubscribe }}" + _SIGN_OFF),
        sms_body="{{ clinic.name }}: thanks for your visit! Reply with how it went. Reply STOP to opt out.",
        variables=VISIT_VARIABLES + ("links.unsubscribe",)),
    TemplateKind(
        "birthday", "Birthday greeting", marketing=True,
        email_subject="Happy birthday, {{ client.first_name }}!",
        email_body=("Hi {{ client.first_name }},\n\nHappy birthday from all of us at {{ clinic.name }}!\n"
                    "Treat yourself: {{ links.book }}\n\nUnsubscribe: {{ links.unsubscribe }}" + _SIGN_OFF),
        sms_body="{{ clinic.name }}: happy birthday, {{ client.first_name }}! Reply STOP to opt out.",
        variables=CLIENT_VARIABLES),
)}


# ---------------------------------------------------------------------------------- the sandbox


def _capped_range(*args: int) -> range:
    r = range(*args)
    if len(r) > MAX_RANGE:
        raise SecurityError(f"range() is limited to {MAX_RANGE} items in a message")
    return r


class _MessageSandbox(ImmutableSandboxedEnvironment):
    """The sandbox with repetition and powers refused (a template cannot build a huge string)."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**":
            raise SecurityError("powers are not allowed in a message")
        if isinstance(left, (str, list, tuple)) or isinstance(right, (str, list, tuple)):
            raise SecurityError("repeating text is not allowed in a message")
        return operator.mul(left, right)


_ENV = _MessageSandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
_ENV.globals["range"] = _capped_range


def render_source(source: str, context: dict[str, Any]) -> str:
    """Render Jinja2 `source` with `context` in the sandbox (see the module). Raises
    TemplateInvalid with the reason in words ("Line 2: unknown name 'visit.tretment'")."""
    if len(source) > MAX_SOURCE:
        raise TemplateInvalid(f"Keep it under {MAX_SOURCE:,} characters")
    try:
        text = _ENV.from_string(source).render(context)
    except SecurityError as exc:
        raise TemplateInvalid(str(exc)) from exc
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        raise TemplateInvalid(f"Line {line}: {exc.message}" if line else str(exc.message or exc)) from exc
    except (TypeError, ValueError, ArithmeticError, AttributeError, KeyError, IndexError) as exc:
        raise TemplateInvalid(f"{type(exc).__name__}: {exc}") from exc
    if len(text) > MAX_OUTPUT:
        raise TemplateInvalid(f"The message would be over {MAX_OUTPUT:,} characters")
    return text


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
    that fails to render (it was checked when saved, so only a changed context could) falls back
    to the built-in default. The subject is one line, at most MAX_SUBJECT characters."""
    subject_src, body_src = template_source(session, kind, channel, service_id)
    if not body_src.strip():
        return None
    try:
        subject, body = render_source(subject_src, context), render_source(body_src, context)
    except TemplateInvalid:
        subject_src, body_src = KINDS[kind].default(channel)
        if not body_src.strip():
            return None
        subject, body = render_source(subject_src, context), render_source(body_src, context)
    return Rendered(" ".join(subject.split())[:MAX_SUBJECT], body.strip())


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
    when: datetime = appointment.start_at
    context["visit"] = {
        "when": format_clinic_time(when, location.time_zone),
        "date": format_datetime(when.astimezone(ZoneInfo(location.time_zone)), "EEE, MMM d",
                                tzinfo=ZoneInfo(location.time_zone), locale="en_US"),
        "time": format_clinic_clock(when, location.time_zone),
        "treatment": _treatment(org, service, channel),
        "provider": provider.display_name if provider is not None else "",
        "location": location.name,
        "address": location.address or "",
        "reference": format_display_code(appointment.display_code),
        "deposit": format_money(appointment.deposit_cents, appointment.currency) if appointment.deposit_cents else "",
        "terms": visit_terms(appointment, location),
    }
    context["links"]["manage"] = manage_url(org.slug, appointment.booking_token, base) if appointment.booking_token \
        else ""
    return context
