"""Consent templates, their versions, what a service requires, and whether a visit has it.

- Every clinic has the built-in consents (consent_builtins.BUILTINS), created on first use by
  `ensure_templates` (version 1 = the built-in text); the clinic edits its own copy.
- A version's text is title + blank line + body (`consent_text`); its SHA-256 is stored on the
  version and on every signature. `edit_template` changes the current version in place while
  nobody signed it, and otherwise adds version + 1 (the database refuses a change of a signed
  version's text: migration 0043).
- What a service requires (`required_consents`): its own choices (service_consent rows)
  first, otherwise the category default (consent_builtins: matching words; "general" when no
  treatment consent matches).
- "Signed" means signed by the visit's client on the CURRENT version of each required
  template: an old signature does not satisfy a new version (`visit_consents`, batched).

Reading a template's text and a visit's status words ("Consents 1/2") is not health
information; the signed records and their PDFs are (consent_signing.py, consent.read).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, select

from medspa.domain.base import among, is_row_id
from medspa.domain.audit.service import record
from medspa.domain.catalog.models import Service
from medspa.domain.clinical.consent_builtins import BUILTINS, BY_KEY, PHOTO_USE
from medspa.domain.clinical.consent_models import ConsentSignature, ConsentTemplate, ConsentVersion, ServiceConsent
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor

MANAGE = "consent.manage"
MAX_TITLE = 120
MAX_BODY = 20_000


CONSENTS_SIGNED = "Consents signed"  # the status word of a visit whose consents are all signed

@dataclass(frozen=True)
class RequiredConsent:
    """A consent a service requires, at its current version."""

    template_id: int
    key: str
    title: str
    version_id: int
    version: int
    sha256: str


@dataclass(frozen=True)
class ConsentStatus:
    """A visit's consents by title: required, signed (on the current version) and missing."""

    required: list[str] = field(default_factory=list)
    signed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """"" (nothing required), "Consents 1/2" or "Consents signed": a status word any staff may see."""
        if not self.required:
            return ""
        return CONSENTS_SIGNED if not self.missing else f"Consents {len(self.signed)}/{len(self.required)}"


@dataclass(frozen=True)
class VersionInfo:
    """One version of a template in the settings page's history."""

    id: int
    version: int
    title: str
    sha256: str
    signatures: int
    updated_label: str  # who edited it last
    made_label: str = ""  # when the version was made, clinic-local ("Dec 6, 2026, 1:17 PM EST")


@dataclass(frozen=True)
class TemplateInfo:
    """A template as settings lists and edits it: the current version's text and every version."""

    id: int
    key: str
    kind: str
    title: str
    body: str
    version: int
    signed: bool  # the current version has signatures: an edit makes a new version
    default_for: str  # "Services matching: botox, filler ..." or "Every other treatment"
    versions: list[VersionInfo] = field(default_factory=list)


def consent_text(title: str, body: str) -> str:
    """The exact text a signer is shown: the title, a blank line, the body."""
    return f"{title}\n\n{body}"


