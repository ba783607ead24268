"""The owner's set-up checklist (issue 13): what a new clinic still has to do before clients
can book it, read from what exists (nothing is stored about the checklist itself): the team
invited (providers first: services and hours name them), services someone performs, providers
with hours, rooms and devices when a service needs one, a complete location, and a first
online booking through the shared link."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from medspa.domain.catalog.models import Service, ServiceProvider
from medspa.domain.identity.models import Invitation, UserAccount
from medspa.domain.practice.models import Location, Organization, Resource, StaffMember, WorkingHours
from medspa.domain.scheduling.models import Appointment


@dataclass(frozen=True)
class ChecklistStep:
    """One step: key (stable id), label, hint (what to do), done, href (where to do it)."""

    key: str
    label: str
    hint: str
    done: bool
    href: str


def _exists(session: Session, stmt) -> bool:
    return session.exec(select(func.count()).select_from(stmt.subquery())).one() > 0


def setup_checklist(session: Session, org_id: int) -> list[ChecklistStep]:
    """The steps of the session's clinic (`org_id`), in the order a clinic does them."""
    org = session.get(Organization, org_id)
    services = _exists(session, select(Service.id).join(ServiceProvider, ServiceProvider.service_id == Service.id)
                       .where(Service.active))
    hours = _exists(session, select(WorkingHours.id).join(StaffMember, StaffMember.id == WorkingHours.staff_id)
                    .where(StaffMember.active, StaffMember.is_bookable))
    needed = set(session.exec(select(Service.room_type).where(Service.active, Service.room_type.is_not(None))))
    needed |= set(session.exec(select(Service.device_type).where(Service.active, Service.device_type.is_not(None))))
    have = set(session.exec(select(Resource.resource_type).where(Resource.active, Resource.kind.in_(("room", "device")))))
    rooms = bool(have) and not (needed - have) if needed else bool(have) or services
    locations = list(session.exec(select(Location)))
    complete = bool(locations) and all(loc.address.strip() and loc.phone.strip() for loc in locations)
    users = session.exec(select(func.count()).select_from(UserAccount)).one()
    pending = session.exec(select(func.count()).select_from(Invitation).where(
        Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))).one()
    team = users + pending >= 2  # someone besides the first owner, signed up or invited
    booked = _exists(session, select(Appointment.id).where(Appointment.source == "online"))
    slug = org.slug if org else ""
    return [  # providers come first: a service names who performs it and hours belong to a provider
        ChecklistStep("team", "Invite your team", "Each person gets a link to set a password and two-factor.",
                      team, "/staff"),
        ChecklistStep("services", "Add your services", "Name, duration, price and deposit, and who performs each.",
                      services, "/settings?tab=services"),
        ChecklistStep("hours", "Set your providers' hours", "Weekly hours per location, time off and extra shifts.",
                      hours, "/settings?tab=hours"),
        ChecklistStep("rooms", "Add rooms and devices", "Every room or device a service needs, so two visits never "
                      "share one.", rooms, "/settings?tab=rooms"),
        ChecklistStep("location", "Complete your locations", "Address, phone, opening hours, closures and the "
                      "cancellation window.", complete, "/settings?tab=locations"),
        ChecklistStep("share", "Share your booking link", f"Put /book/{slug} on your website and social pages; "
                      "done once a client books online.", booked, f"/book/{slug}"),
    ]
