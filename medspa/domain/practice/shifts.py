"""Dated exceptions to a provider's weekly hours: time off and extra shifts (table staff_time_off).

One table for both (`kind` "off" or "extra"): they have the same shape (a staff member, a span
of instants, a reason), are listed and audited alike and are read by availability in one query.
Time off with no location applies everywhere; an extra shift always names its location.
Instants are aware UTC; the page enters them as local dates/times of the chosen location.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, Index, String
from sqlmodel import Field, Session, SQLModel, or_, select

from medspa.domain.base import fk, org_fk, pk, tstamp

TIME_OFF = "off"
EXTRA_SHIFT = "extra"
KINDS = (TIME_OFF, EXTRA_SHIFT)


class StaffTimeOff(SQLModel, table=True):
    """A staff member away (kind "off") or working outside the weekly hours (kind "extra")
    over [starts_at, ends_at) (UTC instants)."""

    __tablename__ = "staff_time_off"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ck_staff_time_off_span"),
        CheckConstraint("kind in ('off', 'extra')", name="ck_staff_time_off_kind"),
        CheckConstraint("kind = 'off' or location_id is not null", name="ck_staff_time_off_extra_location"),
        Index("ix_staff_time_off_span", "org_id", "staff_id", "ends_at"),
    )
    id: int | None = pk()
    org_id: int = org_fk()
    staff_id: int = fk("staff_member.id")
    location_id: int | None = fk("location.id", nullable=True)
    kind: str = Field(default=TIME_OFF, sa_column=Column(String(8), nullable=False))
    starts_at: datetime = tstamp(nullable=False)
    ends_at: datetime = tstamp(nullable=False)
    reason: str = Field(default="", sa_column=Column(String(200), nullable=False, server_default=""))
    created_at: datetime = tstamp(default_now=True)


Span = tuple[datetime, datetime]


def merge_spans(spans: list[Span]) -> list[Span]:
    """Sorted union of [lo, hi) spans (touching ones join)."""
    out: list[Span] = []
    for lo, hi in sorted(spans):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def subtract_spans(spans: list[Span], holes: list[Span]) -> list[Span]:
    """`spans` (sorted, disjoint) minus every [lo, hi) of `holes`."""
    out = spans
    for h_lo, h_hi in holes:
        cut: list[Span] = []
        for lo, hi in out:
            if h_hi <= lo or h_lo >= hi:
                cut.append((lo, hi))
                continue
            if lo < h_lo:
                cut.append((lo, h_lo))
            if h_hi < hi:
                cut.append((h_hi, hi))
        out = cut
    return out


def exceptions_query(staff_ids: list[int], location_id: int, lo: datetime, hi: datetime):
    """SELECT (kind, staff_id, starts_at, ends_at) of the staff's time off and extra shifts at
    `location_id` overlapping [lo, hi) (exceptions_between's rows). The arguments may be bound
    parameters (staff_ids: an expanding one), for a statement built once."""
    return select(StaffTimeOff.kind, StaffTimeOff.staff_id, StaffTimeOff.starts_at, StaffTimeOff.ends_at).where(
        StaffTimeOff.staff_id.in_(staff_ids), StaffTimeOff.starts_at < hi, StaffTimeOff.ends_at > lo,
        or_(StaffTimeOff.location_id == location_id,
            (StaffTimeOff.kind == TIME_OFF) & StaffTimeOff.location_id.is_(None)))


def split_exceptions(rows) -> tuple[dict[int, list[Span]], dict[int, list[Span]]]:
    """(time off, extra shifts) per staff id from rows (kind, staff_id, starts_at, ends_at)."""
    off: dict[int, list[Span]] = {}
    extra: dict[int, list[Span]] = {}
    for kind, staff_id, starts_at, ends_at in rows:
        (off if kind == TIME_OFF else extra).setdefault(staff_id, []).append((starts_at, ends_at))
    return off, extra


def exceptions_between(session: Session, staff_ids: list[int], location_id: int, lo: datetime,
                       hi: datetime) -> tuple[dict[int, list[Span]], dict[int, list[Span]]]:
    """(time off, extra shifts at `location_id`) per staff id that overlap [lo, hi), as UTC
    spans. Time off with no location counts at every location."""
    if not staff_ids:
        return {}, {}
    return split_exceptions(session.exec(exceptions_query(staff_ids, location_id, lo, hi)))
