"""Reflex configuration (Reflex 0.10.1).

Values come from medspa.settings (the one place that reads the environment); Reflex itself
only reads REFLEX_* variables, which `medspa serve` exports for it (see medspa/cli.py).

Deliberately NOT here: the database URL. With `db_url` set and an alembic.ini present,
`reflex run` would run its own Alembic check; migrations are ours (medspa.migrate).
"""

import reflex as rx

from medspa.settings import get_settings

_settings = get_settings()

# Same origin only: the page, the /_event websocket and /api all live on one port.
# localhost and 127.0.0.1 are the same machine but different origins for a browser.
# The socket.io server refuses a /_event handshake from any other Origin (400).
_origins = list(_settings.allowed_origins)

_extra: dict = {}
if _settings.public_base_url:
    # the prod build bakes the backend URL into the bundle: behind a proxy it is the public one
    _extra["api_url"] = _settings.base_url
    _extra["deploy_url"] = _settings.base_url

config = rx.Config(
    app_name="medspa",  # app module: medspa/medspa.py
    telemetry_enabled=False,
    show_built_with_reflex=False,
    frontend_port=_settings.port,
    backend_port=_settings.port,
    # Reflex reads only REFLEX_REDIS_URL from the environment; pass REDIS_URL on ourselves.
    redis_url=_settings.redis_url or None,
    cors_allowed_origins=_origins,
    trusted_proxy_hops=_settings.trusted_proxy_hops,  # the pages' client_ip, as medspa.web.client_ip
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(accent_color="teal", gray_color="sand", radius="large", appearance="light")
        ),
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
    **_extra,
)
