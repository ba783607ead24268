"""A real SMTP server (aiosmtpd) on a free local port for the delivery tests."""

from __future__ import annotations

import socket
from contextlib import contextmanager
from typing import Iterator

from aiosmtpd.controller import Controller


@contextmanager
def smtp_server_for(handler) -> Iterator[Controller]:
    """An aiosmtpd Controller serving `handler` on 127.0.0.1 at a free port, stopped after the
    block (Controller(port=0) does not work: start() connects to the port it was given)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()
