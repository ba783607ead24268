"""Use cases of the clinic's own identity (practice/profile.py): the owner's Clinic tab of
/settings (clinic.manage), the landing page's list of listed clinics and the public logo.

Each action opens one transaction (domain/work.atomic), checks the permission, works through
practice/profile.py (which writes the audit rows in that transaction) and returns frozen
dataclasses, never ORM rows. `engine` is for tests (None: the app's engine); `clock` for "now".
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from medspa.clock import Clock
from medspa.domain.identity.actor import Actor
from medspa.domain.practice import profile
from medspa.domain.practice.clinics import countries, currencies
from medspa.domain.practice.models import Organization
from medspa.domain.practice.profile import ClinicProfileInput
from medspa.domain.work import atomic, now_of

__all__ = ["ClinicProfile", "ClinicProfileInput", "ListedClinic", "PublicLogo", "countries", "currencies",
           "do_remove_logo", "do_set_logo", "do_update_clinic", "fetch_clinic_profile", "fetch_listed_clinics",
           "fetch_public_logo"]


@dataclass(frozen=True)
class ClinicProfile:
    """The Clinic tab: the clinic's editable facts, its logo's URL ("" without one) and
    whether the currency is locked by existing payments."""

    slug: str
    name: str
    currency: str
    country: str
    listed: bool
    logo_url: str
    currency_locked: bool


@dataclass(frozen=True)
class ListedClinic:
    """A clinic as the landing page lists it: slug, name, logo URL ("" without one)."""

    slug: str
    name: str
    logo_url: str


@dataclass(frozen=True)
class PublicLogo:
    """A clinic's logo bytes as the public route serves them; etag: a strong ETag value."""

    data: bytes
    content_type: str
    etag: str


def _profile(session, org: Organization) -> ClinicProfile:
    return ClinicProfile(org.slug, org.name, org.currency, org.country, org.listed,
                         profile.logo_url(org.slug, org.logo_version), profile.has_payments(session))


def fetch_clinic_profile(actor: Actor, *, engine: Engine | None = None) -> ClinicProfile:
    """The actor's clinic as the Clinic tab shows it. Raises PermissionDenied (not the owner)."""
    actor.require(profile.PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        return _profile(work.session, profile.clinic_of(work.session, actor.org_id))


def do_update_clinic(actor: Actor, data: ClinicProfileInput, *, engine: Engine | None = None) -> ClinicProfile:
    """Change name, currency, country and listing (audited "clinic.update" with old and new
    values of the changed fields). Raises PermissionDenied, ValidationFailed (a message per
    bad field; nothing is written)."""
    actor.require(profile.PERMISSION)
    with atomic(actor.org_id, engine=engine) as work:
        return _profile(work.session, profile.update_profile(work.session, actor, data))


def do_set_logo(actor: Actor, data: bytes, *, clock: Clock | None = None,
                engine: Engine | None = None) -> ClinicProfile:
    """Replace the clinic's logo with the upload `data` (checked and re-encoded; audited
    "clinic.logo.set"). Raises PermissionDenied, ValidationFailed({"logo": message})."""
    actor.require(profile.PERMISSION)
    now = now_of(clock)
    with atomic(actor.org_id, engine=engine) as work:
        profile.set_logo(work.session, actor, data, now=now)
        return _profile(work.session, profile.clinic_of(work.session, actor.org_id))


def do_remove_logo(actor: Actor, *, clock: Clock | None = None, engine: Engine | None = None) -> ClinicProfile:
    """Remove the clinic's logo (audited "clinic.logo.remove"; nothing when there is none).
    Raises PermissionDenied."""
    actor.require(profile.PERMISSION)
    now = now_of(clock)
    with atomic(actor.org_id, engine=engine) as work:
        profile.remove_logo(work.session, actor, now=now)
        return _profile(work.session, profile.clinic_of(work.session, actor.org_id))


def fetch_listed_clinics(*, limit: int = 24, engine: Engine | None = None) -> list[ListedClinic]:
    """The clinics that chose to be listed, by name (anonymous: public facts only)."""
    with atomic(None, engine=engine) as work:
        return [ListedClinic(slug, name, profile.logo_url(slug, version))
                for slug, name, version in profile.listed_clinics(work.session, limit=limit)]


def fetch_public_logo(slug: str, *, engine: Engine | None = None) -> PublicLogo:
    """The logo of the clinic named by `slug` (anonymous). The bytes are read in a
    transaction scoped to that clinic alone (row-level security), so no other clinic's row can
    answer. Raises NotFound (malformed or unknown slug, or no logo)."""
    with atomic(None, engine=engine) as work:
        org_id = profile.public_org_id(work.session, slug)
    with atomic(org_id, engine=engine) as work:
        row = profile.current_logo(work.session)
        return PublicLogo(bytes(row.data), row.content_type, f'"{org_id}-{row.id}"')
