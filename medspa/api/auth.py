"""POST /auth/login and POST /auth/logout: the only places the session cookie is written.

The cookie is `medspa_session=<token>; Max-Age=...; Path=/; HttpOnly; SameSite=Strict` (plus
`Secure` when the app is served over https), so page JavaScript can never read it. The
browser sends it with the /_event websocket handshake, where the staff states read it
(medspa/features/auth/state.py).

Both routes accept a plain HTML form post (answer: 303 redirect) or JSON (answer: JSON), and
refuse (403) a request whose Origin (or, without one, Referer) is not one of our own origins:
no other site can sign a browser in or out.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from medspa.api.security import LOGIN_EMAIL_COOKIE, SESSION_COOKIE, origin_allowed, session_token_from_cookies
from medspa.api.v1 import get_clock, get_db_engine
from medspa.clock import Clock
from medspa.domain.identity.service import LoginFailed, login, logout
from medspa.features.auth.common import LOGIN_PATH, MISSING, STAFF_ROLES, WRONG, safe_next
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


async def _fields(request: Request) -> dict[str, str]:
    """email/password/next from a JSON body or a form; anything else counts as empty."""
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
    return {k: v for k, v in data.items() if k in ("email", "password", "next") and isinstance(v, str)}


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
    ip = request.client.host if request.client else ""
    return ip, request.headers.get("user-agent", "")[:200]


@router.post("/login")
async def login_route(request: Request, engine=Depends(get_db_engine), clock: Clock = Depends(get_clock)) -> Response:
    """Sign in: on success set the HttpOnly session cookie and go on to `next` (local paths only)."""
    if not origin_allowed(request.headers):
        return _refused()
    as_json = _wants_json(request)
    fields = await _fields(request)
    email = fields.get("email", "").strip()[:254]
    password = fields.get("password", "")[:1024]
    next_path = safe_next(fields.get("next"))

    def failed(message: str, code: str) -> Response:
        if as_json:
            return JSONResponse({"error": message}, status_code=401 if code == "1" else 422, headers=NO_STORE)
        response = RedirectResponse(f"{LOGIN_PATH}?next={quote(next_path, safe='/')}&error={code}",
                                    status_code=303, headers=NO_STORE)
        if email:  # the form comes back with the email filled in (read on the server, never in the URL)
            response.headers.append("set-cookie", _cookie(LOGIN_EMAIL_COOKIE, quote(email, safe="@"), max_age=600,
                                                          secure=_secure(request)))
        return response

    if not email or not password:
        return failed(MISSING, "missing")
    ip, agent = _client(request)
    settings = get_settings()
    try:
        signed = await run_in_threadpool(login, engine, email, password, now=clock.now(),
                                         session_hours=settings.session_hours, ip=ip, user_agent=agent)
    except LoginFailed:
        return failed(WRONG, "1")
    if signed.actor.role not in STAFF_ROLES:
        await run_in_threadpool(logout, engine, signed.token, now=clock.now())
        return failed(WRONG, "1")
    if as_json:
        response: Response = JSONResponse({"next": next_path, "name": signed.display_name,
                                           "role": signed.actor.role}, headers=NO_STORE)
    else:
        response = RedirectResponse(next_path, status_code=303, headers=NO_STORE)
    response.headers.append("set-cookie", session_cookie(signed.token, max_age=settings.session_hours * 3600,
                                                         secure=_secure(request)))
    if LOGIN_EMAIL_COOKIE in request.headers.get("cookie", ""):
        response.headers.append("set-cookie", _cookie(LOGIN_EMAIL_COOKIE, "", max_age=0, secure=_secure(request)))
    return response


@router.post("/logout")
async def logout_route(request: Request, engine=Depends(get_db_engine), clock: Clock = Depends(get_clock)) -> Response:
    """Sign out: revoke the session on the server and clear the cookie."""
    if not origin_allowed(request.headers):
        return _refused()
    token = session_token_from_cookies(request.headers.get("cookie"))
    if token:
        await run_in_threadpool(logout, engine, token, now=clock.now())
    if _wants_json(request):
        response: Response = JSONResponse({"signed_out": True}, headers=NO_STORE)
    else:
        response = RedirectResponse(LOGIN_PATH, status_code=303, headers=NO_STORE)
    response.headers.append("set-cookie", session_cookie("", max_age=0, secure=_secure(request)))
    return response
