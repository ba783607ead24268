"""Messages timed by a visit (issue 19 §1-2): the reminder, pre-visit instructions, post-treatment
care, the no-show follow-up, the review request, and the birthday greeting.

Nothing is stored ahead: every minute the reminder tick (messaging.reminder_actions,
medspa.jobs.reminders) asks this module, per clinic, which of these messages are due *now*,
from the visits as they are at that moment, and writes them to the outbox
(messaging.service.add_new_messages, delivery jobs deferred in that transaction). So a
reschedule re-times a reminder and its text without anything to update, and a cancelled visit
simply is not found. Dedupe keys make each message once whatever the workers, retries or
re-runs:

- reminder-<channel>-<appointment id>-<start epoch s>: once per start time (a move gets a
  fresh one for its new time), pre_visit-<channel>-<appointment id>-<start epoch s> likewise;
- post_care-, no_show_follow_up-, review_request-<channel>-<appointment id>: once per visit;
- birthday-<channel>-<client id>-<year>: once a year, on one channel (a year with either key
  written gets no other).

A message written for a visit that then changed is stopped at its claim (`stale_visit_refusal`,
called by messaging.claims.claim_message): a reminder or pre-visit whose visit is no longer
confirmed or no longer starts at the instant its key names, a no-show follow-up whose visit is
no longer a no-show, a post-care or review request whose visit is no longer completed, fails as
"not sent: the visit was cancelled" / "... moved" / "... is no longer <status>" without any
provider contacted (and without an SMS's fallback email).

Timing (all instants aware UTC; quiet hours messaging.quiet_hours in the client's zone,
clients.details.client_time_zone, window organization.quiet_start / quiet_end):

- Reminder (transactional; channel client.reminder_channel: both / email / sms / none): due at
  start - (client.reminder_hours or organization.reminder_hours), moved EARLIER to the last
  minute before quiet hours when that falls in them (a reminder must come before the visit).
  When that instant is before the visit was placed (booked, or moved: the later of
  confirmed_at / rescheduled_at), the visit was placed inside the reminder window:
  organization.reminder_late_booking 'none' sends none; 'shorter' sends one at start -
  reminder_short_hours (moved earlier out of quiet hours too) when that is still after the
  placing, else none. A visit placed just before its nominal reminder time, when only the
  quiet-hours shift passed the placing, gets it when quiet hours end. Sent only while the visit
  is at least MIN_LEAD ahead and not in quiet hours: a worker that was down catches up late,
  never after the visit nor at night.
- Pre-visit instructions (per service; off unless the service or clinic has wording): due at
  the later of the placing and start - PRE_VISIT_HOURS (so a booking inside those 3 days gets
  them within a minute, with its confirmation), then out of quiet hours (next_allowed); only
  while the visit is still ahead. Every channel with an address and wording.
- Post-treatment care (per service; off unless worded): when the visit is done: completed
  ("Complete", completed_at) or checked out while checked in (its sale ledger entry's time),
  held past quiet hours; every channel worded.
- No-show follow-up: once the visit is marked no-show and its booked end has passed, held past
  quiet hours; every channel worded. The "book again" link is links.book.
- Review request (marketing: consent per channel, messaging.marketing.marketing_refusal):
  REVIEW_DELAY after the visit was done (as for post-care), held past quiet hours; ONE channel (email when allowed, else
  SMS), and not to a client asked in the last REVIEW_EVERY (a monthly regular is not asked
  monthly). links.unsubscribe in the context.
- Birthday (marketing, same consent rule, one channel): BIRTHDAY_AT local time on the client's
  birthday in their zone (Feb 29 birthdays on Feb 28 in other years), held past quiet hours,
  sent only on that local day.

Follow-ups look back FOLLOW_UP_LOOKBACK only (a worker down for days, or this feature's first
run, does not send care notes for last year's visits). Services here take a session and never
commit; the caller holds the clinic's tick lock (reminder_actions).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, extract, func, or_
from sqlmodel import Session, select

from medspa.domain.clients.details import client_time_zone
from medspa.domain.clients.models import Client
from medspa.domain.messaging.marketing import address_of, marketing_refusal
from medspa.domain.messaging.models import NOT_SENT, MessageStatus, OutboxMessage
from medspa.domain.messaging.quiet_hours import in_quiet_hours, last_allowed_before, next_allowed
from medspa.domain.messaging.service import add_new_messages
from medspa.domain.messaging.suppression import active_suppression
from medspa.domain.messaging.templates import client_context, render_message, template_source, visit_context
from medspa.domain.messaging.unsubscribe import unsubscribe_url
from medspa.domain.payments.models import LedgerEntry
from medspa.domain.practice.models import Organization
from medspa.domain.scheduling.models import Appointment, AppointmentStatus
from medspa.domain.timezones import format_clinic_time, wall_to_utc

MIN_LEAD = timedelta(minutes=30)  # no reminder closer to the visit than this
PRE_VISIT_HOURS = 72
REVIEW_DELAY = timedelta(hours=3)
REVIEW_EVERY = timedelta(days=90)
FOLLOW_UP_LOOKBACK = timedelta(days=2)
BIRTHDAY_AT = time(10, 0)

CONFIRMED = AppointmentStatus.CONFIRMED.value
# the kinds a claim checks against their visit, and the status that visit must still have
_DONE = (AppointmentStatus.COMPLETED.value, AppointmentStatus.CHECKED_IN.value)  # checked in and out counts as done
_VISIT_STATUS = {"reminder": (CONFIRMED,), "pre_visit": (CONFIRMED,),
                 "no_show_follow_up": (AppointmentStatus.NO_SHOW.value,), "post_care": _DONE, "review_request": _DONE}
_TIMED = ("reminder", "pre_visit")  # keys ending in the start's epoch seconds


# ------------------------------------------------------------------------ when a reminder is due


@dataclass(frozen=True)
class Quiet:
    """The quiet window of one client: their zone (IANA) and the clinic's local start / end."""

    zone: str
    start: time
    end: time

    def holds(self, instant: datetime) -> bool:
        """Whether `instant` is in quiet hours."""
        return in_quiet_hours(instant, self.zone, self.start, self.end)

    def before(self, instant: datetime) -> datetime:
        """`instant`, or the last minute before the quiet window that holds it."""
        return last_allowed_before(instant, self.zone, self.start, self.end)

    def after(self, instant: datetime) -> datetime:
        """`instant`, or the end of the quiet window that holds it."""
        return next_allowed(instant, self.zone, self.start, self.end)


