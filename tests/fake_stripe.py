"""A local stand-in for the parts of Stripe's HTTP API the app uses, on a real socket.

Served by a threading http.server on 127.0.0.1 (random port); point StripeGateway's
api_base at `FakeStripe.url`. It speaks what stripe-python sends: form-encoded bodies with
bracketed keys (metadata[org_id]=7, expand[0]=payment_method), Bearer auth and an
Idempotency-Key on every POST. Like Stripe, a reused Idempotency-Key replays the stored
response (status and body, a 402 decline included) and a reuse with other parameters is a
400 idempotency_error.

Endpoints: POST /v1/payment_intents (create + confirm), GET /v1/payment_intents/{id},
GET /v1/payment_intents/search (query `metadata['<key>']:'<value>'` only, answered at once:
the real Search API lags up to a minute), POST /v1/payment_intents/{id}/cancel, POST /v1/refunds, and for cards on file POST
/v1/customers, POST /v1/setup_intents (create + confirm), GET /v1/setup_intents/{id}
(`complete_setup_action(seti_id)` plays the page's 3-D Secure). Test PaymentMethods (stripe.com/docs/testing):
  pm_card_visa                   -> succeeded
  pm_card_chargeDeclined         -> 402 card_error card_declined / generic_decline
  pm_card_threeDSecure2Required  -> requires_action with a client_secret
`complete_action(pi_id)` plays the page finishing 3-D Secure; `event(...)` builds the webhook
event Stripe would send and `sign_header(...)` its Stripe-Signature header.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

API_VERSION = "2026-10-28.endive"

CARDS = {
    "pm_card_visa": ("visa", "4242"),
    "pm_card_mastercard": ("mastercard", "4444"),
    "pm_card_chargeDeclined": ("visa", "0002"),
    "pm_card_chargeDeclinedInsufficientFunds": ("visa", "9995"),
    "pm_card_threeDSecure2Required": ("visa", "3155"),
    "pm_card_authenticationRequired": ("visa", "3184"),
    "pm_card_chargeCustomerFail": ("visa", "0341"),
}
DECLINES = {
    "pm_card_chargeDeclined": ("card_declined", "generic_decline", "Your card was declined."),
    "pm_card_chargeDeclinedInsufficientFunds": ("card_declined", "insufficient_funds",
                                                "Your card has insufficient funds."),
}
THREE_DS = {"pm_card_threeDSecure2Required"}
# cards on file (issue 16): setting up needs authentication; charged off-session: 3184 asks for
# authentication every time (402 authentication_required), 0341 saves fine and declines
SETUP_THREE_DS = {"pm_card_threeDSecure2Required", "pm_card_authenticationRequired"}
OFF_SESSION_AUTH = {"pm_card_authenticationRequired"}


def sign_header(payload: bytes | str, secret: str, timestamp: int) -> str:
    """Stripe-Signature for `payload`: "t=<ts>,v1=<hex HMAC-SHA256(secret, '<ts>.<payload>')>"."""
    body = payload.decode() if isinstance(payload, bytes) else payload
    mac = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def parse_form(body: str) -> dict:
    """Stripe's form encoding back into nested dicts/lists: a[b]=1&c[0]=x -> {"a": {"b": "1"}, "c": ["x"]}."""
    out: dict = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node = out
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _lists(out)


def _lists(node):
    if isinstance(node, dict):
        node = {k: _lists(v) for k, v in node.items()}
        if node and all(k.isdigit() for k in node):
            return [node[k] for k in sorted(node, key=int)]
    return node


@dataclass
class SeenRequest:
    """One request the fake received (headers lower-cased)."""

    method: str
    path: str
    headers: dict[str, str]
    params: dict


