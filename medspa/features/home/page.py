"""Landing page at `/`: the product, the clinics on this server that chose to be listed (logo,
name, link to book online), staff sign-in."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import reflex as rx

from medspa.domain.practice.profile_actions import fetch_listed_clinics

PRODUCT = "medspa"
LOGIN_PATH = "/login"

_FEATURES = (
    ("calendar-check", "Book online", "Clients pick a treatment, a provider and a time, and pay the deposit in under a minute."),
    ("activity", "A live day", "The front desk, providers and owners see every booking, check-in and cancellation as it happens."),
    ("shield-check", "Private by design", "Every clinic's data is walled off in the database; every change is on the audit trail."),
)


@dataclass
class ClinicLink:
    """One listed clinic's public booking link; logo_url "" without a logo."""

    slug: str
    name: str
    logo_url: str = ""


def _load() -> list[ClinicLink]:
    return [ClinicLink(slug=c.slug, name=c.name, logo_url=c.logo_url) for c in fetch_listed_clinics()]


class HomeState(rx.State):
    """The clinics listed on the landing page (public slugs, names and logo URLs only)."""

    clinics: list[ClinicLink] = []

    @rx.event
    async def load(self):
        self.clinics = await asyncio.to_thread(_load)


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


def _clinic(c: ClinicLink) -> rx.Component:
    return rx.link(
        rx.card(
            rx.hstack(
                rx.cond(c.logo_url != "",
                        rx.image(src=c.logo_url, alt="", width="56px", height="40px", object_fit="contain",
                                 border_radius="8px", flex_shrink="0", class_name="clinic-logo"),
                        rx.center(rx.icon("flower-2", size=20, color=rx.color("teal", 10)), width="56px",
                                  height="40px", flex_shrink="0", border_radius="8px",
                                  background=rx.color("teal", 3))),
                rx.text(c.name, size="3", weight="medium", class_name="clinic-name"),
                rx.spacer(),
                rx.text("Book online", size="2", color=rx.color("teal", 11)),
                rx.icon("arrow-right", size=16, color=rx.color("teal", 11)),
                align="center",
                spacing="2",
                width="100%",
            ),
            size="2",
            width="100%",
        ),
        href="/book/" + c.slug,
        class_name="clinic-link",
        width="100%",
        underline="none",
    )


def landing() -> rx.Component:
    """The landing page component."""
    return rx.box(
        rx.flex(
            rx.hstack(
                rx.icon("flower-2", size=24, color=rx.color("teal", 10)),
                rx.text(PRODUCT, size="4", weight="bold"),
                align="center",
                spacing="2",
            ),
            rx.link(rx.button("Staff sign in", variant="soft", size="2"), href=LOGIN_PATH, id="staff-login-link"),
            justify="between",
            align="center",
            padding_x="2em",
            padding_y="1.2em",
            max_width="72em",
            margin_x="auto",
        ),
        rx.center(
            rx.vstack(
                rx.badge("Open-source practice system", size="2", variant="soft", radius="full"),
                rx.heading("The med spa, running live", size="9", weight="bold", text_align="center",
                           id="clinic-title"),
                rx.text(
                    "Online booking with deposits, a live staff calendar, charting and owner reports "
                    "for clinics offering neuromodulators, fillers, laser and skin treatments.",
                    size="5", color_scheme="gray", text_align="center", max_width="36em",
                ),
                rx.vstack(
                    rx.text("Book at a clinic", size="2", weight="medium", color_scheme="gray"),
                    rx.cond(
                        HomeState.clinics.length() > 0,
                        rx.vstack(rx.foreach(HomeState.clinics, _clinic), spacing="2", width="100%",
                                  id="clinic-list"),
                        rx.text("No clinic is listed here yet.", size="2", color_scheme="gray"),
                    ),
                    spacing="2",
                    width="100%",
                    max_width="28em",
                ),
                spacing="5",
                align="center",
                padding_y="4em",
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
        rx.center(rx.text(f"{PRODUCT} · open-source practice system for medical spas", size="1",
                          color_scheme="gray"), padding_y="3em"),
        min_height="100vh",
        background=f"linear-gradient(180deg, {rx.color('teal', 2)} 0%, {rx.color('gray', 1)} 55%)",
    )


def register(app: rx.App) -> None:
    """Add the landing page to `app`."""
    app.add_page(landing, route="/", title=f"{PRODUCT} · medical spa practice system", on_load=HomeState.load)
