"""Version 1 of the JSON API, mounted at /api/v1 by medspa.api.app.

Anonymous routes name the clinic by slug in the path (`/api/v1/{clinic}/...`); the slug
sets the per-transaction org_id before any tenant query, and every route calls the same
domain services as the pages. Errors have a stable shape:
404 {"error": "not_found"}, 409 {"error": "slot_taken", "alternatives": [...]},
402 {"error": "card_declined", "message"} or {"error": "requires_action", "client_secret"},
422 {"error": "validation", "fields": {name: message}}.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from sqlmodel import Session

from medspa.clock import Clock, app_clock
from medspa.db import get_engine, tenant_session
from medspa.domain.catalog.models import Service
from medspa.domain.catalog.service import list_services
from medspa.domain.clients.service import ClientInput
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor, PermissionDenied
from medspa.domain.payments.gateway import CardDetails, PaymentGateway
from medspa.domain.payments.stripe_gateway import GatewayUnavailable
from medspa.domain.practice.models import Location, StaffMember
from medspa.domain.practice.service import get_location, list_locations, organization_by_slug
from medspa.domain.scheduling.availability import Slot, find_slots
from medspa.domain.scheduling.booking import ActionRequired, CardDeclined, OnlineBooking, book_online
from medspa.domain.scheduling.service import SlotTaken, appointment_by_reference

router = APIRouter(tags=["v1"])

BIGINT_MAX = 2**63 - 1
BodyId = Annotated[int, Field(ge=1, le=BIGINT_MAX, strict=True)]  # strict: true is not 1
QueryId = Annotated[int, Query(ge=1, le=BIGINT_MAX)]


# ---- dependencies (overridable in tests) ----

def get_clock() -> Clock:
    """The clock the API uses (FROZEN_NOW in browser tests; unit tests override it)."""
    return app_clock()


def get_gateway(clock: Clock = Depends(get_clock)) -> PaymentGateway:
    """Stripe when STRIPE_SECRET_KEY is set, else the offline test gateway."""
    from medspa.domain.payments.factory import gateway_for
    from medspa.settings import get_settings

    return gateway_for(get_settings(), get_engine(), clock)


def get_db_engine():
    """The app-role engine (tests override it)."""
    return get_engine()


class Tenant:
    """The clinic named in the path and the anonymous actor for this request."""

    def __init__(self, org_id: int, actor: Actor, engine):
        self.org_id, self.actor, self.engine = org_id, actor, engine

    def session(self):
        return tenant_session(self.org_id, self.engine)


def get_tenant(clinic: str, request: Request, engine=Depends(get_db_engine)) -> Tenant:
    """Resolve /{clinic} to its organisation; unknown slugs are 404."""
    with tenant_session(None, engine) as s:
        org = organization_by_slug(s, clinic)
    ip = request.client.host if request.client else ""
    return Tenant(org.id, Actor.public(org.id, ip=ip, user_agent=request.headers.get("user-agent", "")), engine)


# ---- shapes ----

class LocationOut(BaseModel):
    id: int
    name: str
    time_zone: str
    address: str = ""
    cancellation_window_hours: int


class ServiceOut(BaseModel):
    id: int
    name: str
    category: str
    description: str = ""
    duration_minutes: int
    price_cents: int
    deposit_cents: int
    currency: str


class SlotOut(BaseModel):
    start: str = Field(description="ISO-8601 with the location's UTC offset")
    end: str
    provider_id: int


class AvailabilityOut(BaseModel):
    location_id: int
    time_zone: str
    slots: list[SlotOut]


class ClientIn(BaseModel):
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""


class PaymentIn(BaseModel):
    card_number: str | None = None
    exp_month: int | None = None
    exp_year: int | None = None
    cvc: str | None = None
    payment_method_id: str | None = None


class BookingIn(BaseModel):
    location_id: BodyId
    service_id: BodyId
    provider_id: BodyId | None = None
    start: str = Field(description="ISO-8601 instant with offset, e.g. 2026-07-15T10:00:00-04:00")
    client: ClientIn
    payment: PaymentIn = PaymentIn()


class BookingOut(BaseModel):
    reference: str
    status: str
    start: str
    end: str
    provider_id: int
    deposit_cents: int
    currency: str


class BookingStatusOut(BaseModel):
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


def slot_out(slot: Slot, tz: ZoneInfo) -> dict[str, Any]:
    """A Slot as JSON with instants in the location's offset."""
    return {"start": slot.start.astimezone(tz).isoformat(), "end": slot.end.astimezone(tz).isoformat(),
            "provider_id": slot.provider_id}


