"""/clients/import (owner, manager): bring the client list from the old system.

Four steps on one page: choose a CSV or Excel file; map its columns (guessed) and say how its
dates are written; review every row (duplicates and errors first, each duplicate decided);
import, then a summary that accounts for every row. Other roles see "not found".
"""

from __future__ import annotations

import reflex as rx

from medspa.domain.clients.import_actions import template_csv
from medspa.features.auth.shell import not_found_view, staff_header
from medspa.features.client_import.state import (
    ACTION_LABELS, ORDERS, ClientImportState, ColumnOption, FieldChoice, LineView)

ROUTE = "/clients/import"
UPLOAD_ID = "client-import-upload"
ACCEPT = {"text/csv": [".csv", ".txt"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": [".xlsx"]}


class TemplateState(rx.State):
    """The downloadable template (no client data: any visitor of the page may have it)."""

    @rx.event
    def download(self):
        """The template CSV as a download (clients-template.csv)."""
        return rx.download(data=template_csv(), filename="clients-template.csv")


def _error(text: rx.Var, id_: str) -> rx.Component:
    return rx.cond(text != "", rx.text(text, size="2", color_scheme="red", id=id_))


def _card(*children: rx.Component, **props) -> rx.Component:
    return rx.card(rx.vstack(*children, spacing="3", width="100%"), width="100%", size="3", **props)


def _upload_step() -> rx.Component:
    s = ClientImportState
    return _card(
        rx.heading("1. Choose the file", size="4"),
        rx.text("Export your clients from the old system as CSV or Excel (.xlsx). Any column order works: "
                "you map the columns next. UTF-8 or Windows-1252, separated by commas, semicolons or tabs.",
                size="2", color_scheme="gray"),
        rx.upload.root(
            rx.vstack(
                rx.icon("file-spreadsheet", size=28, color=rx.color("teal", 9)),
                rx.text("Drop the file here or click to choose", size="2", weight="medium"),
                rx.foreach(rx.selected_files(UPLOAD_ID), lambda name: rx.badge(name, size="2", variant="soft")),
                align="center", spacing="2",
            ),
            id=UPLOAD_ID, accept=ACCEPT, max_files=1, multiple=False, width="100%", padding="28px",
            border=f"2px dashed {rx.color('gray', 6)}", border_radius="12px", cursor="pointer",
        ),
        _error(s.file_error, "import-file-error"),
        rx.hstack(
            rx.button(rx.icon("upload", size=15), "Read the file", loading=s.busy, id="import-read",
                      on_click=s.upload(rx.upload_files(upload_id=UPLOAD_ID))),
            rx.button(rx.icon("download", size=15), "Download the template", variant="soft", color_scheme="gray",
                      on_click=TemplateState.download, id="import-template"),
            spacing="3", wrap="wrap",
        ),
    )


def _column_option(opt: ColumnOption) -> rx.Component:
    return rx.select.item(opt.label, value=opt.value)


def _field_row(f: FieldChoice) -> rx.Component:
    return rx.hstack(
        rx.text(f.label, size="2", width="260px", flex_shrink="0"),
        rx.select.root(
            rx.select.trigger(width="100%", custom_attrs={"data-field": f.field}),
            rx.select.content(rx.foreach(ClientImportState.columns, _column_option)),
            value=f.column, on_change=lambda v: ClientImportState.set_column(f.field, v), size="2"),
        align="center", spacing="3", width="100%", max_width="620px",
    )


def _preview_table() -> rx.Component:
    s = ClientImportState
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(rx.foreach(s.headers, lambda h: rx.table.column_header_cell(h)))),
            rx.table.body(rx.foreach(s.preview_rows, lambda row: rx.table.row(
                rx.foreach(row, lambda cell: rx.table.cell(cell))))),
            size="1", variant="surface",
        ),
        width="100%", overflow_x="auto", id="import-preview",
    )


def _map_step() -> rx.Component:
    s = ClientImportState
    return _card(
        rx.heading("2. Match the columns", size="4"),
        rx.hstack(rx.icon("file-check", size=16), rx.text(s.filename, weight="medium", size="2"),
                  rx.text(s.file_facts, size="2", color_scheme="gray", id="import-facts"), spacing="2", align="center"),
        rx.text("The first rows, as they will be read:", size="2", color_scheme="gray"),
        _preview_table(),
        rx.vstack(rx.foreach(s.fields, _field_row), spacing="2", width="100%", id="import-mapping"),
        _error(s.mapping_error, "import-mapping-error"),
        rx.text("Dates of birth not written as 1990-12-25 are", size="2", weight="medium"),
        rx.radio_group.root(
            rx.vstack(*[rx.radio_group.item(label, value=key) for key, label in ORDERS.items()], spacing="1"),
            value=s.date_order, on_change=s.set_date_order, id="import-date-order"),
        _error(s.date_error, "import-date-error"),
        rx.hstack(
            rx.button("Check every row", loading=s.busy, on_click=s.review, id="import-review"),
            rx.button("Choose another file", variant="soft", color_scheme="gray", on_click=s.start_over),
            spacing="3",
        ),
    )


