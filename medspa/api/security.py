"""Web hardening shared by the HTTP routes and the Reflex states (no Reflex import here).

- `SecurityHeaders`: an ASGI middleware that adds the security headers (CSP, nosniff,
  Referrer-Policy, X-Frame-Options, HSTS over https) to EVERY http response of the app. It
  wraps the FastAPI app handed to Reflex as `api_transformer`; in prod Reflex mounts its own
  app (the compiled frontend, /_event, /ping, /_upload) inside that one, so the pages and
  their static files get the headers too.
- `content_security_policy`: the policy. The prerendered pages carry a few inline scripts
  (theme, React Router context and stream, React's streaming helpers): they are allowed by
  their SHA-256 hashes, read from the built HTML files, never by 'unsafe-inline'.
- `origin_allowed`: the CSRF check of the login/logout POSTs (same origin only).
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from pathlib import Path
from typing import Iterable, Mapping
from urllib.parse import urlsplit

from medspa.settings import Settings, get_settings


_INLINE_SCRIPT = re.compile(rb"<script\b([^>]*)>(.*?)</script\s*>", re.S | re.I)
_SRC_ATTR = re.compile(rb"\bsrc\s*=", re.I)

STRIPE_SCRIPT = "https://js.stripe.com"
STRIPE_FRAMES = ("https://js.stripe.com", "https://hooks.stripe.com")
STRIPE_API = "https://api.stripe.com"


# --------------------------------------------------------------------------- origin (CSRF)


def request_origin(headers: Mapping[str, str]) -> str | None:
    """The Origin of a request (or, when a browser sent none, the origin of its Referer)."""
    origin = (headers.get("origin") or "").strip()
    if not origin:
        referer = (headers.get("referer") or "").strip()
        if not referer:
            return None
        parts = urlsplit(referer)
        if not parts.scheme or not parts.netloc:
            return None
        origin = f"{parts.scheme}://{parts.netloc}"
    return origin.rstrip("/").lower()


def origin_allowed(headers: Mapping[str, str], settings: Settings | None = None) -> bool:
    """True when the request comes from one of our own origins (a missing or "null" Origin is not)."""
    settings = settings or get_settings()
    origin = request_origin(headers)
    return origin is not None and origin in {o.lower() for o in settings.allowed_origins}


# --------------------------------------------------------------------------- CSP


def inline_script_hashes(html_files: Iterable[Path]) -> set[str]:
    """`sha256-...` sources of the inline <script> elements in these HTML files."""
    hashes: set[str] = set()
    for path in html_files:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        for attrs, body in _INLINE_SCRIPT.findall(data):
            if _SRC_ATTR.search(attrs) or not body:
                continue
            hashes.add("sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode())
    return hashes


def _ws(origin: str) -> str:
    if origin.startswith("https://"):
        return "wss://" + origin.removeprefix("https://")
    return "ws://" + origin.removeprefix("http://")


def content_security_policy(settings: Settings, script_hashes: Iterable[str] = ()) -> str:
    """The Content-Security-Policy of every response.

    'unsafe-eval': Reflex's runtime (state.js) runs the scripts an event handler returns with
    `rx.call_script` through eval() (the calendar's scroll-to-now, Stripe Elements' set-up);
    they come only from our server over the same-origin websocket. Inline <script> elements
    are NOT allowed except the build's own, by hash.
    'unsafe-inline' in style-src: Emotion (Reflex's styling) inserts <style> elements and
    Radix sets style attributes at runtime.
    """
    origins = list(settings.allowed_origins)
    script = ["'self'", *(f"'{h}'" for h in sorted(script_hashes)), "'unsafe-eval'"]
    connect = ["'self'", *origins, *(_ws(o) for o in origins)]
    frame = ["'self'"]
    if settings.stripe_enabled:
        script.append(STRIPE_SCRIPT)
        connect.append(STRIPE_API)
        frame.extend(STRIPE_FRAMES)
    directives = [
        ("default-src", ["'self'"]),
        ("script-src", script),
        ("style-src", ["'self'", "'unsafe-inline'"]),
        ("img-src", ["'self'", "data:"]),
        ("font-src", ["'self'", "data:"]),
        ("connect-src", connect),
        ("frame-src", frame),
        ("object-src", ["'none'"]),
        ("base-uri", ["'self'"]),
        ("form-action", ["'self'"]),
        ("frame-ancestors", ["'none'"]),
    ]
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives)


def _default_static_dir() -> Path | None:
    """Where Reflex's prod build puts the pages (.web/build/client), if Reflex is importable."""
    try:
        from reflex.utils.prerequisites import get_web_dir
        from reflex_base import constants
    except Exception:  # noqa: BLE001 - no Reflex, no built pages: no hashes
        return None
    return get_web_dir() / constants.Dirs.STATIC


class SecurityHeaders:
    """ASGI middleware: the security headers on every http response.

    Headers a route set itself are kept. Websocket scopes pass through untouched (their
    Origin is checked by the socket.io server: rxconfig's cors_allowed_origins).
    """

    RESCAN_SECONDS = 5.0  # the build may finish after the worker started: look again now and then

    def __init__(self, app, settings: Settings | None = None, static_dir: Path | None = None):
        self.app = app
        self._settings = settings
        self._static_dir = static_dir
        self._cache: tuple[float, object, str] | None = None  # (checked_at, build stamp, csp)

    @property
    def settings(self) -> Settings:
        return self._settings or get_settings()

    def _build_stamp(self, static_dir: Path | None) -> object:
        if static_dir is None:
            return None
        try:
            return (static_dir / "index.html").stat().st_mtime_ns
        except OSError:
            return None

    def csp(self) -> str:
        """The policy, with the hashes of the current build (re-read when the build changes)."""
        now = time.monotonic()
        if self._cache is not None and now - self._cache[0] < self.RESCAN_SECONDS:
            return self._cache[2]
        static_dir = self._static_dir or _default_static_dir()
        stamp = self._build_stamp(static_dir)
        if self._cache is not None and self._cache[1] == stamp:
            self._cache = (now, stamp, self._cache[2])
            return self._cache[2]
        hashes = inline_script_hashes(static_dir.rglob("*.html")) if stamp is not None else set()
        policy = content_security_policy(self.settings, hashes)
        self._cache = (now, stamp, policy)
        return policy

    def headers(self, https: bool) -> list[tuple[str, str]]:
        out = [
            ("content-security-policy", self.csp()),
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "strict-origin-when-cross-origin"),
            ("x-frame-options", "DENY"),
        ]
        if https:
            out.append(("strict-transport-security", "max-age=31536000; includeSubDomains"))
        return out

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        https = self.settings.https or scope.get("scheme") == "https"
        extra = self.headers(https)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                raw = list(message.get("headers", []))
                present = {name.lower() for name, _ in raw}
                raw.extend((k.encode(), v.encode()) for k, v in extra if k.encode() not in present)
                message = {**message, "headers": raw}
            await send(message)

        return await self.app(scope, receive, send_with_headers)


