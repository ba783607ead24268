"""The owners' dashboard at `/dashboard` (owner and manager).

Top to bottom: the filter (dates, quick ranges, location); the headline tiles, each with its
change against the previous period and its definition; then the charts grouped as Visits,
Money and Clients, each card with its definition (analytics.definitions, the one place for
that text) and a CSV button. Clicking a tile, a table row under a chart or a heatmap cell
opens the rows behind that figure in a dialog (date, client, service, provider, location).

Recharts has no heatmap, so the heatmaps are CSS grids of coloured cells. Recharts' Bar
click gives no payload in Reflex 0.10, so bars are opened through the table rows under them.

Other staff roles see a plain "not found"; signed-out visitors are sent to sign in.
"""

from __future__ import annotations

import json

import reflex as rx

from medspa.domain.analytics.definitions import DEFINITIONS
from medspa.features.auth.shell import not_found_view, staff_header
from medspa.features.dashboard.disputes import DisputesState, disputes_section
from medspa.features.dashboard.timeliness import timeliness_card
from medspa.features.dashboard.state import CellView, DashboardState, DrillRow, DrillState, HeatmapState, Option, TileView

ROUTE = "/dashboard"
TEAL, TEAL_LIGHT, ORANGE, SLATE, RED, AMBER = "#0d9488", "#99d5cf", "#f97316", "#334155", "#dc2626", "#f59e0b"
PRESETS = ((7, "7 days"), (30, "30 days"), (90, "90 days"), (365, "12 months"))


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
        _labelled("Quick range", rx.hstack(
            *(rx.button(label, size="2", variant="soft", color_scheme="gray", on_click=s.set_preset(days),
                        id=f"dash-preset-{days}") for days, label in PRESETS), spacing="1")),
        _labelled("Location", rx.select.root(
            rx.select.trigger(id="dash-location", width="240px"),
            rx.select.content(rx.foreach(s.locations, _option)),
            value=s.location, on_change=s.set_location, size="2")),
        rx.cond(s.busy, rx.spinner(size="2")),
        rx.spacer(),
        rx.button(rx.icon("download", size=14), "Tiles CSV", size="2", variant="outline",
                  on_click=s.export_report("tiles"), id="dash-csv-tiles"),
        align="end", spacing="4", wrap="wrap", width="100%",
    )


def _tile(t: TileView) -> rx.Component:
    s = DashboardState
    tone = rx.match(t.tone, ("good", "grass"), ("bad", "tomato"), "gray")
    return rx.card(
        rx.vstack(
            rx.text(t.label, size="2", weight="medium", color_scheme="gray"),
            rx.text(t.value, size="7", weight="bold", class_name="dash-tile-value"),
            rx.text(t.change, size="1", weight="medium", color_scheme=tone, class_name="dash-tile-change",
                    custom_attrs={"data-tone": t.tone}),
            rx.text(t.detail, size="1", class_name="dash-tile-detail"),
            rx.text(t.definition, size="1", color_scheme="gray", class_name="dash-tile-definition"),
            spacing="1",
        ),
        on_click=DrillState.open_drill(t.key, ""),
        cursor="pointer",
        _hover={"box_shadow": f"0 0 0 2px {rx.color('teal', 7)}"},
        class_name="dash-tile",
        custom_attrs={"data-key": t.key, "data-group": t.group},
    )


def _tile_group(title: str, tiles, columns: str) -> rx.Component:
    return rx.vstack(
        rx.text(title, size="1", weight="bold", color_scheme="gray", text_transform="uppercase",
                letter_spacing="0.06em"),
        rx.grid(rx.foreach(tiles, _tile), columns=rx.breakpoints(initial="1", sm="2", lg=columns), spacing="3",
                width="100%"),
        spacing="1", width="100%",
    )


def _section(title: str, subtitle: str, *children: rx.Component) -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.heading(title, size="4", weight="bold"), rx.text(subtitle, size="2", color_scheme="gray"),
                  align="baseline", spacing="3"),
        *children,
        spacing="3", width="100%",
    )


