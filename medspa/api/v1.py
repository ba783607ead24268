"""Version 1 of the JSON API, mounted at /api/v1 by medspa.api.app.

Anonymous routes name the clinic by slug in the path (`/api/v1/{clinic}/...`); the slug
sets the per-transaction org_id before any tenant query, and every route calls ONE action
of medspa.domain.scheduling.actions.online, the same actions as the booking page. Errors have a
stable shape, listed per route in the OpenAPI document (medspa/api/errors.py): e.g.
404 {"error": "not_found", "message"}, 422 {"error": "validation", "fields": {name: message}}.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from medspa.web.client_ip import client_ip
from medspa.api.errors import BOOKING_ERRORS, INVALID, NOT_FOUND, RATE_LIMITED, SlotOut, error
from medspa.clock import Clock, app_clock
from medspa.domain.clients.service import ClientInput
from medspa.domain.errors import ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.payments.gateway import CardDetails, PaymentGateway
from medspa.domain.scheduling.availability import Slot
from medspa.domain.scheduling.booking import ActionRequired, CardDeclined, OnlineBooking
from medspa.domain.portal.service import PortalUnavailable
from medspa.domain.scheduling.actions.manage import do_cancel_by_token, do_reschedule_by_token
from medspa.domain.scheduling.reschedule import MoveRefused
from medspa.domain.scheduling.service import InvalidTransition
from medspa.domain.scheduling.actions.online import (
    fetch_booking_calendar,
    fetch_clinic_availability,
    ClinicInfo,
    SlotTakenAt,
    do_book_online,
    fetch_booking,
    fetch_clinic,
    fetch_providers,
    fetch_services,
    public_actor,
)

router = APIRouter(tags=["v1"])

# Ids are PostgreSQL bigints, but the bound is 2**53 - 1: FastAPI's OpenAPI model keeps
# minimum/maximum as floats, and 2**63 - 1 would print as 2**63, a value the server refuses;
# 2**53 - 1 is exact as a float and as a JavaScript number, and no sequence here comes near it.
ID_MAX = 2**53 - 1
BodyId = Annotated[int, Field(ge=1, le=ID_MAX, strict=True)]  # strict: true is not 1
QueryId = Annotated[int, Query(ge=1, le=ID_MAX)]


# ---- dependencies (overridable in tests) ----

def get_clock() -> Clock:
    """The clock the API uses (FROZEN_NOW in browser tests; unit tests override it)."""
    return app_clock()


def get_gateway() -> PaymentGateway | None:
    """The gateway to charge through: None, i.e. the action picks this deployment's (Stripe
    when STRIPE_SECRET_KEY is set, else the offline test gateway); tests override it."""
    return None


def get_db_engine():
    """The engine the actions use: None, i.e. the app-role engine (tests override it)."""
    return None


class Tenant:
    """The clinic named in the path, the anonymous actor for this request, and the engine
    the actions use (None: the app-role engine)."""

    def __init__(self, clinic: ClinicInfo, actor: Actor, engine):
        self.clinic, self.org_id, self.actor, self.engine = clinic, clinic.org_id, actor, engine


def get_tenant(clinic: str, request: Request, engine=Depends(get_db_engine)) -> Tenant:
    """Resolve /{clinic} to its organisation; unknown slugs are 404."""
    ip = client_ip(request.client.host if request.client else "", request.headers)
    user_agent = request.headers.get("user-agent", "")
    info = fetch_clinic(clinic, ip=ip, user_agent=user_agent, engine=engine)
    return Tenant(info, public_actor(info.org_id, ip, user_agent), engine)


# ---- shapes ----

class LocationOut(BaseModel):
    """Response item of GET /{clinic}/locations: a location, its IANA time zone, its cancellation
    window in hours, whether a cancellation inside it keeps the deposit (false: refunded however
    late) and that rule in one sentence."""

    id: int
    name: str
    time_zone: str
    address: str = ""
    cancellation_window_hours: int
    late_cancel_keeps_deposit: bool = True
    cancellation_policy: str = ""


class ServiceOut(BaseModel):
    """Response item of GET /{clinic}/services: a service bookable online; duration in minutes, money in cents."""

    id: int
    name: str
    category: str
    description: str = ""
    duration_minutes: int
    price_cents: int
    deposit_cents: int
    currency: str


class ProviderOut(BaseModel):
    """Response item of GET /{clinic}/providers: a provider who performs the service at the location."""

    id: int
    display_name: str
    title: str


class AvailabilityOut(BaseModel):
    """Response of GET /{clinic}/availability: the location's time zone and its free slots."""

    location_id: int
    time_zone: str
    slots: list[SlotOut]