# several photos go in one upload (clinical/photos.py: MAX_FILES of at most MAX_BYTES, MAX_BATCH_BYTES together)
UPLOAD_BODY_LIMIT = 61 * 1024 * 1024  # multipart adds a little
BODY_LIMIT = 1024 * 1024  # JSON and form posts


class BodyLimit:
    """Refuse request bodies over the limit before anything reads them (413).

    Reflex's upload endpoint spools a whole upload to temp files before a handler runs, and
    FastAPI reads a JSON body whole: the cap has to sit in front of both. A body without a
    Content-Length is counted as it streams and cut off at the limit.
    """

    def __init__(self, app):
        self.app = app

    @staticmethod
    def limit_for(path: str) -> int:
        return UPLOAD_BODY_LIMIT if path.startswith("/_upload") else BODY_LIMIT

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        limit = self.limit_for(scope.get("path", ""))
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            return await _too_large(send, limit)
        seen, exceeded, answered = 0, False, False

        async def counted_receive():
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:  # stop reading: the app sees a client that went away
                    exceeded = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message):
            nonlocal answered
            if exceeded:  # whatever the app answers to the cut-off body, the client gets 413
                if not answered:
                    answered = True
                    await _too_large(send, limit)
                return
            if message["type"] == "http.response.start":
                answered = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not answered:
            await _too_large(send, limit)


async def _too_large(send, limit: int) -> None:
    body = ('{"error": "too_large", "message": "The request is larger than %d MB."}' % (limit // (1024 * 1024))).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
