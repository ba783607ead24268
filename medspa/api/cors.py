"""Cross-origin access to the public booking API: a clinic's own website may call
/api/v1/{clinic}/... from the browser (list its origin in API_CORS_ORIGINS, or "*").

Why it is safe to open: those routes are anonymous (the slug names the clinic) and read no
cookie, so a foreign page learns nothing a server-side script could not fetch; responses never
allow credentials. Everything else (the pages, /_event, /auth, /media, the webhooks, the docs)
keeps Reflex's same-origin CORS. Default: no foreign origin.

Reflex wraps the whole app in its own CORS layer (same-origin, credentials), which would answer
a clinic website's preflight with 400 before any route runs; so `PublicApiCors` goes OUTSIDE it
(medspa/medspa.py, `MedspaApp`).
"""

from __future__ import annotations

import re

from starlette.middleware.cors import CORSMiddleware

from medspa.settings import Settings, get_settings

PUBLIC_API = re.compile(r"^/api/v1/(?!webhooks/|docs/)[^/]+/")  # /api/v1/{clinic}/...


def api_cors_origins(settings: Settings) -> list[str]:
    """The origins allowed to call the public API: ["*"], or the listed ones plus our own."""
    listed = [o.strip().rstrip("/") for o in settings.api_cors_origins.split(",") if o.strip()]
    if "*" in listed:
        return ["*"]
    return sorted(set(listed) | set(settings.allowed_origins)) if listed else []


class PublicApiCors:
    """ASGI middleware: CORS for the public booking API when API_CORS_ORIGINS is set.

    A preflight (OPTIONS with Access-Control-Request-Method) from an allowed origin is answered
    200 with GET and POST and the Content-Type header, cached 10 minutes; a GET or POST gets
    Access-Control-Allow-Origin. Access-Control-Allow-Credentials is removed from these
    responses (Reflex's own layer adds it). Other paths, and every path when the setting is
    empty, pass through untouched.
    """

    def __init__(self, app, settings: Settings | None = None):
        self.app = app
        self._settings = settings
        self._cors: tuple[list[str], CORSMiddleware] | None = None

    def _middleware(self) -> CORSMiddleware | None:
        origins = api_cors_origins(self._settings or get_settings())
        if not origins:
            return None
        if self._cors is None or self._cors[0] != origins:
            self._cors = (origins, CORSMiddleware(self.app, allow_origins=origins, allow_methods=["GET", "POST"],
                                                  allow_headers=["Content-Type"], allow_credentials=False,
                                                  max_age=600))
        return self._cors[1]

    async def __call__(self, scope, receive, send):
        cors = None
        if scope["type"] == "http" and PUBLIC_API.match(scope.get("path", "")):
            cors = self._middleware()
        if cors is None:
            return await self.app(scope, receive, send)

        async def without_credentials(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [(k, v) for k, v in message.get("headers", [])
                                                   if k.lower() != b"access-control-allow-credentials"]}
            await send(message)

        return await cors(scope, receive, without_credentials)