class ClientIn(BaseModel):
    """The client's name, email and phone in a booking request."""

    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""


class PaymentIn(BaseModel):
    """How to pay the deposit: raw test-card fields for the offline gateway, or a Stripe payment_method_id."""

    card_number: str | None = None
    exp_month: int | None = None
    exp_year: int | None = None
    cvc: str | None = None
    payment_method_id: str | None = None


class BookingIn(BaseModel):
    """Request body of POST /{clinic}/bookings: location, service, provider (optional), start, client, payment."""

    location_id: BodyId
    service_id: BodyId
    provider_id: BodyId | None = None
    start: str = Field(description="ISO-8601 instant with offset, e.g. 2026-07-15T10:00:00-04:00")
    client: ClientIn
    payment: PaymentIn = PaymentIn()


class BookingOut(BaseModel):
    """Response of POST /{clinic}/bookings: reference (the display code people read, "K7M2-Q9XD"),
    token (keep it: the only key of GET /{clinic}/bookings/{token}), status, start and end with
    offset, provider, deposit in cents."""

    reference: str = Field(description="Display code shown to people, e.g. K7M2-Q9XD (not accepted by the lookup)")
    token: str = Field(description="Unguessable booking token for GET /{clinic}/bookings/{token}")
    status: str
    start: str
    end: str
    provider_id: int
    deposit_cents: int
    currency: str
    cancellation_policy: str = Field("", description="The visit's cancellation / no-show terms, fees included")


class BookingStatusOut(BaseModel):
    """Response of GET /{clinic}/bookings/{token}: the visit without contact or health data
    (reference: its display code); deposit in cents."""

    reference: str
    status: str
    service: str
    start: str
    end: str
    time_zone: str
    location: str
    provider: str
    deposit_cents: int
    currency: str
    cancellation_policy: str = Field("", description="The visit's cancellation / no-show terms, fees included")


def slot_out(slot: Slot, tz: ZoneInfo) -> dict[str, Any]:
    """A Slot as JSON with instants in the location's offset."""
    return {"start": slot.start.astimezone(tz).isoformat(), "end": slot.end.astimezone(tz).isoformat(),
            "provider_id": slot.provider_id}


def _zone_of(tenant: Tenant, location_id: int) -> ZoneInfo:
    """The zone of one of the clinic's locations (UTC for an id it does not have)."""
    zone = next((loc.time_zone for loc in tenant.clinic.locations if loc.id == location_id), "UTC")
    return ZoneInfo(zone)


def _parse_instant(text: str) -> datetime:
    try:
        instant = datetime.fromisoformat(text)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed({"start": "Use an ISO-8601 time like 2026-07-15T10:00:00-04:00"}) from exc
    if instant.tzinfo is None:
        raise ValidationFailed({"start": "Give the time with its UTC offset"})
    return instant


# ---- routes ----

@router.get("/{clinic}/locations", response_model=list[LocationOut], responses={**NOT_FOUND, **INVALID})
def locations(tenant: Tenant = Depends(get_tenant)):
    """The clinic's locations with their IANA time zones."""
    return [LocationOut(id=l.id, name=l.name, time_zone=l.time_zone, address=l.address,
                        cancellation_window_hours=l.cancellation_window_hours,
                        late_cancel_keeps_deposit=l.late_cancel_keeps_deposit, cancellation_policy=l.policy)
            for l in tenant.clinic.locations]


@router.get("/{clinic}/services", response_model=list[ServiceOut], responses={**NOT_FOUND, **INVALID})
def services(location_id: QueryId | None = None, tenant: Tenant = Depends(get_tenant)):
    """Services bookable online (at location_id when given). Money in integer cents."""
    rows = fetch_services(tenant.actor, location_id, engine=tenant.engine)
    return [ServiceOut(id=r.id, name=r.name, category=r.category, description=r.description,
                       duration_minutes=r.duration_minutes, price_cents=r.price_cents,
                       deposit_cents=r.deposit_cents, currency=r.currency) for r in rows]


@router.get("/{clinic}/providers", response_model=list[ProviderOut], responses={**NOT_FOUND, **INVALID})
def providers(location_id: QueryId, service_id: QueryId, tenant: Tenant = Depends(get_tenant)):
    """Providers who perform service_id at location_id."""
    return [ProviderOut(id=p.id, display_name=p.display_name, title=p.title)
            for p in fetch_providers(tenant.actor, location_id, service_id, engine=tenant.engine)]


@router.get("/{clinic}/availability", response_model=AvailabilityOut,
            responses={**NOT_FOUND, **INVALID})