# The chart as PNG, in the browser: the card's first recharts <svg> is serialised, drawn on a
# canvas under the card's title and saved. No server round trip (the figures are already on
# screen; the CSV is the audited, complete export). Cards without an <svg> (the heatmaps,
# tables) offer CSV only.
_PNG_SCRIPT = """(function (cardId, name) {
  var card = document.getElementById(cardId);
  var svg = card && card.querySelector('.recharts-wrapper > svg.recharts-surface');  // not a legend icon
  if (!svg) { return; }
  var w = svg.clientWidth || svg.width.baseVal.value, h = svg.clientHeight || svg.height.baseVal.value;
  var clone = svg.cloneNode(true);
  clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  clone.setAttribute('width', w); clone.setAttribute('height', h);
  clone.setAttribute('font-family', 'sans-serif');
  var title = card.querySelector('.dash-card-title');
  var from = document.getElementById('dash-start'), to = document.getElementById('dash-end');
  var span = (from && to) ? from.value + '_' + to.value : '';
  var img = new Image();
  img.onload = function () {
    var scale = 2, pad = 16, top = 44;
    var canvas = document.createElement('canvas');
    canvas.width = (w + 2 * pad) * scale; canvas.height = (h + top + pad) * scale;
    var g = canvas.getContext('2d');
    g.scale(scale, scale);
    g.fillStyle = '#ffffff'; g.fillRect(0, 0, w + 2 * pad, h + top + pad);
    g.fillStyle = '#111827'; g.font = 'bold 15px sans-serif';
    g.fillText(title ? title.textContent : name, pad, 24);
    var note = card.querySelector('.dash-card-note');
    g.fillStyle = '#6b7280'; g.font = '11px sans-serif';
    g.fillText(note ? note.textContent : span.replace('_', ' to '), pad, 38);
    g.drawImage(img, pad, top, w, h);
    // the legend is HTML over the chart: draw each entry where it sits on screen
    var base = svg.getBoundingClientRect();
    g.font = '12px sans-serif';
    card.querySelectorAll('.recharts-legend-item').forEach(function (item) {
      var r = item.getBoundingClientRect(), mark = item.querySelector('svg path, svg line');
      if (!r.width) { return; }
      var fill = mark && mark.getAttribute('fill'), stroke = mark && mark.getAttribute('stroke');
      g.fillStyle = (fill && fill !== 'none') ? fill : (stroke || '#374151');
      var x = pad + r.left - base.left, y = top + r.top - base.top;
      g.fillRect(x, y + r.height / 2 - 5, 10, 10);
      g.fillStyle = '#111827'; g.fillText(item.textContent, x + 14, y + r.height / 2 + 4);
    });
    var a = document.createElement('a');
    a.download = name + (span ? '-' + span : '') + '.png';
    a.href = canvas.toDataURL('image/png');
    document.body.appendChild(a); a.click(); a.remove();
  };
  img.src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(new XMLSerializer().serializeToString(clone));
})(%s, %s)"""


def _png_button(card_id: str, report: str) -> rx.Component:
    return rx.button(rx.icon("image", size=12), "PNG", size="1", variant="soft", color_scheme="gray",
                     on_click=rx.call_script(_PNG_SCRIPT % (json.dumps(card_id), json.dumps(report))),
                     class_name="dash-png", custom_attrs={"data-report": report})


def _card(card_id: str, title: str, definition_key: str, report: str, *body: rx.Component,
          png: bool = False) -> rx.Component:
    s = DashboardState
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(title, size="3", weight="bold", class_name="dash-card-title"),
                rx.hstack(
                    _png_button(card_id, card_id.removeprefix("dash-").removesuffix("-chart")) if png else rx.fragment(),
                    rx.button(rx.icon("download", size=12), "CSV", size="1", variant="soft", color_scheme="gray",
                              on_click=s.export_report(report), class_name="dash-csv",
                              custom_attrs={"data-report": report}),
                    spacing="1"),
                justify="between", width="100%", align="center",
            ),
            rx.text(DEFINITIONS[definition_key], size="1", color_scheme="gray", class_name="dash-definition"),
            *body,
            spacing="2", width="100%",
        ),
        id=card_id, width="100%",
    )