def placed_at(appointment: Appointment) -> datetime:
    """When the visit got its current time: the later of its booking (confirmed_at, else
    created_at) and its last move (rescheduled_at)."""
    booked = appointment.confirmed_at or appointment.created_at
    moved = appointment.rescheduled_at
    return max(booked, moved) if moved is not None else booked


def reminder_hours(org: Organization, client: Client) -> int:
    """Hours before the visit the client's reminder is due: theirs, else the clinic's."""
    return client.reminder_hours or org.reminder_hours


def reminder_due(appointment: Appointment, org: Organization, client: Client, quiet: Quiet) -> datetime | None:
    """When the reminder of `appointment` is due (see the module), or None when it gets none
    (placed inside the window with late booking 'none', or no time left)."""
    start, placed = appointment.start_at, placed_at(appointment)
    nominal = start - timedelta(hours=reminder_hours(org, client))
    if placed <= nominal:
        due = quiet.before(nominal)
        if due < placed:  # only the quiet-hours shift passed the placing: send when quiet hours end
            due = quiet.after(placed)
    elif org.reminder_late_booking == "shorter":
        due = quiet.before(start - timedelta(hours=org.reminder_short_hours))
        if due <= placed:
            return None
    else:
        return None
    return due if due <= start - MIN_LEAD else None


