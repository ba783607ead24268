"""Background jobs."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from medspa.domain.scheduling.models import Appointment, Occupancy
from medspa.domain.scheduling.service import hold_slot
from medspa.jobs.holds import release_lapsed_holds
from tests.conftest import utc
from tests.factories import build_clinic
from tests.test_scheduling import ny


def test_lapsed_holds_are_released_and_fresh_ones_kept(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine, providers=2)
    now = utc(2026, 7, 1)
    with clinic.session() as s:
        old = hold_slot(s, clinic.public, location_id=clinic.location_id, service_id=clinic.services["botox"],
                        start_at=ny(10), now=now, provider_id=clinic.provider_ids[0])
        fresh = hold_slot(s, clinic.public, location_id=clinic.location_id, service_id=clinic.services["botox"],
                          start_at=ny(10), now=now + timedelta(minutes=8), provider_id=clinic.provider_ids[1])
        s.commit()
    assert release_lapsed_holds(engine, now + timedelta(minutes=11)) >= 1
    with clinic.session() as s:
        status = dict(s.exec(select(Appointment.id, Appointment.status)).all())
        occ = dict(s.exec(select(Occupancy.appointment_id, Occupancy.status)).all())
    assert (status[old.id], occ[old.id]) == ("expired", "released")
    assert (status[fresh.id], occ[fresh.id]) == ("held", "held")


def test_the_sweep_releases_through_the_domain_with_an_audit_row_per_hold(engine, owner_engine):
    """Issue "One way in": the hold-expiry job calls a domain action that writes its audit row."""
    from medspa.domain.audit.models import AuditEvent

    clinic = build_clinic(engine, owner_engine, providers=2)
    now = utc(2026, 7, 1)
    with clinic.session() as s:
        lapsed = [hold_slot(s, clinic.public, location_id=clinic.location_id, service_id=clinic.services["botox"],
                            start_at=ny(10), now=now, provider_id=p).id for p in clinic.provider_ids]
        s.commit()
    assert release_lapsed_holds(engine, now + timedelta(minutes=11)) >= 2
    with clinic.session() as s:
        rows = s.exec(select(AuditEvent).where(AuditEvent.action == "appointment.release")).all()
    released = {int(r.object_id): r for r in rows}
    assert set(lapsed) <= released.keys()
    for appointment_id in lapsed:
        row = released[appointment_id]
        assert (row.actor_role, row.object_type, row.detail.get("reason")) == ("system", "appointment", "hold expired")
