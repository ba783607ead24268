"""The JSON API v1: paths and shapes outside clients rely on, and its error answers."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from medspa.api import v1
from medspa.api.app import api
from medspa.clock import FixedClock
from medspa.domain.payments.gateway import TestPaymentGateway
from medspa.domain.scheduling.models import Appointment
from tests.conftest import utc
from tests.factories import build_clinic

CARD = {"card_number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}
START = "2026-07-15T10:00:00-04:00"


@pytest.fixture
def client(engine):
    clock = FixedClock(utc(2026, 7, 1, 12))
    api.dependency_overrides[v1.get_db_engine] = lambda: engine
    api.dependency_overrides[v1.get_clock] = lambda: clock
    api.dependency_overrides[v1.get_gateway] = lambda: TestPaymentGateway(engine, clock.now)
    yield TestClient(api)
    api.dependency_overrides.clear()


def booking(clinic, **over):
    body = {"location_id": clinic.location_id, "service_id": clinic.services["botox"], "provider_id": None,
            "start": START, "client": {"first_name": "Mia", "last_name": "Wong", "email": "mia@example.com",
                                       "phone": "+1 212 555 0199"}, "payment": dict(CARD)}
    body.update(over)
    return body


def test_locations_services_availability_shapes(client, engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    locs = client.get(f"/api/v1/{clinic.slug}/locations").json()
    assert [(l["id"], l["name"], l["time_zone"]) for l in locs] == [(clinic.location_id, "Main", "America/New_York")]
    svcs = client.get(f"/api/v1/{clinic.slug}/services", params={"location_id": clinic.location_id}).json()
    botox = next(s for s in svcs if s["id"] == clinic.services["botox"])
    assert {k: botox[k] for k in ("name", "category", "duration_minutes", "price_cents", "deposit_cents", "currency")} == {
        "name": "Botox", "category": "Neuromodulators", "duration_minutes": 30, "price_cents": 35000,
        "deposit_cents": 5000, "currency": "USD"}
    av = client.get(f"/api/v1/{clinic.slug}/availability", params={
        "location_id": clinic.location_id, "service_id": clinic.services["botox"],
        "start_date": "2026-07-15", "end_date": "2026-07-15"}).json()
    assert av["location_id"] == clinic.location_id and av["time_zone"] == "America/New_York"
    assert av["slots"][0] == {"start": "2026-07-15T09:00:00-04:00", "end": "2026-07-15T09:30:00-04:00",
                              "provider_id": clinic.provider_ids[0]}
    assert len(av["slots"]) == 31  # 09:00 .. 16:30 on the 15-minute grid


def test_booking_then_status_by_token(client, engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    r = client.post(f"/api/v1/{clinic.slug}/bookings", json=booking(clinic))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "confirmed" and body["start"] == START and body["deposit_cents"] == 5000
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", body["reference"])
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", body["token"])
    status = client.get(f"/api/v1/{clinic.slug}/bookings/{body['token']}").json()
    assert status["reference"] == body["reference"]
    assert status["service"] == "Botox" and status["provider"] == "Provider 1" and status["status"] == "confirmed"
    assert "mia" not in str(status).lower() and "555" not in str(status)
    # another clinic cannot read it
    other = build_clinic(engine, owner_engine)
    assert client.get(f"/api/v1/{other.slug}/bookings/{body['token']}").status_code == 404
    # the display code is for people and the desk: the anonymous lookup does not take it
    for code in (body["reference"], body["reference"].replace("-", ""), body["reference"].lower()):
        assert client.get(f"/api/v1/{clinic.slug}/bookings/{code}").status_code == 404


def test_booking_errors(client, engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    url = f"/api/v1/{clinic.slug}/bookings"
    declined = client.post(url, json=booking(clinic, payment={**CARD, "card_number": "4000000000000002"}))
    assert declined.status_code == 402 and declined.json() == {
        "error": "card_declined", "message": "Your card was declined.", "decline_code": "generic_decline",
        "held_until": "2026-07-01T08:10:00-04:00"}  # issue 15: the time stays held for another card
    retried = client.post(url, json=booking(clinic))  # the same booking, a good card: that very hold
    assert retried.status_code == 201
    assert client.get(f"/api/v1/{clinic.slug}/bookings/{retried.json()['token']}").json()["status"] == "confirmed"
    with clinic.session() as s:
        assert s.exec(select(Appointment.status)).all() == ["confirmed"]
    bad = client.post(url, json=booking(clinic, client={"first_name": "", "last_name": "W", "email": "x", "phone": "1"}))
    assert bad.status_code == 422 and set(bad.json()["fields"]) == {"first_name", "email", "phone"}
    naive = client.post(url, json=booking(clinic, start="2026-07-15T10:00:00"))
    assert naive.status_code == 422 and "start" in naive.json()["fields"]
    typed = client.post(url, json=booking(clinic, location_id="abc"))
    assert typed.status_code == 422 and typed.json()["error"] == "validation"
    rival = {"first_name": "Ola", "last_name": "Berg", "email": "ola@example.com", "phone": "+12125550111"}
    taken = client.post(url, json=booking(clinic, client=rival))
    assert taken.status_code == 409 and taken.json()["error"] == "slot_taken"
    alts = [a["start"] for a in taken.json()["alternatives"]]
    # botox is 30 min on a 15-min grid: 09:45 and 10:15 would overlap the 10:00 booking
    assert {"2026-07-15T09:30:00-04:00", "2026-07-15T10:30:00-04:00"} <= set(alts)
    assert not {"2026-07-15T09:45:00-04:00", "2026-07-15T10:00:00-04:00", "2026-07-15T10:15:00-04:00"} & set(alts)
    assert client.get("/api/v1/no-such-clinic/locations").status_code == 404
    other = build_clinic(engine, owner_engine)
    cross = client.post(url, json=booking(clinic, location_id=other.location_id))
    assert cross.status_code == 404


def test_cf1_ten_simultaneous_api_requests(client, engine, owner_engine):
    from datetime import time

    clinic = build_clinic(engine, owner_engine, weekly={2: [(time(10), time(10, 30))]})
    url = f"/api/v1/{clinic.slug}/bookings"

    def post(n):
        body = booking(clinic, client={"first_name": f"C{n}", "last_name": "X", "email": f"c{n}@example.com",
                                       "phone": "+12125550100"})
        return client.post(url, json=body).status_code

    with ThreadPoolExecutor(10) as pool:
        codes = sorted(pool.map(post, range(10)))
    assert codes == [201] + [409] * 9


def test_openapi_lists_the_v1_paths(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for p in ("/api/v1/health", "/api/v1/{clinic}/locations", "/api/v1/{clinic}/services",
              "/api/v1/{clinic}/availability", "/api/v1/{clinic}/bookings", "/api/v1/{clinic}/bookings/{token}"):
        assert p in paths


def test_hostile_input_is_a_4xx_never_a_500(client, engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    slug, loc, svc = clinic.slug, clinic.location_id, clinic.services["botox"]
    huge = 2**63
    gets = [
        f"/api/v1/{slug}/services?location_id={huge}",
        f"/api/v1/{slug}/providers?location_id={loc}&service_id={huge}",
        f"/api/v1/{slug}/availability?location_id={loc}&service_id={svc}&start_date=9999-12-30&end_date=9999-12-31",
        f"/api/v1/{slug}/availability?location_id={loc}&service_id={svc}&start_date=0001-01-01&end_date=0001-01-02",
        f"/api/v1/{slug}%00/locations",
        f"/api/v1/{slug}/bookings/AB%00CD",
    ]
    for url in gets:
        r = client.get(url)
        assert 400 <= r.status_code < 500, (url, r.status_code, r.text)
    url = f"/api/v1/{slug}/bookings"
    bodies = [
        booking(clinic, service_id=huge),
        booking(clinic, location_id=True),
        booking(clinic, start="9999-12-31T23:00:00-05:00"),
        booking(clinic, start="0001-01-01T00:00:00+05:00"),
        booking(clinic, start="2025-07-15T10:00:00-04:00"),
        booking(clinic, client={"first_name": "An\u0000n", "last_name": "W", "email": "a@example.com",
                                "phone": "+12125550100"}),
        booking(clinic, payment={**CARD, "exp_year": 10**30}),
    ]
    for body in bodies:
        r = client.post(url, json=body)
        assert r.status_code == 422, (body, r.status_code, r.text)
    with clinic.session() as s:
        from sqlalchemy import text as sql

        assert s.execute(sql("select count(*) from appointment")).scalar() == 0
        assert s.execute(sql("select count(*) from client")).scalar() == 0


def test_same_client_same_time_twice_is_refused(client, engine, owner_engine):
    clinic = build_clinic(engine, owner_engine, providers=2)
    url = f"/api/v1/{clinic.slug}/bookings"
    assert client.post(url, json=booking(clinic)).status_code == 201
    again = client.post(url, json=booking(clinic))  # "anyone": the second provider is free
    assert again.status_code == 422 and again.json()["fields"]["start"] == "You already have a booking at this time"


def test_concurrent_first_bookings_share_one_client_record(client, engine, owner_engine, limits):
    limits(max_open_holds_per_ip=0, max_open_holds_per_client=0)  # six holds of one client at once, on purpose
    clinic = build_clinic(engine, owner_engine)
    url = f"/api/v1/{clinic.slug}/bookings"

    def post(n):
        body = booking(clinic, start=f"2026-07-15T{9 + n:02d}:00:00-04:00",
                       client={"first_name": "Twin", "last_name": "Race", "email": "Twin.Race@Example.com",
                               "phone": "+12125550100"})
        return client.post(url, json=body).status_code

    with ThreadPoolExecutor(6) as pool:
        assert sorted(pool.map(post, range(6))) == [201] * 6
    with clinic.session() as s:
        from sqlalchemy import text as sql

        assert s.execute(sql("select count(*) from client")).scalar() == 1


def test_malformed_requests_keep_the_error_shape(client, engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    url = f"/api/v1/{clinic.slug}/bookings"
    broken = client.post(url, content=b'{"location_id": 1,', headers={"content-type": "application/json"})
    assert broken.status_code == 422 and broken.json() == {
        "error": "validation", "fields": {"request": "The body is not valid JSON"}}
    wrong_method = client.delete(url)
    assert wrong_method.status_code == 405 and wrong_method.json()["error"] == "method_not_allowed"


def test_every_http_route_is_known_and_anonymous_routes_are_clinic_scoped(client):
    """A new route must be added here on purpose: the JSON API acts as role "public" (the
    slug names the clinic); staff routes are only the sign-in/out forms, which set or clear
    the HttpOnly cookie, and the Stripe webhook, which trusts only its verified payload."""
    paths = {(m, p) for p, ops in client.get("/api/v1/openapi.json").json()["paths"].items() for m in ops}
    public_v1 = {("get", "/api/v1/health"), ("get", "/api/v1/{clinic}/locations"),
                 ("get", "/api/v1/{clinic}/services"), ("get", "/api/v1/{clinic}/providers"),
                 ("get", "/api/v1/{clinic}/availability"), ("post", "/api/v1/{clinic}/bookings"),
                 ("get", "/api/v1/{clinic}/bookings/{token}"), ("get", "/api/v1/{clinic}/bookings/{token}/calendar.ics"),
                 ("post", "/api/v1/{clinic}/bookings/{token}/reschedule"),
                 ("post", "/api/v1/{clinic}/bookings/{token}/cancel")}
    v1 = {(m, p) for m, p in paths if p.startswith("/api/v1/")}
    assert v1 == public_v1
    others = {p for _, p in paths - v1}
    assert all(p.startswith(("/auth/", "/api/stripe/", "/media/")) for p in others), others


def test_a_hold_made_through_the_api_lasts_hold_minutes(client, engine, owner_engine, monkeypatch):
    """Issue "One way in": the JSON API honours HOLD_MINUTES like the booking page (the card
    needs 3-D Secure, so the booking stays a hold)."""
    from datetime import timedelta

    from sqlmodel import select

    from medspa.domain.scheduling.models import Appointment
    from medspa.settings import get_settings

    monkeypatch.setenv("HOLD_MINUTES", "7")
    get_settings.cache_clear()
    try:
        clinic = build_clinic(engine, owner_engine)
        r = client.post(f"/api/v1/{clinic.slug}/bookings",
                        json=booking(clinic, payment={**CARD, "card_number": "4000002500003155"}))
        assert r.status_code == 402 and r.json()["error"] == "requires_action"
        with clinic.session() as s:
            held = s.exec(select(Appointment)).one()
        assert (held.status, held.hold_expires_at) == ("held", utc(2026, 7, 1, 12) + timedelta(minutes=7))
    finally:
        get_settings.cache_clear()


CLINIC_OPERATIONS = [("get", "/api/v1/{clinic}/locations"), ("get", "/api/v1/{clinic}/services"),
                     ("get", "/api/v1/{clinic}/providers"), ("get", "/api/v1/{clinic}/availability"),
                     ("post", "/api/v1/{clinic}/bookings"), ("get", "/api/v1/{clinic}/bookings/{token}"),
                     ("get", "/api/v1/{clinic}/bookings/{token}/calendar.ics"),
                     ("post", "/api/v1/{clinic}/bookings/{token}/reschedule"),
                     ("post", "/api/v1/{clinic}/bookings/{token}/cancel")]


def test_every_clinic_route_documents_404_and_the_422_it_really_sends(client, engine, owner_engine):
    """Schemathesis found it: an unknown clinic, location or service is a 404 that the document did
    not list, and its 422 was FastAPI's {"detail": [...]} instead of ours."""
    doc = client.get("/api/v1/openapi.json").json()
    for method, path in CLINIC_OPERATIONS:
        responses = doc["paths"][path][method]["responses"]
        assert responses["404"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ProblemOut"}
        assert responses["422"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ValidationOut"}
    assert doc["components"]["schemas"]["ValidationOut"]["required"] == ["error", "fields"]
    clinic = build_clinic(engine, owner_engine)
    r = client.get(f"/api/v1/{clinic.slug}/services", params={"location_id": 5})
    assert r.status_code == 404 and r.json() == {"error": "not_found", "message": "location not found"}
    assert client.get("/api/v1/no-such-clinic/locations").json()["error"] == "not_found"


def test_a_booking_body_that_is_not_utf8_is_a_documented_400(client, engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    r = client.post(f"/api/v1/{clinic.slug}/bookings", content=b'{"location_id": "\xff"}',
                    headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json() == {"error": "bad_request", "message": "There was an error parsing the body"}
    documented = client.get("/api/v1/openapi.json").json()["paths"]["/api/v1/{clinic}/bookings"]["post"]["responses"]
    assert sorted(documented) == ["201", "400", "402", "404", "409", "413", "422", "429", "503"]


def test_rate_limited_routes_document_429_with_retry_after(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    limited = paths["/api/v1/{clinic}/bookings"]["post"]["responses"]["429"]
    assert limited["headers"]["Retry-After"]["schema"] == {"type": "integer"}
    assert limited["content"]["application/json"]["schema"]["$ref"].endswith("/RateLimitedOut")
    for path in ("/api/v1/{clinic}/locations", "/api/v1/{clinic}/availability"):  # never limited: not documented
        assert "429" not in paths[path]["get"]["responses"]


def test_id_bounds_in_the_document_are_integers_the_server_accepts(client, engine, owner_engine):
    """The body's bounds were floats: maximum 9.223372036854776e+18 is 2**63, which the server refuses."""
    doc = client.get("/api/v1/openapi.json").json()
    body_id = doc["components"]["schemas"]["BookingIn"]["properties"]["location_id"]
    query_id = next(p for p in doc["paths"]["/api/v1/{clinic}/providers"]["get"]["parameters"]
                    if p["name"] == "location_id")["schema"]
    for bounds in (body_id, query_id):
        assert (type(bounds["minimum"]), type(bounds["maximum"])) == (int, int)
        assert (bounds["minimum"], bounds["maximum"]) == (1, v1.ID_MAX) == (1, 2**53 - 1)
    clinic = build_clinic(engine, owner_engine)
    url = f"/api/v1/{clinic.slug}/providers"
    at_bound = client.get(url, params={"location_id": v1.ID_MAX, "service_id": 1})
    assert at_bound.status_code == 404 and at_bound.json()["error"] == "not_found"
    over = client.get(url, params={"location_id": v1.ID_MAX + 1, "service_id": 1})
    assert over.status_code == 422 and "location_id" in over.json()["fields"]
    r = client.post(f"/api/v1/{clinic.slug}/bookings", json=booking(clinic, service_id=v1.ID_MAX))
    assert r.status_code == 404 and r.json()["error"] == "not_found"


def test_a_method_the_path_does_not_have_is_405_with_allow(client, engine, owner_engine):
    """Schemathesis found it (coverage phase): our error handler dropped Starlette's Allow header."""
    clinic = build_clinic(engine, owner_engine)
    for method, path, allowed in (("delete", f"/api/v1/{clinic.slug}/bookings", "POST"),
                                  ("put", f"/api/v1/{clinic.slug}/locations", "GET"),
                                  ("post", "/api/v1/health", "GET")):
        r = client.request(method, path)
        assert r.status_code == 405 and r.json()["error"] == "method_not_allowed", (method, path)
        assert r.headers["allow"] == allowed, (method, path)
