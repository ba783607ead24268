"""Segments: who a campaign reaches, computed from the client record and visits.

SEGMENTS maps a key (stored in campaign.segment) to a Segment: its label, its parameters
with defaults and bounds (stored in campaign.segment_params) and ONE query that selects the
matching client ids (no per-client queries). Merged-away clients never match. Consent is not
part of a segment (except "all_consenting", which is defined by it): every campaign message
still passes messaging.marketing's gate per channel, and the count preview says how many
would be skipped and why.

Extension point: a new segment (members later) is one `register(Segment(...))` call with a
query built from its parameters and `now`; the campaigns page and the tick pick it up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Callable

from sqlalchemy import Select, and_, func, or_
from sqlmodel import Session, select

from medspa.domain.catalog.models import Service
from medspa.domain.clients.models import Client
from medspa.domain.errors import ValidationFailed
from medspa.domain.messaging.marketing import marketing_refusals
from medspa.domain.scheduling.models import Appointment, AppointmentStatus

NEUROMODULATOR_CATEGORY = "Neuromodulators"  # catalog.models.SERVICE_CATEGORIES
SEEN = (AppointmentStatus.CHECKED_IN.value, AppointmentStatus.COMPLETED.value)  # the client came
AHEAD = (AppointmentStatus.HELD.value, AppointmentStatus.CONFIRMED.value, AppointmentStatus.CHECKED_IN.value)


@dataclass(frozen=True)
class SegmentParam:
    """A whole-number parameter of a segment: `key` in segment_params, its label and unit as
    the page names them ("Not seen for", "months"), default and inclusive bounds."""

    key: str
    label: str
    unit: str
    default: int
    low: int
    high: int


@dataclass(frozen=True)
class Segment:
    """A segment: `key`, `label` and `description` as the page shows them, its `params`, and
    `query(params, now)`: a SELECT of client ids (params: {key: int}, validated; now: aware
    UTC). Run in a tenant session (row-level security keeps it to the clinic)."""

    key: str
    label: str
    description: str
    query: Callable[[dict[str, int], datetime], Select]
    params: tuple[SegmentParam, ...] = field(default_factory=tuple)

    def defaults(self) -> dict[str, int]:
        """The parameters' defaults."""
        return {p.key: p.default for p in self.params}


SEGMENTS: dict[str, Segment] = {}


def register(segment: Segment) -> Segment:
    """Add `segment` to SEGMENTS (the extension point); returns it."""
    SEGMENTS[segment.key] = segment
    return segment


def _months_before(now: datetime, months: int) -> datetime:
    """`now` moved back by whole calendar months (the day clamped to the month's length)."""
    y, m = divmod(now.year * 12 + now.month - 1 - months, 12)
    month = m + 1
    next_month = date(y + (month == 12), month % 12 + 1, 1)
    last_day = (next_month - timedelta(days=1)).day
    return now.replace(year=y, month=month, day=min(now.day, last_day))


def _live_clients() -> Select:
    return select(Client.id).where(Client.merged_into_id.is_(None))


def _lapsed_neuromodulator(params: dict[str, int], now: datetime) -> Select:
    # one pass over the clients' neuromodulator visits, grouped (a hash aggregate): correlated
    # EXISTS per client went to nested loops over a freshly written, unanalysed table (the demo
    # seed's own transaction: 8 minutes)
    cutoff = _months_before(now, params["months"])
    seen, recent = Appointment.status.in_(SEEN), Appointment.start_at >= cutoff
    lapsed = (select(Appointment.client_id).join(Service, Service.id == Appointment.service_id)
              .where(Service.category == NEUROMODULATOR_CATEGORY, Appointment.client_id.is_not(None),
                     Appointment.status.in_(SEEN + AHEAD))
              .group_by(Appointment.client_id)
              .having(and_(func.bool_or(and_(seen, Appointment.start_at < cutoff)),
                           ~func.bool_or(recent))))
    return _live_clients().where(Client.id.in_(lapsed))


