"""The client's IP address of an HTTP request, the same way Reflex derives the pages'
`router.session.client_ip`: the socket's peer, or, behind Settings.trusted_proxy_hops reverse
proxies, the address the outermost trusted proxy appended to X-Forwarded-For (entries a client
writes itself sit further left and are ignored). Abuse limits and the audit trail use it."""

from __future__ import annotations

from collections.abc import Mapping

from medspa.settings import get_settings


def client_ip(peer: str, headers: Mapping[str, str], trusted_proxy_hops: int | None = None) -> str:
    """peer: the socket's address ("" when unknown); headers: the request's (case-insensitive
    mapping, e.g. Starlette's). trusted_proxy_hops: default Settings.trusted_proxy_hops.
    Several X-Forwarded-For lines (a proxy such as HAProxy adds its own line after the
    client's) are read as one list in order (RFC 9110 5.3), not just the first line."""
    hops = get_settings().trusted_proxy_hops if trusted_proxy_hops is None else trusted_proxy_hops
    if hops <= 0:
        return peer
    getlist = getattr(headers, "getlist", None)
    lines = getlist("x-forwarded-for") if getlist else [headers.get("x-forwarded-for") or ""]
    forwarded = [ip.strip() for ip in ",".join(lines).split(",") if ip.strip()]
    return forwarded[-hops] if len(forwarded) >= hops else peer
