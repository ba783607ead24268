"""The figures of the dashboard's "Charting" card (issue 18; domain/analytics/timeliness.py): the
share of charts signed within 24 h and within 72 h of the visit's end. Loaded with the tiles for
the same filter (DashboardState._run); the card itself is features/dashboard/timeliness.py."""

from __future__ import annotations

import dataclasses

from medspa.domain.analytics import actions
from medspa.features.dashboard.fmt import pct


@dataclasses.dataclass
class TimelyView:
    """One figure of the card."""

    key: str = ""
    label: str = ""
    value: str = ""
    detail: str = ""


async def timely_views(state, filters: dict) -> list[TimelyView]:
    """The two figures for `filters` (start, end, location_id, now), through `state._act` (the
    actor re-checked; report.read); [] when refused."""
    done = await state._act(actions.fetch_chart_timeliness, **filters)
    if not done.ok:
        return []
    t = done.value
    return [TimelyView("signed_24h", "Charts signed within 24 h", pct(t.rate_24),
                       f"{t.within_24:,} of {t.due_24:,} charts"),
            TimelyView("signed_72h", "Charts signed within 72 h", pct(t.rate_72),
                       f"{t.within_72:,} of {t.due_72:,} charts · {t.unsigned:,} not signed yet")]