def _util_row(row: dict) -> rx.Component:
    s = DashboardState
    return rx.table.row(
        rx.table.cell(rx.text(row["name"], size="1")),
        rx.table.cell(rx.text(row["booked"], "%", size="1"), justify="end"),
        rx.table.cell(rx.text(row["attended"], "%", size="1"), justify="end"),
        on_click=DrillState.open_drill("provider_util", row["id"].to(str)),
        cursor="pointer", _hover={"background": rx.color("teal", 3)}, class_name="dash-util-row",
    )


def _small_table(headers: tuple[str, ...], body: rx.Component) -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*(rx.table.column_header_cell(rx.text(h, size="1")) for h in headers))),
            rx.table.body(body),
            size="1", variant="ghost", width="100%",
        ),
        max_height="180px", overflow_y="auto", width="100%",
    )


def _resource_row(row: dict) -> rx.Component:
    s = DashboardState
    return rx.table.row(
        rx.table.cell(rx.text(row["name"], size="1")),
        rx.table.cell(rx.text(row["kind"], size="1", color_scheme="gray")),
        rx.table.cell(rx.text(row["booked"], "%", size="1"), justify="end"),
        rx.table.cell(rx.text(row["attended"], "%", size="1"), justify="end"),
        on_click=DrillState.open_drill("resource_util", row["id"].to(str)),
        cursor="pointer", _hover={"background": rx.color("teal", 3)}, class_name="dash-resource-row",
    )


def _pct_bars(data, *bars: rx.Component, x_key: str = "name") -> rx.Component:
    return rx.recharts.bar_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
        rx.recharts.x_axis(data_key=x_key, tick={"fontSize": 11}),
        rx.recharts.y_axis(domain=[0, 100], unit="%", width=45),
        rx.recharts.tooltip(),
        rx.recharts.legend(),
        *bars,
        data=data, width="100%", height=220,
    )


def _month_link(text, key: str, month) -> rx.Component:
    s = DashboardState
    return rx.link(rx.text(text, size="1"), on_click=DrillState.open_drill(key, month.to(str)), cursor="pointer",
                   class_name="dash-month-link")


def _trend_row(row: dict) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row["month"], size="1")),
        rx.table.cell(_month_link(row["no_show_text"], "month_no_show", row["month"])),
        rx.table.cell(_month_link(row["cancel_text"], "month_cancellations", row["month"])),
        class_name="dash-trend-row",
    )


def _rebook_row(row: dict) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row["month"], size="1")),
        rx.table.cell(_month_link(row["rebook_text"], "month_rebooking", row["month"])),
        class_name="dash-rebook-row",
    )


def _lines(data, *lines: rx.Component) -> rx.Component:
    return rx.recharts.line_chart(
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
        rx.recharts.x_axis(data_key="month", tick={"fontSize": 11}),
        rx.recharts.y_axis(unit="%", width=45),
        rx.recharts.tooltip(),
        rx.recharts.legend(),
        *lines,
        data=data, width="100%", height=220,
    )


def _heat_cell(c: CellView) -> rx.Component:
    s = DashboardState
    return rx.box(
        rx.text(c.text, size="1", weight="medium"),
        background=c.bg, color=c.fg, title=c.title, border_radius="3px", min_height="24px",
        display="flex", align_items="center", justify_content="center",
        cursor=rx.cond(c.key != "", "pointer", "default"),
        on_click=DrillState.open_drill(c.key, c.arg),  # a header cell's empty key opens nothing
        class_name=rx.cond(c.key != "", "dash-heat-cell dash-heat-live", "dash-heat-cell"),
        custom_attrs={"data-arg": c.arg},
    )


