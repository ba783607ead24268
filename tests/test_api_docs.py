"""The API's interactive docs (/api/v1/docs): Swagger UI served from this app, under the strict
Content-Security-Policy (no CDN, no inline script)."""

from __future__ import annotations

import re
from importlib.resources import files

from fastapi.testclient import TestClient

from medspa.api.app import api
from medspa.api.security import SecurityHeaders
from medspa.settings import Settings

SETTINGS = Settings(port=3000, public_base_url="", stripe_secret_key="", stripe_publishable_key="")


def docs_client() -> TestClient:
    """The API with its security headers, settings fixed whatever the environment says."""
    return TestClient(SecurityHeaders(api, settings=SETTINGS))


def test_docs_page_and_its_assets_come_from_this_server_under_a_strict_policy():
    client = docs_client()
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    sources = re.findall(r'<(?:script|link rel="stylesheet")[^>]+(?:src|href)="([^"]+)"', page.text)
    assert '<link rel="icon" href="data:,">' in page.text  # no /favicon.ico 404 in the console
    assert sources == ["/api/v1/docs/swagger-ui.css", "/api/v1/docs/swagger-ui-bundle.js", "/api/v1/docs/start.js"]
    assert re.search(r"<script>", page.text) is None  # no inline script: the CSP would block it
    kinds = {}
    for src in sources:
        r = client.get(src)
        assert r.status_code == 200, src
        kinds[src.rsplit("/", 1)[1]] = r.headers["content-type"].split(";")[0]
        assert r.headers["x-content-type-options"] == "nosniff"
    assert kinds == {"swagger-ui.css": "text/css", "swagger-ui-bundle.js": "text/javascript",
                     "start.js": "text/javascript"}
    bundled = (files("fastapi_offline") / "static" / "swagger-ui-bundle.js").read_bytes()
    assert client.get("/api/v1/docs/swagger-ui-bundle.js").content == bundled  # the pip package's file
    assert b"SwaggerUIBundle" in bundled and len(bundled) > 500_000
    assert '"/api/v1/openapi.json"' in client.get("/api/v1/docs/start.js").text
    csp = dict(d.strip().split(" ", 1) for d in page.headers["content-security-policy"].split(";"))
    # the build's own inline scripts by hash (when a build exists), nothing from another host
    assert {s for s in csp["script-src"].split() if not s.startswith("'sha256-")} == {"'self'", "'unsafe-eval'"}
    assert csp["style-src"] == "'self' 'unsafe-inline'" and csp["default-src"] == "'self'"
    for cdn in ("cdn", "jsdelivr", "unpkg", "cloudflare", "https:"):
        assert cdn not in page.headers["content-security-policy"]


def test_only_the_docs_files_are_served():
    client = docs_client()
    for name in ("redoc.standalone.js", "..%2Fstatic%2Fswagger-ui.css", "favicon.png", "swagger-ui.js"):
        assert client.get(f"/api/v1/docs/{name}").status_code == 404, name