@dataclass
class FakeStripe:
    """State of the fake: PaymentIntents, refunds, idempotent answers and every request seen."""

    api_key: str = "sk_test_fake_0123456789"
    intents: dict[str, dict] = field(default_factory=dict)
    setup_intents: dict[str, dict] = field(default_factory=dict)
    refunds: dict[str, dict] = field(default_factory=dict)
    idempotent: dict[tuple[str, str], tuple[str, int, dict]] = field(default_factory=dict)
    requests: list[SeenRequest] = field(default_factory=list)
    now: int = 1_782_907_200  # 2026-07-01T12:00Z, the tests' clock
    lock: threading.RLock = field(default_factory=threading.RLock)
    url: str = ""
    _server: ThreadingHTTPServer | None = None

    # ---- lifecycle -------------------------------------------------------------------
    def start(self) -> "FakeStripe":
        """Serve on 127.0.0.1:<free port> in a daemon thread; sets self.url."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep pytest output clean
                pass

            def do_GET(self):
                fake._serve(self, "GET")

            def do_POST(self):
                fake._serve(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # ---- HTTP ------------------------------------------------------------------------
    def _serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length).decode() if length else ""
        split = urlsplit(handler.path)
        params = parse_form(raw if method == "POST" else split.query)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        with self.lock:
            self.requests.append(SeenRequest(method, split.path, headers, params))
            status, body = self._dispatch(method, split.path, headers, raw, params)
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("Request-Id", "req_" + secrets.token_hex(7))
        handler.end_headers()
        handler.wfile.write(data)

    def _dispatch(self, method: str, path: str, headers: dict, raw: str, params: dict) -> tuple[int, dict]:
        if headers.get("authorization") != f"Bearer {self.api_key}":
            return 401, _error("invalid_request_error", "Invalid API Key provided.")
        if method == "POST":
            key = headers.get("idempotency-key")
            if key:
                stored = self.idempotent.get((path, key))
                if stored is not None:
                    stored_raw, status, body = stored
                    if stored_raw != raw:
                        return 400, _error("idempotency_error",
                                           "Keys for idempotent requests can only be used with the same parameters "
                                           "they were first used with.")
                    return status, body
            status, body = self._route_post(path, params)
            if key:
                self.idempotent[(path, key)] = (raw, status, body)
            return status, body
        if path == "/v1/payment_intents/search":
            return 200, self._search(params)
        match = re.fullmatch(r"/v1/setup_intents/([A-Za-z0-9_]+)", path)
        if match:
            seti = self.setup_intents.get(match.group(1))
            if seti is None:
                return 404, _error("invalid_request_error", f"No such setupintent: '{match.group(1)}'",
                                   code="resource_missing", param="intent")
            return 200, self._render(seti, params.get("expand") or [])
        match = re.fullmatch(r"/v1/payment_intents/([A-Za-z0-9_]+)", path)
        if match:
            intent = self.intents.get(match.group(1))
            if intent is None:
                return 404, _error("invalid_request_error", f"No such payment_intent: '{match.group(1)}'",
                                   code="resource_missing", param="intent")
            return 200, self._render(intent, params.get("expand") or [])
        return 404, _error("invalid_request_error", f"Unrecognized request URL (GET: {path}).")

    def _route_post(self, path: str, params: dict) -> tuple[int, dict]:
        if path == "/v1/payment_intents":
            return self._create_intent(params)
        if path == "/v1/refunds":
            return self._create_refund(params)
        if path == "/v1/customers":
            return 200, {"id": "cus_" + secrets.token_hex(7), "object": "customer", "email": params.get("email"),
                         "metadata": params.get("metadata") or {}}
        if path == "/v1/setup_intents":
            return self._create_setup(params)
        match = re.fullmatch(r"/v1/payment_intents/([A-Za-z0-9_]+)/cancel", path)
        if match:
            return self._cancel_intent(match.group(1))
        return 404, _error("invalid_request_error", f"Unrecognized request URL (POST: {path}).")

    # ---- PaymentIntents --------------------------------------------------------------
    def _create_intent(self, params: dict) -> tuple[int, dict]:
        try:
            amount = int(params.get("amount", ""))
        except ValueError:
            return 400, _error("invalid_request_error", "Missing required param: amount.", param="amount")
        if amount < 50:
            return 400, _error("invalid_request_error", "Amount must be at least $0.50 usd", param="amount",
                               code="amount_too_small")
        currency = params.get("currency", "")
        if not re.fullmatch(r"[a-z]{3}", currency):
            return 400, _error("invalid_request_error", "Invalid currency", param="currency")
        pm = params.get("payment_method")
        apm = params.get("automatic_payment_methods") or {}
        if params.get("confirm") == "true" and apm.get("enabled") == "true" \
                and apm.get("allow_redirects") != "never" and not params.get("return_url"):
            return 400, _error("invalid_request_error",
                               "This PaymentIntent is configured to accept payment methods enabled in your "
                               "Dashboard, which may require a return_url.", param="return_url")
        if pm is not None and pm not in CARDS:
            return 400, _error("invalid_request_error", f"No such PaymentMethod: '{pm}'", param="payment_method",
                               code="resource_missing")
        pid = "pi_" + secrets.token_hex(12)
        intent = {
            "id": pid, "object": "payment_intent", "amount": amount, "amount_received": 0,
            "currency": currency, "status": "requires_payment_method" if pm is None else "requires_confirmation",
            "client_secret": f"{pid}_secret_{secrets.token_hex(12)}", "confirmation_method": "automatic",
            "capture_method": "automatic", "created": self.now, "livemode": False,
            "description": params.get("description"), "metadata": params.get("metadata") or {},
            "payment_method": pm, "last_payment_error": None, "next_action": None, "latest_charge": None,
            "automatic_payment_methods": {"enabled": apm.get("enabled") == "true",
                                          "allow_redirects": apm.get("allow_redirects", "always")},
        }
        self.intents[pid] = intent
        expand = params.get("expand") or []
        if params.get("confirm") != "true" or pm is None:
            return 200, self._render(intent, expand)
        if pm in DECLINES:
            code, decline_code, message = DECLINES[pm]
            error = {"type": "card_error", "code": code, "decline_code": decline_code, "message": message,
                     "param": "", "payment_method": self._payment_method(pm)}
            intent.update(status="requires_payment_method", last_payment_error=error, payment_method=None)
            body = _error("card_error", message, code=code, decline_code=decline_code)
            body["error"]["payment_intent"] = self._render(intent, [])
            body["error"]["payment_method"] = self._payment_method(pm)
            return 402, body
        if params.get("off_session") == "true" and (pm in OFF_SESSION_AUTH or pm == "pm_card_chargeCustomerFail"):
            auth = pm in OFF_SESSION_AUTH
            code, decline, message = (("authentication_required", "authentication_required",
                                       "Your card was declined. This transaction requires authentication.") if auth
                                      else ("card_declined", "generic_decline", "Your card was declined."))
            intent.update(status="requires_payment_method", last_payment_error={
                "type": "card_error", "code": code, "decline_code": decline, "message": message})
            body = _error("card_error", message, code=code, decline_code=decline)
            body["error"]["payment_intent"] = self._render(intent, [])
            return 402, body
        if pm in THREE_DS and params.get("off_session") != "true":  # a saved 3155 is exempt off-session
            intent.update(status="requires_action", next_action={
                "type": "use_stripe_sdk", "use_stripe_sdk": {"type": "three_d_secure_redirect"}})
            return 200, self._render(intent, expand)
        self._succeed(intent)
        return 200, self._render(intent, expand)

    def _create_setup(self, params: dict) -> tuple[int, dict]:
        """POST /v1/setup_intents with confirm=true: declines like a charge, 3-D Secure test
        cards need the page (requires_action), the rest succeed (the PaymentMethod attached)."""
        pm = params.get("payment_method")
        if pm not in CARDS:
            return 400, _error("invalid_request_error", f"No such PaymentMethod: '{pm}'", param="payment_method",
                               code="resource_missing")
        sid = "seti_" + secrets.token_hex(12)
        seti = {"id": sid, "object": "setup_intent", "customer": params.get("customer"), "payment_method": pm,
                "usage": params.get("usage", "off_session"), "metadata": params.get("metadata") or {},
                "client_secret": f"{sid}_secret_{secrets.token_hex(12)}", "status": "succeeded",
                "last_setup_error": None, "next_action": None}
        self.setup_intents[sid] = seti
        if pm in DECLINES:
            code, decline_code, message = DECLINES[pm]
            seti.update(status="requires_payment_method", payment_method=None, last_setup_error={
                "type": "card_error", "code": code, "decline_code": decline_code, "message": message})
            body = _error("card_error", message, code=code, decline_code=decline_code)
            body["error"]["setup_intent"] = self._render(seti, [])
            return 402, body
        if pm in SETUP_THREE_DS:
            seti.update(status="requires_action", next_action={"type": "use_stripe_sdk"})
        return 200, self._render(seti, params.get("expand") or [])

    def complete_setup_action(self, seti_id: str) -> dict:
        """The page finished 3-D Secure on a SetupIntent: it succeeds. Returns the intent."""
        with self.lock:
            seti = self.setup_intents[seti_id]
            seti.update(status="succeeded", next_action=None)
            return self._render(seti, [])

    def _search(self, params: dict) -> dict:
        match = re.fullmatch(r"metadata\['([^']+)'\]:'([^']*)'", params.get("query", ""))
        found = [] if not match else [
            self._render(i, [e.removeprefix("data.") for e in params.get("expand") or []])
            for i in self.intents.values() if (i.get("metadata") or {}).get(match.group(1)) == match.group(2)]
        return {"object": "search_result", "url": "/v1/payment_intents/search", "has_more": False,
                "next_page": None, "data": found}

    def _cancel_intent(self, pid: str) -> tuple[int, dict]:
        intent = self.intents.get(pid)
        if intent is None:
            return 404, _error("invalid_request_error", f"No such payment_intent: '{pid}'", code="resource_missing",
                               param="intent")
        if intent["status"] in ("succeeded", "canceled", "processing"):
            return 400, _error("invalid_request_error",
                               f"You cannot cancel this PaymentIntent because it has a status of {intent['status']}.",
                               code="payment_intent_unexpected_state")
        intent.update(status="canceled", next_action=None, cancellation_reason="abandoned")
        return 200, self._render(intent, [])

    def _succeed(self, intent: dict) -> None:
        intent.update(status="succeeded", amount_received=intent["amount"], next_action=None,
                      latest_charge="ch_" + secrets.token_hex(12))

    def _payment_method(self, pm: str) -> dict:
        brand, last4 = CARDS[pm]
        return {"id": pm, "object": "payment_method", "type": "card",
                "card": {"brand": brand, "last4": last4, "exp_month": 12, "exp_year": 2034, "country": "US"}}

    def _render(self, intent: dict, expand: list) -> dict:
        out = json.loads(json.dumps(intent))
        if "payment_method" in expand and out.get("payment_method"):
            out["payment_method"] = self._payment_method(out["payment_method"])
        return out

    def complete_action(self, pi_id: str, *, succeed: bool = True) -> dict:
        """The page finished (or failed) 3-D Secure: the intent moves to succeeded, or back to
        requires_payment_method with an authentication error. Returns the intent."""
        with self.lock:
            intent = self.intents[pi_id]
            if intent["status"] != "requires_action":
                raise AssertionError(f"{pi_id} is {intent['status']}, not requires_action")
            if succeed:
                self._succeed(intent)
            else:
                intent.update(status="requires_payment_method", next_action=None, last_payment_error={
                    "type": "card_error", "code": "payment_intent_authentication_failure",
                    "message": "We are unable to authenticate your payment method. Please choose a different "
                               "payment method and try again."})
            return self._render(intent, [])

    # ---- Refunds ---------------------------------------------------------------------
    def _create_refund(self, params: dict) -> tuple[int, dict]:
        pid = params.get("payment_intent") or ""
        intent = self.intents.get(pid)
        if intent is None:
            return 400, _error("invalid_request_error", f"No such payment_intent: '{pid}'", param="payment_intent",
                               code="resource_missing")
        if intent["status"] != "succeeded":
            return 400, _error("invalid_request_error",
                               f"This PaymentIntent ({pid}) does not have a successful charge to refund.",
                               code="charge_not_refundable")
        refunded = sum(r["amount"] for r in self.refunds.values()
                       if r["payment_intent"] == pid and r["status"] != "failed")  # a failed one is refundable again
        amount = int(params.get("amount") or intent["amount"] - refunded)
        if amount <= 0 or refunded + amount > intent["amount"]:
            return 400, _error("invalid_request_error",
                               f"Refund amount (${amount / 100:.2f}) is greater than unrefunded amount on charge "
                               f"(${(intent['amount'] - refunded) / 100:.2f})", param="amount",
                               code="amount_too_large" if amount > 0 else "parameter_invalid_integer")
        rid = "re_" + secrets.token_hex(12)
        refund = {"id": rid, "object": "refund", "amount": amount, "currency": intent["currency"],
                  "payment_intent": pid, "charge": intent["latest_charge"], "status": "succeeded",
                  "metadata": params.get("metadata") or {}, "created": self.now, "reason": params.get("reason")}
        self.refunds[rid] = refund
        return 200, refund

    # ---- webhooks --------------------------------------------------------------------
    def event(self, pi_id: str, event_type: str, *, event_id: str | None = None) -> bytes:
        """The webhook body Stripe would POST for `event_type` about intent `pi_id` (its
        current state), as raw JSON bytes. A fixed event_id makes a redelivery."""
        with self.lock:
            intent = self._render(self.intents[pi_id], [])
        return json.dumps({
            "id": event_id or "evt_" + secrets.token_hex(12), "object": "event", "api_version": API_VERSION,
            "created": self.now, "livemode": False, "pending_webhooks": 1, "type": event_type,
            "request": {"id": None, "idempotency_key": None}, "data": {"object": intent},
        }, separators=(",", ":")).encode()

    def fail_refund(self, refund_id: str, failure_reason: str = "expired_or_canceled_card") -> None:
        """The card's bank sends refund `refund_id` back (Stripe: status failed with a
        failure_reason; the amount is refundable again). Deliver refund_event(..., "refund.failed")."""
        with self.lock:
            self.refunds[refund_id].update(status="failed", failure_reason=failure_reason)

    def refund_event(self, refund_id: str, event_type: str = "refund.created", *, event_id: str | None = None) -> bytes:
        """The webhook body Stripe would POST for `event_type` about refund `refund_id`."""
        with self.lock:
            refund = dict(self.refunds[refund_id])
        return json.dumps({
            "id": event_id or "evt_" + secrets.token_hex(12), "object": "event", "api_version": API_VERSION,
            "created": self.now, "livemode": False, "pending_webhooks": 1, "type": event_type,
            "request": {"id": None, "idempotency_key": None}, "data": {"object": refund},
        }, separators=(",", ":")).encode()

    def dispute_event(self, pi_id: str, event_type: str, *, dispute_id: str = "dp_test_1", status: str,
                      amount: int | None = None, reason: str = "fraudulent", due_by: int | None = None,
                      event_id: str | None = None) -> bytes:
        """The webhook body Stripe would POST for a charge.dispute.* event about intent `pi_id`:
        a Dispute object (https://docs.stripe.com/api/disputes/object) with `status` and
        evidence_details.due_by (Unix seconds; default a week from now)."""
        with self.lock:
            intent = self.intents[pi_id]
            dispute = {"id": dispute_id, "object": "dispute", "amount": intent["amount"] if amount is None else amount,
                       "currency": intent["currency"], "charge": intent["latest_charge"], "payment_intent": pi_id,
                       "reason": reason, "status": status, "metadata": {}, "created": self.now,
                       "evidence_details": {"due_by": due_by or self.now + 7 * 86400, "has_evidence": False}}
        return json.dumps({
            "id": event_id or "evt_" + secrets.token_hex(12), "object": "event", "api_version": API_VERSION,
            "created": self.now, "livemode": False, "pending_webhooks": 1, "type": event_type,
            "request": {"id": None, "idempotency_key": None}, "data": {"object": dispute},
        }, separators=(",", ":")).encode()

    def posts_to(self, path: str) -> list[SeenRequest]:
        """The POST requests received for `path`, oldest first."""
        with self.lock:
            return [r for r in self.requests if r.method == "POST" and r.path == path]


def _error(kind: str, message: str, *, code: str | None = None, param: str | None = None,
           decline_code: str | None = None) -> dict:
    err: dict = {"type": kind, "message": message}
    if code:
        err["code"] = code
    if param is not None:
        err["param"] = param
    if decline_code:
        err["decline_code"] = decline_code
    err["doc_url"] = f"https://stripe.com/docs/error-codes/{code}" if code else None
    return {"error": err}
