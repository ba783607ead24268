"""The Twilio adapter: one SMS POSTed to Twilio's Messages resource over plain HTTP (httpx), the
X-Twilio-Signature check of Twilio's status callbacks, and the reading of a callback. No
database here.

Sending (https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource):
`POST {TWILIO_API_BASE}/2010-04-01/Accounts/{AccountSid}/Messages.json`, form fields To, From,
Body and StatusCallback, HTTP basic auth (Account SID, Auth Token). What Twilio answers decides
what happens next (domain.messaging.actions):
- 2xx: accepted; `send_sms` returns the Message SID ("SM..."), kept as provider_id.
- 429, 5xx, Twilio error 20429 (too many requests) or 14107 (SMS rate limit), a timeout or a
  connection error: TemporaryFailure, retried by the job with the queue's back-off.
- any other 4xx: PermanentFailure with Twilio's code and message ("Twilio 21211: The 'To'
  number ... is not a valid phone number."). The number itself is marked undeliverable
  (suppress=True) only for the errors that are about the recipient's number
  (SUPPRESSING_API_CODES, each documented at https://www.twilio.com/docs/api/errors/<code>):
  21211 invalid 'To' number, 21610 the recipient replied STOP (unsubscribed: marked
  'opted_out', never the client's email), 21614 'To' is not a mobile number. The rest (a bad sender 21212 / 21606, a region not enabled 21408, a
  body too long 21617, bad credentials 20003, ...) fail the message only.

Twilio has no idempotency key for message creation: a request that timed out after Twilio
accepted it is retried and may send the text twice (the README's "one-duplicate window").

Status callbacks (https://www.twilio.com/docs/messaging/guides/track-outbound-message-status):
Twilio POSTs MessageSid, MessageStatus (queued, sent, delivered, undelivered, failed, ...) and,
for a failure, ErrorCode to the StatusCallback URL given at creation. The URL carries the
clinic, the outbox message and the delivery attempt (`?org=<id>&message=<id>&attempt=<n>`),
and Twilio signs it: X-Twilio-Signature
is base64(HMAC-SHA1(Auth Token, URL + each POST parameter's name and value, sorted by name))
(https://www.twilio.com/docs/usage/webhooks/webhooks-security), so a valid signature proves
both the parameters and the clinic in the URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx

from medspa.domain.messaging.failures import PermanentFailure, TemporaryFailure
from medspa.settings import Settings

STATUS_CALLBACK_PATH = "/api/v1/webhooks/twilio/status"
# the "A message comes in" webhook of the clinics' numbers (messaging.inbound_actions)
INBOUND_PATH = "/api/v1/webhooks/twilio/inbound"
MESSAGES_PATH = "/2010-04-01/Accounts/{account}/Messages.json"

# Twilio error codes that say the recipient's number is undeliverable for good: the number is
# marked (https://www.twilio.com/docs/api/errors/21211, /21610, /21614)
SUPPRESSING_API_CODES = frozenset({21211, 21610, 21614})
# the one that means "the recipient opted out": the number is marked 'opted_out', not 'undeliverable'
OPTED_OUT_CODE = 21610
# error codes in a 4xx answer that still mean "later" (/errors/20429, /errors/14107)
TEMPORARY_API_CODES = frozenset({20429, 14107})
# delivery-receipt error codes (status callback of an undelivered / failed SMS) that are about the
# number: 30005 unknown destination handset, 30006 landline or unreachable carrier
# (https://www.twilio.com/docs/api/errors/30005, /30006). The other 300xx (30003 handset
# unreachable, 30004 blocked, 30007 carrier filtering, 30008 unknown) fail the message only.
SUPPRESSING_CALLBACK_CODES = frozenset({30005, 30006})
CALLBACK_ERRORS = {
    30001: "Queue overflow", 30002: "Account suspended", 30003: "Unreachable destination handset",
    30004: "Message blocked", 30005: "Unknown destination handset", 30006: "Landline or unreachable carrier",
    30007: "Message filtered by the carrier", 30008: "Unknown error",
}


@dataclass(frozen=True)
class Sms:
    """One SMS as the adapter sends it: E.164 numbers, the text, and the status callback URL."""

    from_number: str
    to: str
    body: str
    status_callback: str = ""


def messages_url(settings: Settings) -> str:
    """Twilio's Messages resource of the configured account (TWILIO_API_BASE in front)."""
    return settings.twilio_api_base.rstrip("/") + MESSAGES_PATH.format(account=settings.twilio_account_sid)


