"""The client-facing tablet page `/tablet/forms/[appointment]?form=<key>` ("Fill with client").

Staff with form.fill (owner, manager, provider, front desk) open it from the calendar's visit
panel and hand the tablet over: it shows ONLY that form (its title, its questions, large
inputs), blank, with no client name, no visit list and no navigation; sending it shows "Thank
you, please hand the tablet back" and nothing of what was typed. The staff session is
re-checked on the server by every handler (StaffState._act); the visit and form come from the
URL and are checked by the domain (NotFound looks like "not available").
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from medspa.domain.clinical import form_actions
from medspa.domain.errors import ValidationFailed
from medspa.features.auth.state import StaffState
from medspa.features.forms.fields import FieldUI, answers_from, field_messages, field_views, form_fields
from medspa.web.inputs import parse_id

ROUTE = "/tablet/forms/[appointment]"


def tablet_href(appointment_id: int, key: str) -> str:
    """The tablet page of one form of a visit."""
    return f"/tablet/forms/{appointment_id}?form={key}"


class TabletFormState(StaffState):
    """One form on the tablet. status: loading | ready | thanks | not_found."""

    status: str = "loading"
    title: str = ""
    intro: str = ""
    fields: list[FieldUI] = []
    picks: dict[str, str] = {}
    field_errors: dict[str, str] = {}
    notice: str = ""
    sending: bool = False
    _appointment: int = 0
    _key: str = ""

    def _from_url(self) -> tuple[int, str]:
        parts = [p for p in (self.router.url.path or "").split("/") if p]
        aid = parse_id(parts[2]) if len(parts) == 3 and parts[:2] == ["tablet", "forms"] else None
        key = self.router.url.query_parameters.get("form", "")
        return aid or 0, key if isinstance(key, str) and key.replace("_", "").isalpha() and len(key) <= 40 else ""

    @rx.event
    async def load(self):
        """on_load: the form of the URL, blank (staff session and form.fill checked)."""
        aid, key = self._from_url()
        self.status, self.notice, self.field_errors, self.fields, self.picks = "loading", "", {}, [], {}
        self._appointment, self._key = aid, key
        done = await self._act(form_actions.fetch_form, aid, key, source="tablet")
        if done.redirect is not None:
            return done.redirect
        if not done.ok:
            self.status = "not_found"
            return None
        view = done.value
        self.title, self.intro, self.fields = view.title, view.intro, field_views(view)
        self.picks = {f.key: "" for f in self.fields if f.kind in ("yes_no", "choice")}
        self.field_errors = field_messages(self.fields)
        self.status = "ready"
        return None

    @rx.event
    def pick(self, key: Any, value: Any):
        """A yes/no or choice answer was tapped (only keys of this form)."""
        if self.status == "ready" and isinstance(key, str) and isinstance(value, str) and len(value) <= 60 \
                and any(f.key == key for f in self.fields):
            self.picks = {**self.picks, key: value}
            self.field_errors = {**self.field_errors, key: ""}

    @rx.event
    async def send(self, form: Any):
        """Send the answers (a new version of the form), then the thank-you screen."""
        if self.status != "ready" or self.sending:
            return
        answers = answers_from(form, self.fields, self.picks)
        self.sending = True
        yield
        try:
            done = await self._act(form_actions.do_submit_form, self._appointment, self._key, answers,
                                   source="tablet")
        except ValidationFailed as exc:
            self.sending, self.field_errors = False, field_messages(self.fields, exc.fields)
            self.notice = "Please check the questions marked in red."
            return
        self.sending = False
        if done.redirect is not None:
            yield done.redirect
            return
        if not done.ok:
            self.status = "not_found"
            return
        # nothing of the answers stays on the page
        self.status, self.fields, self.picks, self.field_errors, self.notice = "thanks", [], {}, {}, ""


T = TabletFormState


def _ready() -> rx.Component:
    return rx.vstack(
        rx.heading(T.title, size="8", as_="h1", id="tablet-title"),
        rx.text(T.intro, size="4", color_scheme="gray"),
        rx.cond(T.notice != "", rx.callout(T.notice, icon="circle-alert", color_scheme="red", size="3", width="100%",
                                           id="tablet-notice", role="alert")),
        rx.form(
            rx.vstack(
                form_fields(T.fields, T.field_errors, T.picks, T.pick, large=True),
                rx.button("Send", type="submit", size="4", width="100%", color_scheme="teal", loading=T.sending,
                          id="tablet-send"),
                spacing="5", width="100%",
            ),
            on_submit=T.send, reset_on_submit=False, width="100%",
        ),
        spacing="4", width="100%",
    )


def _thanks() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.center(rx.icon("circle-check", size=56, color=rx.color("grass", 9))),
            rx.heading("Thank you", size="9", as_="h1", id="tablet-thanks"),
            rx.text("Your answers are sent to the clinic. Please hand the tablet back.", size="5", align="center"),
            rx.link(rx.button("Staff: back to the calendar", variant="soft", color_scheme="gray", size="2"),
                    href="/calendar", margin_top="3em"),
            align="center", spacing="4",
        ),
        min_height="80vh",
    )


def _not_found() -> rx.Component:
    return rx.center(rx.vstack(
        rx.heading("This form is not available", size="6"),
        rx.text("It may be done already, or the visit is no longer open.", color_scheme="gray"),
        rx.link("Back to the calendar", href="/calendar"), align="center", spacing="3"), min_height="70vh")


def tablet_page() -> rx.Component:
    """The tablet page: only the form (no client data, no navigation), then the thank-you."""
    return rx.box(
        rx.box(
            rx.match(T.status, ("ready", _ready()), ("thanks", _thanks()), ("not_found", _not_found()),
                     rx.center(rx.spinner(size="3"), min_height="60vh")),
            max_width="44em", margin_x="auto", padding=rx.breakpoints(initial="1.25em", sm="2.5em"),
        ),
        min_height="100vh", background=rx.color("gray", 1),
    )


def register(app: rx.App) -> None:
    """Add the tablet page to `app`."""
    app.add_page(tablet_page, route=ROUTE, title="Intake form", on_load=T.load)
