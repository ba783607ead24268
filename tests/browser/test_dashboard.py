"""The owners' dashboard /dashboard in headless Chromium against the real app, on the demo clinic.

The clock is frozen at conftest.FROZEN_NOW (2026-07-01 12:00 in New York), so the page opens
on 2026-06-02..2026-07-01. The module seeds the demo clinic (a year of history, two
locations) under its own slug with the same `now`; the owner (two-factor) gets a server-side
session as the sign-in would give; the front desk signs in with its demo password.
"""

from __future__ import annotations

import csv
import re
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from playwright.sync_api import Page, expect

from medspa.db import tenant_session
from medspa.demo.seed import seed_demo
from tests.browser.conftest import FROZEN_NOW
from tests.browser.test_audit import _engine, owner_session

TODAY = FROZEN_NOW.date()  # 2026-07-01 (noon in New York)


@pytest.fixture(scope="module")
def demo(app_urls):
    """The demo clinic under a unique slug: (clinic handle for owner_session, owner email, desk email)."""
    engine, owner_engine = _engine(app_urls[0]), _engine(app_urls[1])
    slug = f"demo-{uuid.uuid4().hex[:8]}"
    org_id = seed_demo(engine, owner_engine, slug=slug, name="Lumière Aesthetics", today=TODAY, now=FROZEN_NOW,
                       with_other=False)
    clinic = SimpleNamespace(org_id=org_id, session=lambda: tenant_session(org_id, engine))
    return clinic, f"owner@{slug}.clinic", f"frontdesk@{slug}.clinic"


def tile(page: Page, key: str):
    return page.locator(f".dash-tile[data-key='{key}']")


def value(page: Page, key: str) -> str:
    return tile(page, key).locator(".dash-tile-value").inner_text()


def settle(page: Page) -> None:
    expect(page.locator("#dashboard-page")).to_have_attribute("data-busy", "false")