def reminder_channels(client: Client) -> tuple[str, ...]:
    """The channels the client's reminders go on (client.reminder_channel), with an address."""
    wanted = {"both": ("email", "sms"), "email": ("email",), "sms": ("sms",)}.get(client.reminder_channel, ())
    return tuple(c for c in wanted if address_of(client, c))


def describe_reminder(appointment: Appointment, org: Organization, client: Client, quiet: Quiet,
                      display_zone: str) -> str:
    """The reminder still to come in words for staff, times in `display_zone` (the visit's
    location), for the panel's "Reminder" line: "Tue, Jul 14, 2026, 10:00 AM EDT
    (America/New_York) by email and SMS", "None: booked inside the 24-hour window", "None: the
    client asked for none" ("" for a visit that is not confirmed)."""
    if appointment.status != CONFIRMED:
        return ""
    if client.reminder_channel == "none":
        return "None: the client asked for none"
    channels = reminder_channels(client)
    if not channels:
        return "None: no email or mobile number on file"
    due = reminder_due(appointment, org, client, quiet)
    if due is None:
        return f"None: booked inside the {reminder_hours(org, client)}-hour window"
    return f"{format_clinic_time(due, display_zone)} by {_channel_words(channels)}"


def _channel_words(channels) -> str:
    return " and ".join({"email": "email", "sms": "SMS"}[c] for c in channels)


def reminder_line(session: Session, appointment: Appointment, display_zone: str, *, mail_enabled: bool = False,
                  sms_enabled: bool = False) -> str:
    """The calendar panel's reminder line of a confirmed visit, true to the outbox: the
    reminders written for its current start, all handed over -> "Sent Tue, Jul 14, 2026, 10:03 AM
    EDT (...) by email and SMS"; else "Written <when> by email and SMS; <state>" where the state
    is each message's OutboxMessage.delivery_label (e.g. "not sent: no mail server set up",
    "failed: ...", "queued"), per channel when they differ; before any is written, the one to
    come (describe_reminder); "" for another status or a visit without a client.
    `mail_enabled` / `sms_enabled`: whether the providers are set up (settings)."""
    if appointment.status != CONFIRMED or appointment.client_id is None:
        return ""
    client = session.get(Client, appointment.client_id)
    org = session.get(Organization, appointment.org_id)
    if client is None or org is None:
        return ""
    epoch = int(appointment.start_at.timestamp())
    written = list(session.exec(select(OutboxMessage).where(
        OutboxMessage.appointment_id == appointment.id, OutboxMessage.kind == "reminder",
        OutboxMessage.dedupe_key.in_([f"reminder-{c}-{appointment.id}-{epoch}" for c in ("email", "sms")]))
        .order_by(OutboxMessage.id)))
    if written:
        channels = _channel_words([m.channel for m in written])
        handed = [m for m in written if m.status in (MessageStatus.SENT, MessageStatus.DELIVERED)]
        if len(handed) == len(written):
            at = min(m.sent_at or m.created_at for m in handed)
            return f"Sent {format_clinic_time(at, display_zone)} by {channels}"
        labels = [(m.channel, m.delivery_label(mail_enabled, sms_enabled)) for m in written]
        if len({label for _, label in labels}) == 1:
            state = labels[0][1]
        else:
            state = "; ".join(f"{_channel_words([ch])}: {label}" for ch, label in labels)
        return f"Written {format_clinic_time(written[0].created_at, display_zone)} by {channels}; {state}"
    quiet = Quiet(client_time_zone(session, client), org.quiet_start, org.quiet_end)
    return describe_reminder(appointment, org, client, quiet, display_zone)


# ------------------------------------------------------------------------ the guard at the claim


def _key_epoch(dedupe_key: str | None) -> int | None:
    tail = (dedupe_key or "").rpartition("-")[2]
    return int(tail) if tail.isascii() and tail.isdigit() else None


