"""The client list's page is one statement once the worker knows the clinic (issue 20): its
country and locations' zones (clients.search.ClinicFacts) are kept per worker and checked by
that same statement, so a change made anywhere (another worker, SQL, no notification) shows on
the next page: a phone read with the new country, "Added" on the new zone's day, today's
visits of a new location."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event, update

from medspa.domain.clients import search
from medspa.domain.clients.search import CLINIC_FACTS, ClinicFacts, list_clients
from medspa.domain.clients.service import ClientInput, create_client
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.models import Location, Organization
from medspa.domain.practice.service import add_location
from medspa.domain.scheduling.models import Appointment
from tests.factories import build_clinic

NOW = datetime(2030, 1, 15, 12, 0, tzinfo=timezone.utc)  # 7:00 in New York, 12:00 in London


class Statements:
    """Counts the statements an engine sends (the tenant setting of a new transaction aside)."""

    def __init__(self, engine):
        self.engine, self.sent = engine, []

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._note)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._note)

    def _note(self, conn, cursor, statement, parameters, context, executemany):
        if "set_config('app.org_id'" not in statement:
            self.sent.append(statement)

    def take(self) -> int:
        n, self.sent = len(self.sent), []
        return n


def page(clinic, query="", view="newest"):
    with clinic.session() as s:
        return list_clients(s, org_id=clinic.org_id, now=NOW, query=query, view=view)


def set_country(owner_engine, org_id: int, country: str) -> None:
    with owner_engine.begin() as conn:
        conn.execute(update(Organization).where(Organization.id == org_id).values(country=country))


def set_zone(clinic, zone: str) -> None:
    with clinic.session() as s:
        s.execute(update(Location).where(Location.id == clinic.location_id).values(time_zone=zone))
        s.commit()


@pytest.fixture
def clinic(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)  # New York
    set_country(owner_engine, clinic.org_id, "US")
    with clinic.session() as s:
        sian = create_client(s, clinic.system, ClientInput("Siân", "Ellis", "", "+44 7911 123456", None), region="US")
        s.flush()
        sian.created_at = datetime(2026, 12, 6, 3, 20, tzinfo=timezone.utc)  # Dec 5 in New York, Dec 6 in London
        s.commit()
    return clinic


def test_a_page_is_one_statement_once_the_clinic_is_known(clinic):
    CLINIC_FACTS.clear()
    with Statements(clinic.engine) as sent:
        page(clinic, "ellis")
        assert sent.take() == 2  # the clinic's facts, then the page
        for query, view in (("ellis", "newest"), ("", "newest"), ("", "today"), ("07911 123456", "newest"),
                            ("12/06/1990", "newest"), ("K7M2-Q9XD", "newest"), ("ellis", "today")):
            page(clinic, query, view)
            assert sent.take() == 1, (query, view)


def test_a_changed_country_is_read_on_the_next_page(clinic, owner_engine):
    """No notification: the country is changed behind the worker's back (as another worker's
    settings page or SQL would), and the next search reads phones with the new country."""
    first = page(clinic, "ellis")
    assert first.rows[0].phone == "+44 7911 123456"  # foreign to a US clinic
    assert page(clinic, "07911 123456").rows == []  # "0" leads no US number
    set_country(owner_engine, clinic.org_id, "GB")
    with Statements(clinic.engine) as sent:
        assert [r.name for r in page(clinic, "07911 123456").rows] == ["Siân Ellis"]
        assert sent.take() == 2  # the page read with the old country was seen stale and read again
        assert page(clinic, "ellis").rows[0].phone == "07911 123456"
        assert sent.take() == 1
    assert CLINIC_FACTS.get((clinic.engine, clinic.org_id)).region == "GB"


def visit(clinic, client_id: int, location_id: int, start_at: datetime) -> None:
    """A confirmed Botox visit written as it is (the provider's hours aside)."""
    with clinic.session() as s:
        s.add(Appointment(org_id=clinic.org_id, location_id=location_id, service_id=clinic.services["botox"],
                          provider_id=clinic.provider_ids[0], client_id=client_id, status="confirmed",
                          start_at=start_at, end_at=start_at + timedelta(minutes=30)))
        s.commit()


def new_client(clinic, first: str, last: str) -> int:
    with clinic.session() as s:
        client_id = create_client(s, clinic.system, ClientInput(first, last, f"{first}@example.com".lower(), "",
                                                                None)).id
        s.commit()
        return client_id


def test_a_changed_zone_moves_added_and_today(clinic):
    ada = new_client(clinic, "Ada", "Night")
    visit(clinic, ada, clinic.location_id, datetime(2030, 1, 15, 3, 0, tzinfo=timezone.utc))  # Jan 14, 22:00 in NY
    visit(clinic, new_client(clinic, "Bo", "Day"), clinic.location_id, datetime(2030, 1, 15, 15, 0, tzinfo=timezone.utc))
    assert page(clinic, "ellis").rows[0].added == "Dec 5, 2026"
    assert [(r.name, r.visit) for r in page(clinic, view="today").rows] == [("Bo Day", "10:00 AM · Botox")]
    set_zone(clinic, "Europe/London")
    assert page(clinic, "ellis").rows[0].added == "Dec 6, 2026"
    assert [(r.name, r.visit) for r in page(clinic, view="today").rows] == [
        ("Bo Day", "3:00 PM · Botox"), ("Ada Night", "3:00 AM · Botox")]


def test_a_new_location_is_in_today(clinic):
    assert page(clinic, view="today").rows == []
    with clinic.session() as s:
        london_id = add_location(s, Actor.system(clinic.org_id, "test"), "London", "Europe/London").id
        s.commit()
    visit(clinic, new_client(clinic, "Bea", "Early"), london_id, datetime(2030, 1, 15, 1, 0, tzinfo=timezone.utc))
    assert [(r.name, r.visit) for r in page(clinic, view="today").rows] == [("Bea Early", "1:00 AM · Botox")]


def test_the_facts_kept_are_bounded():
    cache = search._FactsCache()
    cache.MAX = 4
    facts = ClinicFacts("US", ((1, "UTC"),))
    for org in range(10):
        cache.put(("engine", org), facts)
    assert cache.get(("engine", 9)) == facts and cache.get(("engine", 0)) is None
    assert len(cache._facts) <= 4
    assert ClinicFacts("GB", ()).time_zone == "UTC" and ClinicFacts("US", ((2, "Asia/Tokyo"),)).time_zone == "Asia/Tokyo"


def test_today_pages_by_name_through_the_one_statement(clinic):
    """The today view's keyset (last, first, id) across pages, each row with its first visit today."""
    for i in range(5):
        client_id = new_client(clinic, f"Ann{i}", "Lee" if i % 2 else "Kim")
        visit(clinic, client_id, clinic.location_id, datetime(2030, 1, 15, 18 - i, 0, tzinfo=timezone.utc))
        visit(clinic, client_id, clinic.location_id, datetime(2030, 1, 15, 20, 0, tzinfo=timezone.utc))
    seen, cursor = [], ""
    while True:
        with clinic.session() as s:
            got = list_clients(s, org_id=clinic.org_id, now=NOW, view="today", cursor=cursor, limit=2)
        seen += [(r.name, r.visit) for r in got.rows]
        cursor = got.next_cursor
        if not cursor:
            break
    assert seen == [("Ann0 Kim", "1:00 PM · Botox"), ("Ann2 Kim", "11:00 AM · Botox"),
                    ("Ann4 Kim", "9:00 AM · Botox"), ("Ann1 Lee", "12:00 PM · Botox"), ("Ann3 Lee", "10:00 AM · Botox")]
