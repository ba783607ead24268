"""The dashboard's "Charts signed on time" card (issue 18; domain/analytics/timeliness.py): the
share of charts signed within 24 h and within 72 h of the visit's end, with the definition next
to the figures like the tiles. Its figures load with the tiles (DashboardState.timely, features/dashboard/timely.py)."""

from __future__ import annotations

import reflex as rx

from medspa.domain.analytics.timeliness import DEFINITION
from medspa.features.dashboard.state import DashboardState
from medspa.features.dashboard.timely import TimelyView


def _figure(t: TimelyView) -> rx.Component:
    return rx.vstack(
        rx.text(t.label, size="2", weight="medium", color_scheme="gray"),
        rx.text(t.value, size="7", weight="bold", class_name="dash-timely-value"),
        rx.text(t.detail, size="1", class_name="dash-timely-detail"),
        spacing="1", class_name="dash-timely", custom_attrs={"data-key": t.key},
    )


def timeliness_card() -> rx.Component:
    """The card (nothing before the first load)."""
    s = DashboardState
    return rx.cond(s.timely.length() > 0, rx.card(rx.vstack(
        rx.text("Charting", size="1", weight="bold", color_scheme="gray", text_transform="uppercase",
                letter_spacing="0.06em"),
        rx.grid(rx.foreach(s.timely, _figure), columns=rx.breakpoints(initial="1", sm="2"), spacing="4", width="100%"),
        rx.text(DEFINITION, size="1", color_scheme="gray", class_name="dash-timely-definition"),
        spacing="2", width="100%"), width="100%", id="dash-timeliness"))
