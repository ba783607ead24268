"""A new clinic: the one-time set-up token of an empty server, the clinic form's rules and the
creation itself (organization, first location, the owner's invitation).

The set-up token has 256 bits; only its SHA-256 is stored (setup_token, migration 0023). The
app role cannot add organizations: it creates one only by spending an open set-up token
through the database function medspa_create_clinic, in the same transaction as the location
and the invitation, so a refused form leaves nothing behind and a token makes one clinic.
`medspa clinic create` issues a token with the owner's session and spends it at once.

Services: take a session and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import phonenumbers
from babel import Locale
from babel.numbers import get_territory_currencies, list_currencies
from sqlalchemy import text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from medspa.clock import app_clock
from medspa.db import set_session_org
from medspa.domain.audit.service import record
from medspa.domain.errors import ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.identity.invitations import check_invitee, new_invitation
from medspa.domain.identity.tokens import new_token, token_hash
from medspa.domain.phones import normalize_phone
from medspa.domain.practice.models import Location, Organization, SetupToken
from medspa.domain.practice.service import SLUG_RE, validate_time_zone

SETUP_TTL = timedelta(hours=24)
RESERVED_SLUGS = frozenset({"api", "admin", "setup", "invite", "login", "static", "www", "book", "portal"})


class SetupLinkInvalid(Exception):
    """The set-up link is unknown, spent or expired (one message for all three)."""


@dataclass(frozen=True)
class ClinicForm:
    """What a new clinic needs. slug: its public URL name (/book/<slug>); country: ISO 3166
    alpha-2 (the default region of phone numbers); currency: ISO 4217; time_zone: IANA;
    phone: any format of the country (stored E.164); address and phone may be empty."""

    name: str
    slug: str
    country: str
    currency: str
    location_name: str
    time_zone: str
    owner_name: str
    owner_email: str
    address: str = ""
    phone: str = ""


@lru_cache(maxsize=1)
def countries() -> tuple[tuple[str, str], ...]:
    """(ISO code, English name) of the countries phone numbers know, by name."""
    names = Locale("en").territories
    return tuple(sorted(((c, names.get(c, c)) for c in phonenumbers.SUPPORTED_REGIONS), key=lambda p: p[1]))


@lru_cache(maxsize=1)
@lru_cache(maxsize=4)
def currencies(on: date | None = None) -> tuple[tuple[str, str], ...]:
    """(ISO 4217 code, English name) of the currencies some country uses as legal tender on
    `on` (default: the app clock's day; Babel's CLDR territory data), by code: no Andorran peseta nor old
    afghani in the pickers (a new user found 307 entries)."""
    names = Locale("en").currencies
    when = on or app_clock().now().date()
    tender: set[str] = set()
    for territory in Locale("en").territories:
        if len(territory) == 2 and territory.isalpha():
            tender.update(get_territory_currencies(territory, when, tender=True, non_tender=False))
    return tuple(sorted((c, names.get(c, c)) for c in list_currencies() if c in tender and c in names))


def _text(errors: dict[str, str], field: str, value: str, label: str, *, required: bool = True,
          limit: int = 200) -> str:
    value = (value or "").strip()
    if required and not value:
        errors[field] = f"Enter the {label}"
    elif len(value) > limit or any(ord(c) < 32 and c not in "\n" for c in value):
        errors[field] = f"Use at most {limit} characters, without control characters"
    return value


def check_clinic_form(session: Session, form: ClinicForm) -> ClinicForm:
    """Trimmed, normalised copy of `form` (slug and email lower-case, codes upper-case, phone
    E.164); raises ValidationFailed with a message for EVERY bad field at once (keys: the
    ClinicForm field names)."""
    errors: dict[str, str] = {}
    name = _text(errors, "name", form.name, "clinic's name")
    location_name = _text(errors, "location_name", form.location_name, "location's name")
    address = _text(errors, "address", form.address, "address", required=False, limit=500)
    slug = (form.slug or "").strip().lower()
    if not SLUG_RE.match(slug):
        errors["slug"] = "Use 1 to 63 lower-case letters, digits and dashes (not at the start or end)"
    elif slug in RESERVED_SLUGS:
        errors["slug"] = "This name is reserved; choose another"
    elif session.exec(select(Organization.id).where(Organization.slug == slug)).first() is not None:
        errors["slug"] = "Another clinic already uses this URL name"
    country = (form.country or "").strip().upper()
    if country not in dict(countries()):
        errors["country"] = "Choose a country"
    currency = (form.currency or "").strip().upper()
    if currency not in dict(currencies()):
        errors["currency"] = "Choose a currency (ISO code like USD or EUR)"
    time_zone = (form.time_zone or "").strip()
    try:
        validate_time_zone(time_zone)
    except ValidationFailed:
        errors["time_zone"] = "Choose a time zone from the list (like America/Chicago)"
    phone = (form.phone or "").strip()
    if phone:
        try:
            phone = normalize_phone(phone, country if "country" not in errors else "")
        except ValueError as exc:
            errors["phone"] = str(exc)
    owner_email, owner_name = form.owner_email, form.owner_name
    try:
        who = check_invitee(form.owner_email, form.owner_name, "owner")
        owner_email, owner_name = who.email, who.name
    except ValidationFailed as exc:
        errors.update({f"owner_{k}": v for k, v in exc.fields.items()})
    if errors:
        raise ValidationFailed(errors)
    return ClinicForm(name, slug, country, currency, location_name, time_zone, owner_name, owner_email, address, phone)


def issue_setup_token(owner_session: Session, *, now: datetime, replace_open: bool = True) -> str:
    """A new set-up token (valid SETUP_TTL); with `replace_open` every earlier open one stops
    working. Needs the schema owner's session (the app role has no access to setup_token)."""
    if replace_open:
            owner_session.execute(update(SetupToken).where(SetupToken.used_at.is_(None), SetupToken.expires_at > now)
                              .values(expires_at=now))
    token = new_token()
    owner_session.add(SetupToken(token_hash=token_hash(token), created_at=now, expires_at=now + SETUP_TTL))
    owner_session.flush()
    return token