def stale_visit_refusal(session: Session, message: OutboxMessage) -> str | None:
    """Why a visit-timed message (reminder, pre_visit, no_show_follow_up, post_care,
    review_request) must not be sent now because its visit changed since it was written, or
    None: "not sent: the visit was cancelled", "not sent: the visit was moved" (its start is
    no longer the instant its dedupe key names), "not sent: the visit is no longer <status>"."""
    wanted = _VISIT_STATUS.get(message.kind)
    if wanted is None or message.appointment_id is None or not (message.dedupe_key or "").startswith(
            f"{message.kind}-"):  # only what this module wrote (its keys): others are their writer's business
        return None
    visit = session.get(Appointment, message.appointment_id)
    if visit is None or visit.status in (AppointmentStatus.CANCELLED.value, AppointmentStatus.EXPIRED.value):
        return f"{NOT_SENT} the visit was cancelled"
    if visit.status not in wanted:
        return f"{NOT_SENT} the visit is no longer {wanted[0].replace('_', '-')}"
    if message.kind in _TIMED and _key_epoch(message.dedupe_key) != int(visit.start_at.timestamp()):
        return f"{NOT_SENT} the visit was moved"
    return None


# ------------------------------------------------------------------------ writing what is due


class _Tick:
    """One clinic's tick: its organization, `now`, and caches of clients' quiet windows."""

    def __init__(self, session: Session, org_id: int, now: datetime) -> None:
        self.session, self.now = session, now
        self.org = session.get(Organization, org_id)
        self._quiet: dict[int, Quiet] = {}
        self._worded: dict[tuple, bool] = {}
        self.messages: list[OutboxMessage] = []

    def quiet(self, client: Client) -> Quiet:
        if client.id not in self._quiet:
            self._quiet[client.id] = Quiet(client_time_zone(self.session, client), self.org.quiet_start,
                                           self.org.quiet_end)
        return self._quiet[client.id]

    def worded(self, kind: str, channel: str, service_id: int | None) -> bool:
        """Whether the clinic (or the service) has wording for `kind` on `channel` (else it is off)."""
        key = (kind, channel, service_id)
        if key not in self._worded:
            self._worded[key] = bool(template_source(self.session, kind, channel, service_id)[1].strip())
        return self._worded[key]

    def reachable(self, client: Client, channel: str) -> str:
        """The client's address on `channel` unless none or suppressed ("" then)."""
        address = address_of(client, channel)
        if not address or active_suppression(self.session, channel, address) is not None:
            return ""
        return address

    def add(self, kind: str, channel: str, key: str, client: Client, appointment: Appointment | None,
            context: dict, service_id: int | None = None) -> None:
        address = self.reachable(client, channel)
        if not address:
            return
        rendered = render_message(self.session, kind, channel, context, service_id=service_id)
        if rendered is None:  # the clinic has no wording for it on this channel: off
            return
        self.messages.append(OutboxMessage(
            org_id=self.org.id, channel=channel, kind=kind, to_address=address,
            subject=rendered.subject if channel == "email" else "", body=rendered.body, client_id=client.id,
            appointment_id=appointment.id if appointment is not None else None, dedupe_key=key, created_at=self.now))

    def visit(self, kind: str, channel: str, key: str, appointment: Appointment, client: Client,
              marketing: bool = False) -> None:
        link = unsubscribe_url(self.org.id, client.id, channel) if marketing else ""
        context = visit_context(self.session, appointment, client, channel=channel, unsubscribe_url=link)
        self.add(kind, channel, key, client, appointment, context, appointment.service_id)


def _existing_keys(session: Session, appointment_ids: list[int]) -> set[str]:
    if not appointment_ids:
        return set()
    return set(session.exec(select(OutboxMessage.dedupe_key).where(OutboxMessage.appointment_id.in_(appointment_ids),
                                                                   OutboxMessage.dedupe_key.is_not(None))))


def _clients(session: Session, visits: list[Appointment]) -> dict[int, Client]:
    ids = {v.client_id for v in visits if v.client_id is not None}
    if not ids:
        return {}
    return {c.id: c for c in session.exec(select(Client).where(Client.id.in_(ids), Client.merged_into_id.is_(None)))}


