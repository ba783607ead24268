"""The landing page renders, its websocket connects, and the health route answers."""

from __future__ import annotations

from playwright.sync_api import expect


def test_landing_page(page, screenshot, app_urls):
    from sqlalchemy import create_engine

    from medspa.db import to_sqlalchemy_url
    from tests.factories import build_clinic

    from sqlalchemy import text

    engines = [create_engine(to_sqlalchemy_url(u)) for u in app_urls]
    listed, hidden = build_clinic(*engines), build_clinic(*engines)
    with engines[1].begin() as conn:  # only clinics that chose to be listed appear, by name
        conn.execute(text("update organization set listed = true, name = 'Aaa Listed Clinic' where id = :id"),
                     {"id": listed.org_id})
    first_slug = listed.slug
    frames: list[str] = []

    def watch(ws) -> None:  # noqa: ANN001
        if "/_event" in ws.url:
            ws.on("framereceived", lambda payload: frames.append(str(payload)[:80]))

    page.on("websocket", watch)
    page.goto("/")
    expect(page.get_by_role("heading", name="The med spa, running live")).to_be_visible()
    expect(page.locator(f".clinic-link[href='/book/{first_slug}']").first).to_be_visible()
    assert page.locator(f".clinic-link[href='/book/{hidden.slug}']").count() == 0
    assert 1 <= page.locator(".clinic-link").count() <= 24
    expect(page.get_by_role("link", name="Staff sign in").first).to_have_attribute("href", "/login")
    # the state websocket on the same origin is accepted (CORS) and talks
    for _ in range(150):
        if frames:
            break
        page.wait_for_timeout(100)
    assert frames, "no frame from the /_event websocket"
    assert page.title().startswith("medspa")
    path = screenshot("home")
    assert path.stat().st_size > 10_000


def test_health_and_openapi(page):
    health = page.request.get("/api/v1/health")
    assert health.status == 200
    assert health.json() == {"status": "ok", "database": "ok"}
    spec = page.request.get("/api/v1/openapi.json")
    assert spec.ok
    assert "/api/v1/health" in spec.json()["paths"]
    assert page.request.get("/api/v1/docs").ok


def test_the_api_docs_render_from_this_app_under_its_csp(page, screenshot):
    """Found in a new-user pass: /api/v1/docs was a blank page (Swagger UI from a CDN, started
    by an inline script: neither reachable offline nor allowed by the CSP)."""
    blocked: list[str] = []
    page.on("console", lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.goto("/api/v1/docs")
    page.locator(".swagger-ui .info .title").filter(has_text="medspa API").wait_for(timeout=30_000)
    page.locator(".opblock-summary-path", has_text="/api/v1/{clinic}/bookings").first.wait_for()
    assert blocked == []
    screenshot("api-docs")