def error(status: int, **body: Any) -> JSONResponse:
    return JSONResponse(body, status_code=status)


def _parse_instant(text: str) -> datetime:
    try:
        instant = datetime.fromisoformat(text)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed({"start": "Use an ISO-8601 time like 2026-07-15T10:00:00-04:00"}) from exc
    if instant.tzinfo is None:
        raise ValidationFailed({"start": "Give the time with its UTC offset"})
    return instant


# ---- routes ----

@router.get("/{clinic}/locations", response_model=list[LocationOut])
def locations(tenant: Tenant = Depends(get_tenant)):
    """The clinic's locations with their IANA time zones."""
    with tenant.session() as s:
        return [LocationOut(id=l.id, name=l.name, time_zone=l.time_zone, address=l.address,
                            cancellation_window_hours=l.cancellation_window_hours)
                for l in list_locations(s, tenant.actor)]


@router.get("/{clinic}/services", response_model=list[ServiceOut])
def services(location_id: QueryId | None = None, tenant: Tenant = Depends(get_tenant)):
    """Services bookable online (at location_id when given). Money in integer cents."""
    with tenant.session() as s:
        if location_id is not None:
            get_location(s, location_id)
        rows = list_services(s, tenant.actor, location_id, online_only=True)
        return [ServiceOut(**r.model_dump(include=set(ServiceOut.model_fields))) for r in rows]


@router.get("/{clinic}/providers")
def providers(location_id: QueryId, service_id: QueryId, tenant: Tenant = Depends(get_tenant)):
    """Providers who perform service_id at location_id: [{"id", "display_name", "title"}]."""
    from medspa.domain.catalog.service import get_service, providers_for

    with tenant.session() as s:
        get_location(s, location_id)
        get_service(s, service_id)
        return [{"id": p.id, "display_name": p.display_name, "title": p.title}
                for p in providers_for(s, service_id, location_id)]


@router.get("/{clinic}/availability", response_model=AvailabilityOut)
def availability(location_id: QueryId, service_id: QueryId, start_date: date, end_date: date,
                 provider_id: QueryId | None = None, tenant: Tenant = Depends(get_tenant),
                 clock: Clock = Depends(get_clock)):
    """Bookable slots between two local dates (inclusive), instants with the location's offset."""
    with tenant.session() as s:
        loc = get_location(s, location_id)
        slots = find_slots(s, tenant.actor, location_id=location_id, service_id=service_id, start_date=start_date,
                           end_date=end_date, now=clock.now(), provider_id=provider_id)
    tz = ZoneInfo(loc.time_zone)
    return {"location_id": location_id, "time_zone": loc.time_zone, "slots": [slot_out(sl, tz) for sl in slots]}


@router.post("/{clinic}/bookings", status_code=201, response_model=BookingOut,
             responses={402: {"description": "card_declined or requires_action"},
                        409: {"description": "slot_taken with alternatives"},
                        422: {"description": "validation with fields"}})
