"""The client profile's "book again" and "Charts & photos" (issue 14 section 2): the next free
time with the same provider, the fallback to any provider, one booking for two presses,
hostile visit ids, and the clinical lists only for chart.read / photo.read, each audited."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, select, text

from medspa.domain.audit.models import AuditEvent
from medspa.domain.catalog.models import ServiceProvider
from medspa.domain.clients.actions import do_read_client_profile
from medspa.domain.clients.rebook import HORIZON_DAYS
from medspa.domain.clients.rebook_actions import do_book_again, fetch_book_again
from medspa.domain.clinical.actions import fetch_client_clinical
from medspa.domain.clinical.models import TreatmentNote
from medspa.domain.clinical.photos import ClinicalPhoto
from medspa.domain.errors import NotFound
from medspa.domain.identity.actor import PermissionDenied
from medspa.domain.practice.models import StaffMember
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.service import SlotTaken, hold_slot
from tests.factories import build_clinic
from tests.test_analytics import _client
from tests.test_analytics_trends import _visit

NOW = datetime(2030, 1, 15, 12, 0, tzinfo=timezone.utc)  # Tue 7:00 AM in New York
PAST = datetime(2030, 1, 8, 15, 0, tzinfo=timezone.utc)


@pytest.fixture
def clinic(engine, owner_engine):
    c = build_clinic(engine, owner_engine, providers=2)
    with c.session() as s:
        c.ana, c.bea = _client(s, c, 1), _client(s, c, 2)
        c.visit = _visit(s, c, PAST, client_id=c.ana).id  # Botox with Provider 1
        c.other_visit = _visit(s, c, PAST - timedelta(days=3), client_id=c.bea).id
        s.commit()
    return c


def test_next_free_time_with_the_same_provider(clinic):
    done = fetch_book_again(clinic.staff_actor("front_desk"), clinic.ana, clinic.visit, now=NOW,
                            engine=clinic.engine)
    offer = done.offer
    assert offer.start == datetime(2030, 1, 15, 14, 0, tzinfo=timezone.utc)  # 9:00 AM, the first time that day
    assert offer.provider_id == clinic.provider_ids[0] and offer.same_provider and offer.note == ""
    assert offer.label == "Tue, Jan 15, 9:00 AM EST with Provider 1"
    assert (offer.service, offer.location_id, done.usual_location_id) == ("Botox", clinic.location_id,
                                                                           clinic.location_id)
    # the provider's first hour is taken: the next free time after it, still with them
    with clinic.session() as s:
        for start in (offer.start, offer.start + timedelta(minutes=30)):
            hold_slot(s, clinic.system, location_id=clinic.location_id, service_id=clinic.services["botox"],
                      start_at=start, now=NOW, provider_id=clinic.provider_ids[0], client_id=clinic.bea,
                      source="staff", confirm=True)
        s.commit()
    later = fetch_book_again(clinic.staff_actor(), clinic.ana, clinic.visit, now=NOW, engine=clinic.engine).offer
    assert later.start == offer.start + timedelta(hours=1) and later.provider_id == clinic.provider_ids[0]


def test_falls_back_to_any_provider_then_says_so(clinic, owner_engine):
    with clinic.session() as s:  # Provider 1 no longer performs Botox
        s.execute(delete(ServiceProvider).where(ServiceProvider.staff_id == clinic.provider_ids[0],
                                                ServiceProvider.service_id == clinic.services["botox"]))
        s.commit()
    offer = fetch_book_again(clinic.staff_actor(), clinic.ana, clinic.visit, now=NOW, engine=clinic.engine).offer
    assert offer.provider_id == clinic.provider_ids[1] and not offer.same_provider
    assert offer.label == "Tue, Jan 15, 9:00 AM EST with Provider 2"
    assert offer.note == f"Provider 1 has no free time for Botox in the next {HORIZON_DAYS} days."
    with clinic.session() as s:  # nobody performs it any more
        s.execute(delete(ServiceProvider).where(ServiceProvider.service_id == clinic.services["botox"]))
        s.commit()
    none = fetch_book_again(clinic.staff_actor(), clinic.ana, clinic.visit, now=NOW, engine=clinic.engine).offer
    assert none.start is None and none.label == "" and "No one has free time for Botox at Main" in none.note


def test_an_inactive_provider_falls_back(clinic):
    with clinic.session() as s:
        s.get(StaffMember, clinic.provider_ids[0]).active = False
        s.commit()
    offer = fetch_book_again(clinic.staff_actor(), clinic.ana, clinic.visit, now=NOW, engine=clinic.engine).offer
    assert offer.provider_id == clinic.provider_ids[1] and offer.note.startswith("Provider 1 has no free time")


def test_booked_once_and_shown_under_upcoming(clinic):
    desk = clinic.staff_actor("front_desk")
    offer = fetch_book_again(desk, clinic.ana, clinic.visit, now=NOW, engine=clinic.engine).offer
    first = do_book_again(desk, clinic.ana, clinic.visit, start_at=offer.start, provider_id=offer.provider_id,
                          now=NOW, engine=clinic.engine)
    second = do_book_again(desk, clinic.ana, clinic.visit, start_at=offer.start, provider_id=offer.provider_id,
                           now=NOW, engine=clinic.engine)
    assert not first.already and second.already and second.appointment_id == first.appointment_id
    with clinic.session() as s:
        booked = s.exec(select(Appointment).where(Appointment.client_id == clinic.ana,
                                                  Appointment.start_at == offer.start)).all()
        assert [(a[0].id, a[0].status, a[0].source, a[0].provider_id) for a in booked] == [
            (first.appointment_id, "confirmed", "staff", clinic.provider_ids[0])]
        assert s.execute(text("SELECT count(*) FROM audit_event WHERE action = 'appointment.confirm' "
                              "AND object_id = :i"), {"i": str(first.appointment_id)}).scalar() == 1
    profile = do_read_client_profile(desk, clinic.ana, now=NOW, engine=clinic.engine)
    assert [(v.id, v.service, v.provider, v.when) for v in profile.upcoming] == [
        (first.appointment_id, "Botox", "Provider 1", "Tue, Jan 15, 2030, 9:00 AM")]
    # another client cannot take the same time with that provider: the slot is occupied
    with pytest.raises(SlotTaken):
        do_book_again(desk, clinic.bea, clinic.other_visit, start_at=offer.start, provider_id=offer.provider_id,
                      now=NOW, engine=clinic.engine)


def test_hostile_visit_ids_are_not_found(clinic, engine, owner_engine):
    desk = clinic.staff_actor("front_desk")
    start = datetime(2030, 1, 15, 14, 0, tzinfo=timezone.utc)
    for bad in (clinic.other_visit, 10**12, -1, 0, True, "1"):
        with pytest.raises(NotFound):
            fetch_book_again(desk, clinic.ana, bad, now=NOW, engine=clinic.engine)
        with pytest.raises(NotFound):
            do_book_again(desk, clinic.ana, bad, start_at=start, provider_id=None, now=NOW, engine=clinic.engine)
    elsewhere = build_clinic(engine, owner_engine)
    with pytest.raises(NotFound):  # another clinic's desk: row-level security hides the visit
        fetch_book_again(elsewhere.staff_actor(), clinic.ana, clinic.visit, now=NOW, engine=engine)
    with pytest.raises(PermissionDenied):
        fetch_book_again(clinic.staff_actor("lab"), clinic.ana, clinic.visit, now=NOW, engine=engine)
    with clinic.session() as s:
        assert s.execute(text("SELECT count(*) FROM appointment WHERE client_id = :c"),
                         {"c": clinic.ana}).scalar() == 1


def _chart(s, clinic, appointment_id: int, client_id: int, version: int, status: str) -> None:
    s.add(TreatmentNote(org_id=clinic.org_id, appointment_id=appointment_id, client_id=client_id,
                        provider_id=clinic.provider_ids[0], version=version, status=status,
                        created_at=NOW, updated_at=NOW, signed_at=NOW if status == "signed" else None))
    s.flush()


def _photo(s, clinic, appointment_id: int, client_id: int, kind: str, n: int) -> int:
    p = ClinicalPhoto(org_id=clinic.org_id, appointment_id=appointment_id, client_id=client_id, kind=kind,
                      storage_key=f"k/{clinic.org_id}-{n}.jpg", thumb_key=f"k/{clinic.org_id}-{n}-t.jpg", width=10,
                      height=10, bytes=100, content_type="image/jpeg", sha256="0" * 64, created_at=NOW)
    s.add(p)
    s.flush()
    return p.id


def test_charts_and_photos_for_providers_only_and_audited(clinic):
    with clinic.session() as s:
        older = _visit(s, clinic, PAST - timedelta(days=30), client_id=clinic.ana).id
        newest = _visit(s, clinic, PAST + timedelta(days=1), client_id=clinic.ana).id
        _chart(s, clinic, clinic.visit, clinic.ana, 1, "signed")
        _chart(s, clinic, clinic.visit, clinic.ana, 2, "signed")  # an amendment, signed
        _chart(s, clinic, older, clinic.ana, 1, "draft")
        _chart(s, clinic, newest, clinic.ana, 1, "signed")
        _chart(s, clinic, clinic.other_visit, clinic.bea, 1, "signed")  # another client's
        after = _photo(s, clinic, clinic.visit, clinic.ana, "after", 1)
        before = _photo(s, clinic, clinic.visit, clinic.ana, "before", 2)
        old = _photo(s, clinic, older, clinic.ana, "before", 3)
        _photo(s, clinic, clinic.other_visit, clinic.bea, "before", 4)
        s.commit()
    got = fetch_client_clinical(clinic.staff_actor("provider"), clinic.ana, engine=clinic.engine)
    assert [(c.appointment_id, c.status, c.service, c.provider) for c in got.charts] == [
        (newest, "signed", "Botox", "Provider 1"), (clinic.visit, "amended", "Botox", "Provider 1"),
        (older, "draft", "Botox", "Provider 1")]
    assert got.charts[1].date == "Jan 8, 2030"
    assert [(p.id, p.kind, p.appointment_id) for p in got.photos] == [
        (before, "before", clinic.visit), (after, "after", clinic.visit), (old, "before", older)]
    for role in ("front_desk", "manager", "lab"):
        with pytest.raises(NotFound):
            fetch_client_clinical(clinic.staff_actor(role), clinic.ana, engine=clinic.engine)
    with pytest.raises(NotFound):
        fetch_client_clinical(clinic.staff_actor("owner"), 10**12, engine=clinic.engine)
    with clinic.session() as s:
        rows = [r[0] for r in s.exec(select(AuditEvent).where(AuditEvent.client_id == clinic.ana,
                                                                AuditEvent.action.in_(("chart.read", "photo.read")))
                                     .order_by(AuditEvent.id)).all()]
        assert [(r.action, r.object_type, r.object_id, r.detail.get("list")) for r in rows] == [
            ("chart.read", "client", str(clinic.ana), True), ("photo.read", "client", str(clinic.ana), True)]
        assert rows[0].detail["appointment_ids"] == [newest, clinic.visit, older]
        assert rows[1].detail["photo_ids"] == [before, after, old] and rows[1].detail["photos"] == 3
        assert rows[0].actor_role == "provider"