def availability(clinic: str, location_id: QueryId, service_id: QueryId, start_date: date, end_date: date,
                 request: Request, provider_id: QueryId | None = None, engine=Depends(get_db_engine),
                 clock: Clock = Depends(get_clock)):
    """Bookable slots between two local dates (inclusive), instants with the location's offset."""
    ip = client_ip(request.client.host if request.client else "", request.headers)
    found = fetch_clinic_availability(clinic, location_id, service_id, start_date, end_date, provider_id,
                                      ip=ip, user_agent=request.headers.get("user-agent", ""), clock=clock,
                                      engine=engine)
    return Response(availability_json(location_id, found.location.time_zone, found.slots),
                    media_type="application/json")


_ENCODED: OrderedDict[tuple[int, int, str], tuple[tuple[Slot, ...], bytes]] = OrderedDict()
_ENCODED_LOCK = threading.Lock()
ENCODED_MAX = 512


def availability_json(location_id: int, time_zone: str, slots: tuple[Slot, ...]) -> bytes:
    """The AvailabilityOut document as UTF-8 JSON, written directly: the same document as
    validating AvailabilityOut and encoding it, without building a model per slot (a week
    has hundreds). Instants in the location's offset (slot_out). The same tuple object
    (a cached answer: scheduling.availability_cache) is encoded once: the memo holds the
    tuple itself, so its id cannot be reused while the entry lives."""
    key = (id(slots), location_id, time_zone)
    with _ENCODED_LOCK:
        memo = _ENCODED.get(key)
        if memo is not None and memo[0] is slots:
            _ENCODED.move_to_end(key)
            return memo[1]
    tz = ZoneInfo(time_zone)
    body = json.dumps({"location_id": location_id, "time_zone": time_zone,
                       "slots": [slot_out(sl, tz) for sl in slots]},
                      ensure_ascii=False, separators=(",", ":")).encode()
    with _ENCODED_LOCK:
        _ENCODED[key] = (slots, body)
        while len(_ENCODED) > ENCODED_MAX:
            _ENCODED.popitem(last=False)
    return body


@router.post("/{clinic}/bookings", status_code=201, response_model=BookingOut,
             responses={**BOOKING_ERRORS, **NOT_FOUND, **INVALID, **RATE_LIMITED})
def create_booking(body: BookingIn, tenant: Tenant = Depends(get_tenant), clock: Clock = Depends(get_clock),
                   gateway: PaymentGateway | None = Depends(get_gateway)):
    """Hold the slot, charge the deposit and confirm, in one call (the booking page's action)."""
    pay = body.payment
    card = None
    if pay.card_number is not None:
        card = CardDetails(pay.card_number, pay.exp_month or 0, pay.exp_year or 0, pay.cvc or "")
    req = OnlineBooking(location_id=body.location_id, service_id=body.service_id, provider_id=body.provider_id,
                        start_at=_parse_instant(body.start),
                        client=ClientInput(body.client.first_name, body.client.last_name, body.client.email,
                                           body.client.phone),
                        card=card, payment_method_id=pay.payment_method_id)
    try:
        visit = do_book_online(tenant.actor, req, clock=clock, engine=tenant.engine, gateway=gateway)
    except SlotTakenAt as exc:
        tz = ZoneInfo(exc.time_zone)
        return error(409, error="slot_taken", message="That time was just taken. Here are the nearest free times.",
                     alternatives=[slot_out(a, tz) for a in exc.alternatives])
    except CardDeclined as exc:
        until = exc.held_until
        return error(402, error="card_declined", message=exc.message, decline_code=exc.decline_code,
                     held_until=until.astimezone(_zone_of(tenant, body.location_id)).isoformat() if until else None)
    except ActionRequired as exc:
        return error(402, error="requires_action", client_secret=exc.client_secret)
    tz = ZoneInfo(visit.time_zone)
    return BookingOut(reference=visit.reference, token=visit.token, status=visit.status,
                      start=visit.start_at.astimezone(tz).isoformat(),
                      end=visit.end_at.astimezone(tz).isoformat(), provider_id=visit.provider_id,
                      deposit_cents=visit.deposit_cents, currency=visit.currency,
                      cancellation_policy=visit.policy)


@router.get("/{clinic}/bookings/{token}", response_model=BookingStatusOut,
            responses={**NOT_FOUND, **INVALID})
def booking_status(token: str, tenant: Tenant = Depends(get_tenant)):
    """A booking by its unguessable token (from the POST answer or the manage link): no contact
    or health data. A display code gets 404 like an unknown token: the short code is for people
    and the desk, and is not secret enough to open a booking anonymously."""
    visit = fetch_booking(tenant.actor, token, engine=tenant.engine)
    tz = ZoneInfo(visit.time_zone)
    return BookingStatusOut(reference=visit.reference, status=visit.status, service=visit.service,
                            start=visit.start_at.astimezone(tz).isoformat(), end=visit.end_at.astimezone(tz).isoformat(),
                            time_zone=visit.time_zone, location=visit.location, provider=visit.provider,
                            deposit_cents=visit.deposit_cents, currency=visit.currency,
                            cancellation_policy=visit.policy)


