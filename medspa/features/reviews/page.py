"""`/reviews`: the medical director's queue (issue 18; domain/clinical/chart_review.py).

Signed charts of non-prescribers that rest on a prescriber's order and wait for the medical
director's co-sign, oldest first; each opens the chart, where the director co-signs. The
director and the owner see it (chart.cosign); anyone else gets "not found". Each load is one
audited read per client listed.
"""

from __future__ import annotations

import dataclasses

import reflex as rx

from medspa.domain.clinical import signing_actions
from medspa.features.auth.shell import not_found_view, staff_header
from medspa.features.auth.state import StaffState

ROUTE = "/reviews"


@dataclasses.dataclass
class ReviewRow:
    """One chart waiting for the co-sign."""

    href: str = ""
    client_name: str = ""
    service_name: str = ""
    provider_name: str = ""
    signed_label: str = ""


class ReviewsState(StaffState):
    """status: loading, ready or not_found."""

    reviews_status: str = "loading"
    reviews: list[ReviewRow] = []

    @rx.event
    async def load(self):
        self.reviews_status, self.reviews = "loading", []
        done = await self._act(signing_actions.fetch_reviews)
        if done.redirect is not None:
            return done.redirect
        if not done.ok:
            self.reviews_status = "not_found"
            return None
        self.reviews = [ReviewRow(f"/chart/{i.appointment_id}", i.client_name, i.service_name, i.provider_name,
                                  i.signed_label) for i in done.value]
        self.reviews_status = "ready"
        return None


def _row(r: ReviewRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(r.client_name, href=r.href, weight="medium")),
        rx.table.cell(r.service_name),
        rx.table.cell(r.provider_name),
        rx.table.cell(rx.text(r.signed_label, size="2", color_scheme="gray")),
        rx.table.cell(rx.link(rx.button("Review", size="1", variant="soft"), href=r.href)),
        class_name="review-row",
    )


def _view() -> rx.Component:
    s = ReviewsState
    return rx.vstack(
        rx.heading("Charts to co-sign", size="6", weight="bold"),
        rx.text("Charts signed by nurses and aestheticians under a prescriber's order wait here for the medical "
                "director's review and co-sign, oldest first.", size="2", color_scheme="gray"),
        rx.card(rx.cond(
            s.reviews.length() > 0,
            rx.table.root(
                rx.table.header(rx.table.row(*(rx.table.column_header_cell(h) for h in (
                    "Client", "Service", "Provider", "Signed", "")))),
                rx.table.body(rx.foreach(s.reviews, _row)),
                size="2", variant="ghost", width="100%", id="reviews-table"),
            rx.hstack(rx.icon("badge-check", size=18, color=rx.color("grass", 10)),
                      rx.text("Nothing to co-sign.", size="2"), spacing="2", padding="12px", id="reviews-empty")),
            width="100%", overflow_x="auto"),
        spacing="4", padding="20px", width="100%", max_width="1000px", margin_x="auto",
    )


def reviews_page() -> rx.Component:
    """/reviews: the charts waiting for the medical director's co-sign (chart.cosign), oldest first."""
    s = ReviewsState
    return rx.box(
        rx.cond(s.reviews_status == "not_found", not_found_view("reviews-not-found"),
                rx.cond(s.reviews_status == "ready", rx.fragment(staff_header("reviews"), _view()),
                        rx.center(rx.spinner(size="3"), padding_top="18vh"))),
        min_height="100vh", background=rx.color("gray", 2), id="reviews-page",
    )


def register(app: rx.App) -> None:
    """Add /reviews (the medical director and the owner)."""
    app.add_page(reviews_page, route=ROUTE, title="Charts to co-sign · medspa", on_load=ReviewsState.load)
