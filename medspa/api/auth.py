"""Staff sign-in over HTTP: the only places the session cookie is written.

- POST /auth/login: email + password (identity actions.do_begin_login). No second factor: the session
  cookie. A TOTP code needed: the challenge goes into a 10-minute HttpOnly SameSite=Strict
  cookie (`medspa_challenge`) and the browser to /login/verify; two-factor set-up needed:
  the same cookie and /login/enrol (the page shows the QR code, medspa/features/auth/flows.py).
- POST /auth/verify: the code (6 digits or a recovery code) -> do_complete_login -> session.
- POST /auth/enrol: the first code -> do_confirm_enrolment -> session, and the answer is a
  one-time page listing the 10 recovery codes (never stored in clear, never shown again).
- POST /auth/forgot: queue a reset link (always the same answer: no account probing).
- POST /auth/reset: the reset link's token + a new password.
- POST /auth/logout.

The cookie is `medspa_session=<token>; Max-Age=...; Path=/; HttpOnly; SameSite=Strict` (plus
`Secure` when the app is served over https), so page JavaScript can never read it. The
browser sends it with the /_event websocket handshake, where the staff states read it
(medspa/features/auth/state.py).

Both routes accept a plain HTML form post (answer: 303 redirect) or JSON (answer: JSON), and
refuse (403) a request whose Origin (or, without one, Referer) is not one of our own origins:
no other site can sign a browser in or out.
"""

from __future__ import annotations

import html
from functools import partial
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from medspa.web.client_ip import client_ip
from medspa.api.security import origin_allowed
from medspa.api.v1 import get_clock, get_db_engine
from medspa.clock import Clock
from medspa.domain.errors import ValidationFailed
from medspa.domain.ratelimits import RateLimited
from medspa.domain.identity.actions import (
    CHALLENGE_TTL,
    AccountLocked,
    SlowedDown,
    TooManyAttempts,
    InvalidCode,
    LoginFailed,
    LoginResult,
    ResetLinkInvalid,
    SignedIn,
    WeakPassword,
    do_begin_login,
    do_complete_login,
    do_confirm_enrolment,
    do_logout,
    do_request_password_reset,
    do_reset_password,
    fetch_challenge_alive,
)
from medspa.web.auth import (
    CHALLENGE_COOKIE,
    ENROL_PATH,
    EXPIRED,
    FORGOT_PATH,
    FORGOT_SENT,
    LOGIN_EMAIL_COOKIE,
    LOGIN_PATH,
    MISSING,
    RESET_INVALID,
    RESET_PATH,
    SESSION_COOKIE,
    STAFF_ROLES,
    VERIFY_PATH,
    WRONG,
    WRONG_CODE,
    cookie_value,
    locked_message,
    home_for,
    safe_next,
    session_token_from_cookies,
    wait_message,
    weak_code,
)
from medspa.settings import get_settings

router = APIRouter(prefix="/auth", include_in_schema=False)

NO_STORE = {"cache-control": "no-store"}


def _wants_json(request: Request) -> bool:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/json":
        return True
    if ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return False
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


FIELDS = ("email", "password", "next", "code", "token", "new_password")


