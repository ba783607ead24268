"""POST /auth/invite: accept a staff invitation (the /invite page's form, or JSON).

Fields: `token` (the link's) and `new_password`. The account is made with the invited role
(identity actions.do_accept_invitation), then the answer is exactly that of a correct
password at /auth/login: the session cookie and /calendar, or the challenge cookie and
/login/enrol when the role needs two-factor (owner, manager, provider). A weak password
comes back to /invite?token=...&error=<code> (the link stays usable); a used, expired,
withdrawn or unknown link to /invite?error=invalid&reason=<reason> (JSON: 410 with the
message). Same-origin only, like every /auth route.
"""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from medspa.api.auth import NO_STORE, _client, _failure_message, _failure_query, _fields, _redirect, _refused, \
    _wants_json, login_answer
from medspa.api.security import origin_allowed
from medspa.api.v1 import get_clock, get_db_engine
from medspa.clock import Clock
from medspa.domain.identity.actions import InvitationInvalid, LoginFailed, WeakPassword, do_accept_invitation
from medspa.settings import get_settings
from medspa.web.auth import HOME_PATH, INVITE_PATH, LOGIN_PATH, WRONG, weak_code

router = APIRouter(prefix="/auth", include_in_schema=False)


@router.post("/invite")
async def invite_route(request: Request, engine=Depends(get_db_engine), clock: Clock = Depends(get_clock)) -> Response:
    """Accept an invitation with a new password, then sign in as at /auth/login."""
    if not origin_allowed(request.headers):
        return _refused()
    as_json = _wants_json(request)
    fields = await _fields(request)
    token = fields.get("token", "").strip()[:200]
    password = fields.get("new_password", "")[:2048]
    ip, agent = _client(request)
    try:
        result = await run_in_threadpool(partial(do_accept_invitation, token, password,
                                                 session_hours=get_settings().session_hours, ip=ip, user_agent=agent,
                                                 clock=clock, engine=engine))
    except InvitationInvalid as exc:
        if as_json:
            return JSONResponse({"error": exc.message, "reason": exc.reason}, status_code=410, headers=NO_STORE)
        return _redirect(INVITE_PATH, error="invalid", reason=exc.reason)
    except WeakPassword as exc:
        if as_json:
            return JSONResponse({"error": exc.message, "field": "new_password"}, status_code=422, headers=NO_STORE)
        return _redirect(INVITE_PATH, token=token, error=weak_code(exc.message))
    except LoginFailed as exc:  # the account exists now; only this sign-in was refused (e.g. network limit)
        if as_json:
            return JSONResponse({"error": _failure_message(exc, WRONG)}, status_code=429, headers=NO_STORE)
        return _redirect(LOGIN_PATH, **_failure_query(exc))
    return login_answer(request, result, HOME_PATH, as_json)