def _upcoming(tick: _Tick) -> None:
    """Reminders and pre-visit instructions of confirmed visits ahead. Cheap checks first
    (messages already written, a kind the clinic has no wording for) so the client's zone is
    looked up only for visits that may get something now."""
    s, now, org = tick.session, tick.now, tick.org
    longest = max(org.reminder_hours, s.exec(select(func.max(Client.reminder_hours))).first() or 0)
    horizon = now + timedelta(hours=max(longest, PRE_VISIT_HOURS) + 24)  # + a day: quiet hours move it earlier
    visits = list(s.exec(select(Appointment).where(Appointment.status == CONFIRMED, Appointment.start_at > now,
                                                   Appointment.start_at <= horizon,
                                                   Appointment.client_id.is_not(None))
                         .order_by(Appointment.start_at, Appointment.id)))
    clients, done = _clients(s, visits), _existing_keys(s, [v.id for v in visits])
    for visit in visits:
        client = clients.get(visit.client_id)
        if client is None or now > visit.start_at - MIN_LEAD:
            continue
        epoch = int(visit.start_at.timestamp())
        reminders = [c for c in reminder_channels(client) if f"reminder-{c}-{visit.id}-{epoch}" not in done]
        pre_visit = [c for c in ("email", "sms") if f"pre_visit-{c}-{visit.id}-{epoch}" not in done
                     and address_of(client, c) and tick.worded("pre_visit", c, visit.service_id)]
        if not (reminders or pre_visit):
            continue
        quiet = tick.quiet(client)
        if quiet.holds(now):
            continue
        due = reminder_due(visit, org, client, quiet) if reminders else None
        if due is not None and due <= now:
            for channel in reminders:
                tick.visit("reminder", channel, f"reminder-{channel}-{visit.id}-{epoch}", visit, client)
        if pre_visit and quiet.after(max(placed_at(visit), visit.start_at - timedelta(hours=PRE_VISIT_HOURS))) <= now:
            for channel in pre_visit:
                tick.visit("pre_visit", channel, f"pre_visit-{channel}-{visit.id}-{epoch}", visit, client)


def _follow_ups(tick: _Tick) -> None:
    """Post-care and review requests of completed visits, no-show follow-ups."""
    s, now = tick.session, tick.now
    since = now - FOLLOW_UP_LOOKBACK
    checked_out = (select(LedgerEntry.appointment_id, func.min(LedgerEntry.created_at).label("at"))
                   .where(LedgerEntry.entry_type == "sale", LedgerEntry.appointment_id.is_not(None))
                   .group_by(LedgerEntry.appointment_id).subquery())
    finished = func.coalesce(Appointment.completed_at, checked_out.c.at)  # completed, else checked out
    rows = s.exec(select(Appointment, finished).join(checked_out, checked_out.c.appointment_id == Appointment.id,
                                                     isouter=True).where(
        Appointment.client_id.is_not(None), or_(
            and_(Appointment.status.in_(_DONE), finished >= since - REVIEW_DELAY, finished <= now),
            and_(Appointment.status == AppointmentStatus.NO_SHOW.value, Appointment.end_at >= since,
                 Appointment.end_at <= now))).order_by(Appointment.id)).all()
    visits, done_at = [r[0] for r in rows], {r[0].id: r[1] for r in rows}
    clients, done = _clients(s, visits), _existing_keys(s, [v.id for v in visits])

    def missing(kind: str, visit: Appointment, client: Client) -> list[str]:
        return [c for c in ("email", "sms") if f"{kind}-{c}-{visit.id}" not in done and address_of(client, c)
                and tick.worded(kind, c, visit.service_id)]

    for visit in visits:
        client = clients.get(visit.client_id)
        if client is None:
            continue
        no_show = visit.status == AppointmentStatus.NO_SHOW.value
        follow_up = missing("no_show_follow_up", visit, client) if no_show else []
        care = missing("post_care", visit, client) if not no_show and done_at[visit.id] >= since else []
        review = (not no_show and done_at[visit.id] + REVIEW_DELAY <= now
                  and not any(k.startswith("review_request-") and k.endswith(f"-{visit.id}") for k in done))
        if not (follow_up or care or review) or tick.quiet(client).holds(now):
            continue
        for channel in follow_up:
            tick.visit("no_show_follow_up", channel, f"no_show_follow_up-{channel}-{visit.id}", visit, client)
        for channel in care:
            tick.visit("post_care", channel, f"post_care-{channel}-{visit.id}", visit, client)
        if review and not _asked_lately(s, client.id, now):
            channel = _marketing_channel(s, client)
            if channel:
                tick.visit("review_request", channel, f"review_request-{channel}-{visit.id}", visit, client,
                           marketing=True)