def setup_token_open(session: Session, token: str, *, now: datetime) -> bool:
    """True while `token` is a set-up token neither spent nor expired."""
    return bool(session.execute(text("select medspa_setup_token_open(:h, :now)"),
                                {"h": token_hash(token or ""), "now": now}).scalar())


@dataclass(frozen=True)
class NewClinic:
    """A created clinic: ids, slug and the owner's invitation link (shown once)."""

    org_id: int
    slug: str
    location_id: int
    invitation_id: int
    invite_link: str


def create_clinic(session: Session, token: str, form: ClinicForm, *, now: datetime, base_url: str,
                  label: str = "clinic set-up") -> NewClinic:
    """Spend the set-up `token` and create the clinic of `form`: organization, first
    location, the owner's invitation (emailed). Raises ValidationFailed (every bad field) or
    SetupLinkInvalid. Leaves the session scoped to the new clinic. Audited clinic.create,
    location.create and invitation.create."""
    form = check_clinic_form(session, form)
    try:
        with session.begin_nested():
            org_id = session.execute(
                text("select medspa_create_clinic(:h, :now, :slug, :name, :currency, :country)"),
                {"h": token_hash(token or ""), "now": now, "slug": form.slug, "name": form.name,
                 "currency": form.currency, "country": form.country}).scalar()
    except IntegrityError as exc:  # a clinic took the slug since the check above
        raise ValidationFailed({"slug": "Another clinic already uses this URL name"}) from exc
    if org_id is None:
        raise SetupLinkInvalid()
    set_session_org(session, org_id)
    actor = Actor.system(org_id, label)
    loc = Location(org_id=org_id, name=form.location_name, time_zone=form.time_zone, address=form.address,
                   phone=form.phone)
    session.add(loc)
    session.flush()
    record(session, actor, "clinic.create", "organization", org_id, at=now, name=form.name, slug=form.slug,
           country=form.country, currency=form.currency)
    record(session, actor, "location.create", "location", loc.id, at=now, name=loc.name, time_zone=loc.time_zone)
    invitation_id, link = new_invitation(session, actor, check_invitee(form.owner_email, form.owner_name, "owner"),
                                         now=now, base_url=base_url)
    return NewClinic(int(org_id), form.slug, int(loc.id), invitation_id, link)

