"""The pieces every sign-in page shares: the browser-submitted form, the centred card, and
the header's "Sign out" button (used by page.py, flows.py and shell.py)."""

from __future__ import annotations

import base64
import re

import reflex as rx

from reflex_components_core.el.elements.forms import Form

LOGIN_ACTION = "/auth/login"  # medspa/api/auth.py: sets the HttpOnly session cookie
LOGOUT_ACTION = "/auth/logout"


class NativeForm(Form):
    """A <form> the BROWSER submits (action + method), no Reflex submit handler.

    `rx.form` always adds an onSubmit that prevents the browser's own submission; sign-in and
    sign-out must reach the HTTP routes, which alone can set or clear an HttpOnly cookie.
    """

    @classmethod
    def create(cls, *children, **props):
        return super(Form, cls).create(*children, **props)


native_form = NativeForm.create


def auth_frame(title: str, subtitle, *children: rx.Component, max_width: str = "26em") -> rx.Component:
    """The centred card of the sign-in pages (sign in, code, set-up, forgot, reset, invitation,
    the clinic set-up: wider)."""
    return rx.center(
        rx.vstack(
            rx.hstack(
                rx.center(rx.icon("flower-2", size=22, color="white"), width="38px", height="38px",
                          border_radius="10px", background=rx.color("teal", 9)),
                rx.text("medspa", size="5", weight="bold"),
                align="center",
                spacing="2",
            ),
            rx.card(
                rx.vstack(
                    rx.heading(title, size="6", weight="bold"),
                    rx.text(subtitle, size="2", color_scheme="gray"),
                    *children,
                    spacing="4",
                    width="100%",
                ),
                size="4",
                width="100%",
            ),
            rx.hstack(
                rx.icon("shield-check", size=14, color=rx.color("gray", 10)),
                rx.text("Sessions end after a period of inactivity.", size="1", color_scheme="gray"),
                rx.link("Back to the clinic site", href="/", size="1"),
                spacing="2",
                align="center",
                wrap="wrap",
                justify="center",
            ),
            spacing="5",
            align="center",
            width="100%",
            max_width=max_width,
            padding_x="1em",
            padding_y="1.5em",  # a form taller than a phone's screen keeps a margin above the brand
        ),
        min_height="100vh",
        background=f"radial-gradient(circle at 20% 0%, {rx.color('teal', 3)} 0%, {rx.color('gray', 2)} 55%)",
    )


def sign_out_button(**props) -> rx.Component:
    """A "Sign out" button for staff page headers: a form POST to /auth/logout, which revokes
    the session and clears the HttpOnly cookie, then answers with a redirect to /login."""
    return native_form(
        rx.button(rx.icon("log-out", size=15), "Sign out", variant="ghost", color_scheme="gray", size="2",
                  type="submit", id="sign-out", **props),
        action=LOGOUT_ACTION,
        method="post",
        id="sign-out-form",
        display="contents",
    )


def qr_data_uri(svg: str) -> str:
    """Our own segno SVG as an <img> source (CSP img-src allows data:; an <img> runs no script).

    segno's inline SVG has no xmlns (a standalone image needs it) nor viewBox (to scale): both
    are added to the root element."""
    root = re.match(r"<svg\b([^>]*)>", svg)
    if root is not None:
        attrs = root.group(1)
        extra = ""
        if "xmlns=" not in attrs:
            extra += ' xmlns="http://www.w3.org/2000/svg"'
        size = re.search(r'width="(\d+)"\s+height="(\d+)"', attrs)
        if "viewBox" not in attrs and size:
            extra += f' viewBox="0 0 {size.group(1)} {size.group(2)}"'
        svg = f"<svg{extra}{attrs}>" + svg[root.end():]
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def group_key(key: str) -> str:
    """A TOTP manual key in groups of four characters (easier to type)."""
    return " ".join(key[i:i + 4] for i in range(0, len(key), 4))
