"""`/lab`: the lab worklist (lab, and providers and owners who run patch tests in the clinic).

Each open order shows who (client name and date of birth, to identify the specimen), the
test, who ordered it and their instruction, and its status, with one step: "Mark collected"
(ordered) or "Record result" (collected: values with units and reference ranges, notes, an
optional PDF/JPEG/PNG). Finished orders show their status only. Providers and owners also see
"Results to review", each linking to the client's profile where they review it. Roles
without the worklist (front desk, manager) see "not found".
"""

from __future__ import annotations

import reflex as rx

from medspa.domain.clinical.documents import MAX_MB
from medspa.features.auth.shell import not_found_view, staff_header
from medspa.features.lab.state import UPLOAD_ID, LabState, RowInput, WorkView
from medspa.features.lab.views import ACCEPT, OrderCard

ROUTE = "/lab"
S = LabState


def _item(w: WorkView) -> rx.Component:
    action = rx.cond(
        S.can_result,
        rx.match(w.status,
                 ("ordered", rx.button(rx.icon("test-tube", size=14), "Mark collected", size="2", variant="soft",
                                       on_click=S.collect(w.id), class_name="lab-collect", disabled=S.busy)),
                 ("collected", rx.button(rx.icon("clipboard-pen", size=14), "Record result", size="2",
                                         on_click=S.open_result(w.id), class_name="lab-record")),
                 rx.fragment()))
    return rx.flex(
        rx.vstack(
            rx.hstack(rx.text(w.client_name, weight="bold", size="3", class_name="lab-client"),
                      rx.text("DOB ", w.date_of_birth, size="2", color_scheme="gray", class_name="lab-dob"),
                      align="baseline", spacing="2", wrap="wrap"),
            rx.hstack(rx.text(w.test, size="2", weight="medium"), rx.badge(w.category, variant="outline", size="1"),
                      align="center", spacing="2", wrap="wrap"),
            rx.text("Ordered ", w.ordered, " by ", w.ordered_by, size="1", color_scheme="gray"),
            rx.cond(w.note != "", rx.hstack(rx.icon("message-square", size=13, color=rx.color("gray", 10),
                                                    flex_shrink="0", margin_top="3px"),
                                            rx.text(w.note, size="2", class_name="lab-note"), spacing="1",
                                            align="start")),
            spacing="1", min_width="0", flex="1",
        ),
        rx.hstack(rx.badge(w.status_label, color_scheme=w.status_color, variant="soft", size="2"), action,
                  align="center", spacing="3", flex_shrink="0"),
        gap="12px", align=rx.breakpoints(initial="start", sm="center"), width="100%",
        direction=rx.breakpoints(initial="column", sm="row"), padding_y="12px",
        border_bottom=f"1px solid {rx.color('gray', 4)}", class_name="lab-item",
        custom_attrs={"data-order-id": w.id, "data-status": w.status},
    )


def _cell(r: RowInput, field: str, label: str, value, width: str) -> rx.Component:
    return rx.input(name=f"{field}_" + r.pos.to_string(), default_value=value, placeholder=label, size="2",
                    aria_label=label, width=width, class_name=f"lab-{field}")


def _row(r: RowInput) -> rx.Component:
    return rx.vstack(
        rx.flex(_cell(r, "name", "Test, e.g. Hemoglobin", r.name, "100%"),
                rx.flex(_cell(r, "value", "Value", r.value, "90px"), _cell(r, "unit", "Unit", r.unit, "80px"),
                        _cell(r, "low", "Low", r.low, "70px"), _cell(r, "high", "High", r.high, "70px"),
                        gap="6px", flex_shrink="0"),
                gap="6px", width="100%", direction=rx.breakpoints(initial="column", sm="row")),
        rx.cond(r.error != "", rx.text(r.error, size="1", color_scheme="red", class_name="lab-row-error")),
        spacing="1", width="100%",
    )


def _err(key: str) -> rx.Component:
    return rx.cond(S.errors.contains(key), rx.text(S.errors.get(key, ""), size="1", color_scheme="red",
                                                   id=f"lab-error-{key}"))


