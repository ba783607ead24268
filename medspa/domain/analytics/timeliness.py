"""Chart timeliness on the owners' dashboard (issue 18): the share of charts signed within 24
and within 72 hours of the visit's end.

Visits: completed visits whose local day (at their location) falls in start..end (the same
visits as the other visit figures, analytics.common._VISITS). A chart counts as signed when its
FIRST signed version was signed at or before end_at + 24 h (resp. 72 h); later amendments do not
move it. A visit still inside its window and not yet signed is left out of that figure (it may
still make it); once the window has passed an unsigned chart counts as late. Counts only: no
client data, no audit row (like the other tiles). report.read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import text
from sqlmodel import Session

from medspa.domain.analytics.common import PERMISSION, _VISITS, _params, _ratio
from medspa.domain.identity.actor import Actor

DEFINITION = ("Completed visits of the range whose chart was first signed within 24 h (72 h) of the visit's end "
              "/ completed visits whose 24 h (72 h) window has passed or whose chart is signed. Amendments do "
              "not count; an unsigned chart counts as late once its window has passed.")


@dataclass(frozen=True)
class ChartTimeliness:
    """Counts behind the two shares (see the module docstring)."""

    visits: int  # completed visits in the range
    within_24: int
    due_24: int
    within_72: int
    due_72: int
    unsigned: int  # completed visits with no signed chart yet

    @property
    def rate_24(self) -> float | None:
        return _ratio(self.within_24, self.due_24)

    @property
    def rate_72(self) -> float | None:
        return _ratio(self.within_72, self.due_72)


def chart_timeliness(session: Session, actor: Actor, *, start: date, end: date, location_id: int | None,
                     now: datetime) -> ChartTimeliness:
    """The counts for local days start..end at `location_id` (None: all) as of `now` (tz-aware).
    Raises PermissionDenied without report.read, ValueError when end < start."""
    actor.require(PERMISSION)
    row = session.execute(text(f"""
        SELECT count(*),
               count(*) FILTER (WHERE v.signed_at <= v.end_at + interval '24 hours'),
               count(*) FILTER (WHERE v.signed_at IS NOT NULL OR v.end_at + interval '24 hours' <= :now),
               count(*) FILTER (WHERE v.signed_at <= v.end_at + interval '72 hours'),
               count(*) FILTER (WHERE v.signed_at IS NOT NULL OR v.end_at + interval '72 hours' <= :now),
               count(*) FILTER (WHERE v.signed_at IS NULL)
          FROM (SELECT a.end_at,
                       (SELECT min(n.signed_at) FROM treatment_note n
                         WHERE n.appointment_id = a.id AND n.status = 'signed') AS signed_at
                {_VISITS} AND a.status = 'completed') v"""),
        _params(start, end, location_id, now=now)).one()
    return ChartTimeliness(*row)


__all__ = ["DEFINITION", "ChartTimeliness", "chart_timeliness"]
