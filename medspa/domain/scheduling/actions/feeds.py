"""Use cases of the providers' calendar feeds (scheduling.feeds): the signed-in staff member's
own feed link (shown once when made or rotated) and the public feed itself, read by its
secret token. `engine` is for tests; `clock` defaults to the app clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import select

from medspa.clock import Clock
from medspa.domain.errors import NotFound
from medspa.domain.identity.actor import Actor
from medspa.domain.identity.models import UserAccount
from medspa.domain.identity.tokens import org_for, token_hash
from medspa.domain.practice.models import StaffMember
from medspa.domain.scheduling.feeds import feed_created_at, provider_feed, rotate_feed
from medspa.domain.scheduling.models import CalendarFeed
from medspa.domain.work import atomic, now_of

FEED_PATH = "/calendar-feeds/{token}.ics"


@dataclass(frozen=True)
class FeedStatus:
    """The signed-in staff member's feed: whether they have a bookable staff record (providers:
    only they can have a feed), when the current link was made (None: no link yet), and the new link's URL
    right after a rotation ("" otherwise: it is never shown again)."""

    available: bool
    created_at: datetime | None
    url: str = ""


def _staff_id(work, actor: Actor) -> int | None:
    """The actor's staff record when it is a bookable one (a provider): only they have visits
    (an owner who does not treat would subscribe to an empty calendar)."""
    if actor.user_id is None:
        return None
    return work.session.exec(select(StaffMember.id).join(UserAccount, UserAccount.staff_id == StaffMember.id)
                             .where(UserAccount.id == actor.user_id, StaffMember.is_bookable.is_(True))).first()


def fetch_my_feed(actor: Actor, *, engine: Engine | None = None) -> FeedStatus:
    """The actor's feed status. Raises PermissionDenied without calendar.read."""
    actor.require("calendar.read")
    with atomic(actor.org_id, engine=engine) as work:
        staff_id = _staff_id(work, actor)
        return FeedStatus(staff_id is not None, feed_created_at(work.session, staff_id) if staff_id else None)


def do_rotate_my_feed(actor: Actor, base_url: str, *, clock: Clock | None = None,
                      engine: Engine | None = None) -> FeedStatus:
    """Make (or remake) the actor's feed link and return it once. Raises PermissionDenied
    without calendar.read, NotFound for an account without a staff record."""
    actor.require("calendar.read")
    now = now_of(clock)
    with atomic(actor.org_id, engine=engine) as work:
        staff_id = _staff_id(work, actor)
        if staff_id is None:
            raise NotFound("staff member")
        token = rotate_feed(work.session, actor, staff_id, now)
        return FeedStatus(True, now, base_url.rstrip("/") + FEED_PATH.format(token=token))


def fetch_feed_ics(token: str, *, clock: Clock | None = None, engine: Engine | None = None) -> bytes:
    """The iCalendar text of the feed whose secret token this is. Raises NotFound for any
    token that is not a live feed's (malformed, rotated away, unknown)."""
    if (not isinstance(token, str) or not 20 <= len(token) <= 100 or not token.isascii()
            or not token.replace("-", "").replace("_", "").isalnum()):
        raise NotFound("feed")
    digest = token_hash(token)
    with atomic(None, engine=engine) as work:
        org_id = org_for(work.session, "feed", digest)
    if org_id is None:
        raise NotFound("feed")
    now = now_of(clock)
    with atomic(org_id, engine=engine) as work:
        feed = work.session.exec(select(CalendarFeed).where(CalendarFeed.token_hash == digest)).first()
        if feed is None:
            raise NotFound("feed")
        return provider_feed(work.session, Actor.system(org_id, "calendar feed"), feed, now)