def text_sha256(title: str, body: str) -> str:
    """Hex SHA-256 of the UTF-8 bytes of consent_text(title, body)."""
    return hashlib.sha256(consent_text(title, body).encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------- templates


def ensure_templates(session: Session, org_id: int, now: datetime) -> dict[str, int]:
    """Create the clinic's missing built-in templates (with version 1, the built-in text);
    return key -> template id. Idempotent and safe under concurrency (ON CONFLICT DO NOTHING)."""
    have = dict(session.exec(select(ConsentTemplate.key, ConsentTemplate.id)).all())
    missing = [b for b in BUILTINS if b.key not in have]
    if not missing:
        return have
    for b in missing:
        new_id = session.execute(insert(ConsentTemplate).values(
            org_id=org_id, key=b.key, kind=b.kind, created_at=now).on_conflict_do_nothing().returning(
            ConsentTemplate.id)).scalar()
        if new_id is not None:
            session.add(ConsentVersion(org_id=org_id, template_id=new_id, version=1, title=b.title, body=b.body,
                                       sha256=text_sha256(b.title, b.body), created_at=now, updated_at=now,
                                       edited_by="built-in text"))
    session.flush()
    return dict(session.exec(select(ConsentTemplate.key, ConsentTemplate.id)).all())


def current_versions(session: Session, template_ids: Iterable[int] | None = None) -> dict[int, ConsentVersion]:
    """template id -> its current (highest) version, for `template_ids` (None: all), read fresh
    from the database (populate_existing: a version this session loaded before and another
    transaction edited since is refreshed, never the stale object)."""
    latest = select(ConsentVersion.template_id, func.max(ConsentVersion.version).label("v")).group_by(
        ConsentVersion.template_id)
    if template_ids is not None:
        latest = latest.where(ConsentVersion.template_id.in_(list(template_ids)))
    sub = latest.subquery()
    rows = session.exec(select(ConsentVersion).join(sub, (sub.c.template_id == ConsentVersion.template_id)
                                                    & (sub.c.v == ConsentVersion.version))
                        .execution_options(populate_existing=True))
    return {v.template_id: v for v in rows}


def _default_keys(service: Service) -> set[str]:
    words = f"{service.category} {service.name}".lower()
    keys = {b.key for b in BUILTINS if b.match and any(w in words for w in b.match)}
    return keys or {"general"}


def _required_by_service(session: Session, services: list[Service], ids: dict[str, int]) -> dict[int, list[int]]:
    """service id -> required template ids (own choices over category defaults), ordered as BUILTINS."""
    choices: dict[int, dict[int, bool]] = defaultdict(dict)
    if services:
        for service_id, template_id, required in session.exec(
                select(ServiceConsent.service_id, ServiceConsent.template_id, ServiceConsent.required)
                .where(ServiceConsent.service_id.in_([s.id for s in services])).order_by(ServiceConsent.id)):
            choices[service_id][template_id] = required
    order = {tid: i for i, tid in enumerate(ids[b.key] for b in BUILTINS if b.key in ids)}
    out: dict[int, list[int]] = {}
    for svc in services:
        wanted = {ids[k] for k in _default_keys(svc) if k in ids}
        for tid, req in choices[svc.id].items():
            (wanted.add if req else wanted.discard)(tid)
        out[svc.id] = sorted(wanted, key=lambda t: order.get(t, 10_000 + t))
    return out


def required_consents(session: Session, service_id: int, *, now: datetime | None = None) -> list[RequiredConsent]:
    """The consents service `service_id` requires, at their current versions ([] for a missing service).
    `now` stamps built-in templates created on first use (default: the row time)."""
    from medspa.domain.base import utcnow

    service = session.get(Service, service_id) if isinstance(service_id, int) else None
    if service is None:
        return []
    ids = ensure_templates(session, service.org_id, now or utcnow())
    keys = {v: k for k, v in ids.items()}
    tids = _required_by_service(session, [service], ids)[service.id]
    versions = current_versions(session, tids)
    return [RequiredConsent(t, keys[t], versions[t].title, versions[t].id, versions[t].version, versions[t].sha256)
            for t in tids]


def signed_versions(session: Session, client_ids: Iterable[int],
                    version_ids: Iterable[int] | None = None) -> set[tuple[int, int]]:
    """(client_id, version_id) of every signature of these clients (of these versions only,
    when `version_ids` is given: a visit asks only about its service's current versions)."""
    ids = list(set(client_ids))
    if not ids:
        return set()
    stmt = select(ConsentSignature.client_id, ConsentSignature.version_id).where(among(ConsentSignature.client_id, ids))
    if version_ids is not None:
        versions = list(set(version_ids))
        if not versions:
            return set()
        stmt = stmt.where(among(ConsentSignature.version_id, versions))
    return set(session.exec(stmt.distinct()).all())


def visit_consents(session: Session, visits: Iterable, *, now: datetime | None = None,
                   services: list[Service] | None = None) -> dict[int, ConsentStatus]:
    """appointment id -> ConsentStatus for each visit (objects with id, client_id, service_id):
    required titles, those signed by its client on the current version, and the missing ones.
    Batched: a few queries whatever the number of visits. Status words only (no audit).
    Visits of the same service whose clients signed nothing share one status: read, never change it.
    `services`: the visits' services when the caller read them already (one query less)."""
    from medspa.domain.base import utcnow

    visits = [v for v in visits if getattr(v, "client_id", None)]
    if not visits:
        return {}
    if services is None:
        services = list(session.exec(select(Service).where(Service.id.in_({v.service_id for v in visits}))))
    else:
        wanted = {v.service_id for v in visits}
        services = [svc for svc in services if svc.id in wanted]
    ids = ensure_templates(session, services[0].org_id, now or utcnow()) if services else {}
    needs = _required_by_service(session, services, ids)
    versions = current_versions(session, {t for ts in needs.values() for t in ts})
    signed = signed_versions(session, (v.client_id for v in visits), (v.id for v in versions.values()))
    required = {sid: [(versions[t].title, versions[t].id) for t in tids] for sid, tids in needs.items()}
    signers = {client_id for client_id, _version in signed}
    unsigned: dict[int, ConsentStatus] = {}  # service id -> the status of a client who signed none (shared)
    out: dict[int, ConsentStatus] = {}
    for v in visits:
        if v.client_id not in signers:  # most visits of a calendar week
            if v.service_id not in unsigned:
                titles = [title for title, _version in required.get(v.service_id, [])]
                unsigned[v.service_id] = ConsentStatus(titles, [], list(titles))
            out[v.id] = unsigned[v.service_id]
            continue
        pairs = required.get(v.service_id, [])
        titles = [title for title, _version in pairs]
        done = [title for title, version in pairs if (v.client_id, version) in signed]
        out[v.id] = ConsentStatus(titles, done, [t for t in titles if t not in done])
    return out


def missing_for_chart(session: Session, appointment, now: datetime) -> list[str]:
    """Titles of the consents the visit's service requires that its client has not signed on
    the current version (the chart gate)."""
    return visit_consents(session, [appointment], now=now).get(appointment.id, ConsentStatus()).missing


# ---------------------------------------------------------------------------- settings (consent.manage)


def _describe_default(key: str) -> str:
    b = BY_KEY.get(key)
    if b is None:
        return ""
    if key == PHOTO_USE:
        return "Not required by default: a service can ask for it"
    if not b.match:
        return "By default: every service no other treatment consent covers"
    return f"By default: {b.covers}"


def list_templates(session: Session, actor: Actor, now: datetime) -> list[TemplateInfo]:
    """Every template of the clinic with its current text and version history (consent.manage).
    Raises NotFound when forbidden."""
    if not actor.can(MANAGE):
        raise NotFound("consent template")
    ids = ensure_templates(session, actor.org_id, now)
    templates = {t.id: t for t in session.exec(select(ConsentTemplate))}
    counts = dict(session.exec(select(ConsentSignature.version_id, func.count()).group_by(
        ConsentSignature.version_id)).all())
    history: dict[int, list[ConsentVersion]] = defaultdict(list)
    for v in session.exec(select(ConsentVersion).order_by(ConsentVersion.version.desc())):
        history[v.template_id].append(v)
    from medspa.domain.practice.models import Location
    from medspa.domain.timezones import format_clinic_time

    zone = session.exec(select(Location.time_zone).order_by(Location.id)).first() or "UTC"
    order = [ids[b.key] for b in BUILTINS if b.key in ids] + sorted(set(templates) - set(ids.values()))
    out = []
    for tid in order:
        t, vs = templates[tid], history[tid]
        cur = vs[0]
        out.append(TemplateInfo(tid, t.key, t.kind, cur.title, cur.body, cur.version, counts.get(cur.id, 0) > 0,
                                _describe_default(t.key),
                                [VersionInfo(v.id, v.version, v.title, v.sha256, counts.get(v.id, 0), v.edited_by,
                                             format_clinic_time(v.created_at, zone).rsplit(" (", 1)[0])
                                 for v in vs]))
    return out


def _clean_text(title: object, body: object) -> tuple[str, str]:
    errors: dict[str, str] = {}
    title = title.strip() if isinstance(title, str) else ""
    body = body.replace("\r\n", "\n").replace("\r", "\n").strip() if isinstance(body, str) else ""
    if not 3 <= len(title) <= MAX_TITLE:
        errors["title"] = f"Enter a title of 3 to {MAX_TITLE} characters"
    elif any(ord(c) < 32 for c in title):
        errors["title"] = "Remove the line breaks and control characters"
    if len(body) < 20:
        errors["body"] = "Enter the consent text (at least 20 characters)"
    elif len(body) > MAX_BODY:
        errors["body"] = f"Use at most {MAX_BODY:,} characters"
    elif any(ord(c) < 32 and c not in "\n\t" for c in body):
        errors["body"] = "Remove the invisible control characters"
    if errors:
        raise ValidationFailed(errors)
    return title, body


def edit_template(session: Session, actor: Actor, template_id: int, title: str, body: str,
                  now: datetime) -> tuple[int, bool]:
    """Save a template's text: in place while its current version is unsigned, else as a new
    version. Returns (version number, True when a new version was made); unchanged text saves
    nothing. consent.manage; audited "consent.template_edit". Raises NotFound, ValidationFailed."""
    if not actor.can(MANAGE) or not is_row_id(template_id):
        raise NotFound("consent template")
    template = session.exec(select(ConsentTemplate).where(ConsentTemplate.id == template_id)
                            .with_for_update()).first()
    if template is None:
        raise NotFound("consent template")
    title, body = _clean_text(title, body)
    cur = current_versions(session, [template.id])[template.id]
    digest = text_sha256(title, body)
    if digest == cur.sha256:
        return cur.version, False
    signed = session.exec(select(func.count()).select_from(ConsentSignature)
                          .where(ConsentSignature.version_id == cur.id)).one() > 0
    if signed:
        version = ConsentVersion(org_id=actor.org_id, template_id=template.id, version=cur.version + 1, title=title,
                                 body=body, sha256=digest, created_at=now, updated_at=now,
                                 edited_by=(actor.label or actor.role)[:200])
        session.add(version)
    else:
        version = cur
        version.title, version.body, version.sha256, version.updated_at = title, body, digest, now
        version.edited_by = (actor.label or actor.role)[:200]
        session.add(version)
    session.flush()
    record(session, actor, "consent.template_edit", "consent_template", template.id, at=now, key=template.key,
           version=version.version, new_version=signed, sha256=digest)
    return version.version, signed


@dataclass(frozen=True)
class ServiceChoice:
    """One active service and whether it requires a template: by default or by its own choice."""

    service_id: int
    name: str
    category: str
    by_default: bool  # the category default
    choice: str  # "default", "required" or "not_required"

    @property
    def required(self) -> bool:
        """What applies now."""
        return self.choice == "required" or (self.choice == "default" and self.by_default)


def service_choices(session: Session, actor: Actor, template_id: int, now: datetime) -> list[ServiceChoice]:
    """Every active service with its requirement of template `template_id` (consent.manage),
    by category then name. Raises NotFound."""
    if not actor.can(MANAGE) or not is_row_id(template_id):
        raise NotFound("consent template")
    ensure_templates(session, actor.org_id, now)
    template = session.get(ConsentTemplate, template_id)
    if template is None:
        raise NotFound("consent template")
    own = {sc.service_id: sc.required for sc in session.exec(
        select(ServiceConsent).where(ServiceConsent.template_id == template_id))}
    services = session.exec(select(Service).where(Service.active.is_(True)).order_by(Service.category, Service.name))
    return [ServiceChoice(svc.id, svc.name, svc.category, template.key in _default_keys(svc),
                          "default" if svc.id not in own else ("required" if own[svc.id] else "not_required"))
            for svc in services]


def set_service_consent(session: Session, actor: Actor, service_id: int, template_id: int, required: bool | None,
                        now: datetime) -> None:
    """A service's own choice for a template: required True/False, or None to follow the
    category default again. consent.manage; audited. Raises NotFound."""
    if not actor.can(MANAGE) or not is_row_id(service_id) or not is_row_id(template_id):
        raise NotFound("service")
    if session.get(Service, service_id) is None or session.get(ConsentTemplate, template_id) is None:
        raise NotFound("service")
    row = session.exec(select(ServiceConsent).where(ServiceConsent.service_id == service_id,
                                                    ServiceConsent.template_id == template_id)).first()
    if required is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(ServiceConsent(org_id=actor.org_id, service_id=service_id, template_id=template_id,
                                   required=bool(required)))
    else:
        row.required = bool(required)
        session.add(row)
    session.flush()
    record(session, actor, "consent.service_choice", "service", service_id, at=now, template_id=template_id,
           required=required)


__all__ = ["ConsentStatus", "RequiredConsent", "ServiceChoice", "service_choices", "TemplateInfo", "VersionInfo", "consent_text", "current_versions",
           "edit_template", "ensure_templates", "list_templates", "missing_for_chart", "required_consents",
           "set_service_consent", "signed_versions", "text_sha256", "visit_consents"]