def _error_of(response: httpx.Response) -> tuple[int | None, str]:
    """Twilio's error code and message from an error answer ({"code": 21211, "message": ...})."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        return None, response.text.strip()[:300] or response.reason_phrase
    try:
        code = int(payload["code"]) if payload.get("code") is not None else None
    except (TypeError, ValueError):
        code = None
    return code, str(payload.get("message") or response.reason_phrase)


def _outcome(response: httpx.Response) -> str:
    """The Message SID of an accepted SMS, else the failure to raise (see the module)."""
    status = response.status_code
    if 200 <= status < 300:
        try:
            sid = (response.json() or {}).get("sid")
        except ValueError:
            sid = None
        if not sid:  # accepted, so it may well go out: never retried (a duplicate), failed with the answer
            raise PermanentFailure(f"Twilio answered {status} without a message SID")
        return str(sid)[:250]
    code, message = _error_of(response)
    reason = f"Twilio {code}: {message}" if code is not None else f"Twilio HTTP {status}: {message}"
    if status == 429 or status >= 500 or code in TEMPORARY_API_CODES:
        raise TemporaryFailure(reason)
    raise PermanentFailure(reason, suppress=code in SUPPRESSING_API_CODES, opt_out=code == OPTED_OUT_CODE)


def send_sms(settings: Settings, sms: Sms) -> str:
    """POST `sms` to Twilio's Messages resource (see the module) and return the Message SID.

    Raises PermanentFailure (suppress=True for an invalid, non-mobile or opted-out number) or
    TemporaryFailure (429, 5xx, timeout, connection). Timeout: TWILIO_TIMEOUT_SECONDS for the
    connect and for the answer each."""
    data = {"To": sms.to, "From": sms.from_number, "Body": sms.body}
    if sms.status_callback:
        data["StatusCallback"] = sms.status_callback
    try:
        response = httpx.post(messages_url(settings), data=data,
                              auth=(settings.twilio_account_sid, settings.twilio_auth_token),
                              headers={"Accept": "application/json"}, timeout=settings.twilio_timeout_seconds)
    except httpx.HTTPError as exc:  # timeouts, refused connects, dropped connections, protocol errors
        raise TemporaryFailure(f"{type(exc).__name__}: {exc}") from exc
    return _outcome(response)


def status_callback_url(base_url: str, org_id: int, message_id: int, attempt: int) -> str:
    """The StatusCallback URL of attempt `attempt` (the message's attempts after its claim) of
    outbox SMS `message_id` of clinic `org_id` on the public `base_url` (Settings.base_url, no
    trailing slash). Twilio signs the whole URL, so a callback proves which attempt it is about."""
    return f"{base_url}{STATUS_CALLBACK_PATH}?org={org_id}&message={message_id}&attempt={attempt}"


def expected_signature(auth_token: str, url: str, params: list[tuple[str, str]]) -> str:
    """Twilio's X-Twilio-Signature of a form POST to `url` (the full URL with its query string)
    with `params` (name, value pairs, in any order): base64 of HMAC-SHA1 keyed with the Auth
    Token over the URL followed by every parameter name and value, sorted by name (and a
    repeated name's values sorted), without separators (Twilio's "Webhooks security" guide;
    its worked example is a test)."""
    by_name: dict[str, set[str]] = {}
    for name, value in params:
        by_name.setdefault(name, set()).add(value)
    signed = url + "".join(name + value for name in sorted(by_name) for value in sorted(by_name[name]))
    digest = hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _port_variants(url: str) -> set[str]:
    """The URL as given, without its port and with the scheme's default port: Twilio's helper
    libraries accept either, since the port Twilio signs is not consistent."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host  # an IPv6 literal keeps its brackets
    default = {"https": 443, "http": 80}.get(parts.scheme)
    variants = {url, urlunsplit(parts._replace(netloc=host))}
    if parts.port is None and default is not None:
        variants.add(urlunsplit(parts._replace(netloc=f"{host}:{default}")))
    return variants


def signature_valid(auth_token: str, url: str, params: list[tuple[str, str]], signature: str | None) -> bool:
    """Whether `signature` (the X-Twilio-Signature header) signs `url` and `params` with
    `auth_token` (see expected_signature); constant-time. False without a token or a header."""
    if not auth_token or not signature:
        return False
    return any(hmac.compare_digest(expected_signature(auth_token, variant, params), signature)
               for variant in _port_variants(url))


@dataclass(frozen=True)
class StatusCallback:
    """What one status callback says: the clinic, message and delivery attempt named in its URL
    (None when the URL lacks them or they are not ids), the Message SID, Twilio's status, and for
    a failure its error."""

    org_id: int | None
    message_id: int | None
    sid: str
    status: str
    error_code: int | None
    error_message: str
    attempt: int | None = None

    @property
    def failure_reason(self) -> str:
        """The reason kept on a failed message: "Twilio 30005: Unknown destination handset"."""
        if self.error_code is None:
            return f"Twilio: {self.status}" + (f": {self.error_message}" if self.error_message else "")
        text = self.error_message or CALLBACK_ERRORS.get(self.error_code, self.status)
        return f"Twilio {self.error_code}: {text}"

    @property
    def suppresses(self) -> bool:
        """The failure says the number itself is undeliverable (SUPPRESSING_*_CODES)."""
        return self.error_code in SUPPRESSING_CALLBACK_CODES or self.error_code in SUPPRESSING_API_CODES

    @property
    def opts_out(self) -> bool:
        """The failure says the recipient replied STOP (Twilio 21610): marked 'opted_out'."""
        return self.error_code == OPTED_OUT_CODE


MAX_BIGINT = 2**63 - 1


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _id(value: str | None) -> int | None:
    """A database id (1 .. bigint's maximum) from ASCII digits, else None."""
    if value is None or not (value.isascii() and value.isdigit() and len(value) <= 19):
        return None
    number = int(value)
    return number if 0 < number <= MAX_BIGINT else None


def read_status_callback(query: str, params: list[tuple[str, str]]) -> StatusCallback:
    """The callback of URL query string `query` and form `params` (already verified); an org,
    message or attempt that is not an id in bigint's range reads as None."""
    target = dict(parse_qsl(query))
    form = dict(params)
    return StatusCallback(org_id=_id(target.get("org")), message_id=_id(target.get("message")),
                          attempt=_id(target.get("attempt")),
                          sid=form.get("MessageSid") or form.get("SmsSid") or "",
                          status=(form.get("MessageStatus") or form.get("SmsStatus") or "").lower(),
                          error_code=_int(form.get("ErrorCode")), error_message=form.get("ErrorMessage") or "")