def test_owner_filters_drills_down_and_exports(page: Page, base_url, demo, screenshot):
    clinic, owner_email, _ = demo
    page.set_viewport_size({"width": 1440, "height": 1000})
    page.goto("/dashboard")
    page.wait_for_url("**/login?next=/dashboard")
    owner_session(page, base_url, clinic, owner_email)
    page.goto("/dashboard")
    expect(page.locator("#dash-start")).to_have_value("2026-06-02")
    expect(page.locator("#dash-end")).to_have_value("2026-07-01")
    expect(page.locator(".dash-tile")).to_have_count(9)
    expect(page.locator("#dash-period-note")).to_have_text(
        "Compared with the previous 30 days, May 3, 2026 – Jun 1, 2026")
    expect(tile(page, "no_show").locator(".dash-tile-value")).to_have_text(re.compile(r"^\d+\.\d%$"))
    expect(tile(page, "no_show").locator(".dash-tile-change")).to_contain_text("vs previous 30 days")
    expect(tile(page, "no_show")).to_contain_text("completed + no-shows")  # the definition beside it
    expect(page.locator("#dash-util-chart .recharts-bar-rectangle").first).to_be_visible()
    expect(page.locator("#dash-trend-chart .recharts-line").first).to_be_visible()
    expect(page.locator("#dash-hours-grid .dash-heat-live").first).to_be_visible()
    expect(page.locator("#dash-retention-grid .dash-heat-live").first).to_be_visible()
    page.wait_for_timeout(800)  # chart animations
    screenshot("dashboard-demo")

    # a longer range, then one location: the figures move
    month_detail = tile(page, "no_show").locator(".dash-tile-detail").inner_text()
    page.click("#dash-preset-90")
    expect(page.locator("#dash-start")).to_have_value("2026-04-03")
    expect(tile(page, "no_show").locator(".dash-tile-detail")).not_to_have_text(month_detail)
    settle(page)
    both = tile(page, "no_show").locator(".dash-tile-detail").inner_text()
    page.click("#dash-location")
    page.get_by_role("option", name="Lumière — SoHo, New York").click()
    expect(tile(page, "no_show").locator(".dash-tile-detail")).not_to_have_text(both)
    settle(page)
    ny_due = int(re.search(r"of ([\d,]+) due", tile(page, "no_show").locator(".dash-tile-detail").inner_text())
                 .group(1).replace(",", ""))
    assert ny_due < int(re.search(r"of ([\d,]+) due", both).group(1).replace(",", ""))

    # the rows behind the no-show rate: date, client, service; the total restates the tile
    rate = value(page, "no_show")
    tile(page, "no_show").click()
    summary = page.locator("#dash-drill-summary")
    expect(summary).to_contain_text(f"{ny_due:,} visits due")
    expect(summary).to_contain_text(f"= {rate}")
    rows = page.locator(".dash-drill-row")
    expect(rows).to_have_count(min(ny_due, 200))
    first = rows.first.locator("td")
    expect(first.nth(0)).to_have_text(re.compile(r"^2026-0[4-7]-\d\d \d\d:\d\d$"))
    expect(first.nth(1)).to_have_text(re.compile(r"^\S+ \S+"))  # a client's name
    expect(first.nth(2)).not_to_have_text("")  # the service
    expect(first.nth(4)).to_have_text("Lumière — SoHo, New York")
    if ny_due > 200:
        expect(page.locator("#dash-drill-note")).to_contain_text(f"of {ny_due:,} rows")
    page.wait_for_timeout(300)
    screenshot("dashboard-demo-drill")
    with page.expect_download() as info:
        page.click("#dash-drill-csv")
    download = info.value
    assert download.suggested_filename == "no_show-2026-04-03-2026-07-01.csv"
    with open(download.path(), encoding="utf-8", newline="") as fh:
        exported = list(csv.reader(fh))
    assert exported[0][:3] == ["local_time", "client", "service"] and len(exported) == ny_due + 1
    assert sum(1 for r in exported[1:] if r[6] == "no show") == int(
        re.search(r"([\d,]+) no-shows", summary.inner_text()).group(1).replace(",", ""))
    page.click("#dash-drill-close")
    expect(page.locator("#dash-drill")).to_have_count(0)

    # a heatmap cell opens its visits, as many as it shows
    cell = page.locator("#dash-hours-grid .dash-heat-live").first
    n = int(cell.inner_text())
    cell.click()
    expect(page.locator("#dash-drill-summary")).to_have_text(f"{n:,} visits")
    expect(page.locator(".dash-drill-row")).to_have_count(min(n, 200))
    page.click("#dash-drill-close")

    # a chart's own CSV (figures only)
    with page.expect_download() as info:
        page.locator("#dash-trend-chart .dash-csv").click()
    assert info.value.suggested_filename == "trend-2026-04-03-2026-07-01.csv"

    # and the chart itself as a PNG image (drawn in the browser from the chart's SVG)
    with page.expect_download() as info:
        page.locator("#dash-revenue-chart .dash-png").click()
    png = info.value
    assert png.suggested_filename == "revenue-2026-04-03_2026-07-01.png"
    with open(png.path(), "rb") as fh:
        head = fh.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    assert width > 600 and height > 400  # the chart at twice its size, not an empty canvas
    png.save_as(Path(__file__).resolve().parent.parent / "artifacts" / "dashboard-revenue-chart.png")


def test_front_desk_gets_not_found(page: Page, demo):
    _, _, desk_email = demo
    page.goto("/dashboard")
    page.wait_for_url("**/login?next=/dashboard")
    page.fill("#login-email", desk_email)
    page.fill("#login-password", "demo-desk-2026")
    page.click("#login-submit")
    page.wait_for_url("**/dashboard")
    expect(page.locator("#dash-not-found")).to_contain_text("Page not found")
    expect(page.locator(".dash-tile")).to_have_count(0)
    expect(page.locator("#nav-dashboard")).to_have_count(0)
