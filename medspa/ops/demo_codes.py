"""`medspa demo-code`: the current two-factor code of a demo clinic account, computed from
its sealed TOTP secret (the demo clinic only: its accounts have published passwords)."""

from __future__ import annotations

from datetime import datetime, timedelta

from medspa.ops.seed import DEMO_SLUG
from medspa.settings import Settings

#: print the next code when the current one has fewer seconds than this left (a person
#: needs a few seconds to type it; sign-in accepts the next step too)
MIN_SECONDS_LEFT = 5


def code_and_time_left(secret: str, now: datetime, *, min_left: int = 0) -> tuple[str, int]:
    """(the TOTP code at `now`, seconds it stays current); the next step's code (and its
    seconds) when fewer than `min_left` seconds remain."""
    import pyotp

    from medspa.domain.identity.two_factor import TOTP_STEP_SECONDS

    totp = pyotp.TOTP(secret, interval=TOTP_STEP_SECONDS)
    left = TOTP_STEP_SECONDS - int(now.timestamp()) % TOTP_STEP_SECONDS
    if left < min_left:
        return totp.at(now + timedelta(seconds=left)), left + TOTP_STEP_SECONDS
    return totp.at(now), left


def current_demo_code(engine, email: str, *, now: datetime, settings: Settings, slug: str = DEMO_SLUG,
                      min_left: int = 0) -> tuple[str, int]:
    """(the current TOTP code, seconds it stays current) of a demo clinic account (the next
    code when fewer than `min_left` seconds remain).

    Only accounts of the clinic with slug `demo`, with two-factor set up; raises ValueError
    with the reason otherwise (another clinic's account is refused like an unknown one)."""
    from sqlalchemy import text
    from sqlmodel import select

    from medspa.db import tenant_session
    from medspa.domain.errors import NotFound
    from medspa.domain.identity.models import UserAccount
    from medspa.domain.identity.secretbox import unseal
    from medspa.domain.practice.service import organization_by_slug

    email = email.strip().lower()
    with tenant_session(None, engine) as s:
        org_id = s.execute(text("select medspa_org_for_login(:v)"), {"v": email}).scalar()
        try:
            demo_id = organization_by_slug(s, slug).id
        except NotFound:
            demo_id = None
    if org_id is None or org_id != demo_id:
        raise ValueError(f"{email} is not an account of the demo clinic ('{slug}'); "
                         "demo-code only works for the demo logins")
    with tenant_session(org_id, engine) as s:
        user = s.exec(select(UserAccount).where(UserAccount.email == email)).first()
        if user is None or not user.active or not user.totp_secret_enc or user.totp_confirmed_at is None:
            raise ValueError(f"{email} has no two-factor sign-in set up (it signs in with the password only)")
        secret = unseal(user.totp_secret_enc, settings)
    return code_and_time_left(secret, now, min_left=min_left)


def demo_code_for(settings: Settings, db, email: str, *, now: datetime,
                  min_left: int = MIN_SECONDS_LEFT) -> tuple[str, int]:
    """`current_demo_code` on the database `db` (an ops.database.Database) with the demo
    clinic's slug; the next code when fewer than `min_left` seconds remain."""
    from medspa.db import get_engine
    from medspa.ops.database import require_schema

    require_schema(settings, db)
    engine = get_engine(db.settings(settings))
    try:
        return current_demo_code(engine, email, now=now, settings=settings, min_left=min_left)
    finally:
        engine.dispose()
