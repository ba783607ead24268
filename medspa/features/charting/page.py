"""The treatment chart at `/chart/[appointment_id]`: the visit, the treatment lines (product,
lot, units, area), the note; Save draft and Sign; signed charts are read-only and are
changed only by an amendment (a new version).

Provider and owner only; other staff see a plain "not found" (missing and forbidden look
alike); signed-out visitors are sent to sign in.
"""

from __future__ import annotations

import reflex as rx

from medspa.domain.clinical.chart_rules import area_label
from medspa.domain.clinical.models import NoteStatus
from medspa.domain.clinical.service import TREATMENT_AREAS
from medspa.features.auth.shell import not_found_view, staff_header
from medspa.features.charting.autosave import ChartDraftState, autosave_status, draft_keeper
from medspa.features.charting.device_rows import settings_panel
from medspa.features.charting.face_map import face_map_panel, point_badge
from medspa.features.charting.photos import photos_panel
from medspa.features.charting.signing_panel import ChartSigningState, after_signing, order_banner
from medspa.features.charting.health_panel import ChartHealthState, health_panel
from medspa.domain.clinical.product_models import PRODUCT_UNITS
from medspa.features.charting.state import OTHER, ChartState, OptionView, RowView, VersionView

ROUTE = "/chart/[appointment_id]"


def _fact(icon: str, label: str, value, id_: str) -> rx.Component:
    return rx.hstack(
        rx.icon(icon, size=15, color=rx.color("gray", 10), margin_top="2px"),
        rx.vstack(rx.text(label, size="1", color_scheme="gray"), rx.text(value, size="2", id=id_), spacing="0"),
        spacing="3", align="start",
    )


def _visit() -> rx.Component:
    s = ChartState
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(s.client_name, size="6", weight="bold", id="chart-client"),
                rx.badge(rx.cond(s.chart_status == NoteStatus.SIGNED.value, "Signed", "Draft"), " · version ", s.version.to(str),
                         color_scheme=rx.cond(s.chart_status == NoteStatus.SIGNED.value, "grass", "amber"), size="2",
                         variant="soft", radius="full", id="chart-status"),
                justify="between", align="center", width="100%",
            ),
            rx.grid(
                _fact("syringe", "Service", s.service_name, "chart-service"),
                _fact("calendar", "When", s.date_label, "chart-date"),
                _fact("clock", "Time", s.time_label, "chart-time"),
                _fact("user-round", "Provider", s.provider_name, "chart-provider"),
                _fact("map-pin", "Location", s.location_name, "chart-location"),
                columns=rx.breakpoints(initial="1", sm="2", md="3"),
                spacing="4", width="100%",
            ),
            rx.cond(s.signed_label != "", rx.text(s.signed_label, size="2", color_scheme="gray", id="chart-signed")),
            spacing="4", width="100%",
        ),
        width="100%",
    )


def _field_error(message) -> rx.Component:
    return rx.cond(message != "", rx.text(message, size="1", color=rx.color("red", 11), class_name="field-error"))


def _area_item(area: str) -> rx.Component:
    return rx.select.item(area_label(area), value=area)


def _option(o: OptionView) -> rx.Component:
    return rx.select.item(o.label, value=o.value)


def _lot_option(o: OptionView) -> rx.Component:
    return rx.select.item(rx.text(o.label, color=rx.cond(o.low, rx.color("red", 11), "inherit")), value=o.value)


def _unit_item(unit: str) -> rx.Component:
    return rx.select.item(unit, value=unit)


