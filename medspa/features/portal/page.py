"""The client portal at `/portal/[clinic]`: sign in with an emailed code, then see your own
visits (upcoming and past), your details and marketing consent, and who accessed your record."""

from __future__ import annotations

import reflex as rx

from medspa.features.portal import components as c
from medspa.features.portal.state import PortalState

ROUTE = "/portal/[clinic]"


def portal_page() -> rx.Component:
    ready = rx.box(
        c.header(),
        rx.box(
            rx.cond(PortalState.step == "portal", c.portal_body(), c.sign_in_card()),
            max_width="48em",
            margin_x="auto",
            padding_x=rx.breakpoints(initial="0.75em", sm="2em"),
            padding_y=rx.breakpoints(initial="1.25em", sm="2.5em"),
        ),
        rx.center(rx.text(PortalState.clinic_name + " · private client portal", size="1", color_scheme="gray"),
                  padding_bottom="2.5em"),
    )
    return rx.box(
        rx.match(PortalState.status, ("ready", ready), ("not_found", c.not_found()), c.loading()),
        min_height="100vh",
        background=f"linear-gradient(180deg, {rx.color('teal', 2)} 0%, {rx.color('gray', 2)} 40%)",
    )


def register(app: rx.App) -> None:
    """Add the client portal page to `app`."""
    app.add_page(portal_page, route=ROUTE, title="Client portal", on_load=PortalState.load)
