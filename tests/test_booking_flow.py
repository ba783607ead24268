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
    strip = app.load_strip(clinic.org_id, clinic.location_id, botox.id, None, clinic.time_zone)
    days = strip.days
    assert len(days) == 14 and days[0].iso == "2026-07-01" and all(d.open for d in days)
    assert (strip.can_earlier, strip.can_later, strip.next_day, strip.empty_note) == (False, True, "", "")
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


def _weekly_clinic(engine, owner_engine, weekly):
    from tests.factories import build_clinic

    return build_clinic(engine, owner_engine, weekly=weekly)


def test_a_strip_without_free_days_names_the_next_available_one(app, engine, owner_engine):
    from datetime import time

    from medspa.domain.catalog.models import Service

    # Sundays only, and the first three Sundays are one's own blocks: nothing in the first 14 days
    clinic = _weekly_clinic(engine, owner_engine, {6: [(time(9), time(10))]})
    botox = clinic.services["botox"]
    with clinic.session() as s:
        from medspa.domain.scheduling.service import hold_slot

        for day in (5, 12):
            for minute in (0, 30):
                hold_slot(s, clinic.public, location_id=clinic.location_id, service_id=botox,
                          start_at=datetime(2026, 7, day, 13, minute, tzinfo=timezone.utc), now=NOW,
                          hold_minutes=60 * 24 * 30)
        s.commit()
    strip = app.load_strip(clinic.org_id, clinic.location_id, botox, None, clinic.time_zone)
    assert not any(d.open for d in strip.days) and len(strip.days) == 14
    assert (strip.next_day, strip.next_label, strip.empty_note) == ("2026-07-19", "Sun 19 Jul", "")
    # the strip from that day: it is open; earlier dates can be browsed again
    later = app.load_strip(clinic.org_id, clinic.location_id, botox, None, clinic.time_zone, date(2026, 7, 19))
    assert later.days[0].iso == "2026-07-19" and later.days[0].open and later.can_earlier
    # a max advance of 10 days: nothing fits; the waitlist box's sentence, no way further
    with clinic.session() as s:
        s.get(Service, botox).max_advance_days = 10
        s.commit()
    strip = app.load_strip(clinic.org_id, clinic.location_id, botox, None, clinic.time_zone)
    assert len(strip.days) == 11 and not strip.can_later and strip.next_day == ""
    assert strip.empty_note == "Nothing free in the next 10 days."
    # asking beyond the max advance shows its last days, never later ones
    strip = app.load_strip(clinic.org_id, clinic.location_id, botox, None, clinic.time_zone, date(2026, 9, 1))
    assert strip.days[-1].iso == "2026-07-11" and not strip.can_later


def test_the_confirmation_has_balance_policy_and_token_links(app, clinic):
    held = app.place_hold(clinic.org_id, clinic.location_id, clinic.services["botox"], None, TEN_AM,
                          clinic.time_zone, None, "127.0.0.1", "pytest")
    sub = _submission(clinic, held.hold_id, "4242 4242 4242 4242")
    sub.slug = clinic.slug
    done = app.submit(sub).confirmation
    assert (done.deposit, done.balance) == ("$50.00", "$300.00")
    assert done.policy == "Cancellations more than 24 hours ahead are refunded in full. Later ones keep the deposit."
    code = done.reference
    assert done.manage_url.startswith(f"/book/{clinic.slug}/manage/") and code not in done.manage_url
    token = done.manage_url.rsplit("/", 1)[1]
    assert done.calendar_url == f"/api/v1/{clinic.slug}/bookings/{token}/calendar.ics" and len(token) == 32


def test_history_moves_one_step_and_forward_only_with_the_choices_made():
    from types import SimpleNamespace

    from medspa.features.booking.steps import step_url, target_step, where

    anything = lambda st: True  # noqa: E731
    one_location = lambda st: st != "location"  # noqa: E731
    assert target_step("details", "time", True, anything) == "time"
    assert target_step("details", "", True, anything) == "time"  # the first entry: one step back
    assert target_step("time", "payment", True, anything) == "provider"  # an entry that is ahead: one back
    assert target_step("service", "", True, one_location) == "service"  # nothing before it
    assert target_step("service", "", True, anything) == "location"
    assert target_step("time", "details", False, lambda st: st != "details") == "time"  # the hold is gone
    assert target_step("provider", "details", False, anything) == "details"
    url = SimpleNamespace(path="/book/lumiere", query_parameters={"step": "time", "n": "3"})
    assert where(url) == ("lumiere", "time", 3)
    assert where(SimpleNamespace(path="/book/x", query_parameters={"step": "<b>", "n": "-1"})) == ("x", "", 0)
    assert step_url("lumiere", "time", 4) == "/book/lumiere?step=time&n=4"
