"""The API's interactive docs (Swagger UI) at /api/v1/docs, served from this app.

FastAPI's own docs page loads Swagger UI from a CDN and starts it with an inline script:
these machines reach no CDN, and the app's Content-Security-Policy allows neither (scripts
from 'self' or by hash only). So the page, its script and its stylesheet come from the
`fastapi-offline` package (Swagger UI 5, which reads OpenAPI 3.1), and the start-up call is
a file of its own.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

router = APIRouter(include_in_schema=False)

SWAGGER_UI = files("fastapi_offline") / "static"
_ASSETS = {"swagger-ui.css": "text/css", "swagger-ui-bundle.js": "text/javascript"}


def docs_page(prefix: str) -> str:
    """The HTML of the docs page for the API mounted at `prefix` (e.g. "/api/v1")."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>medspa API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{prefix}/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="{prefix}/docs/swagger-ui-bundle.js"></script>
<script src="{prefix}/docs/start.js"></script></body></html>"""


def install(prefix: str, openapi_url: str) -> APIRouter:
    """Add GET {prefix}/docs and its three files to the router; returns it."""

    @router.get(f"{prefix}/docs")
    def docs() -> HTMLResponse:
        return HTMLResponse(docs_page(prefix))

    @router.get(f"{prefix}/docs/start.js")
    def start() -> Response:
        script = f'window.ui = SwaggerUIBundle({{url: "{openapi_url}", dom_id: "#swagger-ui"}});\n'
        return Response(script, media_type="text/javascript")

    @router.get(f"{prefix}/docs/{{name}}")
    def asset(name: str) -> Response:
        if name not in _ASSETS:
            return Response(status_code=404)
        return FileResponse(str(SWAGGER_UI / name), media_type=_ASSETS[name],
                            headers={"Cache-Control": "public, max-age=86400"})

    return router