def _asked_lately(session: Session, client_id: int, now: datetime) -> bool:
    return session.exec(select(OutboxMessage.id).where(OutboxMessage.client_id == client_id,
                                                       OutboxMessage.kind == "review_request",
                                                       OutboxMessage.created_at >= now - REVIEW_EVERY).limit(1)
                        ).first() is not None


def _marketing_channel(session: Session, client: Client) -> str:
    """The one channel a marketing message goes on: email when allowed, else SMS, else ""."""
    return next((c for c in ("email", "sms") if not marketing_refusal(session, client, c)), "")


def birthday_in(year: int, born: date) -> date:
    """The client's birthday in `year` (Feb 29 -> Feb 28 outside leap years)."""
    try:
        return born.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


def _birthdays(tick: _Tick) -> None:
    """Birthday greetings due now (see the module)."""
    s, now = tick.session, tick.now
    days = [(now + timedelta(days=d)).date() for d in (-1, 0, 1)]  # the UTC dates a local "today" may be
    wanted = [and_(extract("month", Client.date_of_birth) == d.month, extract("day", Client.date_of_birth) == d.day)
              for d in days]
    if any(d.month == 2 and d.day == 28 for d in days):
        wanted.append(and_(extract("month", Client.date_of_birth) == 2, extract("day", Client.date_of_birth) == 29))
    clients = list(s.exec(select(Client).where(Client.date_of_birth.is_not(None), Client.merged_into_id.is_(None),
                                               or_(Client.email_marketing_consent, Client.sms_marketing_consent),
                                               or_(*wanted)).order_by(Client.id)))
    for client in clients:
        quiet = tick.quiet(client)
        today = now.astimezone(ZoneInfo(quiet.zone)).date()
        if birthday_in(today.year, client.date_of_birth) != today or quiet.holds(now):
            continue
        if quiet.after(wall_to_utc(today, BIRTHDAY_AT, ZoneInfo(quiet.zone))) > now:
            continue
        # one greeting a year on ANY channel: unsubscribing from the birthday email must not
        # make the next tick pick SMS and text one as well (as review requests: _asked_lately)
        keys = [f"birthday-{c}-{client.id}-{today.year}" for c in ("email", "sms")]
        if s.exec(select(OutboxMessage.id).where(OutboxMessage.dedupe_key.in_(keys)).limit(1)).first() is not None:
            continue
        channel = _marketing_channel(s, client)
        if not channel:
            continue
        key = f"birthday-{channel}-{client.id}-{today.year}"
        context = client_context(tick.org, client, channel=channel,
                                 unsubscribe_url=unsubscribe_url(tick.org.id, client.id, channel))
        tick.add("birthday", channel, key, client, None, context)


def queue_due_messages(session: Session, org_id: int, now: datetime) -> list[OutboxMessage]:
    """Write every visit-timed message and birthday greeting of clinic `org_id` (the session's) due at
    `now` (aware UTC) and not written yet (see the module), with their delivery jobs; returns
    those added. The caller serialises ticks of one clinic (reminder_actions)."""
    tick = _Tick(session, org_id, now)
    if tick.org is None:
        return []
    _upcoming(tick)
    _follow_ups(tick)
    _birthdays(tick)
    return add_new_messages(session, tick.messages)
