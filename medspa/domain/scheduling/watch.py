"""Who is looking at which calendar: the registry the live-update listeners read.

Every open staff calendar tab registers its Reflex client token with the location and the
days it shows (one day, or the seven days of the week view) and the web worker it is
connected to. When PostgreSQL notifies `calendar_changed` ("<org>:<location>", location 0
for a provider block), each worker's listener reads the watches of that clinic and pushes
into the tabs connected to itself. The registry lives in PostgreSQL (not in a worker's
memory) because tabs and workers come and go independently: a reload can land on another
worker, a worker can restart. Rows are tenant rows under row-level security.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import BigInteger, Column, Date, PrimaryKeyConstraint, String, delete, func
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Field, Session, SQLModel, select

from medspa.domain.base import org_fk, tstamp
from medspa.domain.identity.actor import Actor

MAX_TOKEN_LENGTH = 64
STALE_AFTER = timedelta(hours=13)  # longer than any session lives


class CalendarWatch(SQLModel, table=True):
    """One open calendar tab: client token, location, shown days [day_from, day_to], worker."""

    __tablename__ = "calendar_watch"
    __table_args__ = (PrimaryKeyConstraint("org_id", "client_token", name="pk_calendar_watch"),)
    org_id: int = org_fk()
    client_token: str = Field(sa_column=Column(String(MAX_TOKEN_LENGTH), nullable=False))
    instance_id: str = Field(sa_column=Column(String(MAX_TOKEN_LENGTH), nullable=False))
    location_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    day_from: date = Field(sa_column=Column(Date, nullable=False))
    day_to: date = Field(sa_column=Column(Date, nullable=False))
    view: str = Field(default="providers", max_length=16)
    user_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    updated_at: datetime = tstamp(default_now=True)


@dataclass(frozen=True)
class Watch:
    """A registered tab as the listener sees it."""

    client_token: str
    instance_id: str
    location_id: int
    day_from: date
    day_to: date
    view: str
    updated_at: datetime


def _check_token(token: str) -> str:
    token = (token or "").strip()
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise ValueError("bad client token")
    return token


def register_watch(session: Session, actor: Actor, *, client_token: str, instance_id: str, location_id: int,
                   day_from: date, day_to: date, view: str, now: datetime) -> None:
    """Insert or move this tab's watch (one row per tab and clinic). The caller commits."""
    actor.require("calendar.read")
    stmt = insert(CalendarWatch).values(
        org_id=actor.org_id, client_token=_check_token(client_token), instance_id=instance_id[:MAX_TOKEN_LENGTH],
        location_id=location_id, day_from=day_from, day_to=day_to, view=view[:16], user_id=actor.user_id,
        updated_at=now)
    session.execute(stmt.on_conflict_do_update(
        index_elements=["org_id", "client_token"],
        set_={"instance_id": stmt.excluded.instance_id, "location_id": stmt.excluded.location_id,
              "day_from": stmt.excluded.day_from, "day_to": stmt.excluded.day_to, "view": stmt.excluded.view,
              "user_id": stmt.excluded.user_id, "updated_at": stmt.excluded.updated_at}))


def unregister_watch(session: Session, client_token: str) -> None:
    """Forget this tab in the session's clinic (logout, tab left the calendar)."""
    session.execute(delete(CalendarWatch).where(CalendarWatch.client_token == client_token))


def watches(session: Session, location_id: int = 0) -> list[Watch]:
    """The session clinic's watches of one location (0: of every location)."""
    stmt = select(CalendarWatch)
    if location_id:
        stmt = stmt.where(CalendarWatch.location_id == location_id)
    return [Watch(w.client_token, w.instance_id, w.location_id, w.day_from, w.day_to, w.view, w.updated_at)
            for w in session.exec(stmt)]


def forget_tokens(session: Session, client_tokens: list[str]) -> int:
    """Delete the watches of tabs that are gone; returns how many rows went."""
    if not client_tokens:
        return 0
    result = session.execute(delete(CalendarWatch).where(CalendarWatch.client_token.in_(client_tokens)))
    return result.rowcount or 0


def touch_tokens(session: Session, client_tokens: list[str], instance_id: str, now: datetime) -> None:
    """Mark tabs seen alive on this worker (keeps them from looking stale)."""
    if client_tokens:
        session.execute(CalendarWatch.__table__.update()
                        .where(CalendarWatch.client_token.in_(client_tokens))
                        .values(instance_id=instance_id, updated_at=now))


def forget_stale(session: Session, now: datetime) -> int:
    """Delete watches nobody confirmed for longer than any session can live."""
    result = session.execute(delete(CalendarWatch).where(CalendarWatch.updated_at < now - STALE_AFTER))
    return result.rowcount or 0


def count_watches(session: Session) -> int:
    """How many tabs of the session's clinic are registered (tests, diagnostics)."""
    return int(session.exec(select(func.count()).select_from(CalendarWatch)).one())
