"""Serve a prerendered page at its own URL: `/calendar` gets calendar/index.html directly.

Reflex's prod server serves the build with Starlette's StaticFiles, which answers `/calendar`
with a redirect to `/calendar/`. Client-side navigation never asks the server, but the
sign-in and sign-out form POSTs redirect (303) to a page, and bookmarks and reloads do too:
without this they would all land on `/calendar/`, `/login/`. A GET/HEAD of a path with no
trailing slash and no file extension whose directory holds an index.html is handed on as
`path/`, so the file is served and the address stays as it was.
"""

from __future__ import annotations

from pathlib import Path

_NOT_PAGES = ("/api/", "/auth/", "/_event", "/_upload", "/ping", "/assets/", "/u/")


class PageIndex:
    """ASGI middleware (see the module docstring)."""

    def __init__(self, app, static_dir: Path | None = None):
        self.app = app
        self._static_dir = static_dir

    def _dir(self) -> Path | None:
        if self._static_dir is not None:
            return self._static_dir
        from medspa.api.security import _default_static_dir

        return _default_static_dir()

    def _is_page_dir(self, path: str) -> bool:
        if not path.startswith("/") or path.endswith("/") or path.startswith(_NOT_PAGES) or ".." in path:
            return False
        last = path.rsplit("/", 1)[-1]
        if not last or "." in last or len(path) > 300:
            return False
        static_dir = self._dir()
        if static_dir is None:
            return False
        try:
            return (static_dir / path.lstrip("/") / "index.html").is_file()
        except (OSError, ValueError):
            return False

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope.get("method") in ("GET", "HEAD"):
            path = scope.get("path", "")
            if self._is_page_dir(path):
                scope = {**scope, "path": path + "/", "raw_path": (path + "/").encode()}
        return await self.app(scope, receive, send)
