"""A local stand-in for Twilio's Messages resource, on a real socket (a threading http.server on
127.0.0.1, random port): point TWILIO_API_BASE at `FakeTwilio.url`.

It speaks what the adapter sends: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, a
form-encoded body (To, From, Body, StatusCallback), HTTP basic auth. Every request is recorded
(`requests`). Answers come from `answers` in turn, then Twilio's 201 with a new Message SID:
  (400, {"code": 21211, "message": ...})   an error answer, shaped like Twilio's
  ("sleep", 1.0)                            answer 201 only after that many seconds
Wrong credentials get Twilio's 401 (code 20003).

`callback(...)` builds the form a status callback carries and `sign(...)` its
X-Twilio-Signature, written here from Twilio's "Webhooks security" guide on its own (not with
the app's code): base64(HMAC-SHA1(auth token, URL + sorted name/value pairs)).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

ACCOUNT_SID = "AC" + "7" * 32
AUTH_TOKEN = "f" * 32


def sign(auth_token: str, url: str, params: list[tuple[str, str]]) -> str:
    """X-Twilio-Signature of a form POST of `params` to `url` (single-valued parameters)."""
    data = url + "".join(k + v for k, v in sorted(params))
    return base64.b64encode(hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def callback(sid: str, status: str, *, error_code: int | None = None, to: str = "+12125550147",
             from_number: str = "+12125550100") -> list[tuple[str, str]]:
    """The form fields of Twilio's status callback for Message `sid` with `status`."""
    fields = [("AccountSid", ACCOUNT_SID), ("ApiVersion", "2010-04-01"), ("From", from_number),
              ("MessageSid", sid), ("MessageStatus", status), ("SmsSid", sid), ("SmsStatus", status), ("To", to)]
    if error_code is not None:
        fields.append(("ErrorCode", str(error_code)))
    return fields


@dataclass
class SeenRequest:
    """One request the fake received: path, basic-auth user and password, the form fields."""

    path: str
    user: str
    password: str
    form: dict[str, str]


@dataclass
class FakeTwilio:
    answers: list = field(default_factory=list)
    requests: list[SeenRequest] = field(default_factory=list)
    sids: list[str] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def messages_path(self) -> str:
        return f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"

    def start(self) -> "FakeTwilio":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output clean
                pass

            def do_POST(self):
                fake._serve(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        raw = handler.rfile.read(int(handler.headers.get("Content-Length") or 0)).decode()
        auth = handler.headers.get("Authorization", "")
        user, _, password = (base64.b64decode(auth[6:]).decode() if auth.startswith("Basic ") else "").partition(":")
        form = dict(parse_qsl(raw, keep_blank_values=True))
        self.requests.append(SeenRequest(handler.path, user, password, form))
        status, body = self._answer(handler.path, user, password, form)
        payload = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        try:
            handler.wfile.write(payload)
        except OSError:  # the client gave up (a timeout test)
            pass

    def _answer(self, path: str, user: str, password: str, form: dict) -> tuple[int, dict]:
        if path != self.messages_path:
            return 404, {"code": 20404, "message": "The requested resource was not found", "status": 404}
        if (user, password) != (ACCOUNT_SID, AUTH_TOKEN):
            return 401, {"code": 20003, "message": "Authenticate", "status": 401}
        answer = self.answers.pop(0) if self.answers else None
        if isinstance(answer, tuple) and answer[0] == "sleep":
            time.sleep(answer[1])
            answer = None
        if answer is not None:
            status, error = answer
            return status, {**error, "status": status, "more_info": f"https://www.twilio.com/docs/errors/{error.get('code')}"}
        sid = "SM" + secrets.token_hex(16)
        self.sids.append(sid)
        return 201, {"sid": sid, "account_sid": ACCOUNT_SID, "to": form.get("To"), "from": form.get("From"),
                     "body": form.get("Body"), "status": "queued", "error_code": None, "error_message": None,
                     "api_version": "2010-04-01", "uri": f"{self.messages_path[:-5]}/{sid}.json"}
