"""Appointments and the occupancy rows that make double booking impossible.

An appointment occupies its provider and, where the service needs them, a room and a device:
one `occupancy` row per resource with a `tstzrange` covering setup buffer + service +
cleanup buffer. The exclusion constraint (in the first migration)

    EXCLUDE USING gist (org_id WITH =, resource_id WITH =, during WITH &&)
        WHERE (status IN ('held', 'booked'))

forbids two live occupancies of one resource that overlap, whatever the application does.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import TSTZRANGE, Range
from sqlmodel import Field, SQLModel

from medspa.domain.base import fk, org_fk, pk, tstamp
from medspa.domain.scheduling.references import DISPLAY_CODE_CONSTRAINT, new_booking_token, new_display_code



class AppointmentStatus(StrEnum):
    """An appointment's status (the `appointment.status` column holds these values)."""

    HELD = "held"  # slot reserved while the client pays, until hold_expires_at
    CONFIRMED = "confirmed"
    CHECKED_IN = "checked_in"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"
    EXPIRED = "expired"  # a hold that lapsed or was released


class OccupancyStatus(StrEnum):
    """An occupancy row's status; only HELD and BOOKED take part in the exclusion constraint."""

    HELD = "held"
    BOOKED = "booked"
    RELEASED = "released"


APPOINTMENT_STATUSES = tuple(AppointmentStatus)
LIVE_APPOINTMENT_STATUSES = (AppointmentStatus.HELD, AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN,
                             AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW)
OCCUPANCY_STATUSES = tuple(OccupancyStatus)
# a visit staff may move to another time, provider, service or room (scheduling.reschedule)
MOVABLE_STATUSES = (AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN)


class AppointmentSeries(SQLModel, table=True):
    """A recurring booking (scheduling.series): an RFC 5545 RRULE (`rrule`, without DTSTART)
    expanded from `dtstart_local`, the first visit's naive local wall-clock start read in
    `time_zone` (the location's zone when booked), so every visit keeps that wall-clock time
    across daylight-saving changes. deposit_each_visit: the deposit rule it was booked under
    (location.series_deposit_each_visit then). split_from_id: the series a "this and
    following" change split this one from (that one's rule then ends with UNTIL)."""

    __tablename__ = "appointment_series"
    id: int | None = pk()
    org_id: int = org_fk()
    location_id: int = fk("location.id", index=False)
    service_id: int = fk("service.id", index=False)
    provider_id: int = fk("staff_member.id", index=False)
    client_id: int = fk("client.id")
    rrule: str = Field(sa_column=Column(String(200), nullable=False))
    dtstart_local: datetime = Field(sa_column=Column(DateTime(timezone=False), nullable=False))
    time_zone: str = Field(sa_column=Column(String(64), nullable=False))
    deposit_each_visit: bool = False
    split_from_id: int | None = Field(default=None, sa_column=Column(BigInteger, ForeignKey("appointment_series.id"),
                                                                     nullable=True))
    created_at: datetime = tstamp(default_now=True)
    created_by_user_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


MAX_VISIT_LENGTH = timedelta(hours=24)
"""The longest a visit may be (constraint appointment_at_most_a_day, migration 0058; services
are capped at 12 hours). Reads of the visits overlapping a window use it as a lower bound on
start_at (`visits_overlapping`), which the start_at indexes turn into a range scan."""


def visits_overlapping(lo: datetime, hi: datetime):
    """SQL condition: the appointment overlaps [lo, hi) (aware UTC instants), written with the
    lower bound on start_at that MAX_VISIT_LENGTH implies so indexes on start_at bound the read
    from both sides."""
    from sqlalchemy import and_

    return and_(Appointment.start_at < hi, Appointment.start_at > lo - MAX_VISIT_LENGTH, Appointment.end_at > lo)