def _visits() -> rx.Component:
    s = DashboardState
    util = _card(
        "dash-util-chart", "Utilization per provider", "booked_util", "utilization",
        rx.text(DEFINITIONS["attended_util"], size="1", color_scheme="gray"),
        _pct_bars(s.util_chart, rx.recharts.bar(is_animation_active=False, data_key="booked", name="Booked %", fill=TEAL),
                  rx.recharts.bar(is_animation_active=False, data_key="attended", name="Attended %", fill=TEAL_LIGHT)),
        rx.text("Click a provider to see the visits behind the bar.", size="1", color_scheme="gray"),
        _small_table(("Provider", "Booked", "Attended"), rx.foreach(s.util_chart, _util_row)),
        png=True,
    )
    rooms = _card(
        "dash-resource-chart", "Rooms and devices", "room_util", "resources",
        rx.text(DEFINITIONS["device_util"], size="1", color_scheme="gray"),
        _pct_bars(s.resource_chart, rx.recharts.bar(is_animation_active=False, data_key="booked", name="Booked %", fill=SLATE),
                  rx.recharts.bar(is_animation_active=False, data_key="attended", name="Attended %", fill="#94a3b8")),
        _small_table(("Room / device", "", "Booked", "Attended"), rx.foreach(s.resource_chart, _resource_row)),
        png=True,
    )
    trend = _card(
        "dash-trend-chart", "No-shows and cancellations by month", "trend_no_show", "trend",
        rx.text(s.trend_note, size="1", color_scheme="gray", class_name="dash-card-note"),
        _lines(s.trend_chart,
               rx.recharts.line(is_animation_active=False, data_key="no_show", name="No-show %", stroke=RED, stroke_width=2),
               rx.recharts.line(is_animation_active=False, data_key="cancellation", name="Cancelled %", stroke=AMBER, stroke_width=2),
               rx.recharts.line(is_animation_active=False, data_key="late_cancellation", name="Late cancelled %", stroke=ORANGE,
                                stroke_dasharray="4 3")),
        _small_table(("Month", "No-shows (of due)", "Cancelled (of scheduled)"), rx.foreach(s.trend_chart, _trend_row)),
        png=True,
    )
    hours = _card(
        "dash-hours-chart", "Busiest hours", "busiest_hours", "hours",
        rx.cond(
            HeatmapState.hour_cells.length() > 0,
            rx.box(rx.foreach(HeatmapState.hour_cells, _heat_cell), display="grid", grid_template_columns=HeatmapState.hours_template,
                   gap="2px", width="100%", id="dash-hours-grid"),
            rx.text("No visits in the range.", size="2", color_scheme="gray"),
        ),
        rx.text("Darker = more visits. Click a cell to see its visits.", size="1", color_scheme="gray"),
    )
    return _section("Visits", "how full the diary is, when clients come and who did not",
                    rx.grid(util, rooms, trend, hours, columns=rx.breakpoints(initial="1", lg="2"), spacing="4",
                            width="100%"))


STACK_COLORS = ("#0d9488", "#6366f1", "#f59e0b", "#ec4899", "#0ea5e9", "#84cc16", "#94a3b8")


def _category_row(row: dict) -> rx.Component:
    s = DashboardState
    return rx.table.row(
        rx.table.cell(rx.text(row["category"], size="1")),
        rx.table.cell(rx.text(row["net"], size="1"), justify="end"),
        on_click=DrillState.open_drill("revenue_category", row["category"]),
        cursor="pointer", _hover={"background": rx.color("teal", 3)}, class_name="dash-category-row",
    )


