"""The waitlist's tables (migration 0041).

An entry is a client's wish at one location: a service, a provider or anyone, local dates
first_day..last_day (both inclusive) and a local time-of-day window [window_start,
window_end) that the whole visit (service time) fits in. An offer is one freed time offered to
one entry; (org_id, entry_id, slot_start) is unique, so no entry is offered a time twice.
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum

from sqlalchemy import Column, Date, String, Time, UniqueConstraint
from sqlmodel import Field, SQLModel

from medspa.domain.base import fk, org_fk, pk, tstamp


class EntryStatus(StrEnum):
    """waiting (no open offer), offered (an offer is open), booked (the client booked a time
    that fits: closed for good), closed (by the desk, or past its last day)."""

    WAITING = "waiting"
    OFFERED = "offered"
    BOOKED = "booked"
    CLOSED = "closed"


OPEN_ENTRY_STATUSES = (EntryStatus.WAITING, EntryStatus.OFFERED)


class EntrySource(StrEnum):
    """Who added the entry: the client on the public booking page, or the desk."""

    PUBLIC = "public"
    DESK = "desk"


class OfferMode(StrEnum):
    """A location's setting (Location.waitlist_mode): one_at_a_time = the first matching entry
    gets the time held for Location.waitlist_hold_minutes, the next one when the hold lapses;
    all_at_once = every matching entry gets the link, no hold, the first to book wins."""

    ONE_AT_A_TIME = "one_at_a_time"
    ALL_AT_ONCE = "all_at_once"


HOLD_MINUTES_RANGE = (5, 1440)  # Location.waitlist_hold_minutes: the check constraint of migration 0041
MIN_HOLD_MINUTES = HOLD_MINUTES_RANGE[0]  # the least time a client gets to book an offered time
DEFAULT_WISH_WEEKS = 4  # a new wish's dates by default (public form and desk): the day and the next four weeks


class OfferStatus(StrEnum):
    """open (the link may be used), booked (the entry booked it), lapsed (its hold ran out),
    gone (someone else booked the time)."""

    OPEN = "open"
    BOOKED = "booked"
    LAPSED = "lapsed"
    GONE = "gone"


class WaitlistEntry(SQLModel, table=True):
    """A client's wish (see the module). provider_id None: anyone. Dates and window times are
    local at the location; joined_at (aware UTC) orders the offers."""

    __tablename__ = "waitlist_entry"
    id: int | None = pk()
    org_id: int = org_fk()
    client_id: int = fk("client.id")
    location_id: int = fk("location.id", index=False)
    service_id: int = fk("service.id", index=False)
    provider_id: int | None = fk("staff_member.id", nullable=True, index=False)
    first_day: date = Field(sa_column=Column(Date, nullable=False))
    last_day: date = Field(sa_column=Column(Date, nullable=False))
    window_start: time = Field(sa_column=Column(Time, nullable=False))
    window_end: time = Field(sa_column=Column(Time, nullable=False))
    joined_at: datetime = tstamp(nullable=False)
    status: str = Field(default=EntryStatus.WAITING.value, sa_column=Column(String(10), nullable=False))
    source: str = Field(sa_column=Column(String(8), nullable=False))
    note: str = Field(default="", sa_column=Column(String(300), nullable=False))
    booked_appointment_id: int | None = fk("appointment.id", nullable=True, index=False)
    closed_at: datetime | None = tstamp()


class WaitlistOffer(SQLModel, table=True):
    """One time (slot_start..slot_end, aware UTC, service time) with `provider_id` offered to
    one entry in `mode`; token: the link's unguessable key; hold_appointment_id: the hold
    keeping it (one at a time) until expires_at."""

    __tablename__ = "waitlist_offer"
    __table_args__ = (UniqueConstraint("org_id", "entry_id", "slot_start", name="uq_waitlist_offer_entry_slot"),
                      UniqueConstraint("org_id", "token", name="uq_waitlist_offer_token"))
    id: int | None = pk()
    org_id: int = org_fk()
    entry_id: int = fk("waitlist_entry.id")
    slot_start: datetime = tstamp(nullable=False)
    slot_end: datetime = tstamp(nullable=False)
    provider_id: int = fk("staff_member.id", index=False)
    mode: str = Field(sa_column=Column(String(16), nullable=False))
    token: str = Field(sa_column=Column(String(64), nullable=False))
    hold_appointment_id: int | None = fk("appointment.id", nullable=True, index=False)
    offered_at: datetime = tstamp(nullable=False)
    expires_at: datetime | None = tstamp()
    status: str = Field(default=OfferStatus.OPEN.value, sa_column=Column(String(10), nullable=False))
