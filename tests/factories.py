"""Builders for test clinics. Each call makes a new organisation with a unique slug."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import time

from sqlmodel import Session

from medspa.db import tenant_session
from medspa.domain.catalog.service import add_service
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.service import (
    add_location,
    add_resource,
    add_staff,
    create_organization,
    set_working_hours,
)


@dataclass
class TestClinic:
    """Ids of a small clinic: one location, providers, a room, a device and services."""

    __test__ = False
    engine: object
    org_id: int
    slug: str
    location_id: int
    time_zone: str
    provider_ids: list[int] = field(default_factory=list)
    room_ids: list[int] = field(default_factory=list)
    device_ids: list[int] = field(default_factory=list)
    services: dict[str, int] = field(default_factory=dict)

    @property
    def system(self) -> Actor:
        return Actor.system(self.org_id, "test")

    @property
    def public(self) -> Actor:
        return Actor.public(self.org_id)

    def staff_actor(self, role: str = "front_desk", staff_id: int | None = None) -> Actor:
        return Actor(org_id=self.org_id, role=role, user_id=None, staff_id=staff_id, label=f"test {role}")

    def session(self) -> Session:
        """A tenant session (use as a context manager)."""
        return tenant_session(self.org_id, self.engine)


def new_org(owner_engine, slug: str | None = None, name: str = "Test Clinic") -> tuple[int, str]:
    slug = slug or f"t-{uuid.uuid4().hex[:12]}"
    with Session(owner_engine) as s:
        org = create_organization(s, slug, name)
        s.commit()
        return org.id, slug


def build_clinic(engine, owner_engine, *, time_zone: str = "America/New_York", providers: int = 1,
                 weekly: dict[int, list[tuple[time, time]]] | None = None, window_hours: int = 24,
                 late_keeps_deposit: bool = True) -> TestClinic:
    """A clinic whose providers work 09:00-17:00 every day (or `weekly`) at one location
    (cancellation window `window_hours`; late cancellations keep the deposit unless
    late_keeps_deposit is False).

    Services: "botox" (30 min, $350, deposit $50, no room), "facial" (60 min + 15 cleanup,
    needs a treatment_room, $200, deposit $40), "laser" (30 min, needs device laser_gentlemax).
    """
    org_id, slug = new_org(owner_engine)
    actor = Actor.system(org_id, "test setup")
    weekly = weekly or {d: [(time(9), time(17))] for d in range(7)}
    with tenant_session(org_id, engine) as s:
        loc = add_location(s, actor, "Main", time_zone, cancellation_window_hours=window_hours)
        loc.late_cancel_keeps_deposit = late_keeps_deposit
        staff = [add_staff(s, actor, f"Provider {i + 1}", "provider", title="RN") for i in range(providers)]
        for st in staff:  # nurse practitioners: prescribers, so the order rule of issue 18 leaves them be
            st.licence = "NP"
        for st in staff:
            set_working_hours(s, actor, st.id, loc.id, weekly)
        room = add_resource(s, actor, loc.id, "room", "Room 1", "treatment_room")
        device = add_resource(s, actor, loc.id, "device", "GentleMax", "laser_gentlemax")
        ids = [st.id for st in staff]
        botox = add_service(s, actor, category="Neuromodulators", name="Botox", duration_minutes=30,
                            price_cents=35000, deposit_cents=5000, provider_ids=ids, min_notice_minutes=120)
        facial = add_service(s, actor, category="HydraFacial", name="HydraFacial", duration_minutes=60,
                             buffer_after_minutes=15, price_cents=20000, deposit_cents=4000,
                             room_type="treatment_room", provider_ids=ids)
        laser = add_service(s, actor, category="Laser hair removal", name="Laser underarms", duration_minutes=30,
                            price_cents=15000, deposit_cents=0, device_type="laser_gentlemax", provider_ids=ids)
        s.commit()
        return TestClinic(engine, org_id, slug, loc.id, time_zone, ids, [room.id], [device.id],
                          {"botox": botox.id, "facial": facial.id, "laser": laser.id})
