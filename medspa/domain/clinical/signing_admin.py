"""The owner's settings of who may treat and sign (issue 18; rules in clinical/signing.py).

- A staff member's licence (staff page; staff.manage: the owner), audited with old and new.
- The clinic's "covering providers may sign" and its medical director (Settings, Clinic tab;
  clinic.manage: the owner), audited with old and new. The director must be an active staff
  member with a prescriber licence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from medspa.domain.base import is_row_id
from medspa.domain.audit.service import record
from medspa.domain.clinical.signing import LICENCES, is_prescriber, staff_label
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.models import Organization, StaffMember


@dataclass(frozen=True)
class SigningSettings:
    """What the Settings card shows: the two settings and the prescribers to choose from."""

    covering_may_sign: bool
    medical_director_id: int | None
    prescribers: list[tuple[int, str]]  # (staff id, "Dr. Lee (NP)")


def _org(session: Session, actor: Actor, *, lock: bool = False) -> Organization:
    query = select(Organization).where(Organization.id == actor.org_id)
    org = session.exec(query.with_for_update() if lock else query).first()
    if org is None:
        raise NotFound("clinic")
    return org


def signing_settings(session: Session, actor: Actor) -> SigningSettings:
    """The clinic's signing settings (clinic.manage, else NotFound)."""
    if not actor.can("clinic.manage"):
        raise NotFound("clinic")
    org = _org(session, actor)
    prescribers = [(st.id, staff_label(st)) for st in session.exec(
        select(StaffMember).where(StaffMember.active).order_by(StaffMember.display_name)) if is_prescriber(st)]
    return SigningSettings(org.covering_may_sign, org.medical_director_id, prescribers)


def set_signing_settings(session: Session, actor: Actor, *, covering_may_sign: bool, medical_director_id: int | None,
                         now: datetime) -> SigningSettings:
    """Change the two settings (clinic.manage, else NotFound). Raises ValidationFailed
    {"medical_director_id": message} when the director is not an active prescriber of the clinic."""
    if not actor.can("clinic.manage"):
        raise NotFound("clinic")
    if not isinstance(covering_may_sign, bool):
        raise ValidationFailed({"covering_may_sign": "Choose yes or no"})
    if medical_director_id is not None:
        st = session.get(StaffMember, medical_director_id) if is_row_id(medical_director_id) else None
        if st is None or not st.active or not is_prescriber(st):
            raise ValidationFailed({"medical_director_id": "Choose an active MD, DO, NP or PA of the clinic"})
    org = _org(session, actor, lock=True)
    changes = {k: [getattr(org, k), v] for k, v in (("covering_may_sign", covering_may_sign),
                                                     ("medical_director_id", medical_director_id))
               if getattr(org, k) != v}
    if changes:
        org.covering_may_sign, org.medical_director_id = covering_may_sign, medical_director_id
        session.flush()
        record(session, actor, "clinic.signing.update", "organization", org.id, at=now, changes=changes)
    return signing_settings(session, actor)


def set_licence(session: Session, actor: Actor, staff_id: int, licence: str, now: datetime) -> StaffMember:
    """Record a staff member's licence ("" = not recorded, or one of LICENCES). staff.manage (the
    owner), else NotFound. Raises ValidationFailed {"licence"}."""
    if not actor.can("staff.manage") or not is_row_id(staff_id):
        raise NotFound("staff")
    st = session.exec(select(StaffMember).where(StaffMember.id == staff_id).with_for_update()).first()
    if st is None:
        raise NotFound("staff")
    if licence not in ("", *LICENCES):
        raise ValidationFailed({"licence": "Choose a licence from the list"})
    if st.licence != licence:
        old, st.licence = st.licence, licence
        session.flush()
        record(session, actor, "staff.licence", "staff_member", st.id, at=now, changes={"licence": [old, licence]})
    return st


__all__ = ["SigningSettings", "StaffLicence", "set_licence", "set_signing_settings", "signing_settings", "staff_licences"]


@dataclass(frozen=True)
class StaffLicence:
    """A staff member and their licence, for the owner's list on /staff."""

    staff_id: int
    name: str
    role: str
    licence: str


def staff_licences(session: Session, actor: Actor) -> list[StaffLicence]:
    """The clinic's active clinical staff (providers and owners) with their licences, by name
    (staff.manage, else NotFound)."""
    if not actor.can("staff.manage"):
        raise NotFound("staff")
    return [StaffLicence(st.id, st.display_name, st.role, st.licence) for st in session.exec(
        select(StaffMember).where(StaffMember.active, StaffMember.role.in_(("provider", "owner")))
        .order_by(StaffMember.display_name, StaffMember.id))]
