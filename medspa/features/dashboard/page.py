"""The owners' dashboard at `/dashboard` (owner and manager): tiles with their definitions,
utilization and revenue charts, and the rows behind each tile.

Other staff roles see a plain "not found"; signed-out visitors are sent to sign in.
"""

from __future__ import annotations

import reflex as rx

from medspa.features.auth.shell import not_found_view, staff_header
from medspa.features.dashboard.state import DashboardState, DrillRow, Option, TileView

ROUTE = "/dashboard"


def _labelled(label: str, child: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", weight="medium", color_scheme="gray"), child, spacing="1")


def _option(opt: Option) -> rx.Component:
    return rx.select.item(opt.label, value=opt.value)


def _filters() -> rx.Component:
    s = DashboardState
    return rx.hstack(
        _labelled("From", rx.input(type="date", value=s.start, on_change=s.set_start, size="2", id="dash-start",
                                   width="150px")),
        _labelled("To", rx.input(type="date", value=s.end, on_change=s.set_end, size="2", id="dash-end",
                                 width="150px")),
        _labelled("Location", rx.select.root(
            rx.select.trigger(id="dash-location", width="220px"),
            rx.select.content(rx.foreach(s.locations, _option)),
            value=s.location, on_change=s.set_location, size="2")),
        rx.cond(s.busy, rx.spinner(size="2")),
        align="end", spacing="4", wrap="wrap", width="100%",
    )


def _tile(t: TileView) -> rx.Component:
    s = DashboardState
    return rx.card(
        rx.vstack(
            rx.text(t.label, size="2", weight="medium", color_scheme="gray"),
            rx.text(t.value, size="7", weight="bold", class_name="dash-tile-value"),
            rx.text(t.detail, size="1", class_name="dash-tile-detail"),
            rx.text(t.definition, size="1", color_scheme="gray", class_name="dash-tile-definition"),
            spacing="1",
        ),
        on_click=s.open_drill(t.key),
        cursor="pointer",
        _hover={"box_shadow": f"0 0 0 2px {rx.color('teal', 7)}"},
        border=rx.cond(s.drill_key == t.key, f"2px solid {rx.color('teal', 9)}", "2px solid transparent"),
        class_name="dash-tile",
        custom_attrs={"data-key": t.key},
    )


def _charts() -> rx.Component:
    s = DashboardState
    util = rx.card(
        rx.text("Utilization per provider (%)", size="3", weight="bold"),
        rx.text("Booked and attended minutes / available working minutes.", size="1", color_scheme="gray"),
        rx.recharts.bar_chart(
            rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
            rx.recharts.x_axis(data_key="name"),
            rx.recharts.y_axis(domain=[0, 100]),
            rx.recharts.tooltip(),
            rx.recharts.legend(),
            rx.recharts.bar(data_key="booked", name="Booked %", fill="#0d9488"),
            rx.recharts.bar(data_key="attended", name="Attended %", fill="#99d5cf"),
            data=s.util_chart, width="100%", height=260,
        ),
        id="dash-util-chart", width="100%",
    )
    rev = rx.card(
        rx.text("Revenue by month ($)", size="3", weight="bold"),
        rx.text("Deposits paid, money returned and net, by the location's local month.", size="1",
                color_scheme="gray"),
        rx.recharts.bar_chart(
            rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
            rx.recharts.x_axis(data_key="month"),
            rx.recharts.y_axis(),
            rx.recharts.tooltip(),
            rx.recharts.legend(),
            rx.recharts.bar(data_key="deposits", name="Deposits", fill="#0d9488"),
            rx.recharts.bar(data_key="refunds", name="Refunds", fill="#f97316"),
            rx.recharts.bar(data_key="net", name="Net", fill="#334155"),
            data=s.revenue_chart, width="100%", height=260,
        ),
        id="dash-revenue-chart", width="100%",
    )
    return rx.grid(util, rev, columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%")


def _drill_row(r: DrillRow) -> rx.Component:
    return rx.table.row(rx.table.cell(r.id), rx.table.cell(r.what), rx.table.cell(r.value), class_name="dash-drill-row")


def _drill() -> rx.Component:
    s = DashboardState
    return rx.cond(
        s.drill_key != "",
        rx.card(
            rx.hstack(
                rx.vstack(rx.text(s.drill_title, size="3", weight="bold"),
                          rx.text(s.drill_summary, size="2", color_scheme="gray", id="dash-drill-summary"),
                          spacing="0"),
                rx.button(rx.icon("x", size=14), "Close", size="1", variant="soft", on_click=s.close_drill,
                          id="dash-drill-close"),
                justify="between", width="100%", align="center",
            ),
            rx.table.root(
                rx.table.header(rx.table.row(*(rx.table.column_header_cell(h) for h in ("Row", "What", "Value")))),
                rx.table.body(rx.foreach(s.drill_rows, _drill_row)),
                size="1", variant="ghost", width="100%",
            ),
            width="100%", id="dash-drill",
        ),
    )


def _view() -> rx.Component:
    s = DashboardState
    return rx.vstack(
        rx.heading("Dashboard", size="6", weight="bold"),
        rx.text("How the clinic is doing over the chosen days. Click a figure to see the visits or payments "
                "behind it.", size="2", color_scheme="gray"),
        _filters(),
        rx.cond(s.error != "", rx.callout(s.error, icon="circle-alert", color_scheme="red", size="1",
                                          id="dash-error", width="100%")),
        rx.grid(rx.foreach(s.tiles, _tile), columns=rx.breakpoints(initial="1", sm="2", lg="4"), spacing="3",
                width="100%", id="dash-tiles"),
        _drill(),
        _charts(),
        spacing="4", padding="20px", width="100%", max_width="1400px", margin_x="auto",
    )


def dashboard_page() -> rx.Component:
    s = DashboardState
    return rx.box(
        rx.cond(s.not_found, not_found_view("dash-not-found"),
                rx.cond(s.allowed, rx.fragment(staff_header("dashboard"), _view()),
                        rx.center(rx.spinner(size="3"), padding_top="18vh"))),
        min_height="100vh", background=rx.color("gray", 2), id="dashboard-page",
        custom_attrs={"data-busy": s.busy},
    )


def register(app: rx.App) -> None:
    """Add /dashboard (owner and manager)."""
    app.add_page(dashboard_page, route=ROUTE, title="Dashboard · medspa", on_load=DashboardState.load)