def _service_row(row: dict) -> rx.Component:
    s = DashboardState
    return rx.table.row(
        rx.table.cell(rx.text(row["name"], size="1")),
        rx.table.cell(rx.text(row["category"], size="1", color_scheme="gray")),
        rx.table.cell(rx.text(row["checkouts"], size="1"), justify="end"),
        rx.table.cell(rx.text(row["sales"], size="1"), justify="end"),
        on_click=DrillState.open_drill("top_service", row["id"]),
        cursor="pointer", _hover={"background": rx.color("teal", 3)}, class_name="dash-service-row",
    )


def _money() -> rx.Component:
    s = DashboardState
    bars = [rx.recharts.bar(is_animation_active=False, data_key=f"c{i}", name=s.categories[i], stack_id="net", fill=color,
                            legend_type=rx.cond(s.categories[i] != "", "rect", "none"))
            for i, color in enumerate(STACK_COLORS)]
    rev = _card(
        "dash-revenue-chart", "Net revenue by month and category ($)", "revenue_by_category", "revenue",
        rx.text(s.trend_note, size="1", color_scheme="gray", class_name="dash-card-note"),
        rx.recharts.bar_chart(
            rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
            rx.recharts.x_axis(data_key="month", tick={"fontSize": 11}),
            rx.recharts.y_axis(width=70, tick={"fontSize": 11}),
            rx.recharts.tooltip(),
            rx.recharts.legend(),
            *bars,
            data=s.revenue_chart, width="100%", height=260,
        ),
        rx.text("Click a category to see its ledger lines.", size="1", color_scheme="gray"),
        _small_table(("Category (12 months)", "Net"), rx.foreach(s.category_totals, _category_row)),
        png=True,
    )
    tops = _card(
        "dash-services-chart", "Top services", "top_services", "top_services",
        rx.cond(
            s.top_services.length() > 0,
            rx.box(rx.table.root(
                rx.table.header(rx.table.row(*(rx.table.column_header_cell(rx.text(h, size="1"))
                                               for h in ("Service", "Category", "Checkouts", "Sales")))),
                rx.table.body(rx.foreach(s.top_services, _service_row)),
                size="1", variant="ghost", width="100%"), width="100%"),
            rx.text("No checkouts in the range.", size="2", color_scheme="gray"),
        ),
        rx.text("Click a service to see its checkouts.", size="1", color_scheme="gray"),
    )
    return _section("Money", "what came in, by the local day of each ledger line",
                    rx.grid(rev, tops, columns=rx.breakpoints(initial="1", lg="2"), spacing="4", width="100%"))


def _clients() -> rx.Component:
    s = DashboardState
    rebook = _card(
        "dash-rebook-chart", "Rebooking by month", "trend_rebooking", "trend",
        rx.text(s.trend_note, size="1", color_scheme="gray", class_name="dash-card-note"),
        _lines(s.trend_chart,
               rx.recharts.line(is_animation_active=False, data_key="rebooking", name="Rebooked within 90 days %", stroke=TEAL, stroke_width=2),
               rx.recharts.line(is_animation_active=False, data_key="before_leaving", name="Before leaving %", stroke=SLATE,
                                stroke_dasharray="4 3")),
        rx.text("Months marked \"still open\" can still rise: their visits are less than 90 days ago.", size="1",
                color_scheme="gray"),
        _small_table(("Month", "Rebooked (of completed)"), rx.foreach(s.trend_chart, _rebook_row)),
        png=True,
    )
    retention = _card(
        "dash-retention-chart", "Retention by first-visit month", "retention", "retention",
        rx.text(HeatmapState.retention_note, size="1", color_scheme="gray"),
        rx.cond(
            HeatmapState.retention_cells.length() > 5,
            rx.box(rx.foreach(HeatmapState.retention_cells, _heat_cell), display="grid",
                   grid_template_columns="72px 60px repeat(3, 1fr)", gap="2px", width="100%",
                   max_height="320px", overflow_y="auto", id="dash-retention-grid"),
            rx.text("No new clients in these months.", size="2", color_scheme="gray"),
        ),
        rx.text("Blank = the window is not over yet. Click a cell to see the cohort's clients.", size="1",
                color_scheme="gray"),
    )
    return _section("Clients", "who comes back",
                    rx.grid(rebook, retention, columns=rx.breakpoints(initial="1", lg="2"), spacing="4", width="100%"))


