"""Clinic (organisation), locations, staff, working hours and bookable resources."""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import Boolean, Column, Integer, LargeBinary, SmallInteger, String, Time, UniqueConstraint
from sqlmodel import Field, SQLModel

from medspa.domain.base import fk, org_fk, pk, tstamp

STAFF_ROLES = ("owner", "manager", "provider", "front_desk", "lab")
RESOURCE_KINDS = ("provider", "room", "device")


class Organization(SQLModel, table=True):
    """A clinic (tenant). Its `slug` names it in public URLs: /book/{slug}, /api/v1/{slug}."""

    __tablename__ = "organization"
    id: int | None = pk()
    slug: str = Field(sa_column=Column(String(63), unique=True, nullable=False))
    name: str
    currency: str = Field(default="USD", max_length=3)
    country: str = Field(default="", max_length=2)  # ISO 3166 alpha-2: the default region of phone numbers
    created_at: datetime = tstamp(default_now=True)
    reply_to_email: str | None = Field(default=None, max_length=254)  # Reply-To of the clinic's email
    sms_from_number: str | None = Field(default=None, max_length=16)  # E.164 sender of the clinic's SMS
    listed: bool = False  # shown on the landing page (the booking link works either way)
    logo_version: int | None = None  # its ClinicLogo's id (None: no logo); cache-busts the logo URL
    keep_photo_originals: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default="false"))  # full-resolution photos kept (clinical/photos.py; migration 0052)
    covering_may_sign: bool = False  # issue 18: providers other than the visit's may sign its chart
    medical_director_id: int | None = fk("staff_member.id", nullable=True, index=False)  # co-signs (/reviews)
    # messages (issue 19, migration 0053; messaging.reminders, messaging.quiet_hours, messaging.templates)
    reminder_hours: int = Field(default=24, sa_column=Column(Integer, nullable=False, server_default="24"))
    reminder_late_booking: str = Field(default="shorter", sa_column=Column(
        String(10), nullable=False, server_default="shorter"))  # a visit booked inside the window: "none" / "shorter"
    reminder_short_hours: int = Field(default=2, sa_column=Column(Integer, nullable=False, server_default="2"))
    quiet_start: time = Field(default=time(21, 0), sa_column=Column(Time, nullable=False, server_default="21:00"))
    quiet_end: time = Field(default=time(8, 0), sa_column=Column(Time, nullable=False, server_default="08:00"))
    treatment_in_sms: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default="false"))
    treatment_in_email: bool = Field(default=True, sa_column=Column(Boolean, nullable=False, server_default="true"))


class ClinicLogo(SQLModel, table=True):
    """A clinic's logo (one per clinic): re-encoded PNG bytes at most LOGO_MAX px a side,
    served publicly by GET /clinics/{slug}/logo. Every upload is a new row, so its id is the
    logo's version (never reused: a cached old logo never answers for a new one)."""

    __tablename__ = "clinic_logo"
    __table_args__ = (UniqueConstraint("org_id", name="uq_clinic_logo_org"),)
    id: int | None = pk()
    org_id: int = org_fk()
    content_type: str = Field(max_length=32)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    width: int
    height: int
    updated_at: datetime = tstamp(nullable=False)


class SetupToken(SQLModel, table=True):
    """The one-time set-up link of an empty server (not a tenant table). Only the SHA-256 of
    the token is stored; the app role reaches it only through the database functions
    medspa_setup_token_open and medspa_create_clinic (migration 0023)."""

    __tablename__ = "setup_token"
    id: int | None = pk()
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    created_at: datetime = tstamp(nullable=False)
    expires_at: datetime = tstamp(nullable=False)
    used_at: datetime | None = tstamp()
    clinic_id: int | None = fk("organization.id", nullable=True, index=False)


class Location(SQLModel, table=True):
    """A clinic site with its IANA time zone and cancellation policy: the window (hours
    before start) and whether a late cancellation keeps the deposit (scheduling.policy)."""

    __tablename__ = "location"
    id: int | None = pk()
    org_id: int = org_fk()
    name: str
    time_zone: str
    cancellation_window_hours: int = 24
    late_cancel_keeps_deposit: bool = True
    # a client's reschedule inside the window counts as a late cancellation (scheduling.reschedule)
    late_reschedule_is_late_cancel: bool = False
    # online booking saves a card on file before the visit is confirmed (payments.cards; migration 0038)
    card_required: bool = False
    # --- recurring series (issue 16, section 2; migration 0040) ---
    # a series takes the service's deposit for each visit, not only the first (scheduling.series)
    series_deposit_each_visit: bool = False
    # --- end recurring series ---
    address: str = ""
    phone: str = ""
    sms_from_number: str | None = Field(default=None, max_length=16)  # E.164; None: the clinic's
    # late-cancel and no-show fees (issue 16; scheduling.policy.FeeTerms, migration 0039): kind
    # none | flat | percent; amount: flat -> integer cents, percent -> basis points (0.01 %) of the
    # visit's price, rounded half up to whole cents (scheduling.policy.fee_cents)
    late_cancel_fee_kind: str = Field(default="none", max_length=8)
    late_cancel_fee_amount: int = 0
    no_show_fee_kind: str = Field(default="none", max_length=8)
    no_show_fee_amount: int = 0
    # --- waitlist (migration 0041; domain/waitlist): how a freed time is offered ---
    waitlist_mode: str = "one_at_a_time"  # or "all_at_once" (waitlist.models.OfferMode)
    waitlist_hold_minutes: int = 30  # how long a "one at a time" offer holds the time


class StaffMember(SQLModel, table=True):
    """A person on the staff; `role` is one of STAFF_ROLES. Bookable ones have a provider resource."""

    __tablename__ = "staff_member"
    id: int | None = pk()
    org_id: int = org_fk()
    display_name: str
    title: str = ""
    role: str = "provider"
    color: str = "#7c5cbf"
    is_bookable: bool = True
    active: bool = True
    licence: str = ""  # issue 18: "" (not recorded) or one of clinical.signing.LICENCES


class WorkingHours(SQLModel, table=True):
    """Weekly wall-clock hours of a staff member at a location (weekday 0 = Monday)."""

    __tablename__ = "working_hours"
    id: int | None = pk()
    org_id: int = org_fk()
    staff_id: int = fk("staff_member.id")
    location_id: int = fk("location.id")
    weekday: int = Field(sa_column=Column(SmallInteger, nullable=False))
    start_time: time = Field(sa_column=Column(Time, nullable=False))
    end_time: time = Field(sa_column=Column(Time, nullable=False))


class Resource(SQLModel, table=True):
    """Something an appointment occupies: a provider (linked to staff), a room or a device.

    `resource_type` matches a service's required room or device type (e.g. "treatment_room",
    "laser_alexandrite"). Providers have no location (they work where their hours say).
    """

    __tablename__ = "resource"
    __table_args__ = (UniqueConstraint("org_id", "staff_id", name="uq_resource_staff"),)
    id: int | None = pk()
    org_id: int = org_fk()
    kind: str
    name: str
    resource_type: str = ""
    location_id: int | None = fk("location.id", nullable=True)
    staff_id: int | None = fk("staff_member.id", nullable=True)
    active: bool = True
