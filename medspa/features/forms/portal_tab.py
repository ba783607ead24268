"""The portal's "Forms" tab: the forms due for the client's upcoming visits, and one form at a
time to fill (phone first: one column, big tap targets, a message under each question).

A substate of PortalState: every handler goes through PortalState._as_client (the portal
session re-checked on the server) and one action of medspa.domain.clinical.form_actions. The
form opened is one the server listed for this client (`_open`: appointment id and template key
as listed); the answers sent are checked again by the domain (ValidationFailed -> messages).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from medspa.domain.clinical import form_actions
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.features.forms.fields import FieldUI, answers_from, field_messages, field_views, form_fields
from medspa.features.portal.state import PortalState
from medspa.web.inputs import parse_id

ACCENT = "teal"


@dataclasses.dataclass
class DueUI:
    """One form in the list: its visit, title and whether it is done."""

    appointment_id: int = 0
    key: str = ""
    title: str = ""
    visit: str = ""
    done: bool = False


class PortalFormsState(PortalState):
    """The Forms tab of one portal tab."""

    due: list[DueUI] = []
    due_loaded: bool = False
    form_open: bool = False
    form_title: str = ""
    form_intro: str = ""
    form_visit: str = ""
    form_version: int = 0
    fields: list[FieldUI] = []
    picks: dict[str, str] = {}
    field_errors: dict[str, str] = {}
    form_notice: str = ""
    sending: bool = False
    _listed: list[list] = []  # [appointment id, template key] pairs this state listed
    _open: list = []

    @rx.event
    async def load_due(self):
        """List the forms of the client's upcoming visits (also after a form is sent)."""
        if self.step != "portal":
            return
        ok, due = await self._as_client(form_actions.fetch_due_forms)
        if not ok:
            return
        self.due = [DueUI(d.appointment_id, d.template_key, d.title, d.visit_label, d.done) for d in due]
        self._listed = [[d.appointment_id, d.template_key] for d in due]
        self.due_loaded = True

    @rx.event
    async def open_form(self, appointment_id: Any, key: Any):
        """Open one listed form, starting from the client's own latest answers."""
        aid = parse_id(appointment_id)
        if self.step != "portal" or not isinstance(key, str) or [aid, key] not in self._listed:
            return
        try:
            ok, view = await self._as_client(form_actions.fetch_form, aid, key, source="portal")
        except NotFound:
            self.form_notice = "This form is no longer needed."
            return
        if not ok:
            return
        self.fields = field_views(view)
        self.picks = {f.key: f.value for f in self.fields if f.kind in ("yes_no", "choice")}
        self.form_title, self.form_intro, self.form_visit = view.title, view.intro, view.visit_label
        self.form_version, self.field_errors, self.form_notice = view.version, field_messages(self.fields), ""
        self._open, self.form_open = [aid, key], True

    @rx.event
    def pick(self, key: Any, value: Any):
        """A yes/no or choice answer was tapped (only keys of the open form; the domain checks values)."""
        if self.form_open and isinstance(key, str) and isinstance(value, str) and len(value) <= 60 \
                and any(f.key == key for f in self.fields):
            self.picks = {**self.picks, key: value}
            self.field_errors = {**self.field_errors, key: ""}

    @rx.event
    def close_form(self):
        self.form_open, self.fields, self.picks, self.field_errors, self._open = False, [], {}, {}, []

    @rx.event
    async def send_form(self, form: Any):
        """Send the open form: stored as a new version, or messages next to the fields."""
        if self.step != "portal" or not self.form_open or len(self._open) != 2 or self.sending:
            return
        aid, key = self._open
        answers = answers_from(form, self.fields, self.picks)
        self.sending = True
        yield
        try:
            ok, _version = await self._as_client(form_actions.do_submit_form, aid, key, answers, source="portal")
        except ValidationFailed as exc:
            self.sending, self.field_errors = False, field_messages(self.fields, exc.fields)
            self.form_notice = "Please check the questions marked in red."
            return
        except NotFound:
            ok = True
        self.sending = False
        if not ok:
            return
        title = self.form_title
        self.form_open, self.fields, self.picks, self.field_errors, self._open = False, [], {}, {}, []
        self.form_notice = f"Thank you: your {title.lower()} is sent to the clinic."
        yield PortalFormsState.load_due


