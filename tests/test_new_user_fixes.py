"""Small fixes a new-user trial found (issue 13): the Services tab's booking badge says the true
state, the recovery-codes page carries the sign-in pages' brand, phone numbers in national
format for the booking page's "please call" line."""

from __future__ import annotations

import dataclasses

import pytest

from medspa.api.auth import recovery_codes_page
from medspa.domain.catalog.actions import ServiceRow
from medspa.domain.phones import national_phone
from medspa.features.settings.state import booking_badge

ROW = ServiceRow(1, "Injectables", "Botox", "", 30, 0, 0, 35000, 5000, "USD", None, None, (7,), True, 0, 15, None, True)


@pytest.mark.parametrize("providers, online, badge", [
    ((), True, ("Not bookable yet", "gray")),  # was "Online" beside "Nobody yet: not bookable"
    ((), False, ("Not bookable yet", "gray")),
    ((7,), True, ("Online", "grass")),
    ((7,), False, ("Staff only", "amber")),
])
def test_the_services_badge_shows_only_the_true_state(providers, online, badge):
    assert booking_badge(dataclasses.replace(ROW, provider_ids=providers, online_bookable=online)) == badge


def test_the_recovery_codes_page_has_the_brand_of_the_other_sign_in_pages():
    page = recovery_codes_page(["abcde-fghjk"], "/calendar?a=<b>")
    assert '<header id="auth-brand"><span class="logo"><svg' in page and "</span>medspa</header>" in page
    assert "Sessions end after a period of inactivity." in page
    assert 'href="/calendar?a=&lt;b&gt;"' in page and "abcde-fghjk" in page


def test_national_phone():
    assert national_phone("+12125550123") == "(212) 555-0123"
    assert national_phone("+442079460958") == "020 7946 0958"
    assert national_phone("not a number") == "not a number"