def _dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Record result"),
            rx.dialog.description(S.entry_title, size="2", color_scheme="gray"),
            rx.form(
                rx.vstack(
                    _err("status"),
                    rx.text("Values (a value outside the reference range is flagged)", size="2", weight="medium"),
                    rx.flex(rx.text("Test", size="1", color_scheme="gray", flex="1"),
                            *[rx.text(label, size="1", color_scheme="gray", width=w, flex_shrink="0")
                              for label, w in (("Value", "90px"), ("Unit", "80px"), ("Low", "70px"), ("High", "70px"))],
                            gap="6px", width="100%", display=rx.breakpoints(initial="none", sm="flex")),
                    rx.vstack(rx.foreach(S.rows, _row), spacing="2", width="100%", id="lab-rows"),
                    rx.button(rx.icon("plus", size=14), "Add a value", type="button", size="1", variant="ghost",
                              on_click=S.add_row, id="lab-add-row"),
                    _err("values"),
                    rx.text("Notes", size="2", weight="medium"),
                    rx.text_area(name="notes", placeholder="e.g. No reaction at 48 hours", rows="3", width="100%",
                                 id="lab-notes"),
                    _err("notes"),
                    rx.hstack(
                        rx.upload.root(rx.button(rx.icon("paperclip", size=14), "Attach report", type="button",
                                                 size="2", variant="outline"),
                                       id=UPLOAD_ID, accept=ACCEPT, max_files=1, multiple=False, border="none",
                                       padding="0", on_drop=S.attach(rx.upload_files(upload_id=UPLOAD_ID))),
                        rx.cond(S.file_name != "", rx.hstack(
                            rx.text(S.file_name, size="2", id="lab-file-name"),
                            rx.icon_button(rx.icon("x", size=12), size="1", variant="ghost", type="button",
                                           on_click=S.remove_file, aria_label="Remove file"), align="center")),
                        align="center", spacing="3", wrap="wrap"),
                    rx.text(f"Optional: PDF, JPEG or PNG, at most {MAX_MB} MB.", size="1", color_scheme="gray"),
                    _err("file"),
                    rx.flex(rx.dialog.close(rx.button("Cancel", type="button", variant="soft", color_scheme="gray",
                                                      on_click=S.close_result)),
                            rx.button("Save result", type="submit", loading=S.busy, id="lab-save"),
                            justify="end", gap="3", width="100%"),
                    spacing="2", width="100%",
                ),
                on_submit=S.save_result, reset_on_submit=False,
            ),
            max_width="640px",
        ),
        open=S.entry_id > 0,
        on_open_change=lambda _o: LabState.close_result(),
    )


def _review(card: OrderCard) -> rx.Component:
    return rx.link(
        rx.flex(
            rx.vstack(rx.text(card.client_name, weight="bold", size="2"),
                      rx.text(card.test, " · result ", card.resulted, size="1", color_scheme="gray"), spacing="0"),
            rx.cond(card.flagged > 0, rx.badge(card.flagged, " flagged", color_scheme="red", variant="soft"),
                    rx.badge("In range", color_scheme="grass", variant="soft")),
            justify="between", align="center", gap="8px", width="100%", padding_y="8px",
            border_bottom=f"1px solid {rx.color('gray', 4)}"),
        href=card.client_href, underline="none", color="inherit", class_name="lab-review", width="100%",
    )


def _view() -> rx.Component:
    return rx.vstack(
        rx.vstack(rx.heading("Lab worklist", size="6", weight="bold"),
                  rx.text("Tests ordered by the providers: mark the sample collected, then record the result.",
                          size="2", color_scheme="gray"), spacing="1"),
        rx.cond(S.notice != "", rx.callout(S.notice, icon="circle-check", color_scheme="grass", width="100%",
                                           id="lab-notice")),
        rx.cond(S.error != "", rx.callout(S.error, icon="circle-alert", color_scheme="red", width="100%",
                                          id="lab-error")),
        rx.cond(S.can_review & (S.reviews.length() > 0), rx.card(rx.vstack(
            rx.hstack(rx.heading("Results to review", size="4"), rx.badge(S.reviews.length(), color_scheme="amber"),
                      align="center", spacing="2"),
            rx.vstack(rx.foreach(S.reviews, _review), spacing="0", width="100%"),
            spacing="2", width="100%"), width="100%", id="lab-reviews")),
        rx.card(
            rx.cond(S.items.length() > 0, rx.vstack(rx.foreach(S.items, _item), spacing="0", width="100%"),
                    rx.text("Nothing on the worklist.", size="2", color_scheme="gray", padding="12px")),
            width="100%", id="lab-worklist"),
        _dialog(),
        spacing="4", padding=rx.breakpoints(initial="12px", sm="20px"), width="100%", max_width="1000px",
        margin_x="auto",
    )


def lab_page() -> rx.Component:
    """The lab worklist page."""
    return rx.box(
        rx.cond(S.status == "not_found", not_found_view("lab-not-found"),
                rx.cond(S.status == "ready", rx.fragment(staff_header("lab"), _view()),
                        rx.center(rx.spinner(size="3"), padding_top="18vh"))),
        min_height="100vh", background=rx.color("gray", 2), id="lab-page",
    )


def register(app: rx.App) -> None:
    """Add /lab (order.worklist.read)."""
    app.add_page(lab_page, route=ROUTE, title="Lab · medspa", on_load=S.load)