F = PortalFormsState


def _due_row(d: DueUI) -> rx.Component:
    return rx.card(
        rx.flex(
            rx.vstack(
                rx.hstack(rx.text(d.title, weight="bold", size="3"),
                          rx.cond(d.done, rx.badge(rx.icon("circle-check", size=13), "Done", color_scheme="grass",
                                                   size="2", radius="full")),
                          spacing="2", align="center", wrap="wrap"),
                rx.text(rx.icon("calendar", size=13, flex_shrink="0"), d.visit, size="1", color_scheme="gray",
                        display="flex", align_items="center", gap="0.35em"),
                spacing="1", min_width="0",
            ),
            rx.cond(d.done,
                    rx.button("Update answers", size="2", variant="soft", color_scheme="gray",
                              on_click=F.open_form(d.appointment_id, d.key), aria_label="Update " + d.title),
                    rx.button("Fill in", size="3", color_scheme=ACCENT, on_click=F.open_form(d.appointment_id, d.key),
                              aria_label="Fill in " + d.title, class_name="fill-form")),
            justify="between", align=rx.breakpoints(initial="stretch", sm="center"), gap="3", width="100%",
            direction=rx.breakpoints(initial="column", sm="row"),
        ),
        width="100%",
        class_name="due-form",
        custom_attrs={"data-form": d.key, "data-done": d.done.to(str)},
    )


def _list() -> rx.Component:
    return rx.vstack(
        rx.heading("Forms before your visit", size="5", as_="h3"),
        rx.text("Fill these in before you come: your provider reads them before treating you. "
                "Your answers are private and every look at them is logged.", size="2", color_scheme="gray"),
        rx.cond(F.form_notice != "", rx.callout(F.form_notice, icon="circle-check", color_scheme=ACCENT, width="100%",
                                                id="forms-notice")),
        rx.cond(
            F.due.length() > 0,
            rx.vstack(rx.foreach(F.due, _due_row), spacing="2", width="100%", id="due-forms"),
            rx.text(rx.cond(F.due_loaded, "No forms to fill right now.", "Loading…"), size="2",
                    color_scheme="gray", id="due-forms"),
        ),
        spacing="3", width="100%",
    )


def _form() -> rx.Component:
    return rx.vstack(
        rx.button(rx.icon("arrow-left", size=16), "All forms", variant="ghost", size="2", on_click=F.close_form,
                  type="button"),
        rx.heading(F.form_title, size="6", as_="h3", id="form-title"),
        rx.text(F.form_visit, size="2", color_scheme="gray"),
        rx.text(F.form_intro, size="2"),
        rx.cond(F.form_version > 0, rx.text("You sent this form before; sending it again keeps both, the newest counts.",
                                           size="1", color_scheme="gray")),
        rx.cond(F.form_notice != "", rx.callout(F.form_notice, icon="circle-alert", color_scheme="red", width="100%",
                                                id="form-notice", role="alert")),
        rx.form(
            rx.vstack(
                form_fields(F.fields, F.field_errors, F.picks, F.pick),
                rx.text(rx.text.span("*", color=rx.color("red", 10)), " required", size="1", color_scheme="gray"),
                rx.button("Send to the clinic", type="submit", size="3", width="100%", color_scheme=ACCENT,
                          loading=F.sending, id="send-form"),
                spacing="3", width="100%",
            ),
            on_submit=F.send_form,
            reset_on_submit=False,
            width="100%",
            key=F.form_title,
        ),
        spacing="3", width="100%", id="intake-form",
    )


def forms_tab() -> rx.Component:
    """The portal's Forms tab: the list, or the open form."""
    return rx.box(rx.cond(F.form_open, _form(), _list()), on_mount=F.load_due, width="100%")