class Appointment(SQLModel, table=True):
    """A visit: client, service, provider and instants (UTC, service time without buffers).

    status: held (slot reserved while the client pays, until hold_expires_at), confirmed,
    checked_in, completed, cancelled, no_show; expired = a hold that lapsed or was released.
    display_code is the short code people read and type (8 Crockford base32 characters, bare;
    unique per clinic); booking_token the unguessable key of the manage link and the anonymous
    API lookup (unique per clinic). Both have fresh defaults; scheduling.references owns the
    format.
    """

    __tablename__ = "appointment"
    __table_args__ = (
        UniqueConstraint("org_id", "display_code", name=DISPLAY_CODE_CONSTRAINT),
        UniqueConstraint("org_id", "booking_token", name="uq_appointment_booking_token"),
    )
    id: int | None = pk()
    org_id: int = org_fk()
    display_code: str = Field(default_factory=new_display_code, sa_column=Column(String(8), nullable=False))
    booking_token: str = Field(default_factory=new_booking_token, sa_column=Column(String(64), nullable=False))
    location_id: int = fk("location.id")
    service_id: int = fk("service.id")
    provider_id: int = fk("staff_member.id")
    client_id: int | None = fk("client.id", nullable=True)
    start_at: datetime = tstamp(nullable=False)
    end_at: datetime = tstamp(nullable=False)
    status: str = "held"
    hold_expires_at: datetime | None = tstamp()
    price_cents: int = 0
    deposit_cents: int = 0
    currency: str = Field(default="USD", max_length=3)
    source: str = "online"
    notes: str = ""
    rebooked_from_id: int | None = fk("appointment.id", nullable=True)
    created_at: datetime = tstamp(default_now=True)
    created_by_user_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    confirmed_at: datetime | None = tstamp()
    checked_in_at: datetime | None = tstamp()
    completed_at: datetime | None = tstamp()
    cancelled_at: datetime | None = tstamp()
    cancellation_late: bool | None = None  # inside the window (the reports' "late")
    cancellation_keeps_deposit: bool | None = None  # the deposit was kept by the policy then (None: not cancelled)
    # who cancelled and why (scheduling.reschedule.CANCEL_REASONS; migration 0037)
    cancellation_reason: str | None = Field(default=None, sa_column=Column(String(20), nullable=True))
    cancellation_note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    cancelled_by: str | None = Field(default=None, sa_column=Column(String(10), nullable=True))  # staff|client|system
    cancelled_by_user_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    late_reschedules: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    rescheduled_at: datetime | None = tstamp()
    # the location's cancellation rule when the visit was booked (scheduling.policy.cancel_rule;
    # None: booked by a path that did not record it, the location's current rule applies)
    booked_window_hours: int | None = None
    booked_late_keeps_deposit: bool | None = None
    # the late-cancel / no-show fee in cents its terms came to when it was booked (migration 0039;
    # None: not recorded, the location's current terms apply; scheduling.policy.fee_due)
    booked_late_cancel_fee_cents: int | None = None
    booked_no_show_fee_cents: int | None = None
    # RFC 5545 SEQUENCE of its event in calendar feeds: raised by a trigger on every change a
    # calendar shows (migration 0035); never written by the app
    ical_sequence: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    # its recurring series and occurrence number (scheduling.series; migration 0040)
    series_id: int | None = fk("appointment_series.id", nullable=True)
    series_index: int | None = None


class Occupancy(SQLModel, table=True):
    """One resource busy over `during` (a tstzrange, [start, end)).

    kind: appointment (appointment_id set) or block (time off, meetings). status: held,
    booked or released; only held and booked take part in the exclusion constraint.
    """

    __tablename__ = "occupancy"
    id: int | None = pk()
    org_id: int = org_fk()
    resource_id: int = fk("resource.id")
    appointment_id: int | None = fk("appointment.id", nullable=True)
    during: Range = Field(sa_column=Column(TSTZRANGE, nullable=False))
    status: str = "held"
    kind: str = "appointment"
    hold_expires_at: datetime | None = tstamp()
    note: str = ""


class CalendarFeed(SQLModel, table=True):
    """A staff member's secret calendar feed link (scheduling.feeds): only the SHA-256 of its
    token is kept; rotating replaces it (migration 0035)."""

    __tablename__ = "calendar_feed"
    __table_args__ = (UniqueConstraint("org_id", "staff_id", name="uq_calendar_feed_staff"),
                      UniqueConstraint("token_hash", name="uq_calendar_feed_token"))
    id: int | None = pk()
    org_id: int = org_fk()
    staff_id: int = fk("staff_member.id", index=False)
    token_hash: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime = tstamp(nullable=False)
