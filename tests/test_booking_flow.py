"""The booking page's calls into the domain (medspa.features.booking.flow), without a browser."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from medspa.clock import FixedClock
from medspa.domain.clients.service import ClientInput
from medspa.domain.payments.gateway import CardDetails
import medspa.domain.work
from medspa.features.booking import flow

NOW = datetime(2026, 7, 1, 16, 0, tzinfo=timezone.utc)  # noon in New York
TEN_AM = datetime(2026, 7, 3, 14, 0, tzinfo=timezone.utc)


@pytest.fixture
def app(engine, monkeypatch):
    """flow against the test database, on a frozen clock."""
    monkeypatch.setattr(medspa.domain.work, "get_engine", lambda: engine)  # actions resolve their engine there
    monkeypatch.setattr(flow, "app_clock", lambda: FixedClock(NOW))
    return flow


def _submission(clinic, hold_id, card_number: str) -> flow.Submission:
    loc = flow.LocationCard(clinic.location_id, "Main", "", clinic.time_zone)
    return flow.Submission(clinic.org_id, loc, clinic.services["botox"], "Botox", None,
                           {clinic.provider_ids[0]: "Provider 1"}, TEN_AM, hold_id,
                           ClientInput("Ava", "Nguyen", "ava@example.com", "(212) 555-0123"),
                           CardDetails(card_number, 12, 30, "123"))


def test_unknown_or_malformed_slug_is_none(app):
    assert app.load_clinic("no-such-clinic") is None
    assert app.load_clinic("<script>") is None
    assert app.load_clinic("") is None
    assert app.load_clinic(None) is None  # type: ignore[arg-type]


def test_menu_days_and_slots(app, clinic):
    loaded = app.load_clinic(clinic.slug)
    assert [l.name for l in loaded.locations] == ["Main"]
    categories, ids = app.load_services(clinic.org_id, clinic.location_id)
    botox = next(s for c in categories for s in c.services if s.name == "Botox")
    assert (botox.duration, botox.price, botox.deposit) == ("30 min", "$350.00", "$50.00 deposit")
    assert set(ids) == set(clinic.services.values())
    days = app.load_days(clinic.org_id, clinic.location_id, botox.id, None, clinic.time_zone)
    assert len(days) == 14 and days[0].iso == "2026-07-01" and all(d.open for d in days)
    groups = app.load_slots(clinic.org_id, clinic.location_id, botox.id, None, date(2026, 7, 3), clinic.time_zone)
    assert [g.name for g in groups] == ["Morning", "Afternoon"]
    assert groups[0].slots[0].label == "9:00 AM EDT"
    assert groups[0].slots[4].long_label == "Fri, Jul 3, 2026, 10:00 AM EDT (America/New_York)"


def test_hold_then_taken_then_book(app, clinic):
    args = (clinic.org_id, clinic.location_id, clinic.services["botox"], None, TEN_AM, clinic.time_zone)
    held = app.place_hold(*args, None, "127.0.0.1", "pytest")
    assert held.until == "12:10 PM EDT"
    with pytest.raises(flow.Taken) as taken:
        app.place_hold(*args, None, "127.0.0.2", "pytest")
    assert taken.value.alternatives and TEN_AM.isoformat() not in {a.start for a in taken.value.alternatives}

    declined = app.submit(_submission(clinic, held.hold_id, "4000 0000 0000 0002"))
    # issue 15: the client keeps the time for another card, and the page says until when
    assert declined.card_error == "Your card was declined. Your time is held until 12:10 PM; try another card."
    assert not declined.released
    bad = app.submit(_submission(clinic, held.hold_id, "1234"))
    assert bad.errors == {"card_number": "Your card number is invalid."}
    done = app.submit(_submission(clinic, held.hold_id, "4242 4242 4242 4242"))
    assert done.confirmation is not None
    assert done.confirmation.when == "Fri, Jul 3, 2026, 10:00 AM EDT (America/New_York)"
    assert (done.confirmation.status, done.confirmation.deposit) == ("confirmed", "$50.00")
    assert app.check_client("", "x", "nope", "").keys() == {"first_name", "email", "phone"}
