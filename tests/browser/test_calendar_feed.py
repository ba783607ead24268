"""A provider makes their calendar feed link on /account and a calendar app reads it (issue 15
part 4): the link is shown once, answers text/calendar with their visit, and a new link stops
the old one."""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from icalendar import Calendar
from playwright.sync_api import Page, expect

from medspa.domain.clients.service import ClientInput, find_or_create_client
from medspa.domain.identity.service import create_user
from medspa.domain.scheduling.service import hold_slot
from tests.browser.conftest import FROZEN_NOW
from tests.browser.test_audit import PASSWORD, _engine, owner_session
from tests.factories import build_clinic


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=20) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def test_a_provider_makes_a_feed_link_and_a_calendar_reads_it(page: Page, app_urls, base_url, screenshot):
    clinic = build_clinic(_engine(app_urls[0]), _engine(app_urls[1]))
    email = f"nina-{clinic.slug}@example.com"
    start = datetime.combine(date(2026, 7, 15), time(10), tzinfo=ZoneInfo("America/New_York")).astimezone(timezone.utc)
    with clinic.session() as s:
        user = create_user(s, clinic.system, email=email, password=PASSWORD, role="provider", display_name="Nina Nurse")
        user.staff_id = clinic.provider_ids[0]
        s.add(user)
        mia = find_or_create_client(s, clinic.system, ClientInput("Mia", "Wong", "mia@example.com", "+12125550150"))
        hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services["botox"],
                  start_at=start, now=FROZEN_NOW, provider_id=clinic.provider_ids[0], client_id=mia.id,
                  source="staff", confirm=True)
        s.commit()
    page.set_viewport_size({"width": 1440, "height": 960})
    owner_session(page, base_url, clinic, email)
    page.goto("/account")
    page.click("#account-feed-make")
    link = page.locator("#account-feed-url")
    expect(link).to_contain_text("/calendar-feeds/")
    screenshot("account-calendar-feed")
    first = link.inner_text().strip()
    path = "/calendar-feeds/" + first.split("/calendar-feeds/", 1)[1]
    status, body = _get(base_url + path)
    assert status == 200
    [event] = Calendar.from_ical(body).walk("VEVENT")
    assert (str(event["summary"]), event.decoded("dtstart")) == ("Botox · Mia W.", start)
    page.click("#account-feed-make")  # a new link: the old one stops
    expect(link).not_to_have_text(first)
    assert _get(base_url + path)[0] == 404