def _new_no_second_visit(params: dict[str, int], now: datetime) -> Select:
    cutoff = now - timedelta(days=params["days"])
    completed = Appointment.status == AppointmentStatus.COMPLETED.value
    ahead = and_(Appointment.start_at >= now, Appointment.status.in_(AHEAD))
    once = (select(Appointment.client_id).where(Appointment.client_id.is_not(None))
            .group_by(Appointment.client_id)
            .having(and_(func.count().filter(completed) == 1,
                         func.max(Appointment.start_at).filter(completed) <= cutoff,
                         ~func.coalesce(func.bool_or(ahead), False))))
    return _live_clients().where(Client.id.in_(once))


def _all_consenting(params: dict[str, int], now: datetime) -> Select:
    return _live_clients().where(or_(Client.email_marketing_consent, Client.sms_marketing_consent))


register(Segment(
    "lapsed_neuromodulator", "Neuromodulator clients not seen lately",
    "Had a neuromodulator treatment, but none (and none booked) in the last months.",
    _lapsed_neuromodulator, (SegmentParam("months", "Not seen for", "months", 4, 1, 36),)))
register(Segment(
    "new_no_second_visit", "New clients without a second visit",
    "Exactly one completed visit, at least this many days ago, and nothing booked ahead.",
    _new_no_second_visit, (SegmentParam("days", "First visit at least", "days ago", 30, 1, 730),)))
register(Segment(
    "all_consenting", "Everyone who agreed to marketing",
    "Every client with marketing consent on the campaign's channel.", _all_consenting))


def clean_params(segment_key: str, raw: dict[str, Any]) -> dict[str, int]:
    """The segment's parameters from `raw` (values as typed: "4" or 4; missing ones take the
    default). Raises ValidationFailed keyed "segment" (unknown segment) or "param_<key>"."""
    segment = SEGMENTS.get(segment_key) if isinstance(segment_key, str) else None
    if segment is None:
        raise ValidationFailed({"segment": "Choose who to send to"})
    out, errors = {}, {}
    raw = raw if isinstance(raw, dict) else {}
    for p in segment.params:
        value = raw.get(p.key, p.default)
        if isinstance(value, str):
            value = value.strip()
            value = int(value) if value.isascii() and value.isdigit() and len(value) < 6 else None
        if isinstance(value, bool) or not isinstance(value, int) or not p.low <= value <= p.high:
            errors[f"param_{p.key}"] = f"Enter a whole number from {p.low} to {p.high}"
        else:
            out[p.key] = value
    if errors:
        raise ValidationFailed(errors)
    return out


def segment_clients(session: Session, segment_key: str, params: dict[str, int], now: datetime) -> list[Client]:
    """The clients of the segment (params validated by clean_params), by id: one query."""
    ids = SEGMENTS[segment_key].query(params, now).subquery()
    return list(session.exec(select(Client).where(Client.id.in_(select(ids.c.id))).order_by(Client.id)))


@dataclass(frozen=True)
class ChannelCount:
    """On one channel: how many may be sent to, and the skipped ones by reason
    ((reason, count) pairs, most first)."""

    channel: str
    reachable: int
    skipped: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class SegmentCount:
    """The count preview: clients matching, and per channel ("both": email and sms);
    `reached`: the clients who would get it on at least one channel."""

    matching: int
    channels: tuple[ChannelCount, ...]
    reached: int = 0


def channels_of(channel: str) -> tuple[str, ...]:
    """The delivery channels of a campaign channel: "both" -> ("email", "sms")."""
    return ("email", "sms") if channel == "both" else (channel,)


def count_segment(session: Session, segment_key: str, params: dict[str, int], channel: str,
                  now: datetime) -> SegmentCount:
    """How many clients match and would get the campaign on each of `channel`'s channels
    (marketing gate: consent, opt-out, undeliverable), three queries in all."""
    clients = segment_clients(session, segment_key, params, now)
    counts = []
    reached: set[int] = set()
    for ch in channels_of(channel):
        reasons = marketing_refusals(session, clients, ch)
        reached.update(cid for cid, r in reasons.items() if not r)
        skipped: dict[str, int] = {}
        for reason in reasons.values():
            if reason:
                skipped[reason] = skipped.get(reason, 0) + 1
        counts.append(ChannelCount(ch, sum(1 for r in reasons.values() if not r),
                                   tuple(sorted(skipped.items(), key=lambda kv: (-kv[1], kv[0])))))
    return SegmentCount(len(clients), tuple(counts), len(reached))

