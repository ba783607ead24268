"""Use cases of campaigns (messaging.campaigns, messaging.segments): one transaction each.

Callers: the /campaigns page (features/campaigns) and the periodic tick (jobs/campaigns.py).
Staff actions need campaign.manage (missing and forbidden look alike: NotFound) and write
their audit rows in the transaction. Keyword-only extras: `clock` (default: the app clock),
`engine` (tests pass theirs).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import select

from medspa.clock import Clock
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.messaging import campaigns as cs
from medspa.domain.messaging.campaigns import CampaignInfo, CampaignInput, Preview
from medspa.domain.messaging.segments import SegmentCount, clean_params, count_segment
from medspa.domain.practice.models import Location
from medspa.domain.scheduling.booking import organization_ids
from medspa.domain.work import atomic, now_of

__all__ = ["do_cancel_campaign", "do_campaign_tick", "do_save_campaign", "do_schedule_campaign",
           "do_send_campaign_now", "fetch_campaign", "fetch_campaigns", "fetch_locations", "preview_campaign",
           "preview_segment_count"]


def fetch_campaigns(actor: Actor, *, engine: Engine | None = None) -> list[CampaignInfo]:
    """The clinic's campaigns with their results, newest first. Raises NotFound (forbidden)."""
    with atomic(actor.org_id, engine=engine) as work:
        return cs.list_campaigns(work.session, actor)


def fetch_campaign(actor: Actor, campaign_id: int, *, engine: Engine | None = None) -> CampaignInfo:
    """One campaign with its results. Raises NotFound."""
    with atomic(actor.org_id, engine=engine) as work:
        return cs.get_campaign(work.session, actor, campaign_id)


def fetch_locations(actor: Actor, *, engine: Engine | None = None) -> list[tuple[int, str, str]]:
    """[(location id, name, IANA zone)] by id: where a campaign's send time is read. NotFound."""
    if not actor.can(cs.PERMISSION):
        raise NotFound("campaign")
    with atomic(actor.org_id, engine=engine) as work:
        rows = work.session.exec(select(Location.id, Location.name, Location.time_zone).order_by(Location.id)).all()
        return [(r[0], r[1], r[2]) for r in rows]


def preview_segment_count(actor: Actor, segment: str, params: dict, channel: str, *, clock: Clock | None = None,
                          engine: Engine | None = None) -> SegmentCount:
    """The count preview of a segment on a channel (segments.count_segment). Raises NotFound,
    ValidationFailed ("segment", "param_<key>", "channel")."""
    if not actor.can(cs.PERMISSION):
        raise NotFound("campaign")
    clean = clean_params(segment, params)
    if channel not in ("email", "sms", "both"):
        raise ValidationFailed({"channel": "Choose email, text or both"})
    with atomic(actor.org_id, engine=engine) as work:
        return count_segment(work.session, segment, clean, channel, now_of(clock))


def preview_campaign(actor: Actor, data: CampaignInput, *, clock: Clock | None = None,
                     engine: Engine | None = None) -> Preview:
    """The campaign as typed, rendered for a sample client of its segment. Raises NotFound,
    ValidationFailed."""
    with atomic(actor.org_id, engine=engine) as work:
        return cs.preview(work.session, actor, data, now_of(clock))


def do_save_campaign(actor: Actor, campaign_id: int | None, data: CampaignInput, *, clock: Clock | None = None,
                     engine: Engine | None = None) -> int:
    """Add or change a draft; returns its id (audited). Raises NotFound, ValidationFailed."""
    with atomic(actor.org_id, engine=engine) as work:
        return cs.save_draft(work.session, actor, campaign_id, data, now_of(clock))


def do_schedule_campaign(actor: Actor, campaign_id: int, day: str, wall: str, location_id: int | None, *,
                         clock: Clock | None = None, engine: Engine | None = None) -> datetime:
    """Schedule a campaign at a location's wall-clock time; returns the instant (audited).
    Raises NotFound, ValidationFailed ("when")."""
    with atomic(actor.org_id, engine=engine) as work:
        return cs.schedule(work.session, actor, campaign_id, day, wall, location_id, now_of(clock))


def do_send_campaign_now(actor: Actor, campaign_id: int, *, clock: Clock | None = None,
                         engine: Engine | None = None) -> int:
    """Start the campaign now and queue the messages already due (those outside quiet hours);
    returns how many were queued. Audited. Raises NotFound."""
    now = now_of(clock)
    with atomic(actor.org_id, engine=engine) as work:
        cs.send_now(work.session, actor, campaign_id, now)
    return _tick_org(actor.org_id, now, engine).queued


def do_cancel_campaign(actor: Actor, campaign_id: int, *, clock: Clock | None = None,
                       engine: Engine | None = None) -> int:
    """Cancel a campaign that has not started, or stop one that is sending ("Stop sending": its
    pending recipients are skipped, what is already queued goes); audited. Returns how many
    recipients were stopped. Raises NotFound (also a sent or cancelled campaign)."""
    with atomic(actor.org_id, engine=engine) as work:
        return cs.cancel(work.session, actor, campaign_id, now_of(clock))


@dataclass(frozen=True)
class TickResult:
    """What one tick did: campaigns started, messages queued, campaigns finished."""

    started: int = 0
    queued: int = 0
    finished: int = 0


def _tick_org(org_id: int, now: datetime, engine: Engine | None) -> TickResult:
    started = queued = 0
    with atomic(org_id, engine=engine) as work:
        started = len(cs.start_due(work.session, now))
    while True:  # batches, one transaction each, until nothing is due
        with atomic(org_id, engine=engine) as work:
            handled, n = cs.queue_due(work.session, now)
        queued += n
        if handled < cs.BATCH:
            break
    with atomic(org_id, engine=engine) as work:
        finished = len(cs.finish_sent(work.session, now))
    return TickResult(started, queued, finished)


def do_campaign_tick(*, clock: Clock | None = None, engine: Engine | None = None) -> TickResult:
    """The periodic step for every clinic: start due scheduled campaigns (recipients
    snapshotted), write the due recipients' outbox messages, mark finished campaigns sent.
    Idempotent and safe with several workers (row locks, unique rows, dedupe keys)."""
    now = now_of(clock)
    with atomic(None, engine=engine) as work:
        org_ids = organization_ids(work.session)
    total = TickResult()
    for org_id in org_ids:
        r = _tick_org(org_id, now, engine)
        total = TickResult(total.started + r.started, total.queued + r.queued, total.finished + r.finished)
    return total
