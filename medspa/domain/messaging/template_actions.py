"""Use cases of the clinic's message wording and message settings (Settings > Messages,
settings.write): the kinds with their current wording, save, reset to the default, a preview,
and the reminder / quiet-hour / treatment-in-messages settings.

Each action opens one tenant transaction (domain/work.atomic), checks settings.write, writes
its audit row ("message_template.update", "message_template.reset", "message_settings.update")
in that transaction and returns frozen dataclasses, never rows. A template is saved only when
it renders with a sample of every variable its kind has under StrictUndefined
(templates.check_template): a misspelt variable or a syntax error is a ValidationFailed with the
field's message ("subject" / "body") and nothing is written. `engine` is for tests; `clock`
for "now".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from medspa.clock import Clock
from medspa.domain.audit.service import record
from medspa.domain.base import is_row_id
from medspa.domain.catalog.models import Service
from medspa.domain.clients.models import Client
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.messaging.engage_models import MessageTemplate
from medspa.domain.messaging.template_samples import check_template, kind_extras, sample_context, sms_segments
from medspa.domain.messaging.templates import (CHANNELS, KINDS, TemplateInvalid, render_source, template_source,
                                               visit_context, with_extra)
from medspa.domain.practice.models import Organization
from medspa.domain.scheduling.models import Appointment, AppointmentStatus
from medspa.domain.work import atomic, now_of

PERMISSION = "settings.write"
LATE_BOOKING = ("none", "shorter")
REMINDER_HOURS = (1, 168)
SHORT_HOURS = (1, 24)
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class KindInfo:
    """One message kind as the editor lists it: key, label, group ("Transactional" /
    "Marketing"), description, whether a service may have its own wording, the channels it is
    sent on, the variables it offers, and which (channel, service id or 0) have the clinic's own
    wording ("email:0", "sms:12")."""

    key: str
    label: str
    group: str
    description: str
    per_service: bool
    channels: tuple[str, ...]
    variables: tuple[str, ...]
    custom: tuple[str, ...]


@dataclass(frozen=True)
class TemplateView:
    """The wording in force for (kind, channel, service): subject ("" for an SMS) and body
    sources, and where it comes from: "default", "clinic" (the clinic's own) or "service" (this
    service's own). `default_subject` / `default_body`: the built-in default, for comparison."""

    kind: str
    channel: str
    service_id: int | None
    subject: str
    body: str
    source: str
    default_subject: str
    default_body: str


@dataclass(frozen=True)
class ServiceChoice:
    """A service a per-service wording can be written for."""

    id: int
    name: str


@dataclass(frozen=True)
class MessageSettings:
    """The clinic's message settings: whether the treatment is named in texts / emails, the
    reminder's hours before the visit (1-168), what a visit booked inside that window gets
    ("none" / "shorter": a reminder `reminder_short_hours` (1-24) before), and quiet hours
    ("HH:MM" local to the client; none start to end)."""

    treatment_in_sms: bool
    treatment_in_email: bool
    reminder_hours: int
    reminder_late_booking: str
    reminder_short_hours: int
    quiet_start: str
    quiet_end: str


@dataclass(frozen=True)
class MessagesPage:
    """Settings > Messages: the kinds, the services (active, by name) and the settings."""

    kinds: tuple[KindInfo, ...]
    services: tuple[ServiceChoice, ...]
    settings: MessageSettings


@dataclass(frozen=True)
class Preview:
    """A template rendered for the editor: the email's subject and body, the SMS's body with its
    characters and segments (sms_segments), `basis` (whose visit it used: "Ana S.'s visit on
    Tue, Jun 30, 2026, 2:00 PM EDT (America/New_York)" or "a sample visit"), and `errors`
    (field -> message: the draft does not render; the other channel's text is still shown).
    A channel the kind is not sent on is ""."""

    email_subject: str
    email_body: str
    sms_body: str
    sms_chars: int
    sms_segments: int
    basis: str
    errors: dict[str, str]


def _kind(kind: str) -> Any:
    spec = KINDS.get(kind) if isinstance(kind, str) else None
    if spec is None:
        raise NotFound("message kind")
    return spec


def _channel(spec, channel: str) -> str:
    if channel not in CHANNELS or channel not in spec.channels:
        raise ValidationFailed({"channel": f"{spec.label} is not sent by {'text' if channel == 'sms' else 'email'}"})
    return channel


def _service_id(session: Session, spec, service_id: int | None) -> int | None:
    if service_id in (None, 0):
        return None
    if not spec.per_service:
        raise ValidationFailed({"service": f"{spec.label} is the same for every service"})
    if not is_row_id(service_id) or session.get(Service, service_id) is None:
        raise NotFound("service")
    return service_id


def _row(session: Session, kind: str, channel: str, service_id: int | None) -> MessageTemplate | None:
    where = MessageTemplate.service_id.is_(None) if service_id is None else MessageTemplate.service_id == service_id
    return session.exec(select(MessageTemplate).where(MessageTemplate.kind == kind, MessageTemplate.channel == channel,
                                                      where)).first()


def _view(session: Session, spec, channel: str, service_id: int | None) -> TemplateView:
    own = _row(session, spec.key, channel, service_id)
    clinic = own if service_id is None else _row(session, spec.key, channel, None)
    subject, body = template_source(session, spec.key, channel, service_id)
    source = "service" if (service_id is not None and own is not None) else ("clinic" if clinic is not None
                                                                             else "default")
    d_subject, d_body = spec.default(channel)
    return TemplateView(spec.key, channel, service_id, subject, body, source, d_subject, d_body)


def _settings(org: Organization) -> MessageSettings:
    return MessageSettings(org.treatment_in_sms, org.treatment_in_email, org.reminder_hours,
                           org.reminder_late_booking, org.reminder_short_hours,
                           org.quiet_start.strftime("%H:%M"), org.quiet_end.strftime("%H:%M"))


def fetch_messages_page(actor: Actor, *, engine: Engine | None = None) -> MessagesPage:
    """The kinds with where the clinic has its own wording, the active services and the message
    settings (settings.write). Raises PermissionDenied."""
    actor.require(PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        s = work.session
        custom: dict[str, list[str]] = {}
        for kind, channel, service_id in s.exec(select(MessageTemplate.kind, MessageTemplate.channel,
                                                       MessageTemplate.service_id)):
            custom.setdefault(kind, []).append(f"{channel}:{service_id or 0}")
        kinds = tuple(KindInfo(k.key, k.label, "Marketing" if k.marketing else "Transactional", k.description,
                               k.per_service, k.channels, k.variables, tuple(sorted(custom.get(k.key, ()))))
                      for k in KINDS.values())
        services = tuple(ServiceChoice(sv.id, sv.name) for sv in s.exec(
            select(Service).where(Service.active.is_(True)).order_by(Service.name, Service.id)))
        return MessagesPage(kinds, services, _settings(s.get(Organization, actor.org_id)))


def fetch_template(actor: Actor, kind: str, channel: str, service_id: int | None = None, *,
                   engine: Engine | None = None) -> TemplateView:
    """The wording in force for `kind` on `channel` (for `service_id`: that service's own, else
    the clinic's, else the default). Raises PermissionDenied, NotFound (kind, service),
    ValidationFailed (a channel the kind is not sent on; a service for a clinic-wide kind)."""
    actor.require(PERMISSION)
    spec = _kind(kind)
    _channel(spec, channel)
    with atomic(actor.org_id, engine=engine) as work:
        return _view(work.session, spec, channel, _service_id(work.session, spec, service_id))


def do_save_template(actor: Actor, kind: str, channel: str, subject: str, body: str,
                     service_id: int | None = None, *, clock: Clock | None = None,
                     engine: Engine | None = None) -> TemplateView:
    """Save the clinic's wording of `kind` on `channel` (clinic-wide, or for `service_id` on a
    per-service kind): checked first (templates.check_template), audited
    "message_template.update" (kind, channel, service id, whether it replaced one). Raises
    PermissionDenied, NotFound, ValidationFailed({"subject" / "body" / "channel": message};
    nothing is written)."""
    actor.require(PERMISSION)
    spec = _kind(kind)
    _channel(spec, channel)
    subject = subject.strip() if isinstance(subject, str) else ""
    body = body if isinstance(body, str) else ""
    errors = check_template(kind, channel, subject, body.strip())
    if errors:
        raise ValidationFailed(errors)
    now = now_of(clock)
    with atomic(actor.org_id, engine=engine) as work:
        s = work.session
        sid = _service_id(s, spec, service_id)
        row = _row(s, kind, channel, sid)
        replaced = row is not None
        if row is None:
            row = MessageTemplate(org_id=actor.org_id, kind=kind, channel=channel, service_id=sid, body="")
        row.subject, row.body = (subject if channel == "email" else ""), body.strip()
        row.updated_at, row.updated_by = now, actor.label[:200]
        s.add(row)
        s.flush()
        record(s, actor, "message_template.update", "message_template", row.id, at=now, kind=kind, channel=channel,
               service_id=sid, replaced=replaced, length=len(row.body))
        return _view(s, spec, channel, sid)


def do_reset_template(actor: Actor, kind: str, channel: str, service_id: int | None = None, *,
                      clock: Clock | None = None, engine: Engine | None = None) -> TemplateView:
    """Drop the clinic's own wording of `kind` on `channel` (for `service_id`: that service's
    own; the clinic's, or the default, applies again). Audited "message_template.reset" when
    there was one; nothing happens when there was none. Raises PermissionDenied, NotFound,
    ValidationFailed."""
    actor.require(PERMISSION)
    spec = _kind(kind)
    _channel(spec, channel)
    now = now_of(clock)
    with atomic(actor.org_id, engine=engine) as work:
        s = work.session
        sid = _service_id(s, spec, service_id)
        row = _row(s, kind, channel, sid)
        if row is not None:
            record(s, actor, "message_template.reset", "message_template", row.id, at=now, kind=kind,
                   channel=channel, service_id=sid)
            s.delete(row)
            s.flush()
        return _view(s, spec, channel, sid)


def _next_visit(session: Session, now: datetime, service_id: int | None) -> Appointment | None:
    q = (select(Appointment).where(Appointment.status == AppointmentStatus.CONFIRMED, Appointment.start_at > now,
                                   Appointment.client_id.is_not(None)).order_by(Appointment.start_at, Appointment.id))
    if service_id is not None:
        visit = session.exec(q.where(Appointment.service_id == service_id).limit(1)).first()
        if visit is not None:
            return visit
    return session.exec(q.limit(1)).first()


def preview_template(actor: Actor, kind: str, channel: str, subject: str, body: str,
                     service_id: int | None = None, *, clock: Clock | None = None,
                     engine: Engine | None = None) -> Preview:
    """`kind` rendered on both its channels as a client would get it: `channel` from the draft
    (`subject`, `body`, unsaved), the other from the wording in force. The context is the
    clinic's next confirmed visit (of `service_id` when it has one) with made-up values for the
    kind's own variables, or a made-up sample visit when none is coming; kinds without a visit
    (birthday) use the client of that visit or a sample client. A draft that does not render
    gives `errors` (field -> message), never an exception. Raises PermissionDenied, NotFound."""
    actor.require(PERMISSION)
    spec = _kind(kind)
    now = now_of(clock)
    with atomic(actor.org_id, engine=engine) as work:
        s = work.session
        sid = _service_id(s, spec, service_id) if channel in spec.channels else None
        org = s.get(Organization, actor.org_id)
        visit = _next_visit(s, now, sid)
        client = s.get(Client, visit.client_id) if visit is not None else None
        wants_visit = any(v.startswith("visit.") for v in spec.variables)
        basis = "a sample visit" if wants_visit else "a sample client"
        if visit is not None and client is not None:
            first = visit_context(s, visit, client, channel="email")
            basis = (f"{client.first_name} {client.last_name[:1]}.'s visit on {first['visit']['when']}" if wants_visit
                     else f"{client.first_name} {client.last_name[:1]}.")

        def context(ch: str) -> dict[str, Any]:
            if visit is None or client is None:
                shown = org.treatment_in_sms if ch == "sms" else org.treatment_in_email
                base = sample_context(kind, ch, clinic_name=org.name, treatment_shown=shown)
                base["links"]["book"] = f"{base['links']['book'].rsplit('/', 1)[0]}/{org.slug}"
                return base
            ctx = visit_context(s, visit, client, channel=ch)
            if not wants_visit:
                ctx.pop("visit", None)
            ctx = with_extra(ctx, kind_extras(kind, ctx.get("visit", {}).get("when", "")))
            if "links.unsubscribe" in spec.variables and not ctx["links"]["unsubscribe"]:
                ctx["links"]["unsubscribe"] = sample_context(kind, ch)["links"]["unsubscribe"]
            return ctx

        out: dict[str, str] = {"email_subject": "", "email_body": "", "sms_body": ""}
        errors: dict[str, str] = {}
        for ch in spec.channels:
            if ch == channel:
                subj_src, body_src = (subject if isinstance(subject, str) else ""), (body if isinstance(body, str)
                                                                                      else "")
            else:
                subj_src, body_src = template_source(s, kind, ch, sid)
            ctx = context(ch)
            for field_name, src in (("subject", subj_src if ch == "email" else ""), ("body", body_src)):
                try:
                    text = render_source(src, ctx) if src.strip() else ""
                except TemplateInvalid as exc:
                    if ch == channel:
                        errors[field_name] = exc.message
                    text = ""
                key = f"{ch}_{field_name}"
                if key in out:
                    out[key] = " ".join(text.split()) if field_name == "subject" else text.strip()
        chars, segments = sms_segments(out["sms_body"])
        return Preview(out["email_subject"], out["email_body"], out["sms_body"], chars, segments, basis, errors)


def _clock_time(value: Any, field_name: str) -> time:
    text = value.strip() if isinstance(value, str) else ""
    m = _CLOCK.match(text)
    if not m:
        raise ValidationFailed({field_name: "Enter a time like 21:00"})
    return time(int(m.group(1)), int(m.group(2)))


def _hours(value: Any, field_name: str, bounds: tuple[int, int]) -> int:
    text = str(value).strip() if isinstance(value, (int, str)) and not isinstance(value, bool) else ""
    if not text.isdigit() or not (bounds[0] <= int(text) <= bounds[1]):
        raise ValidationFailed({field_name: f"Enter whole hours from {bounds[0]} to {bounds[1]}"})
    return int(text)


def parse_message_settings(data: dict[str, Any]) -> MessageSettings:
    """The form's values as MessageSettings: treatment_in_sms / treatment_in_email (bools),
    reminder_hours 1-168, reminder_late_booking "none" / "shorter", reminder_short_hours 1-24
    (shorter than reminder_hours), quiet_start / quiet_end "HH:MM" (equal: no quiet hours).
    Raises ValidationFailed with a message per bad field."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name in ("treatment_in_sms", "treatment_in_email"):
        value = data.get(name)
        if not isinstance(value, bool):
            errors[name] = "Choose yes or no"
        values[name] = bool(value)
    for name, bounds in (("reminder_hours", REMINDER_HOURS), ("reminder_short_hours", SHORT_HOURS)):
        try:
            values[name] = _hours(data.get(name), name, bounds)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    late = data.get("reminder_late_booking")
    if late not in LATE_BOOKING:
        errors["reminder_late_booking"] = "Choose no reminder or a shorter one"
    values["reminder_late_booking"] = late
    for name in ("quiet_start", "quiet_end"):
        try:
            values[name] = _clock_time(data.get(name), name).strftime("%H:%M")
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if (not errors and late == "shorter" and values["reminder_short_hours"] >= values["reminder_hours"]):
        errors["reminder_short_hours"] = "Make the shorter reminder fewer hours ahead than the usual one"
    if errors:
        raise ValidationFailed(errors)
    return MessageSettings(**values)


def fetch_message_settings(actor: Actor, *, engine: Engine | None = None) -> MessageSettings:
    """The clinic's message settings (settings.write). Raises PermissionDenied."""
    actor.require(PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        return _settings(work.session.get(Organization, actor.org_id))


def do_update_message_settings(actor: Actor, data: dict[str, Any], *, clock: Clock | None = None,
                               engine: Engine | None = None) -> MessageSettings:
    """Change the clinic's message settings (parse_message_settings), audited
    "message_settings.update" with the old and new values of what changed. Raises
    PermissionDenied, ValidationFailed (a message per bad field; nothing is written)."""
    actor.require(PERMISSION)
    new = parse_message_settings(data if isinstance(data, dict) else {})
    now = now_of(clock)
    with atomic(actor.org_id, engine=engine) as work:
        s = work.session
        org = s.get(Organization, actor.org_id)
        old = _settings(org)
        changed = {k: [getattr(old, k), getattr(new, k)] for k in old.__dataclass_fields__
                   if getattr(old, k) != getattr(new, k)}
        if changed:
            org.treatment_in_sms, org.treatment_in_email = new.treatment_in_sms, new.treatment_in_email
            org.reminder_hours, org.reminder_late_booking = new.reminder_hours, new.reminder_late_booking
            org.reminder_short_hours = new.reminder_short_hours
            org.quiet_start = _clock_time(new.quiet_start, "quiet_start")
            org.quiet_end = _clock_time(new.quiet_end, "quiet_end")
            s.add(org)
            s.flush()
            record(s, actor, "message_settings.update", "organization", org.id, at=now, changed=changed)
        return _settings(org)


__all__ = ["KindInfo", "MessageSettings", "MessagesPage", "Preview", "ServiceChoice", "TemplateView",
           "do_reset_template", "do_save_template", "do_update_message_settings", "fetch_message_settings",
           "fetch_messages_page", "fetch_template", "parse_message_settings", "preview_template"]
