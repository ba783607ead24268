"""Providers' calendar feeds (issue 15 part 4): a secret link per staff member that a calendar
app (Apple, Google, Outlook) subscribes to, built with `icalendar` (RFC 5545).

- The link `{base_url}/calendar-feeds/{token}.ics` is shown once when made; only the token's
  SHA-256 is stored (calendar_feed, migration 0035). Rotating makes a new link and the old one
  stops answering.
- Events: the provider's visits from FEED_PAST_DAYS ago to FEED_AHEAD_DAYS ahead, confirmed,
  checked in, completed or no-show (STATUS:CONFIRMED) and cancelled ones (STATUS:CANCELLED, so
  a subscribed app removes them); holds and expired holds are left out. UID
  `appointment-<id>@<clinic slug>.medspa` (stable); SEQUENCE is appointment.ical_sequence,
  which a trigger raises on every change the calendar shows (a move, a cancel), as RFC 5545
  asks; DTSTART/DTEND in UTC; DTSTAMP the feed's time.
- No health details leave the clinic: the summary is the service and the client's first name
  and last initial ("Botox · Mia W."), the location its name; no notes, phone, email or chart.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from icalendar import Calendar, Event
from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.catalog.models import Service
from medspa.domain.clients.models import Client
from medspa.domain.errors import NotFound
from medspa.domain.identity.actor import Actor
from medspa.domain.identity.tokens import new_token, token_hash
from medspa.domain.practice.models import Location, Organization, StaffMember
from medspa.domain.scheduling.models import Appointment, AppointmentStatus, CalendarFeed

FEED_PAST_DAYS = 30
FEED_AHEAD_DAYS = 180
PRODID = "-//medspa//provider calendar feed//EN"
SHOWN = (AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED,
         AppointmentStatus.NO_SHOW, AppointmentStatus.CANCELLED)


def rotate_feed(session: Session, actor: Actor, staff_id: int, now: datetime) -> str:
    """A new secret token for `staff_id`'s feed (the old link stops working); returns the
    token, which is never stored. Audited calendar.feed.rotate. Raises NotFound for a staff
    member not of this clinic."""
    if session.get(StaffMember, staff_id) is None:
        raise NotFound("staff member")
    token = new_token()
    feed = session.exec(select(CalendarFeed).where(CalendarFeed.staff_id == staff_id).with_for_update()).first()
    if feed is None:
        feed = CalendarFeed(org_id=actor.org_id, staff_id=staff_id, token_hash=token_hash(token), created_at=now)
    else:
        feed.token_hash, feed.created_at = token_hash(token), now
    session.add(feed)
    session.flush()
    record(session, actor, "calendar.feed.rotate", "staff_member", staff_id, at=now)
    return token


def feed_created_at(session: Session, staff_id: int) -> datetime | None:
    """When `staff_id`'s current feed link was made, or None without one."""
    return session.exec(select(CalendarFeed.created_at).where(CalendarFeed.staff_id == staff_id)).first()


def _utc(instant: datetime) -> datetime:
    return instant.astimezone(timezone.utc)


def _who(client: Client | None) -> str:
    if client is None:
        return "Walk-in"
    initial = (client.last_name or "").strip()[:1]
    return f"{client.first_name} {initial}." if initial else client.first_name


def provider_feed(session: Session, actor: Actor, feed: CalendarFeed, now: datetime) -> bytes:
    """The iCalendar text of `feed`'s provider (the session scoped to its clinic). now: aware
    UTC (DTSTAMP and the window). Audited calendar.feed.read with the number of events."""
    org = session.get(Organization, feed.org_id)
    staff = session.get(StaffMember, feed.staff_id)
    rows = session.exec(
        select(Appointment, Service.name, Location.name, Client)
        .join(Service, Service.id == Appointment.service_id)
        .join(Location, Location.id == Appointment.location_id)
        .join(Client, Client.id == Appointment.client_id, isouter=True)
        .where(Appointment.provider_id == feed.staff_id, Appointment.status.in_([s.value for s in SHOWN]),
               Appointment.start_at >= now - timedelta(days=FEED_PAST_DAYS),
               Appointment.start_at < now + timedelta(days=FEED_AHEAD_DAYS))
        .order_by(Appointment.start_at, Appointment.id)).all()
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"{staff.display_name if staff else 'Provider'} · {org.name if org else 'medspa'}")
    for appt, service, location, client in rows:
        event = Event()
        event.add("uid", f"appointment-{appt.id}@{org.slug}.medspa")
        event.add("sequence", appt.ical_sequence)
        event.add("dtstamp", _utc(now))
        event.add("dtstart", _utc(appt.start_at))
        event.add("dtend", _utc(appt.end_at))
        event.add("summary", f"{service} · {_who(client)}")
        event.add("location", location)
        event.add("status", "CANCELLED" if appt.status == AppointmentStatus.CANCELLED else "CONFIRMED")
        event.add("transp", "TRANSPARENT" if appt.status == AppointmentStatus.CANCELLED else "OPAQUE")
        cal.add_component(event)
    record(session, actor, "calendar.feed.read", "staff_member", feed.staff_id, at=now, events=len(rows))
    return cal.to_ical()
