"""/clients/import in headless Chromium (issue 14 part 4): a manager chooses a semicolon CSV
with a byte-order mark, sees the columns guessed and the first rows, picks day-first dates,
reviews (a duplicate of an existing client listed first, decided "Create"), imports, and sees
the summary; the clients are in the database with their names as typed. A front-desk
account finds no such page.
"""

from __future__ import annotations

import codecs
from datetime import date

from playwright.sync_api import Page, expect
from sqlmodel import select

import medspa.domain.models  # noqa: F401  (every table)
from medspa.domain.clients.models import Client
from medspa.domain.clients.service import ClientInput, create_client
from medspa.domain.identity.service import create_user
from tests.browser.test_audit import PASSWORD, _engine, owner_session
from tests.factories import build_clinic

TIMEOUT = 20_000
FILE = ("Prénom;Nom;Courriel;Mobile;Date de naissance\r\n"
        "Zoë;O'Brien-Núñez;zoe.import@example.com;(212) 555-0101;25/12/1990\r\n"
        "Beatrice;Souza;bea.import@example.com;;06/05/1988\r\n"
        "Carla;Reis;not-an-email;;\r\n")


def test_a_manager_imports_a_csv_after_reviewing_a_duplicate(page: Page, app_urls, base_url, screenshot, tmp_path):
    clinic = build_clinic(_engine(app_urls[0]), _engine(app_urls[1]))
    manager_email, desk_email = f"manager-{clinic.slug}@example.com", f"desk-{clinic.slug}@example.com"
    with clinic.session() as s:
        create_user(s, clinic.system, email=manager_email, password=PASSWORD, role="manager", display_name="Mo Manager")
        create_user(s, clinic.system, email=desk_email, password=PASSWORD, role="front_desk", display_name="Dee Desk")
        bea = create_client(s, clinic.staff_actor("manager"),
                            ClientInput("Bea", "Souza", "", "", date_of_birth=date(1988, 5, 6)))
        s.commit()
        bea_id = bea.id
    path = tmp_path / "old-system.csv"
    path.write_bytes(codecs.BOM_UTF8 + FILE.encode())
    page.set_viewport_size({"width": 1440, "height": 960})
    owner_session(page, base_url, clinic, manager_email)
    page.goto("/clients/import")
    expect(page.locator("#client-import-page")).to_have_attribute("data-step", "upload", timeout=TIMEOUT)
    page.set_input_files("#client-import-upload input[type=file]", str(path))
    page.click("#import-read")
    expect(page.locator("#client-import-page")).to_have_attribute("data-step", "map", timeout=TIMEOUT)
    expect(page.locator("#import-facts")).to_have_text("UTF-8 (with byte-order mark) · semicolon · 3 rows")
    expect(page.locator("#import-preview")).to_contain_text("O'Brien-Núñez")
    expect(page.locator("[data-field=first_name]")).to_have_text("Prénom")
    expect(page.locator("[data-field=date_of_birth]")).to_have_text("Date de naissance")
    day_first = page.get_by_label("Day / month / year (25/12/1990)")
    day_first.click()  # a controlled radio: its state comes back from the server (check() would not wait)
    expect(day_first).to_have_attribute("aria-checked", "true")
    screenshot("client-import-map")
    page.click("#import-review")
    expect(page.locator("#client-import-page")).to_have_attribute("data-step", "review", timeout=TIMEOUT)
    expect(page.locator("#import-counts")).to_have_text("1 new · 0 merged into existing clients · 2 skipped")
    rows = page.locator("#import-lines tbody tr")
    expect(rows.nth(0)).to_have_attribute("data-line", "3")  # the duplicate, listed first
    expect(rows.nth(0)).to_contain_text(f"Likely Bea Souza (client #{bea_id}): same date of birth and a similar name")
    expect(rows.nth(1)).to_contain_text("Carla Reis")
    expect(rows.nth(1)).to_contain_text("Email: Enter an email address like name@example.com")
    page.locator("#import-lines tbody tr[data-line='3'] button[role=combobox]").click()
    page.get_by_role("option", name="Create").click()
    expect(page.locator("#import-counts")).to_have_text("2 new · 0 merged into existing clients · 1 skipped")
    screenshot("client-import-review")
    page.click("#import-run")
    expect(page.locator("#import-summary")).to_have_text(
        "2 clients created, 0 merged into existing clients, 1 skipped.", timeout=TIMEOUT)
    expect(page.locator("#import-skipped")).to_contain_text("Carla Reis")
    expect(page.locator("#import-skipped")).to_contain_text("Email: Enter an email address like name@example.com")
    screenshot("client-import-done")
    with clinic.session() as s:
        got = {c.email: c for c in s.exec(select(Client).where(Client.email.is_not(None)))}
    assert (got["zoe.import@example.com"].first_name, got["zoe.import@example.com"].last_name) == ("Zoë", "O'Brien-Núñez")
    assert got["zoe.import@example.com"].phone_e164 == "+12125550101"
    assert str(got["bea.import@example.com"].date_of_birth) == "1988-05-06"

    page.context.clear_cookies()
    owner_session(page, base_url, clinic, desk_email)
    page.goto("/clients/import")
    expect(page.locator("#import-not-found")).to_be_visible(timeout=TIMEOUT)