def _edit_row(row: RowView, i) -> rx.Component:
    """THE line row editor (product, lot / vial, quantity and unit, area): the chart's table
    rows use it, and the face map's point editor can reuse it for the line of a point.
    A catalog product picks its lot (number, expiry, stock left; low stock in red) and, for a
    reconstituted product, the opened vial; "Other…" keeps free text for products not in the
    catalog."""
    s = ChartState
    other = row.product_id == OTHER
    catalog = (row.product_id != OTHER) & (row.product_id != "")

    def text_input(name: str, value, placeholder: str, width: str, error, **props) -> rx.Component:
        return rx.input(value=value, on_change=s.set_cell(i, name), placeholder=placeholder, size="2",
                        width=width, class_name=f"line-{name.replace('_', '-')}", auto_complete="off",
                        color_scheme=rx.cond(error != "", "red", "gray"), **props)

    product_cell = rx.vstack(
        rx.cond(s.product_options.length() > 0,
                rx.select.root(
                    rx.select.trigger(placeholder="Choose product", width="170px", class_name="line-product-select"),
                    rx.select.content(rx.foreach(s.product_options, _option), rx.select.separator(),
                                      rx.select.item("Other (not in catalog)…", value=OTHER)),
                    value=row.product_id, on_change=s.set_product(i), size="2")),
        rx.cond(other, text_input("product", row.product, "e.g. Botox", "190px", row.product_error)),
        _field_error(row.product_error), spacing="1")
    lot_cell = rx.vstack(
        rx.cond(
            catalog,
            rx.cond(
                s.lot_options[row.product_id].length() > 0,
                rx.select.root(
                    rx.select.trigger(placeholder="Choose lot", width="280px", class_name="line-lot-select"),
                    rx.select.content(rx.foreach(s.lot_options[row.product_id], _lot_option)),
                    value=row.lot_id, on_change=s.set_lot(i), size="2"),
                rx.link("No usable lot: receive one under Products", href="/products", size="1",
                        color=rx.color("amber", 11), class_name="line-no-lot", max_width="240px",
                        is_external=True)),
            rx.cond(other, text_input("lot_number", row.lot_number, "e.g. C3709C3", "150px", row.lot_number_error))),
        _field_error(row.lot_number_error),
        rx.cond(catalog & row.reconstituted & (row.lot_id != ""),
                rx.cond(s.vial_options[row.lot_id].length() > 0,
                        rx.select.root(
                            rx.select.trigger(placeholder="Choose opened vial", width="280px",
                                              class_name="line-vial-select"),
                            rx.select.content(rx.foreach(s.vial_options[row.lot_id], _option)),
                            value=row.vial_id, on_change=s.set_vial(i), size="2"),
                        rx.link("No opened vial in use: open one under Products", href="/products", size="1",
                                color=rx.color("amber", 11), class_name="line-no-vial", max_width="240px",
                                is_external=True))),
        _field_error(row.vial_error), spacing="1")
    units_cell = rx.vstack(
        rx.hstack(
            text_input("units", row.units, "20", "70px", row.units_error, input_mode="decimal"),
            rx.cond(other,
                    rx.select.root(rx.select.trigger(width="90px", class_name="line-unit-select"),
                                   rx.select.content(*(_unit_item(u) for u in PRODUCT_UNITS)),
                                   value=row.unit, on_change=s.set_unit(i), size="2"),
                    rx.text(row.unit, size="2", color_scheme="gray", class_name="line-unit")),
            spacing="2", align="center"),
        _field_error(row.units_error), spacing="1")
    return rx.table.row(
        rx.table.cell(rx.vstack(point_badge(s, s.row_colours[i], i + 1, i, True), _field_error(row.point_error),
                                spacing="1")),
        rx.table.cell(product_cell),
        rx.table.cell(lot_cell),
        rx.table.cell(units_cell),
        rx.table.cell(rx.vstack(
            rx.select.root(
                rx.select.trigger(placeholder="Area", width="150px", class_name="line-area"),
                rx.select.content(*(_area_item(a) for a in TREATMENT_AREAS)),
                value=row.treatment_area, on_change=s.set_cell(i, "treatment_area"), size="2"),
            _field_error(row.treatment_area_error), spacing="1")),
        rx.table.cell(rx.icon_button(rx.icon("trash-2", size=15), variant="ghost", color_scheme="red", size="2",
                                     on_click=s.remove_row(i), aria_label="Remove line", class_name="line-remove")),
        class_name="chart-line",
    )


def _read_row(row: RowView, i) -> rx.Component:
    return rx.table.row(
        rx.table.cell(point_badge(ChartState, ChartState.row_colours[i], i + 1, i, False)),
        rx.table.cell(row.product, class_name="line-product"),
        rx.table.cell(rx.code(row.lot_number, size="2"), class_name="line-lot-number"),
        rx.table.cell(row.units, " ", row.unit, class_name="line-units"),
        rx.table.cell(rx.cond(row.treatment_area == "dao", "DAO", row.treatment_area), class_name="line-area",
                      style={"::first-letter": {"text_transform": "uppercase"}}),  # as chart_rules.area_label
        rx.table.cell(""),
        class_name="chart-line",
    )


def _lines() -> rx.Component:
    s = ChartState
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Treatment", size="4"),
                rx.cond(s.editable, rx.button(rx.icon("plus", size=15), "Add line", size="2", variant="soft",
                                              on_click=s.add_row, id="chart-add-line")),
                justify="between", align="center", width="100%",
            ),
            rx.table.root(
                rx.table.header(rx.table.row(*(rx.table.column_header_cell(h) for h in (
                    "Point", "Product", "Lot", "Quantity", "Area", "")))),
                rx.table.body(rx.cond(s.editable, rx.foreach(s.rows, _edit_row), rx.foreach(s.rows, _read_row))),
                size="1", variant="ghost", width="100%", id="chart-lines",
            ),
            rx.cond(s.rows.length() == 0, rx.text("No treatment lines.", size="2", color_scheme="gray")),
            rx.heading("Note", size="4", margin_top="8px"),
            rx.cond(
                s.editable,
                rx.vstack(
                    rx.text_area(value=s.note, on_change=s.set_note, rows="6", width="100%",
                                 placeholder="Assessment, technique, aftercare given…", id="chart-note"),
                    _field_error(s.note_error), autosave_status(), spacing="1", width="100%"),
                rx.box(rx.text(rx.cond(s.note != "", s.note, "No note."), size="2", white_space="pre-wrap"),
                       id="chart-note-text", width="100%"),
            ),
            spacing="3", width="100%",
        ),
        width="100%", overflow_x="auto",
    )


