"""Landing page at `/`: who the clinic is, book online, staff sign-in.

Static (no state): it is the page a first-time visitor and the browser smoke test see.
The clinic name is a placeholder until the clinic settings feature provides one.
"""

from __future__ import annotations

import reflex as rx

CLINIC_NAME = "Demo clinic"
BOOKING_PATH = "/book/demo"
LOGIN_PATH = "/login"

_FEATURES = (
    ("calendar-check", "Book online", "Pick a treatment, a provider and a time that suits you."),
    ("shield-check", "Secure deposit", "Hold your slot with a small deposit; the rest at your visit."),
    ("sparkles", "Expert care", "Injectables, laser, skin and body treatments by licensed providers."),
)


def _feature(icon: str, title: str, text: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.box(rx.icon(icon, size=22), color=rx.color("teal", 11)),
            rx.heading(title, size="4", weight="medium"),
            rx.text(text, size="2", color_scheme="gray"),
            spacing="2",
            align="start",
        ),
        size="3",
        width="100%",
    )


def landing() -> rx.Component:
    """The landing page component."""
    return rx.box(
        rx.flex(
            rx.hstack(
                rx.icon("flower-2", size=24, color=rx.color("teal", 10)),
                rx.text(CLINIC_NAME, size="4", weight="bold"),
                align="center",
                spacing="2",
            ),
            rx.link(
                rx.button("Staff sign in", variant="soft", size="2"),
                href=LOGIN_PATH,
                id="staff-login-link",
            ),
            justify="between",
            align="center",
            padding_x="2em",
            padding_y="1.2em",
            max_width="72em",
            margin_x="auto",
        ),
        rx.center(
            rx.vstack(
                rx.badge("Medical aesthetics", size="2", variant="soft", radius="full"),
                rx.heading(
                    f"Welcome to {CLINIC_NAME}",
                    size="9",
                    weight="bold",
                    text_align="center",
                    id="clinic-title",
                ),
                rx.text(
                    "Neuromodulators, fillers, laser and skin treatments, "
                    "with online booking in under a minute.",
                    size="5",
                    color_scheme="gray",
                    text_align="center",
                    max_width="34em",
                ),
                rx.hstack(
                    rx.link(
                        rx.button(rx.icon("calendar-plus", size=18), "Book an appointment", size="4"),
                        href=BOOKING_PATH,
                        id="book-link",
                    ),
                    rx.link(
                        rx.button("Staff sign in", size="4", variant="outline"),
                        href=LOGIN_PATH,
                    ),
                    spacing="3",
                    wrap="wrap",
                    justify="center",
                ),
                spacing="5",
                align="center",
                padding_y="5em",
                padding_x="1.5em",
            ),
        ),
        rx.grid(
            *(_feature(*f) for f in _FEATURES),
            columns=rx.breakpoints(initial="1", sm="3"),
            spacing="4",
            max_width="72em",
            margin_x="auto",
            padding_x="2em",
        ),
        rx.center(
            rx.text(
                f"{CLINIC_NAME} · practice system powered by medspa",
                size="1",
                color_scheme="gray",
            ),
            padding_y="3em",
        ),
        min_height="100vh",
        background=f"linear-gradient(180deg, {rx.color('teal', 2)} 0%, {rx.color('gray', 1)} 55%)",
    )


def register(app: rx.App) -> None:
    """Add the landing page to `app`."""
    app.add_page(landing, route="/", title=f"{CLINIC_NAME} · Book online")
