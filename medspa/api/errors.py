"""The JSON API's error answers: their shapes (for the OpenAPI document), `error()`, and the
handlers that turn domain and HTTP errors into them (installed once by medspa.api.app).

Every error is a JSON object with a stable machine code in "error":

| status | "error" | other keys |
| --- | --- | --- |
| 400 | bad_request (a body that is not UTF-8 or cannot be parsed) | message |
| 402 | card_declined / requires_action | message, decline_code, held_until / client_secret |
| 404 | not_found (unknown clinic, location, service, provider, booking; also forbidden) | message |
| 409 | slot_taken | message, alternatives: [slot] |
| 413 | too_large (over medspa.api.security.BODY_LIMIT) | message |
| 422 | validation | fields: {name: message} ("request" for the request as a whole) |
| 429 | rate_limited, with a Retry-After header (seconds) | message |
| 503 | gateway_unavailable (payments), or the health check's {"status": "error"} | message |
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import PermissionDenied
from medspa.domain.payments.stripe_gateway import GatewayUnavailable
from medspa.domain.ratelimits import RateLimited
from medspa.domain.scheduling.actions.online import UnstorableValue


class ProblemOut(BaseModel):
    """An error with a machine code and a sentence for people (400, 404, 413, 429, 503)."""

    error: str = Field(description="bad_request, not_found, too_large, rate_limited or gateway_unavailable")
    message: str


class RateLimitedOut(BaseModel):
    """429: too many requests of one kind from this network or for this email, or too many
    slots held at once (medspa.domain.ratelimits); retry_after repeats the Retry-After header."""

    error: Literal["rate_limited"]
    message: str
    retry_after: int = Field(description="Seconds to wait before trying again")


class ValidationOut(BaseModel):
    """422: the fields that are wrong, each with a message ("request": the request as a whole)."""

    error: Literal["validation"]
    fields: dict[str, str]


class SlotOut(BaseModel):
    """One bookable slot: start and end as ISO-8601 instants with the location's offset, and the provider
    (GET availability; a 409's alternatives)."""

    start: str = Field(description="ISO-8601 with the location's UTC offset")
    end: str
    provider_id: int


class SlotTakenOut(BaseModel):
    """409: the time was taken meanwhile; the nearest free times instead."""

    error: Literal["slot_taken"]
    message: str
    alternatives: list[SlotOut]


class PaymentProblemOut(BaseModel):
    """402: card_declined (message, decline_code; held_until: the time stays held for the same
    client until then, in the clinic's zone with its offset: POST the same booking with another
    card before it; null when it ran out) or requires_action (client_secret for 3-D Secure;
    the hold stays)."""

    error: Literal["card_declined", "requires_action"]
    message: str | None = None
    decline_code: str | None = None
    held_until: str | None = None
    client_secret: str | None = None


def _doc(description: str, model: type[BaseModel], headers: dict[str, Any] | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"description": description, "model": model}
    if headers:
        entry["headers"] = headers
    return entry


RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}}}

NOT_FOUND = {404: _doc("not_found: unknown clinic, location, service, provider or booking", ProblemOut)}
INVALID = {422: _doc("validation: the wrong fields, each with a message", ValidationOut)}
RATE_LIMITED = {429: _doc("rate_limited: too many bookings from this network or for this email, or too many "
                          "slots held at once while paying; see Retry-After", RateLimitedOut, RETRY_AFTER)}
BOOKING_ERRORS = {
    400: _doc("bad_request: the body is not UTF-8 or cannot be parsed", ProblemOut),
    402: _doc("card_declined (the time stays held until held_until for another card), or requires_action "
              "(3-D Secure; the hold stays)", PaymentProblemOut),
    409: _doc("slot_taken, with the nearest free times", SlotTakenOut),
    413: _doc("too_large: the body is over 1 MB", ProblemOut),
    503: _doc("gateway_unavailable: payments cannot be reached; retrying charges nothing twice", ProblemOut),
}


def error(status: int, **body: Any) -> JSONResponse:
    """A JSON error response: `body` as the object (e.g. error="not_found") with HTTP `status`."""
    return JSONResponse(body, status_code=status)


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

    @app.exception_handler(RateLimited)
    async def _limited(request: Request, exc: RateLimited):  # noqa: ARG001
        response = error(429, error="rate_limited", message=exc.message, retry_after=exc.retry_after)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(ValidationFailed)
    async def _invalid(request: Request, exc: ValidationFailed):  # noqa: ARG001
        return error(422, error="validation", fields=exc.fields)

    @app.exception_handler(UnstorableValue)
    async def _data_error(request: Request, exc: UnstorableValue):  # noqa: ARG001
        # a value PostgreSQL cannot store (NUL byte, out-of-range number or date): the caller's input
        return error(422, error="validation", fields={"request": "A value is out of range or has invalid characters"})

    @app.exception_handler(OverflowError)
    async def _overflow(request: Request, exc: OverflowError):  # noqa: ARG001
        return error(422, error="validation", fields={"request": "A date or number is out of range"})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):  # noqa: ARG001
        # 404 unknown path, 405 wrong method, 400 unparsable body: the same JSON shape as ours
        # (its headers kept: a 405 must say which methods the path allows, RFC 9110 Allow)
        names = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}
        return JSONResponse({"error": names.get(exc.status_code, "http_error"), "message": str(exc.detail)},
                            status_code=exc.status_code, headers=exc.headers)

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
