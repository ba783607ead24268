"""The JSON API's manage-link routes (issue 15): a booking moved and cancelled by its token,
the same actions as the manage page (scheduling/actions/manage.py), with the API's error
answers: 409 with the nearest free times, 422 next to the field, 404 for a display code."""

from __future__ import annotations


from tests.factories import build_clinic

from tests.test_api import CARD, START, client  # noqa: E402,F401  (the API test client: one fixture)


def _book(client, clinic, start: str = START, email: str = "mia@example.com") -> dict:
    body = {"location_id": clinic.location_id, "service_id": clinic.services["botox"], "start": start,
            "client": {"first_name": "Mia", "last_name": "Wong", "email": email, "phone": "+1 212 555 0199"},
            "payment": dict(CARD)}
    r = client.post(f"/api/v1/{clinic.slug}/bookings", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_a_booking_moves_by_its_token_and_keeps_its_reference(client, engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    booked = _book(client, clinic)
    url = f"/api/v1/{clinic.slug}/bookings/{booked['token']}/reschedule"
    r = client.post(url, json={"start": "2026-07-16T11:00:00-04:00"})
    assert r.status_code == 200, r.text
    assert r.json() == {"reference": booked["reference"], "status": "confirmed", "start": "2026-07-16T11:00:00-04:00",
                        "end": "2026-07-16T11:30:00-04:00",
                        "message": "Your visit is moved to Thu, Jul 16, 2026, 11:00 AM EDT (America/New_York)."}
    status = client.get(f"/api/v1/{clinic.slug}/bookings/{booked['token']}").json()
    assert (status["start"], status["deposit_cents"]) == ("2026-07-16T11:00:00-04:00", 5000)


def test_a_taken_time_is_409_with_alternatives_and_bad_input_is_422(client, engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    mine = _book(client, clinic)
    _book(client, clinic, "2026-07-15T14:00:00-04:00", email="ann@example.com")
    url = f"/api/v1/{clinic.slug}/bookings/{mine['token']}/reschedule"
    taken = client.post(url, json={"start": "2026-07-15T14:00:00-04:00"})
    assert taken.status_code == 409 and taken.json()["error"] == "slot_taken"
    alternatives = [a["start"] for a in taken.json()["alternatives"]]
    assert alternatives and "2026-07-15T14:00:00-04:00" not in alternatives
    assert client.post(url, json={"start": "tomorrow"}).json() == {
        "error": "validation", "fields": {"start": "Use an ISO-8601 time like 2026-07-15T10:00:00-04:00"}}
    assert client.post(url, json={"start": "2026-07-16T11:00:00"}).status_code == 422  # no offset
    code = mine["reference"]
    assert client.post(f"/api/v1/{clinic.slug}/bookings/{code}/reschedule",
                       json={"start": "2026-07-16T11:00:00-04:00"}).status_code == 404


def test_a_booking_is_cancelled_by_its_token_with_a_reason(client, engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    booked = _book(client, clinic)
    url = f"/api/v1/{clinic.slug}/bookings/{booked['token']}/cancel"
    assert client.post(url, json={"reason": "other"}).json() == {
        "error": "validation", "fields": {"note": "Say why the visit is cancelled"}}
    assert client.post(url, json={"reason": "bored"}).json()["fields"] == {"reason": "Choose why the visit is cancelled"}
    r = client.post(url, json={"reason": "illness"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"
    assert r.json()["message"] == "Your visit is cancelled and your deposit of $50.00 is being refunded."
    again = client.post(url, json={"reason": "illness"})
    assert again.status_code == 422 and "request" in again.json()["fields"]
    moved = client.post(f"/api/v1/{clinic.slug}/bookings/{booked['token']}/reschedule",
                        json={"start": "2026-07-16T11:00:00-04:00"})
    assert moved.status_code == 422 and moved.json()["fields"] == {"start": "This visit was cancelled."}
