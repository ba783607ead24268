"""Use cases of /clients/new and /clients/<id>/edit (client.write: owner, manager, provider,
front desk; never lab): open the form, create a client (likely duplicates flagged first, the
caller confirms to create anyway), save an edit (audited client.update with {field: [old,
new]}). One transaction each; ValidationFailed names every bad field and writes nothing.
`engine` is for tests (None: the app's engine); `clock` defaults to the app clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from medspa.clock import Clock
from medspa.domain.audit.service import record
from medspa.domain.changes import apply_changes, row_for_edit
from medspa.domain.clients.consent import CHANNELS, clinic_name_of, consent_wording, set_consent, stamp_new_consents
from medspa.domain.clients.details import (
    EDITABLE,
    ClientFields,
    ClientForm,
    clinic_time_zone,
    form_of,
    provider_choices,
    usual_time_zone,
    validate_client_form,
)
from medspa.domain.clients.duplicates import likely_duplicates_of
from medspa.domain.clients.models import Client
from medspa.domain.clients.service import clinic_region
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.models import Organization
from medspa.domain.work import atomic, now_of


@dataclass(frozen=True)
class ClientFormData:
    """What the form opens with: the client's values (blank for a new client), the name
    ("" new), the preferred provider's choices [(staff id, name)] and the zone the client
    gets when time_zone is left empty (their usual location's); clinic_reminder_hours the
    hours before a visit the client's reminder comes when reminder_hours is left empty."""

    form: ClientForm
    name: str
    providers: list[tuple[int, str]]
    default_zone: str
    # the words of each marketing consent (clients.consent.consent_wording), shown by the boxes
    email_wording: str = ""
    sms_wording: str = ""
    clinic_reminder_hours: int = 24


@dataclass(frozen=True)
class CreateOutcome:
    """client_id of the new client, or 0 with `duplicates` [(id, "First Last", why)]: likely
    the same person, nothing written; create again with confirm=True to add anyway."""

    client_id: int = 0
    duplicates: list[tuple[int, str, str]] = field(default_factory=list)


def _today(session: Session, now: datetime) -> date:
    return now.astimezone(ZoneInfo(clinic_time_zone(session))).date()


def _clean(session: Session, actor: Actor, form: ClientForm, now: datetime) -> ClientFields:
    if not isinstance(form, ClientForm):
        raise ValidationFailed({"general": "Fill in the form"})
    return validate_client_form(session, actor.org_id, form, region=clinic_region(session, actor.org_id),
                                today=_today(session, now))


def _email_taken(session: Session, email: str | None, client_id: int | None) -> None:
    if not email:
        return
    other = session.exec(select(Client).where(func.lower(Client.email) == email.lower())).first()
    if other is not None and other.id != client_id:
        raise ValidationFailed({"email": f"{other.first_name} {other.last_name} already has this email"})


def _audit_value(value):
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def _wordings(session: Session, actor: Actor) -> tuple[str, str]:
    clinic = clinic_name_of(session, actor.org_id)
    return consent_wording("email", clinic), consent_wording("sms", clinic)


def do_open_client_form(actor: Actor, client_id: int | None = None, *, engine: Engine | None = None,
                        clock: Clock | None = None) -> ClientFormData:
    """The form of a new client (client_id None) or of client `client_id` (audited as a
    client.read). Raises PermissionDenied without client.write, NotFound for another clinic's,
    a merged (hidden) or a missing client."""
    actor.require("client.write")
    at = now_of(clock)
    with atomic(actor.org_id, engine=engine) as work:
        s = work.session
        hours = s.get(Organization, actor.org_id).reminder_hours
        if client_id is None:
            return ClientFormData(ClientForm(), "", provider_choices(s), clinic_time_zone(s), *_wordings(s, actor),
                                  clinic_reminder_hours=hours)
        client = row_for_edit(s, Client, client_id, "client")
        if client.merged_into_id is not None:
            raise NotFound("client")
        record(s, actor, "client.read", "client", client.id, client_id=client.id, at=at, purpose="edit")
        return ClientFormData(form_of(client, clinic_region(s, actor.org_id)), f"{client.first_name} {client.last_name}", provider_choices(s),
                              usual_time_zone(s, client.id), *_wordings(s, actor), clinic_reminder_hours=hours)


def do_create_client(actor: Actor, form: ClientForm, *, confirm: bool = False, clock: Clock | None = None,
                     engine: Engine | None = None) -> CreateOutcome:
    """Add a client from the staff form. Likely duplicates (clients.duplicates: same phone, or
    same date of birth and a similar name) come back first unless `confirm`; an email already
    on file is refused (one client per email). Consents given are stamped "desk" with the
    clock's time. Audited client.create (source "desk"). Raises PermissionDenied (lab),
    ValidationFailed({field: message})."""
    actor.require("client.write")
    at = now_of(clock)
    with atomic(actor.org_id, engine=engine) as work:
        s = work.session
        clean = _clean(s, actor, form, at)
        _email_taken(s, clean.email, None)
        client = Client(org_id=actor.org_id, **{name: getattr(clean, name) for name in EDITABLE},
                        email_marketing_consent=clean.email_marketing_consent,
                        sms_marketing_consent=clean.sms_marketing_consent)
        if not confirm:
            found = likely_duplicates_of(s, client)
            if found:
                record(s, actor, "client.duplicate_check", "client", "", at=at, client_ids=[i for i, _, _ in found])
                return CreateOutcome(0, [(i, name, why) for i, why, name in found])
        stamp_new_consents(client, at=at, source="desk", clinic_name=clinic_name_of(s, actor.org_id))
        try:
            with s.begin_nested():
                s.add(client)
                s.flush()
        except IntegrityError:  # uq_client_email: a booking with this email committed meanwhile
            raise ValidationFailed({"email": "Another client already has this email"}) from None
        record(s, actor, "client.create", "client", client.id, client_id=client.id, at=at, source="desk",
               confirmed_duplicate=bool(confirm))
        return CreateOutcome(client.id)


def do_update_client(actor: Actor, client_id: int, form: ClientForm, *, clock: Clock | None = None,
                     engine: Engine | None = None) -> dict[str, list]:
    """Save the staff form over client `client_id` (locked for the change). Returns the
    changes {field: [old, new]} ({} when nothing changed: no audit row), audited as
    client.update with them; a consent that changes gets the clock's time and source "desk".
    Raises PermissionDenied (lab), NotFound (another clinic's, merged or missing),
    ValidationFailed({field: message}: nothing saved)."""
    actor.require("client.write")
    at = now_of(clock)
    with atomic(actor.org_id, engine=engine) as work:
        s = work.session
        client = row_for_edit(s, Client, client_id, "client")
        if client.merged_into_id is not None:
            raise NotFound("client")
        clean = _clean(s, actor, form, at)
        _email_taken(s, clean.email, client.id)
        changes = apply_changes(client, clean, EDITABLE)
        clinic = clinic_name_of(s, actor.org_id)
        for channel, column in CHANNELS.items():
            changed = set_consent(client, channel, getattr(clean, column), at=at, source="desk",
                                  wording=consent_wording(channel, clinic))
            if changed:
                changes[column] = changed
        if not changes:
            return {}
        try:
            with s.begin_nested():
                s.add(client)
                s.flush()
        except IntegrityError:
            raise ValidationFailed({"email": "Another client already has this email"}) from None
        audited = {k: [_audit_value(old), _audit_value(new)] for k, (old, new) in changes.items()}
        record(s, actor, "client.update", "client", client.id, client_id=client.id, at=at, source="desk",
               changes=audited)
        return audited