@router.get("/{clinic}/bookings/{token}/calendar.ics", response_class=Response,
            responses={200: {"content": {"text/calendar": {}},
                             "description": "The visit as an iCalendar file (RFC 5545)"}, **NOT_FOUND, **INVALID})
def booking_calendar(token: str, tenant: Tenant = Depends(get_tenant)):
    """"Add to calendar": the booking as an .ics download, by its unguessable token (the
    confirmation page's link); the same event as the confirmation email's invite.ics. No client
    or health data. A display code, a hold, or a cancelled visit is 404."""
    filename, content = fetch_booking_calendar(tenant.actor, token, engine=tenant.engine)
    return Response(content, media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "private, no-store"})

class RescheduleIn(BaseModel):
    """Request body of POST /{clinic}/bookings/{token}/reschedule: the new start, one of the free
    times GET /{clinic}/availability offers for the booking's service and provider."""

    start: str = Field(max_length=64, description="ISO-8601 instant with offset, e.g. 2026-07-16T11:00:00-04:00")


class CancelIn(BaseModel):
    """Request body of POST /{clinic}/bookings/{token}/cancel: why (client_request, illness,
    clinic, weather or other) and a note (required for other)."""

    reason: str = Field(max_length=20, description="client_request, illness, clinic, weather or other")
    note: str = Field("", max_length=500, description="Free text; required when reason is other")


class ChangedOut(BaseModel):
    """Response of a change through the manage link: the booking as it is now (start and end
    with the location's offset) and what happened in words (the deposit's fate included)."""

    reference: str
    status: str
    start: str
    end: str
    message: str


def _changed(tenant: Tenant, token: str, message: str) -> ChangedOut:
    visit = fetch_booking(tenant.actor, token, engine=tenant.engine)
    tz = ZoneInfo(visit.time_zone)
    return ChangedOut(reference=visit.reference, status=visit.status, start=visit.start_at.astimezone(tz).isoformat(),
                      end=visit.end_at.astimezone(tz).isoformat(), message=message)


@router.post("/{clinic}/bookings/{token}/reschedule", response_model=ChangedOut,
             responses={code: BOOKING_ERRORS[code] for code in (400, 409, 413, 503)} | {**NOT_FOUND, **INVALID,
                                                                                       **RATE_LIMITED})
def reschedule_booking(token: str, body: RescheduleIn, tenant: Tenant = Depends(get_tenant),
                       clock: Clock = Depends(get_clock), gateway: PaymentGateway | None = Depends(get_gateway)):
    """Move a booking to another free time, by its unguessable token (what the manage page
    does): the same service and provider, the location's policy applied (a late move is free
    once; after that, or where the location says so, it counts as a late cancellation and the
    token follows the new visit). The deposit moves with the visit. 409 with the nearest free
    times when the time is not free."""
    start = _parse_instant(body.start)
    try:
        done = do_reschedule_by_token(tenant.actor, token, start, clock=clock, engine=tenant.engine, gateway=gateway)
    except MoveRefused as exc:
        tz = ZoneInfo(fetch_booking(tenant.actor, token, engine=tenant.engine).time_zone)
        return error(409, error="slot_taken", message=exc.reason, alternatives=[slot_out(a, tz) for a in exc.alternatives])
    except InvalidTransition as exc:
        raise ValidationFailed({"start": str(exc)}) from exc
    return _changed(tenant, token, done.message)


@router.post("/{clinic}/bookings/{token}/cancel", response_model=ChangedOut,
             responses={code: BOOKING_ERRORS[code] for code in (400, 413, 503)} | {**NOT_FOUND, **INVALID,
                                                                                  **RATE_LIMITED})
def cancel_booking(token: str, body: CancelIn, tenant: Tenant = Depends(get_tenant),
                   clock: Clock = Depends(get_clock), gateway: PaymentGateway | None = Depends(get_gateway)):
    """Cancel a booking by its unguessable token with a reason, under the location's policy
    (the deposit refunded, or kept inside the window where the location keeps it); the message
    says which. 422 when it can no longer be cancelled online."""
    try:
        message = do_cancel_by_token(tenant.actor, token, body.reason, body.note, clock=clock, engine=tenant.engine,
                                     gateway=gateway)
    except PortalUnavailable as exc:
        raise ValidationFailed({"request": str(exc)}) from exc
    return _changed(tenant, token, message)
