"""After signing (issue 18): addenda, the medical director's review queue and co-sign.

Addendum: anyone with chart.write adds text under the SIGNED current version of a visit's chart
(a draft is edited, not annotated: ChartLocked). Append-only (chart_addendum).

Review queue (/reviews, chart.cosign: the medical director and the owner see it): signed chart
versions that rest on a prescriber's order (i.e. signed for a non-prescriber provider of a
service requiring an order: treatment_note.prescriber_order_id set) and not yet co-signed,
oldest first; a signed version superseded by a newer signed version of the visit is not
listed (only the current one can be co-signed). A chart resting on no order needs no review:
co-signing it is refused. Co-sign: the clinic's medical director only (organization.medical_director_id,
a prescriber), once per version (chart_cosign, unique note_id), with an optional comment.
Every read of the queue is one audited read per client listed; every write is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.catalog.models import Service
from medspa.domain.clients.models import Client
from medspa.domain.clinical.models import NoteStatus, TreatmentNote
from medspa.domain.clinical.service import Chart, ChartLocked, _chart, _versions, _visit
from medspa.domain.clinical.signing import is_prescriber, moment_label
from medspa.domain.clinical.signing_models import ChartAddendum, ChartCosign
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.models import Location, Organization, StaffMember
from medspa.domain.scheduling.models import Appointment
from medspa.domain.textrules import has_control

MAX_ADDENDUM = 5000
MAX_COMMENT = 1000


def _text(value: object, limit: int, field: str, *, required: bool) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        raise ValidationFailed({field: "Write the addendum first"})
    if len(text) > limit:
        raise ValidationFailed({field: f"Use at most {limit:,} characters"})
    if has_control(text, multiline=True):
        raise ValidationFailed({field: "Remove the invisible control characters"})
    return text


def add_addendum(session: Session, actor: Actor, appointment_id: int, text: str, now: datetime) -> Chart:
    """Add `text` (at most 5,000 characters) under the signed current version of the visit's chart.

    chart.write. Raises NotFound (also when forbidden), ValidationFailed {"addendum"},
    ChartLocked (nothing signed, or the current version is a draft)."""
    row = _visit(session, actor, appointment_id, "chart.write", lock=True)
    clean = _text(text, MAX_ADDENDUM, "addendum", required=True)
    versions = _versions(session, appointment_id)
    current = versions[0] if versions else None
    if current is None or current.status != NoteStatus.SIGNED:
        raise ChartLocked("Addenda are added under a signed chart; edit the draft instead.")
    add = ChartAddendum(org_id=actor.org_id, note_id=current.id, author_user_id=actor.user_id,
                        author_label=actor.label, text=clean, created_at=now)
    session.add(add)
    session.flush()
    record(session, actor, "chart.addendum", "treatment_note", current.id, client_id=row[2].id, at=now,
           appointment_id=appointment_id, version=current.version, addendum_id=add.id)
    return _chart(session, row, versions)


def _director(session: Session, actor: Actor) -> StaffMember | None:
    org = session.get(Organization, actor.org_id)
    if org is None or org.medical_director_id is None:
        return None
    return session.get(StaffMember, org.medical_director_id)


def is_director(session: Session, actor: Actor) -> bool:
    """True when `actor` is the clinic's medical director (a prescriber) and holds chart.cosign."""
    director = _director(session, actor)
    return (actor.can("chart.cosign") and director is not None and is_prescriber(director)
            and actor.staff_id == director.id)


def cosign_chart(session: Session, actor: Actor, appointment_id: int, comment: str, now: datetime) -> Chart:
    """Co-sign the signed current version of the visit's chart (the medical director only; once).

    Raises NotFound (no chart.cosign / chart.read), ChartLocked (not the medical director, nothing
    signed, already co-signed, or no review needed), ValidationFailed {"comment"}."""
    if not actor.can("chart.cosign"):
        raise NotFound("chart")
    row = _visit(session, actor, appointment_id, "chart.read", lock=True)
    if not is_director(session, actor):
        raise ChartLocked("Only the clinic's medical director (a prescriber named in Settings) can co-sign.")
    clean = _text(comment, MAX_COMMENT, "comment", required=False)
    versions = _versions(session, appointment_id)
    current = versions[0] if versions else None
    if current is None or current.status != NoteStatus.SIGNED:
        raise ChartLocked("Only a signed chart can be co-signed.")
    if current.prescriber_order_id is None:
        raise ChartLocked("This chart needs no review: it was signed by a prescriber or for a treatment that "
                          "needs no prescriber's order.")
    if session.exec(select(ChartCosign.id).where(ChartCosign.note_id == current.id)).first() is not None:
        raise ChartLocked("This chart version is already co-signed.")
    session.add(ChartCosign(org_id=actor.org_id, note_id=current.id, cosigned_by_user_id=actor.user_id,
                            cosigned_by_staff_id=actor.staff_id, cosigned_by_label=actor.label, comment=clean,
                            created_at=now))
    session.flush()
    record(session, actor, "chart.cosign", "treatment_note", current.id, client_id=row[2].id, at=now,
           appointment_id=appointment_id, version=current.version)
    return _chart(session, row, versions)


@dataclass(frozen=True)
class ReviewItem:
    """A signed chart waiting for the medical director's co-sign."""

    appointment_id: int
    client_name: str
    service_name: str
    provider_name: str
    version: int
    signed_label: str  # "Signed by Nurse Amy, Dec 6, 2026 10:42 AM EST"


def review_queue(session: Session, actor: Actor, now: datetime) -> list[ReviewItem]:
    """Signed versions resting on an order with no co-sign, oldest signature first, only the
    newest signed version of each visit (an amended-and-re-signed version supersedes it) (chart.cosign
    and chart.read; the medical director or the owner, else NotFound). Audited: one chart.review
    read row per client listed."""
    if not (actor.can("chart.cosign") and actor.can("chart.read")) or not (
            actor.role == "owner" or is_director(session, actor)):
        raise NotFound("reviews")
    cosigned = select(ChartCosign.note_id)
    newer = aliased(TreatmentNote)
    superseded = (select(newer.id).where(newer.appointment_id == TreatmentNote.appointment_id,
                                         newer.status == NoteStatus.SIGNED.value, newer.version > TreatmentNote.version)
                  .exists())
    rows = session.exec(
        select(TreatmentNote, Client, Service, StaffMember, Location)
        .join(Appointment, Appointment.id == TreatmentNote.appointment_id)
        .join(Client, Client.id == TreatmentNote.client_id)
        .join(Service, Service.id == Appointment.service_id)
        .join(StaffMember, StaffMember.id == TreatmentNote.provider_id)
        .join(Location, Location.id == Appointment.location_id)
        .where(TreatmentNote.status == NoteStatus.SIGNED.value, TreatmentNote.prescriber_order_id.is_not(None),
               TreatmentNote.id.not_in(cosigned), ~superseded)
        .order_by(TreatmentNote.signed_at, TreatmentNote.id).limit(500)).all()
    items = [ReviewItem(n.appointment_id, f"{c.first_name} {c.last_name}".strip(), svc.name, st.display_name,
                        n.version, f"Signed by {n.signed_by_label or 'staff'}, {moment_label(n.signed_at, loc.time_zone)}")
             for n, c, svc, st, loc in rows]
    for client_id in sorted({c.id for _, c, _, _, _ in rows}):
        record(session, actor, "chart.review.read", "client", client_id, client_id=client_id, at=now, list=True)
    return items


__all__ = ["ReviewItem", "add_addendum", "cosign_chart", "is_director", "review_queue"]