async def _fields(request: Request) -> dict[str, str]:
    """The known string fields (FIELDS) of a JSON body or a form; anything else counts as empty."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    data: object = {}
    try:
        if ctype == "application/json":
            data = await request.json()
        elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            data = dict(await request.form(max_files=0, max_fields=20))
    except Exception:  # noqa: BLE001 - a malformed body is just an empty one
        data = {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if k in FIELDS and isinstance(v, str)}


def _secure(request: Request) -> bool:
    return get_settings().https or request.url.scheme == "https"


def _cookie(name: str, value: str, *, max_age: int, secure: bool) -> str:
    out = f"{name}={value}; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Strict"
    return out + ("; Secure" if secure else "")


def session_cookie(token: str, *, max_age: int, secure: bool) -> str:
    """The Set-Cookie value of the session (an empty token with max_age 0 clears it)."""
    return _cookie(SESSION_COOKIE, token, max_age=max_age, secure=secure)


def _refused() -> JSONResponse:
    return JSONResponse({"error": "cross_origin", "message": "Request refused: not from this site"},
                        status_code=403, headers=NO_STORE)


def _client(request: Request) -> tuple[str, str]:
    ip = client_ip(request.client.host if request.client else "", request.headers)
    return ip, request.headers.get("user-agent", "")[:200]


def _redirect(path: str, **query: str | int) -> RedirectResponse:
    url = f"{path}?{urlencode(query, safe='/')}" if query else path
    return RedirectResponse(url, status_code=303, headers=NO_STORE)


def _clear(response: Response, request: Request, *names: str) -> None:
    cookies = request.headers.get("cookie", "")
    for name in names:
        if name in cookies:
            response.headers.append("set-cookie", _cookie(name, "", max_age=0, secure=_secure(request)))


def _signed_in(request: Request, response: Response, signed: SignedIn) -> Response:
    """Set the session cookie on `response`; clear the sign-in helper cookies."""
    settings = get_settings()
    response.headers.append("set-cookie", session_cookie(signed.token, max_age=settings.session_hours * 3600,
                                                         secure=_secure(request)))
    _clear(response, request, LOGIN_EMAIL_COOKIE, CHALLENGE_COOKIE)
    return response


def _failure_query(exc: LoginFailed) -> dict[str, str | int]:
    """The ?error=...&wait=N of a failed attempt (AccountLocked: "locked")."""
    if isinstance(exc, AccountLocked):
        return {"error": "locked", "wait": exc.retry_after}
    if isinstance(exc, TooManyAttempts):
        return {"error": "limited", "wait": exc.retry_after}
    if isinstance(exc, SlowedDown):
        return {"error": "wait", "wait": exc.retry_after}
    return {"error": "1", "wait": exc.retry_after} if exc.retry_after else {"error": "1"}


def _failure_message(exc: LoginFailed, base: str) -> str:
    if isinstance(exc, AccountLocked):
        return locked_message(exc.retry_after)
    if isinstance(exc, TooManyAttempts):
        return exc.message
    if isinstance(exc, SlowedDown):  # not checked: the password may be right
        return wait_message(exc.retry_after)
    return f"{base}. {wait_message(exc.retry_after)}" if exc.retry_after else base


@router.post("/login")
async def login_route(request: Request, engine=Depends(get_db_engine), clock: Clock = Depends(get_clock)) -> Response:
    """Sign in, first step: the session cookie (no second factor), or the challenge cookie and
    /login/verify (TOTP code) or /login/enrol (two-factor set-up). `next`: local paths only."""
    if not origin_allowed(request.headers):
        return _refused()
    as_json = _wants_json(request)
    fields = await _fields(request)
    email = fields.get("email", "").strip()[:254]
    password = fields.get("password", "")[:1024]
    next_path = safe_next(fields.get("next"))

    def failed(message: str, query: dict, status: int = 401, retry_after: int = 0) -> Response:
        if as_json:
            body = {"error": message, **({"retry_after": retry_after} if retry_after else {})}
            wait = {"Retry-After": str(retry_after)} if status == 429 else {}
            return JSONResponse(body, status_code=status, headers={**NO_STORE, **wait})
        response = _redirect(LOGIN_PATH, next=next_path, **query)
        if email:  # the form comes back with the email filled in (read on the server, never in the URL)
            response.headers.append("set-cookie", _cookie(LOGIN_EMAIL_COOKIE, quote(email, safe="@"), max_age=600,
                                                          secure=_secure(request)))
        return response

    if not email or not password:
        return failed(MISSING, {"error": "missing"}, status=422)
    ip, agent = _client(request)
    settings = get_settings()
    try:
        result = await run_in_threadpool(partial(do_begin_login, email, password, session_hours=settings.session_hours,
                                                 ip=ip, user_agent=agent, clock=clock, engine=engine))
    except LoginFailed as exc:
        return failed(_failure_message(exc, WRONG), _failure_query(exc),
                      status=423 if isinstance(exc, AccountLocked)
                      else 429 if isinstance(exc, (TooManyAttempts, SlowedDown)) else 401, retry_after=exc.retry_after)
    if result.signed_in is not None and result.signed_in.actor.role not in STAFF_ROLES:
        await run_in_threadpool(partial(do_logout, result.signed_in.token, clock=clock, engine=engine))
        return failed(WRONG, {"error": "1"})
    return login_answer(request, result, next_path, as_json)


def login_answer(request: Request, result: LoginResult, next_path: str, as_json: bool) -> Response:
    """The answer to a correct password (/auth/login, /auth/invite): the session cookie and
    `next_path`, or the challenge cookie and the second step's page (/login/verify for a
    code, /login/enrol for the two-factor set-up the account needs). JSON when `as_json`."""
    if result.signed_in is None:  # a second step: keep the challenge out of JavaScript's reach
        step = VERIFY_PATH if result.status == "totp_required" else ENROL_PATH
        if as_json:
            response: Response = JSONResponse({"status": result.status, "next": f"{step}?next={quote(next_path)}"},
                                              headers=NO_STORE)
        else:
            response = _redirect(step, next=next_path)
        response.headers.append("set-cookie", _cookie(CHALLENGE_COOKIE, result.challenge or "",
                                                      max_age=int(CHALLENGE_TTL.total_seconds()),
                                                      secure=_secure(request)))
        _clear(response, request, LOGIN_EMAIL_COOKIE)
        return response
    signed = result.signed_in
    next_path = home_for(signed.actor.role, next_path)
    if as_json:
        response = JSONResponse({"next": next_path, "name": signed.display_name, "role": signed.actor.role},
                                headers=NO_STORE)
    else:
        response = RedirectResponse(next_path, status_code=303, headers=NO_STORE)
    return _signed_in(request, response, signed)


def _challenge_of(request: Request) -> str:
    value = cookie_value(request.headers.get("cookie"), CHALLENGE_COOKIE)
    return value if 0 < len(value) <= 200 else ""


async def _second_step(request: Request, step_path: str, call, engine, clock: Clock) -> Response | tuple:
    """Shared by /auth/verify and /auth/enrol: run `call(challenge, code, ip, agent)`; map the
    failures to redirects (or JSON). Returns (value of call, next path, as_json) on success."""
    as_json = _wants_json(request)
    fields = await _fields(request)
    next_path = safe_next(fields.get("next"))
    code = fields.get("code", "").strip()[:40]
    challenge = _challenge_of(request)

    def restart(query: dict, message: str, status: int) -> Response:
        response = (JSONResponse({"error": message}, status_code=status, headers=NO_STORE) if as_json
                    else _redirect(LOGIN_PATH, next=next_path, **query))
        _clear(response, request, CHALLENGE_COOKIE)
        return response

    if not challenge:
        return restart({"error": "expired"}, EXPIRED, 401)
    if not code:
        if as_json:
            return JSONResponse({"error": WRONG_CODE}, status_code=422, headers=NO_STORE)
        return _redirect(step_path, next=next_path, error="code")
    ip, agent = _client(request)
    try:
        value = await run_in_threadpool(call, challenge, code, ip, agent)
    except AccountLocked as exc:
        return restart(_failure_query(exc), locked_message(exc.retry_after), 423)
    except InvalidCode as exc:
        if exc.args and exc.args[0] == "" and not exc.retry_after and not await run_in_threadpool(
                partial(fetch_challenge_alive, challenge, clock=clock, engine=engine)):
            return restart({"error": "expired"}, EXPIRED, 401)
        if as_json:
            body = {"error": _failure_message(exc, WRONG_CODE), **({"retry_after": exc.retry_after}
                                                                   if exc.retry_after else {})}
            return JSONResponse(body, status_code=401, headers=NO_STORE)
        query = {"error": "code", **({"wait": exc.retry_after} if exc.retry_after else {})}
        return _redirect(step_path, next=next_path, **query)
    except ValidationFailed:  # e.g. enrolment confirmed without a started set-up
        return restart({"error": "expired"}, EXPIRED, 401)
    except LoginFailed as exc:  # the enforced slow-down: this attempt was not even checked
        if as_json:
            return JSONResponse({"error": wait_message(exc.retry_after), "retry_after": exc.retry_after},
                                status_code=429, headers=NO_STORE)
        return _redirect(step_path, next=next_path, error="wait", wait=max(1, exc.retry_after))
    return value, next_path, as_json


@router.post("/verify")
async def verify_route(request: Request, engine=Depends(get_db_engine), clock: Clock = Depends(get_clock)) -> Response:
    """Sign in, second step: a 6-digit code or a recovery code for the challenge cookie."""
    if not origin_allowed(request.headers):
        return _refused()
    settings = get_settings()

    def call(challenge: str, code: str, ip: str, agent: str) -> SignedIn:
        return do_complete_login(challenge, code, session_hours=settings.session_hours, ip=ip, user_agent=agent,
                                 clock=clock, engine=engine)

    out = await _second_step(request, VERIFY_PATH, call, engine, clock)
    if isinstance(out, Response):
        return out
    signed, next_path, as_json = out
    next_path = home_for(signed.actor.role, next_path)
    if as_json:
        response: Response = JSONResponse({"next": next_path, "name": signed.display_name,
                                           "role": signed.actor.role}, headers=NO_STORE)
    else:
        response = RedirectResponse(next_path, status_code=303, headers=NO_STORE)
    return _signed_in(request, response, signed)


@router.post("/enrol")
async def enrol_route(request: Request, engine=Depends(get_db_engine), clock: Clock = Depends(get_clock)) -> Response:
    """Two-factor set-up forced at sign-in, last step: the first code confirms it and signs in;
    the answer is the one-time page with the 10 recovery codes."""
    if not origin_allowed(request.headers):
        return _refused()
    settings = get_settings()

    def call(challenge: str, code: str, ip: str, agent: str):
        return do_confirm_enrolment(challenge, code, session_hours=settings.session_hours, ip=ip, user_agent=agent,
                                    clock=clock, engine=engine)

    out = await _second_step(request, ENROL_PATH, call, engine, clock)
    if isinstance(out, Response):
        return out
    enrolled, next_path, as_json = out
    next_path = home_for(enrolled.signed_in.actor.role, next_path)
    if as_json:
        response: Response = JSONResponse({"next": next_path, "name": enrolled.signed_in.display_name,
                                           "role": enrolled.signed_in.actor.role,
                                           "recovery_codes": enrolled.recovery_codes}, headers=NO_STORE)
    else:
        response = HTMLResponse(recovery_codes_page(enrolled.recovery_codes, next_path), headers=NO_STORE)
    return _signed_in(request, response, enrolled.signed_in)


# the Lucide "flower-2" icon the other sign-in pages show in their teal tile (features/auth/components.auth_frame)
_FLOWER_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="22" height="22" viewBox="0 0 24 24" fill="none" '
               'stroke="white" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">'
               '<path d="M12 5a3 3 0 1 1 3 3m-3-3a3 3 0 1 0-3 3m3-3v1M9 8a3 3 0 1 0 3 3M9 8h1m5 0a3 3 0 1 1-3 3m3-3h-1'
               'm-2 3v-1"/><circle cx="12" cy="8" r="2"/><path d="M12 10v12"/>'
               '<path d="M12 22c4.2 0 7-1.667 7-5-4.2 0-7 1.667-7 5Z"/><path d="M12 22c-4.2 0-7-1.667-7-5 4.2 0 7 1.667 7 5Z"/>'
               '</svg>')


def recovery_codes_page(codes: list[str], next_path: str) -> str:
    """The one-time page after a forced enrolment: the recovery codes and a Continue link,
    under the same "medspa" brand and footer as the other sign-in pages. Plain HTML (no
    script), styled inline; it is the answer of the POST, so a reload cannot show the codes
    again."""
    items = "".join(f'<li><code class="recovery-code">{html.escape(c)}</code></li>' for c in codes)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Save your recovery codes · medspa</title>
<style>
body{{margin:0;min-height:100vh;display:flex;flex-direction:column;align-items:center;justify-content:center;
gap:20px;padding:1em;box-sizing:border-box;
font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1c2024;
background:radial-gradient(circle at 20% 0%,#e0f8f3 0%,#f9f9fb 55%)}}
header{{display:flex;align-items:center;gap:8px;font-size:20px;font-weight:700}}
.logo{{display:flex;align-items:center;justify-content:center;width:38px;height:38px;border-radius:10px;
background:#12a594}}
main{{background:#fff;border-radius:14px;box-shadow:0 10px 30px #0001,0 0 0 1px #0000000f;padding:32px;
max-width:30em;width:100%;box-sizing:border-box}}
footer{{font-size:12px;color:#80838d;text-align:center}}
h1{{font-size:24px;margin:0 0 8px}} p{{color:#60646c;font-size:14px;line-height:1.5;margin:0 0 12px}}
.warn{{background:#fff7c2;color:#4f3422;border-radius:8px;padding:10px 12px;font-size:14px}}
ol{{columns:2;padding-left:1.6em;margin:16px 0 20px;font-size:15px;line-height:2}}
code{{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;background:#f0f0f3;border-radius:4px;padding:2px 6px}}
a.button{{display:block;text-align:center;background:#12a594;color:#fff;text-decoration:none;border-radius:8px;
padding:12px;font-weight:600}}
</style></head>
<body><header id="auth-brand"><span class="logo">{_FLOWER_SVG}</span>medspa</header>
<main id="recovery-codes-page">
<h1>Two-factor sign-in is on</h1>
<p class="warn"><strong>Save these now.</strong> Each recovery code signs you in once if you lose your phone.
They are shown only this one time.</p>
<ol id="recovery-codes">{items}</ol>
<p>Keep them somewhere safe (a password manager or printed). You can make new ones under Account.</p>
<a class="button" id="recovery-continue" href="{html.escape(next_path, quote=True)}">Continue</a>
</main>
<footer>Sessions end after a period of inactivity.</footer></body></html>"""


