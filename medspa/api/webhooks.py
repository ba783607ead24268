"""Webhooks: POST /api/stripe/webhook (Stripe's payment events), POST
/api/v1/webhooks/twilio/status (Twilio's SMS status callbacks) and POST
/api/v1/webhooks/twilio/inbound (texts clients send to a clinic's number: STOP / START / HELP,
others flagged for the desk).

Include with `api.include_router(webhooks.router)` (no prefix: the paths are absolute). The
handlers are plain `def`s, so FastAPI runs them in its thread pool (the database calls
block). Each calls ONE action: medspa.domain.payments.actions.do_apply_stripe_event,
medspa.domain.messaging.actions.do_apply_twilio_status,
medspa.domain.messaging.inbound_actions.do_receive_twilio_sms. Dependencies (engine, settings,
clock) are functions below so tests can override them with `app.dependency_overrides`.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from medspa.clock import Clock, app_clock
from medspa.domain.messaging.actions import InvalidTwilioRequest, SmsNotConfigured, do_apply_twilio_status
from medspa.domain.messaging.inbound_actions import do_receive_twilio_sms
from medspa.domain.messaging.twilio import INBOUND_PATH, STATUS_CALLBACK_PATH
from medspa.domain.payments.actions import StripeNotConfigured, do_apply_stripe_event
from medspa.domain.payments.stripe_gateway import GatewayUnavailable
from medspa.domain.payments.webhooks import InvalidWebhook, WebhookNotReady
from medspa.settings import Settings, get_settings

log = logging.getLogger(__name__)

router = APIRouter(tags=["webhooks"])

WEBHOOK_PATH = "/api/stripe/webhook"


def webhook_settings() -> Settings:
    """The process settings (stripe_webhook_secret, stripe_secret_key, stripe_api_base)."""
    return get_settings()


def webhook_engine():
    """The database engine the action uses: None, the app-role engine (tests override it)."""
    return None


def webhook_clock() -> Clock:
    """The app's clock (FROZEN_NOW when set): the signature's age check and recorded instants."""
    return app_clock()


async def _raw_body(request: Request) -> bytes:
    return await request.body()


TWILIO_BODY_LIMIT = 64 * 1024  # a status callback is well under 2 KB


async def _small_body(request: Request) -> bytes | None:
    """The request body, or None when it is over TWILIO_BODY_LIMIT (by Content-Length, or while
    reading it): nothing larger is parsed or hashed."""
    try:
        declared = int(request.headers.get("content-length", "0") or 0)
    except ValueError:
        declared = 0
    if declared > TWILIO_BODY_LIMIT:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > TWILIO_BODY_LIMIT:
            return None
    return bytes(body)


@router.post(WEBHOOK_PATH, include_in_schema=False)
def stripe_webhook(request: Request, body: bytes = Depends(_raw_body),
                   settings: Settings = Depends(webhook_settings), engine=Depends(webhook_engine),
                   clock: Clock = Depends(webhook_clock)) -> JSONResponse:
    """Verify and apply one Stripe event.

    200 {"received": true, "result": "confirmed" | "voided" | "declined" | "ignored" | "duplicate" | ...};
    400 {"received": false, "error": reason} for a bad signature or payload (nothing written);
    409 when the event names a payment not recorded yet (Stripe retries later);
    503 when Stripe is not configured or the gateway is unreachable (Stripe retries).
    """
    try:
        result = do_apply_stripe_event(body, request.headers.get("stripe-signature"), settings=settings,
                                       clock=clock, engine=engine)
    except StripeNotConfigured:
        return JSONResponse({"received": False, "error": "Stripe is not configured"}, status_code=503)
    except InvalidWebhook as exc:
        log.warning("stripe webhook rejected: %s", exc.reason)
        return JSONResponse({"received": False, "error": exc.reason}, status_code=400)
    except WebhookNotReady as exc:
        return JSONResponse({"received": False, "error": str(exc)}, status_code=409)
    except GatewayUnavailable as exc:
        log.warning("stripe webhook: refund could not reach Stripe: %s", exc.cause)
        return JSONResponse({"received": False, "error": exc.message}, status_code=503)
    return JSONResponse({"received": True, "result": result})


@router.post(STATUS_CALLBACK_PATH, include_in_schema=False)
def twilio_status(request: Request, body: bytes | None = Depends(_small_body),
                  settings: Settings = Depends(webhook_settings),
                  engine=Depends(webhook_engine), clock: Clock = Depends(webhook_clock)) -> JSONResponse:
    """Verify and apply one Twilio status callback of an outbox SMS (form-encoded POST).

    200 {"received": true, "result": "sent" | "delivered" | "failed" | "unchanged" | "ignored"}
    (an unknown Message SID is "ignored" with a 200: Twilio would otherwise retry);
    403 for a missing or wrong X-Twilio-Signature (nothing read or written);
    400 for a body that is not UTF-8; 413 for a body over TWILIO_BODY_LIMIT (64 KB, before any
    parsing or hashing); 503 when Twilio is not configured.
    """
    if body is None:
        return JSONResponse({"received": False, "error": "body too large"}, status_code=413)
    query = request.scope.get("query_string", b"").decode("latin-1")
    try:
        params = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        return JSONResponse({"received": False, "error": "body is not UTF-8"}, status_code=400)
    path_and_query = STATUS_CALLBACK_PATH + (f"?{query}" if query else "")
    try:
        result = do_apply_twilio_status(path_and_query, params, request.headers.get("x-twilio-signature"),
                                        settings=settings, clock=clock, engine=engine)
    except SmsNotConfigured:
        return JSONResponse({"received": False, "error": "Twilio is not configured"}, status_code=503)
    except InvalidTwilioRequest as exc:
        log.warning("twilio status callback rejected: %s", exc)
        return JSONResponse({"received": False, "error": "invalid signature"}, status_code=403)
    return JSONResponse({"received": True, "result": result})


EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def _twiml(status_code: int = 200) -> Response:
    return Response(EMPTY_TWIML, status_code=status_code, media_type="text/xml")


@router.post(INBOUND_PATH, include_in_schema=False)
def twilio_inbound(request: Request, body: bytes | None = Depends(_small_body),
                   settings: Settings = Depends(webhook_settings),
                   engine=Depends(webhook_engine), clock: Clock = Depends(webhook_clock)) -> Response:
    """Verify and keep one text a client sent to a clinic's number (form-encoded From, To, Body,
    MessageSid): STOP opts the number out of SMS, START resumes, HELP is kept, other texts are
    flagged for the desk (messaging.inbound). 200 with an empty TwiML <Response/> (text/xml: no
    reply text; Twilio's opt-out management answers the keywords); 403 for a missing or wrong
    X-Twilio-Signature (nothing read or written); 400 for a body that is not UTF-8; 413 over
    TWILIO_BODY_LIMIT; 503 when Twilio is not configured."""
    if body is None:
        return _twiml(413)
    query = request.scope.get("query_string", b"").decode("latin-1")
    try:
        params = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        return _twiml(400)
    try:
        result = do_receive_twilio_sms(INBOUND_PATH + (f"?{query}" if query else ""), params,
                                       request.headers.get("x-twilio-signature"), settings=settings, clock=clock,
                                       engine=engine)
    except SmsNotConfigured:
        return _twiml(503)
    except InvalidTwilioRequest as exc:
        log.warning("twilio inbound text rejected: %s", exc)
        return _twiml(403)
    log.info("twilio inbound text: %s", result.outcomes)
    return _twiml()