def _decision(line: LineView) -> rx.Component:
    return rx.cond(
        line.choosable.length() > 1,
        rx.select.root(
            rx.select.trigger(width="190px", custom_attrs={"data-line": line.line}),
            rx.select.content(rx.foreach(line.choosable, lambda a: rx.select.item(
                rx.match(a, *[(k, v) for k, v in ACTION_LABELS.items()], a), value=a))),
            value=line.action, on_change=lambda v: ClientImportState.choose(line.line, v), size="1"),
        rx.badge(line.action_label, color_scheme=rx.match(line.action, ("create", "teal"), ("merge", "blue"), "gray"),
                 variant="soft"),
    )


def _review_row(line: LineView) -> rx.Component:
    return rx.table.row(
        rx.table.cell(line.line),
        rx.table.cell(line.name),
        rx.table.cell(_decision(line)),
        rx.table.cell(rx.text(line.reason, size="1", color_scheme=rx.cond(line.action == "skip", "red", "gray"))),
        custom_attrs={"data-line": line.line, "data-action": line.action},
    )


def _review_step() -> rx.Component:
    s = ClientImportState
    return _card(
        rx.heading("3. Check before importing", size="4"),
        rx.callout(s.counts, icon="list-checks", size="1", id="import-counts"),
        rx.text("Likely duplicates and rows that cannot be read come first. Nothing is saved until you press "
                "Import; then every row is saved or none.", size="2", color_scheme="gray"),
        rx.box(rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in ("Line", "Name", "Action", "Why")])),
            rx.table.body(rx.foreach(s.lines, _review_row)),
            size="1", variant="surface"), width="100%", overflow_x="auto", id="import-lines"),
        rx.cond(s.more_lines > 0, rx.text("and ", s.more_lines, " more rows with nothing to decide", size="1",
                                          color_scheme="gray")),
        _error(s.mapping_error, "import-run-error"),
        rx.cond(s.busy & (s.progress_text != ""), rx.vstack(
            rx.progress(value=s.progress, max=100, width="100%"),
            rx.text("Importing: ", s.progress_text, size="1", color_scheme="gray"),
            spacing="1", width="100%", id="import-progress")),
        rx.hstack(
            rx.button(rx.icon("user-plus", size=15), "Import", loading=s.busy, on_click=s.run_import,
                      id="import-run"),
            rx.button("Back to the columns", variant="soft", color_scheme="gray", on_click=s.back),
            spacing="3",
        ),
    )


def _done_step() -> rx.Component:
    s = ClientImportState
    return _card(
        rx.heading("Imported", size="4"),
        rx.callout(s.summary, icon="circle-check", color_scheme="green", id="import-summary"),
        rx.cond(s.skipped.length() > 0, rx.vstack(
            rx.text("Skipped rows", size="2", weight="medium"),
            rx.table.root(rx.table.body(rx.foreach(s.skipped, lambda ln: rx.table.row(
                rx.table.cell(ln.line), rx.table.cell(ln.name), rx.table.cell(ln.reason)))), size="1",
                variant="surface"),
            spacing="2", width="100%", id="import-skipped")),
        rx.hstack(rx.button("Import another file", variant="soft", on_click=s.start_over),
                  rx.link("Go to the clients", href="/clients", size="2"), spacing="4", align="center"),
    )


def _view() -> rx.Component:
    s = ClientImportState
    return rx.vstack(
        rx.heading("Import clients", size="6", weight="bold"),
        rx.text("Bring your client list from your previous system. Names are kept exactly as written; phone "
                "numbers are read with your clinic's country.", size="2", color_scheme="gray"),
        rx.match(s.step, ("map", _map_step()), ("review", _review_step()), ("done", _done_step()), _upload_step()),
        spacing="4", padding=rx.breakpoints(initial="12px", sm="20px"), width="100%", max_width="1100px",
        margin_x="auto",
    )


def client_import_page() -> rx.Component:
    """The /clients/import page: not found for roles without client.import."""
    s = ClientImportState
    return rx.box(
        rx.cond(s.not_found, not_found_view("import-not-found"),
                rx.cond(s.allowed, rx.fragment(staff_header("clients"), _view()),
                        rx.center(rx.spinner(size="3"), padding_top="18vh"))),
        min_height="100vh", background=rx.color("gray", 2), id="client-import-page",
        custom_attrs={"data-step": s.step, "data-busy": s.busy},
    )


def register(app: rx.App) -> None:
    """Add /clients/import (client.import: owner, manager)."""
    app.add_page(client_import_page, route=ROUTE, title="Import clients · medspa", on_load=ClientImportState.load)