@router.post("/forgot")
async def forgot_route(request: Request, engine=Depends(get_db_engine), clock: Clock = Depends(get_clock)) -> Response:
    """Queue a reset link for a known, active account; the answer is the same either way."""
    if not origin_allowed(request.headers):
        return _refused()
    fields = await _fields(request)
    email = fields.get("email", "").strip()[:254]
    if email:
        ip, agent = _client(request)
        try:
            await run_in_threadpool(partial(do_request_password_reset, email, base_url=get_settings().base_url, ip=ip,
                                            user_agent=agent, clock=clock, engine=engine))
        except RateLimited as exc:  # per network only: the answer for one address never differs
            if _wants_json(request):
                return JSONResponse({"error": "rate_limited", "message": exc.message, "retry_after": exc.retry_after},
                                    status_code=429, headers={**NO_STORE, "Retry-After": str(exc.retry_after)})
            return _redirect(FORGOT_PATH, wait=exc.retry_after)
    if _wants_json(request):
        return JSONResponse({"message": FORGOT_SENT}, headers=NO_STORE)
    return _redirect(FORGOT_PATH, sent="1")


@router.post("/reset")
async def reset_route(request: Request, engine=Depends(get_db_engine), clock: Clock = Depends(get_clock)) -> Response:
    """Set a new password with a reset link's token; then sign in again."""
    if not origin_allowed(request.headers):
        return _refused()
    as_json = _wants_json(request)
    fields = await _fields(request)
    token = fields.get("token", "").strip()[:200]
    password = fields.get("new_password", "")[:2048]
    ip, agent = _client(request)
    try:
        await run_in_threadpool(partial(do_reset_password, token, password, ip=ip, user_agent=agent, clock=clock,
                                        engine=engine))
    except ResetLinkInvalid:
        if as_json:
            return JSONResponse({"error": RESET_INVALID}, status_code=410, headers=NO_STORE)
        return _redirect(RESET_PATH, error="invalid")
    except WeakPassword as exc:
        if as_json:
            return JSONResponse({"error": exc.message, "field": "new_password"}, status_code=422, headers=NO_STORE)
        return _redirect(RESET_PATH, token=token, error=weak_code(exc.message))
    if as_json:
        return JSONResponse({"reset": True, "next": LOGIN_PATH}, headers=NO_STORE)
    return _redirect(LOGIN_PATH, error="reset")


@router.post("/logout")
async def logout_route(request: Request, engine=Depends(get_db_engine), clock: Clock = Depends(get_clock)) -> Response:
    """Sign out: revoke the session on the server and clear the cookie."""
    if not origin_allowed(request.headers):
        return _refused()
    token = session_token_from_cookies(request.headers.get("cookie"))
    if token:
        await run_in_threadpool(partial(do_logout, token, clock=clock, engine=engine))
    if _wants_json(request):
        response: Response = JSONResponse({"signed_out": True}, headers=NO_STORE)
    else:
        response = RedirectResponse(LOGIN_PATH, status_code=303, headers=NO_STORE)
    response.headers.append("set-cookie", session_cookie("", max_age=0, secure=_secure(request)))
    return response