def _drill_row(r: DrillRow) -> rx.Component:
    return rx.table.row(
        *(rx.table.cell(rx.text(v, size="1")) for v in (r.when, r.client, r.service, r.provider, r.location, r.what)),
        rx.table.cell(rx.text(r.value, size="1"), justify="end"),
        class_name="dash-drill-row",
    )


def _drill() -> rx.Component:
    s = DrillState
    return rx.dialog.root(
        rx.dialog.content(
            rx.hstack(
                rx.vstack(rx.dialog.title(DrillState.drill_title, size="4", margin="0"),
                          rx.text(DrillState.drill_summary, size="2", weight="medium", id="dash-drill-summary"),
                          spacing="1"),
                rx.hstack(
                    rx.button(rx.icon("download", size=14), "Export CSV", size="1", variant="soft",
                              on_click=DrillState.export_drill, id="dash-drill-csv"),
                    rx.button(rx.icon("x", size=14), "Close", size="1", variant="soft", color_scheme="gray",
                              on_click=DrillState.close_drill, id="dash-drill-close"),
                    spacing="2"),
                justify="between", width="100%", align="start",
            ),
            rx.cond(DrillState.drill_note != "", rx.text(DrillState.drill_note, size="1", color_scheme="amber", id="dash-drill-note")),
            rx.box(
                rx.table.root(
                    rx.table.header(rx.table.row(*(rx.table.column_header_cell(h) for h in (
                        "Date (local)", "Client", "Service", "Provider", "Location", "Counts as", "Value")))),
                    rx.table.body(rx.foreach(DrillState.drill_rows, _drill_row)),
                    size="1", variant="ghost", width="100%",
                ),
                max_height="60vh", overflow_y="auto", margin_top="12px",
            ),
            max_width="1100px", width="95vw", id="dash-drill",
            on_escape_key_down=DrillState.close_drill, on_pointer_down_outside=DrillState.close_drill,
        ),
        open=DrillState.drill_key != "",
    )


def _view() -> rx.Component:
    s = DashboardState
    return rx.vstack(
        rx.heading("Dashboard", size="6", weight="bold"),
        rx.text("How the clinic is doing over the chosen days. Click any figure to see the visits or payments "
                "behind it.", size="2", color_scheme="gray"),
        _filters(),
        disputes_section(),
        rx.cond(s.error != "", rx.callout(s.error, icon="circle-alert", color_scheme="red", size="1",
                                          id="dash-error", width="100%")),
        rx.text(s.period_note, size="1", color_scheme="gray", id="dash-period-note"),
        rx.vstack(
            rx.vstack(
                _tile_group("Visits", s.visit_tiles, "4"),
                rx.grid(_tile_group("Clients", s.client_tiles, "2"), _tile_group("Money", s.money_tiles, "3"),
                        columns=rx.breakpoints(initial="1", lg="2fr 3fr"), spacing="3", width="100%"),
                spacing="3", width="100%", id="dash-tiles"),
            timeliness_card(),  # issue 18: charts signed within 24 h / 72 h
            _visits(),
            _money(),
            _clients(),
            spacing="5", width="100%",
            opacity=rx.cond(s.busy, "0.45", "1"),  # figures of the previous filter, fading while the new load
            transition="opacity 120ms",
        ),
        _drill(),
        spacing="5", padding="20px", width="100%", max_width="1400px", margin_x="auto",
    )


def dashboard_page() -> rx.Component:
    """/dashboard: not found for other roles, a spinner until the first load, then the view."""
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
    app.add_page(dashboard_page, route=ROUTE, title="Dashboard · medspa", on_load=[DashboardState.load, DisputesState.load])
