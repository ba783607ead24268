"""The calendar visit panel's "Intake forms" card: completion for every calendar role, "Fill
with client" (form.fill: opens the client-facing tablet page of one missing form) and, for
form.read (provider, owner), "Read answers" (each opening audited).

Reloaded per visit (on_mount keyed by the visit id, like the checkout's next-visit offer); the
visit id comes from DetailState, never from the browser; the server checks every permission
again (StaffState._act and the domain).
"""

from __future__ import annotations

import dataclasses

import reflex as rx

from medspa.domain.clinical import form_actions
from medspa.domain.identity.permissions import has_permission
from medspa.domain.scheduling.models import AppointmentStatus
from medspa.features.auth.state import StaffState
from medspa.features.calendar.state import DetailState
from medspa.features.forms.tablet import tablet_href
from medspa.web.auth import STAFF_ROLES

FILL_ROLES = [r for r in sorted(STAFF_ROLES) if has_permission(r, "form.fill")]
READ_ROLES = [r for r in sorted(STAFF_ROLES) if has_permission(r, "form.read")]


@dataclasses.dataclass
class MissingUI:
    """A form still to fill, with its tablet link."""

    title: str = ""
    href: str = ""


@dataclasses.dataclass
class AnswerUI:
    """One question and answer of a submitted form."""

    question: str = ""
    answer: str = ""


@dataclasses.dataclass
class AnsweredUI:
    """A submitted form (its latest version) as a provider reads it."""

    title: str = ""
    meta: str = ""
    rows: list[AnswerUI] = dataclasses.field(default_factory=list)


class FormsPanelState(StaffState):
    """The intake forms of the visit open in the panel."""

    forms_label: str = ""
    missing: list[MissingUI] = []
    fillable: bool = False
    answers_open: bool = False
    answered: list[AnsweredUI] = []

    @rx.event
    async def load(self):
        """When the panel shows a visit: its forms' completion."""
        detail = (await self.get_state(DetailState)).detail
        self.forms_label, self.missing, self.answers_open, self.answered = "", [], False, []
        if not detail.id:
            return None
        done = await self._act(form_actions.fetch_visit_forms, detail.id)
        if done.redirect is not None:
            return done.redirect
        if not done.ok:
            return None
        status = done.value
        self.forms_label = status.label
        self.fillable = detail.status in (AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN)
        self.missing = [MissingUI(t, tablet_href(detail.id, k)) for t, k in zip(status.missing, status.missing_keys)]
        return None

    @rx.event
    async def read_answers(self):
        """Open the visit's answers (form.read; audited)."""
        detail = (await self.get_state(DetailState)).detail
        if not detail.id:
            return None
        done = await self._act(form_actions.fetch_visit_answers, detail.id)
        if done.redirect is not None:
            return done.redirect
        if not done.ok:
            return rx.toast.error("These answers are not available.")
        self.answered = [AnsweredUI(a.title, f"Version {a.version} · {a.submitted_label}",
                                    [AnswerUI(q, ans) for q, ans in a.rows]) for a in done.value]
        self.answers_open = True
        return None

    @rx.event
    def close_answers(self):
        self.answers_open, self.answered = False, []


P = FormsPanelState


def _answers_dialog() -> rx.Component:
    form = lambda a: rx.vstack(  # noqa: E731
        rx.heading(a.title, size="3"), rx.text(a.meta, size="1", color_scheme="gray"),
        rx.data_list.root(rx.foreach(a.rows, lambda r: rx.data_list.item(rx.data_list.label(r.question, min_width="12em"),
                                                                           rx.data_list.value(r.answer))),
                          orientation="vertical", size="1"),
        spacing="2", width="100%", padding_bottom="1em")
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title("Intake form answers"),
        rx.cond(P.answered.length() > 0, rx.vstack(rx.foreach(P.answered, form), width="100%"),
                rx.text("No form submitted yet.", size="2", color_scheme="gray")),
        rx.flex(rx.button("Close", variant="soft", color_scheme="gray", on_click=P.close_answers), justify="end"),
        max_width="36em", id="form-answers"), open=P.answers_open)


def forms_section() -> rx.Component:
    """The panel's "Intake forms" card (nothing for a visit that needs none)."""
    d = DetailState.detail
    fill = rx.Var.create(FILL_ROLES).contains(DetailState.staff_role) & P.fillable
    done = P.forms_label == "Forms done"
    return rx.box(
        rx.cond(P.forms_label != "", rx.card(rx.vstack(
            rx.hstack(rx.icon("clipboard-list", size=16), rx.text("Intake forms", weight="bold", size="2"),
                      rx.spacer(),
                      rx.badge(P.forms_label, color_scheme=rx.cond(done, "grass", "amber"), size="2",
                               id="detail-forms"),
                      align="center", width="100%"),
            rx.foreach(P.missing, lambda m: rx.hstack(
                rx.text(m.title, size="2", color_scheme="gray"), rx.spacer(),
                rx.cond(fill, rx.link(rx.button(rx.icon("tablet", size=14), "Fill with client", size="1",
                                                variant="soft"), href=m.href, class_name="fill-with-client")),
                align="center", width="100%")),
            rx.cond(rx.Var.create(READ_ROLES).contains(DetailState.staff_role),
                    rx.button("Read answers", size="1", variant="ghost", on_click=P.read_answers, id="read-answers")),
            spacing="2", width="100%"), width="100%")),
        _answers_dialog(),
        on_mount=P.load, key=d.id.to(str), width="100%",
    )