def create_booking(body: BookingIn, tenant: Tenant = Depends(get_tenant), clock: Clock = Depends(get_clock),
                   gateway: PaymentGateway = Depends(get_gateway)):
    """Hold the slot, charge the deposit and confirm, in one call."""
    pay = body.payment
    card = None
    if pay.card_number is not None or gateway.name == "test":
        card = CardDetails(pay.card_number or "", pay.exp_month or 0, pay.exp_year or 0, pay.cvc or "")
    req = OnlineBooking(location_id=body.location_id, service_id=body.service_id, provider_id=body.provider_id,
                        start_at=_parse_instant(body.start),
                        client=ClientInput(body.client.first_name, body.client.last_name, body.client.email,
                                           body.client.phone),
                        card=card, payment_method_id=pay.payment_method_id)
    with tenant.session() as s:
        tz = ZoneInfo(get_location(s, body.location_id).time_zone)
    try:
        appt = book_online(tenant.engine, tenant.actor, req, gateway, clock)
    except SlotTaken as exc:
        return error(409, error="slot_taken", message="That time was just taken. Here are the nearest free times.",
                     alternatives=[slot_out(a, tz) for a in exc.alternatives])
    except CardDeclined as exc:
        return error(402, error="card_declined", message=exc.message, decline_code=exc.decline_code)
    except ActionRequired as exc:
        return error(402, error="requires_action", client_secret=exc.client_secret)
    return BookingOut(reference=appt.reference, status=appt.status, start=appt.start_at.astimezone(tz).isoformat(),
                      end=appt.end_at.astimezone(tz).isoformat(), provider_id=appt.provider_id,
                      deposit_cents=appt.deposit_cents, currency=appt.currency)


@router.get("/{clinic}/bookings/{reference}", response_model=BookingStatusOut)
def booking_status(reference: str, tenant: Tenant = Depends(get_tenant)):
    """A booking by its unguessable reference: no contact or health data."""
    with tenant.session() as s:
        appt = appointment_by_reference(s, reference)
        svc = s.get(Service, appt.service_id)
        loc = s.get(Location, appt.location_id)
        provider = s.get(StaffMember, appt.provider_id)
    tz = ZoneInfo(loc.time_zone)
    return BookingStatusOut(reference=appt.reference, status=appt.status, service=svc.name,
                            start=appt.start_at.astimezone(tz).isoformat(), end=appt.end_at.astimezone(tz).isoformat(),
                            time_zone=loc.time_zone, location=loc.name, provider=provider.display_name,
                            deposit_cents=appt.deposit_cents, currency=appt.currency)


def install_error_handlers(app: FastAPI) -> None:
    """Map domain errors to the API's error shapes (called once by medspa.api.app)."""

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound):  # noqa: ARG001
        return error(404, error="not_found", message=f"{exc} not found")

    @app.exception_handler(PermissionDenied)
    async def _forbidden(request: Request, exc: PermissionDenied):  # noqa: ARG001
        return error(404, error="not_found", message="not found")  # missing and forbidden look alike

    @app.exception_handler(GatewayUnavailable)
    async def _gateway_down(request: Request, exc: GatewayUnavailable):  # noqa: ARG001
        # the hold stays; a retry reuses the same idempotency key, so nothing is charged twice
        return error(503, error="gateway_unavailable", message=str(exc) or "Payments are unavailable; try again.")

    @app.exception_handler(ValidationFailed)
    async def _invalid(request: Request, exc: ValidationFailed):  # noqa: ARG001
        return error(422, error="validation", fields=exc.fields)

    @app.exception_handler(DataError)
    async def _data_error(request: Request, exc: DataError):  # noqa: ARG001
        # a value PostgreSQL cannot store (NUL byte, out-of-range number or date): the caller's input
        return error(422, error="validation", fields={"request": "A value is out of range or has invalid characters"})

    @app.exception_handler(OverflowError)
    async def _overflow(request: Request, exc: OverflowError):  # noqa: ARG001
        return error(422, error="validation", fields={"request": "A date or number is out of range"})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):  # noqa: ARG001
        # 404 unknown path, 405 wrong method, 400 unparsable body: the same JSON shape as ours
        names = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}
        return error(exc.status_code, error=names.get(exc.status_code, "http_error"), message=str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError):  # noqa: ARG001
        fields = {}
        for err in exc.errors():
            if err.get("type") == "json_invalid":
                fields["request"] = "The body is not valid JSON"
                continue
            loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
            fields[".".join(loc) or "request"] = err.get("msg", "invalid")
        return error(422, error="validation", fields=fields)