def _actions() -> rx.Component:
    s = ChartState
    confirm = rx.card(
        rx.hstack(
            rx.text("Sign this chart? A signed chart cannot be changed; corrections become an amendment.",
                    size="2", weight="medium"),
            rx.hstack(
                rx.button("Not yet", variant="soft", color_scheme="gray", size="2", on_click=s.ask_sign(False)),
                rx.button(rx.icon("pen-line", size=15), "Sign chart", color_scheme="grass", size="2",
                          on_click=ChartHealthState.sign_with_reason, loading=s.busy, id="chart-sign-confirm"),
                spacing="2"),
            justify="between", align="center", width="100%", wrap="wrap", spacing="3"),
        width="100%", background=rx.color("grass", 2), id="chart-sign-dialog",
    )
    edit = rx.hstack(
        rx.button(rx.icon("save", size=15), "Save draft", size="2", variant="outline", on_click=s.save,
                  loading=s.busy, id="chart-save"),
        rx.button(rx.icon("pen-line", size=15), "Sign", size="2", color_scheme="grass", on_click=s.ask_sign(True),
                  disabled=s.busy, id="chart-sign"),
        rx.button(rx.icon("signature", size=15), "Sign with client", size="2", variant="soft", color_scheme="gray",
                  on_click=ChartHealthState.sign_with_client, disabled=s.busy, id="chart-sign-consent"),
        spacing="2",
    )
    return rx.vstack(
        rx.cond(s.error != "", rx.callout(s.error, icon="circle-alert", color_scheme="red", size="1", width="100%",
                                          id="chart-error")),
        rx.cond(s.notice != "", rx.callout(s.notice, icon="circle-check", color_scheme="grass", size="1",
                                           width="100%", id="chart-notice")),
        rx.cond(s.editable, rx.cond(s.confirm_sign, confirm, edit),
                rx.hstack(
                    rx.button(rx.icon("file-pen-line", size=15), "Amend", size="2", variant="outline", on_click=s.amend,
                              loading=s.busy, id="chart-amend"),
                    rx.button(rx.icon("printer", size=15), "Print / PDF", size="2", variant="soft", color_scheme="gray",
                              on_click=s.download_pdf, id="chart-pdf"),
                    spacing="2")),
        spacing="3", width="100%",
    )


def _version(v: VersionView) -> rx.Component:
    return rx.text("Version ", v.version.to(str), ": ", v.label, size="1", color_scheme="gray",
                   class_name="chart-version")


def _chart_view() -> rx.Component:
    s = ChartState
    return rx.vstack(
        rx.link(rx.hstack(rx.icon("arrow-left", size=14), rx.text("Calendar", size="2"), align="center",
                          spacing="1"), href="/calendar", id="chart-back", color_scheme="gray"),
        rx.heading("Treatment chart", size="6", weight="bold"),
        _visit(),
        order_banner(),
        draft_keeper(),
        rx.cond((s.template == "injectable") | (s.face_points.length() > 0), face_map_panel(s)),
        settings_panel(s),
        _lines(),
        health_panel(),
        _actions(),
        after_signing(),
        photos_panel(),
        rx.cond(s.history.length() > 0,
                rx.vstack(rx.text("Earlier versions", size="2", weight="medium"), rx.foreach(s.history, _version),
                          spacing="1", id="chart-history")),
        spacing="4", padding="20px", width="100%", max_width="1000px", margin_x="auto",
    )


def chart_page() -> rx.Component:
    """The /chart/[appointment_id] page: the chart, a spinner while loading, or "not found"."""
    s = ChartState
    return rx.box(
        rx.cond(s.status == "not_found", not_found_view("chart-not-found"),
                rx.cond(s.status == "ready", rx.fragment(staff_header("chart"), _chart_view()),
                        rx.center(rx.spinner(size="3"), padding_top="18vh"))),
        min_height="100vh",
        background=rx.color("gray", 2),
        id="chart-page",
        custom_attrs={"data-status": s.status, "data-chart-status": s.chart_status, "data-busy": s.busy},
    )


def register(app: rx.App) -> None:
    """Add /chart/[appointment_id] (provider and owner)."""
    app.add_page(chart_page, route=ROUTE, title="Treatment chart · medspa", on_load=[ChartState.load, ChartHealthState.load_health,
                                                                                   ChartDraftState.load_draft, ChartSigningState.load_signing])
