"""The public unsubscribe page of marketing emails, `/u/{token}` (no sign-in: the signed token is
the key; messaging.unsubscribe_actions).

GET shows the clinic and a confirm button and changes nothing (mail scanners and link
previews fetch every link); POST unsubscribes: the page's button, or a mail provider's RFC 8058
one-click POST (body `List-Unsubscribe=One-Click`, no Origin, no cookies). A bad token is a
friendly 404 page. Plain server-rendered HTML (no script), never cached.
"""

from __future__ import annotations

import html
from functools import partial

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from medspa.api.v1 import get_clock, get_db_engine
from medspa.clock import Clock
from medspa.domain.errors import NotFound
from medspa.domain.messaging.unsubscribe import PATH
from medspa.domain.messaging.unsubscribe_actions import UnsubscribeView, do_unsubscribe, fetch_unsubscribe
from medspa.web.client_ip import client_ip

router = APIRouter(include_in_schema=False)
HEADERS = {"cache-control": "private, no-store", "referrer-policy": "no-referrer", "x-robots-tag": "noindex"}
FORM_LIMIT = 4096

STYLE = """
body{margin:0;background:#f6f5f3;font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
color:#1f2328}
main{max-width:440px;margin:12vh auto;background:#fff;border:1px solid #e6e2dc;border-radius:14px;padding:32px 32px 28px;
box-shadow:0 8px 24px rgba(0,0,0,.06)}
.clinic{font-size:13px;letter-spacing:.06em;text-transform:uppercase;color:#8a6f5a;margin:0 0 10px}
h1{font-size:22px;margin:0 0 12px;line-height:1.3}
p{font-size:15px;line-height:1.55;margin:0 0 14px;color:#454b52}
button{font:inherit;font-size:15px;font-weight:600;background:#7a4e3a;color:#fff;border:0;border-radius:8px;
padding:11px 20px;cursor:pointer}
button:hover{background:#653f2e}
.done{color:#1a7f37;font-weight:600}
@media (max-width:480px){main{margin:8vh 12px;padding:26px 22px 22px}}
"""


def _page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    document = (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
                f'<meta name="viewport" content="width=device-width, initial-scale=1">'
                f'<meta name="robots" content="noindex"><title>{html.escape(title)}</title>'
                f'<style>{STYLE}</style></head><body><main>{body}</main></body></html>')
    return HTMLResponse(document, status_code=status_code, headers=HEADERS)


def _what(channel: str) -> str:
    return "text messages" if channel == "sms" else "emails"


def _not_found() -> HTMLResponse:
    return _page("Link not recognised", '<h1 id="unsubscribe-invalid">This link is not valid</h1>'
                 "<p>It may have been copied incompletely. Open the link from the email again, or ask the "
                 "clinic to take you off its list.</p>", 404)


def _confirm(token: str, view: UnsubscribeView) -> HTMLResponse:
    clinic = html.escape(view.clinic_name or "The clinic")
    what = _what(view.channel)
    if not view.subscribed:
        return _done(view, already=True)
    return _page(f"Unsubscribe from {view.clinic_name}", (
        f'<p class="clinic">{clinic}</p><h1>Stop marketing {what}?</h1>'
        f"<p>You will no longer receive offers and news from {clinic} by {'text' if view.channel == 'sms' else 'email'}. "
        "Messages about your appointments (confirmations, reminders, receipts) still reach you.</p>"
        f'<form method="post" action="{PATH}{html.escape(token)}"><input type="hidden" name="confirm" value="1">'
        f'<button type="submit" id="unsubscribe-confirm">Unsubscribe</button></form>'))


def _done(view: UnsubscribeView, *, already: bool = False) -> HTMLResponse:
    clinic = html.escape(view.clinic_name or "the clinic")
    what = _what(view.channel)
    headline = "You are not subscribed" if already else "You are unsubscribed"
    return _page(headline, (
        f'<p class="clinic">{clinic}</p><h1 id="unsubscribe-done">{headline}</h1>'
        f'<p class="done">{clinic} will send you no more marketing {what}.</p>'
        "<p>Messages about your appointments still reach you. Changed your mind? Ask the clinic at your next "
        f"visit, or turn offers back on in {_portal_link(view)}.</p>"))


def _portal_link(view: UnsubscribeView) -> str:
    if not view.portal_url:
        return "your client portal"
    return f'<a href="{html.escape(view.portal_url)}" id="unsubscribe-portal">your client portal</a>'



@router.get(PATH + "{token}")
async def unsubscribe_page(token: str, engine=Depends(get_db_engine)) -> HTMLResponse:
    """The confirm page of `token` (no change), or the friendly 404."""
    try:
        view = await run_in_threadpool(partial(fetch_unsubscribe, token[:200], engine=engine))
    except NotFound:
        return _not_found()
    return _confirm(token, view)


@router.post(PATH + "{token}")
async def unsubscribe_post(token: str, request: Request, engine=Depends(get_db_engine),
                           clock: Clock = Depends(get_clock)) -> HTMLResponse:
    """Unsubscribe (the page's button or RFC 8058 one-click), then the done page; 404 page for a bad token."""
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > FORM_LIMIT:
            break
    one_click = b"List-Unsubscribe=One-Click" in raw[:FORM_LIMIT]
    ip = client_ip(request.client.host if request.client else "", request.headers)
    try:
        view = await run_in_threadpool(partial(do_unsubscribe, token[:200], one_click=one_click, ip=ip,
                                               user_agent=request.headers.get("user-agent", "")[:200], clock=clock,
                                               engine=engine))
    except NotFound:
        return _not_found()
    return _done(view)
