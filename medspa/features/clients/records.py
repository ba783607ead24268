"""The profile's "Documents" card (document.read) and "Tests and results" card (result.read;
ordering and review with order.write). State: records_state.ClientRecordsState."""

from __future__ import annotations

import reflex as rx

from medspa.features.clients.records_state import ClientRecordsState, DocView
from medspa.features.lab.views import OrderCard, result_table, status_badge

R = ClientRecordsState


def _doc(d: DocView) -> rx.Component:
    return rx.flex(
        rx.hstack(rx.icon("file-text", size=18, color=rx.color("gray", 10)),
                  rx.vstack(rx.text(d.title, size="2", weight="medium"),
                            rx.text(d.kind, " · ", d.meta, size="1", color_scheme="gray"), spacing="0"),
                  align="center", spacing="3", min_width="0"),
        rx.button(rx.icon("download", size=14), "Download", size="1", variant="soft",
                  on_click=R.download_document(d.id), class_name="doc-download"),
        justify="between", align="center", gap="8px", width="100%", padding_y="8px",
        border_bottom=f"1px solid {rx.color('gray', 4)}", class_name="profile-doc",
    )


def documents_card() -> rx.Component:
    """Documents the client uploaded in the portal (providers and owners)."""
    return rx.cond(R.show_docs, rx.card(rx.vstack(
        rx.hstack(rx.heading("Documents", size="4"), rx.badge(R.docs.length(), variant="soft", color_scheme="gray"),
                  align="center", spacing="2"),
        rx.cond(R.docs.length() > 0, rx.vstack(rx.foreach(R.docs, _doc), spacing="0", width="100%"),
                rx.text("No documents. Clients upload prior prescriptions, reports and images in the portal.",
                        size="2", color_scheme="gray")),
        spacing="3", width="100%"), width="100%", id="profile-documents"))


def _review_form(o: OrderCard) -> rx.Component:
    return rx.cond(
        R.review_id == o.id,
        rx.form(rx.vstack(
            rx.text_area(name="review_note", placeholder="Your note for the client, e.g. Normal. No action needed.",
                         rows="2", width="100%", id="review-note"),
            rx.cond(R.review_errors.length() > 0, rx.text(R.review_errors.values().join(" "), size="1",
                                                          color_scheme="red")),
            rx.text("The client sees the result and this note in the portal once you mark it reviewed.", size="1",
                    color_scheme="gray"),
            rx.hstack(rx.button("Cancel", type="button", size="2", variant="soft", color_scheme="gray",
                                on_click=R.cancel_review),
                      rx.button(rx.icon("check", size=14), "Mark reviewed", type="submit", size="2",
                                loading=R.records_busy, id="review-save"), spacing="2"),
            spacing="2", width="100%"), on_submit=R.review, reset_on_submit=True, width="100%"),
        rx.button(rx.icon("stethoscope", size=14), "Review result", size="2", on_click=R.start_review(o.id),
                  class_name="review-start"),
    )


def _order(o: OrderCard) -> rx.Component:
    done = (o.status == "resulted") | (o.status == "reviewed")
    return rx.box(
        rx.vstack(
            rx.flex(
                rx.vstack(rx.hstack(rx.text(o.test, weight="bold", size="3"),
                                    rx.badge(o.category, variant="outline", size="1"), align="center", spacing="2",
                                    wrap="wrap"),
                          rx.text("Ordered ", o.ordered, " by ", o.ordered_by, " · ", o.price, size="1",
                                  color_scheme="gray"), spacing="1"),
                status_badge(o),
                justify="between", align="start", gap="8px", width="100%"),
            rx.cond(o.visit != "", rx.text("For the visit ", o.visit, size="1", color_scheme="gray",
                                           class_name="order-visit")),
            rx.cond(o.note != "", rx.text("Instruction: ", o.note, size="2", color_scheme="gray")),
            rx.cond(done, rx.vstack(
                rx.text("Result ", o.resulted, " by ", o.resulted_by, size="1", color_scheme="gray"),
                result_table(o),
                rx.cond(o.has_file, rx.button(rx.icon("paperclip", size=14), "Lab report", size="1", variant="soft",
                                              on_click=R.download_result(o.id), class_name="result-download")),
                spacing="2", width="100%")),
            rx.cond(o.status == "reviewed", rx.callout(
                rx.text(rx.text.strong("Reviewed "), o.reviewed, " by ", o.reviewed_by,
                        rx.cond(o.review_note != "", rx.fragment(": ", o.review_note))),
                icon="circle-check", color_scheme="grass", size="1", width="100%")),
            rx.cond((o.status == "resulted") & R.can_order, _review_form(o)),
            spacing="2", width="100%"),
        padding_y="12px", border_bottom=f"1px solid {rx.color('gray', 4)}", width="100%", class_name="profile-order",
        custom_attrs={"data-order-id": o.id, "data-status": o.status},
    )


def _order_dialog() -> rx.Component:
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title("Order a test"),
        rx.form(rx.vstack(
            rx.text("Test", size="2", weight="medium"),
            rx.select.root(rx.select.trigger(width="100%", id="order-test"),
                           rx.select.content(rx.foreach(R.tests, lambda t: rx.select.item(t.label, value=t.value))),
                           value=R.order_test, on_change=R.pick_test),
            rx.cond(R.order_errors.contains("test"), rx.text(R.order_errors.get("test", ""), size="1",
                                                            color_scheme="red")),
            rx.text("For visit (optional)", size="2", weight="medium"),
            rx.select.root(rx.select.trigger(width="100%", id="order-visit"),
                           rx.select.content(rx.select.item("Not for a visit", value="none"),
                                             rx.foreach(R.visits, lambda v: rx.select.item(v.label, value=v.value))),
                           value=R.order_visit, on_change=R.pick_visit),
            rx.text("Instruction for the lab (optional)", size="2", weight="medium"),
            rx.text_area(name="note", placeholder="e.g. Apply to the inner left forearm, read at 48 hours", rows="2",
                         width="100%", id="order-note"),
            rx.cond(R.order_errors.contains("note") | R.order_errors.contains("visit"),
                    rx.text(R.order_errors.get("note", ""), R.order_errors.get("visit", ""), size="1",
                            color_scheme="red")),
            rx.flex(rx.button("Cancel", type="button", variant="soft", color_scheme="gray", on_click=R.close_order),
                    rx.button("Order test", type="submit", loading=R.records_busy, id="order-save"),
                    justify="end", gap="3", width="100%"),
            spacing="2", width="100%"), on_submit=R.place_order, reset_on_submit=True),
        max_width="520px"), open=R.order_open, on_open_change=R.set_order_open)


def orders_card() -> rx.Component:
    """The client's tests: order (order.write), status, results and review (result.read)."""
    return rx.cond(R.show_orders, rx.card(rx.vstack(
        rx.flex(rx.hstack(rx.heading("Tests and results", size="4"),
                          rx.badge(R.orders.length(), variant="soft", color_scheme="gray"), align="center", spacing="2"),
                rx.cond(R.can_order, rx.button(rx.icon("flask-conical", size=14), "Order a test", size="2",
                                               on_click=R.open_order, id="order-open")),
                justify="between", align="center", width="100%"),
        rx.cond(R.records_notice != "", rx.callout(R.records_notice, icon="circle-check", color_scheme="grass",
                                                   size="1", width="100%", id="records-notice")),
        rx.cond(R.orders.length() > 0, rx.vstack(rx.foreach(R.orders, _order), spacing="0", width="100%"),
                rx.text("No tests ordered.", size="2", color_scheme="gray")),
        _order_dialog(),
        spacing="3", width="100%"), width="100%", id="profile-orders"))
