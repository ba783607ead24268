"""The chart page's "who may treat and sign" parts (issue 18; rules in domain/clinical/signing.py):

- the order the visit rests on ("Under the order of Dr. Lee (NP), exam ...") or why a
  non-prescriber cannot chart it yet, with the prescriber's "Record exam" form (the server
  refuses anyone without a prescriber licence, with the message);
- under a signed chart: its co-sign (or the medical director's Co-sign button when it waits for
  one) and the addenda, with "Add addendum".
Every event re-checks the session; each write is one action of clinical/signing_actions.py.
"""

from __future__ import annotations

from datetime import date

import reflex as rx

from medspa.clock import app_clock
from medspa.domain.clinical import signing_actions
from medspa.domain.clinical.service import ChartLocked
from medspa.domain.errors import ValidationFailed
from medspa.features.charting.state import AddendumView, ChartState


class ChartSigningState(ChartState):
    """Typed addendum / co-sign comment / exam note, and their messages."""

    addendum_text: str = ""
    addendum_error: str = ""
    cosign_comment: str = ""
    order_scope: str = "all"
    order_note: str = ""
    order_error: str = ""
    order_scopes: list[str] = []

    @rx.event
    async def load_signing(self):
        """on_load after the chart: the scopes an exam may cover (only when one is needed)."""
        self.addendum_text = self.addendum_error = self.cosign_comment = self.order_note = self.order_error = ""
        self.order_scopes = []
        if self.status == "ready" and self.signing.order_problem:
            done = await self._act(signing_actions.fetch_order_scopes)
            if done.ok:
                self.order_scopes = list(done.value)
                low = self.service_name.lower()
                self.order_scope = next((c for c in self.order_scopes if c != "all" and c in self.signing.order_problem.lower()),
                                        "all") if low else "all"

    @rx.event
    async def set_addendum_text(self, value: str):
        if isinstance(value, str):
            self.addendum_text, self.addendum_error = value[:5000], ""

    @rx.event
    async def set_cosign_comment(self, value: str):
        if isinstance(value, str):
            self.cosign_comment = value[:1000]

    @rx.event
    async def set_order_scope(self, value: str):
        if isinstance(value, str) and value in self.order_scopes:
            self.order_scope = value

    @rx.event
    async def set_order_note(self, value: str):
        if isinstance(value, str):
            self.order_note, self.order_error = value[:2000], ""

    @rx.event
    async def add_addendum(self):
        """Add the typed addendum under the signed chart."""
        try:
            async for update in self._write(signing_actions.do_add_addendum, self.addendum_text, notice="Addendum added."):
                yield update
        except ValidationFailed as exc:  # pragma: no cover - _write shows field messages itself
            self.addendum_error = exc.fields.get("addendum", "")
        if self.notice == "Addendum added.":
            self.addendum_text = ""
        elif self.error == "Check the highlighted fields.":
            self.addendum_error, self.error = "Write the addendum first (at most 5,000 characters)", ""

    @rx.event
    async def cosign(self):
        """The medical director co-signs the signed chart."""
        async for update in self._write(signing_actions.do_cosign_chart, self.cosign_comment, notice="Chart co-signed."):
            yield update
        if self.notice == "Chart co-signed.":
            self.cosign_comment = ""

    @rx.event
    async def record_order(self):
        """The prescriber records today's exam of the visit's client (valid 12 months)."""
        today: date = app_clock().now().date()
        self.order_error = ""
        actor, redirect = await self._charting("chart.write")
        if actor is None:
            yield redirect
            return
        self.busy = True
        yield
        try:
            chart, redirect = await self._chart_act(signing_actions.do_record_order, self.order_scope, today,
                                                    self.order_note)
        except (ValidationFailed, ChartLocked) as exc:
            self.busy = False
            self.order_error = (next(iter(exc.fields.values()), "") if isinstance(exc, ValidationFailed) else str(exc))
            return
        self.busy = False
        if chart is None:
            if redirect is not None:
                yield redirect
            return
        keep_rows, keep_note = self.rows, self.note  # the form as typed stays
        self._show(chart)
        if chart.editable:
            self.rows, self.note = keep_rows, keep_note
        self.notice, self.order_note = "Exam recorded.", ""


def order_banner() -> rx.Component:
    """The order the visit rests on, or why it cannot be charted (with the exam form)."""
    s = ChartSigningState
    return rx.fragment(
        rx.cond(s.signing.order_label != "", rx.callout(s.signing.order_label, icon="stethoscope", color_scheme="blue", size="1",
                                                 width="100%", id="chart-order")),
        rx.cond(s.signing.order_problem != "", rx.card(rx.vstack(
            rx.hstack(rx.icon("shield-alert", size=16, color=rx.color("amber", 11)),
                      rx.text(s.signing.order_problem, size="2", id="chart-order-problem"), spacing="2", align="start"),
            rx.cond(s.order_scopes.length() > 0, rx.hstack(
                rx.select(s.order_scopes, value=s.order_scope, on_change=s.set_order_scope, size="2",
                          id="chart-order-scope"),
                rx.input(value=s.order_note, on_change=s.set_order_note, placeholder="Exam note (optional)",
                         size="2", width="260px", id="chart-order-note"),
                rx.button(rx.icon("stethoscope", size=14), "Record today's exam (prescriber)", size="2",
                          variant="soft", on_click=s.record_order, loading=s.busy, id="chart-order-record"),
                spacing="2", wrap="wrap", align="center")),
            rx.cond(s.order_error != "", rx.text(s.order_error, size="1", color=rx.color("red", 11),
                                                 id="chart-order-error")),
            spacing="2", width="100%"), width="100%", background=rx.color("amber", 2), id="chart-order-needed")),
    )


def _addendum(a: AddendumView) -> rx.Component:
    return rx.box(
        rx.text("Addendum · ", a.author, " · ", a.at_label, size="1", color_scheme="gray", weight="medium"),
        rx.text(a.text, size="2", white_space="pre-wrap"),
        padding="8px 12px", border_left=f"3px solid {rx.color('gray', 6)}", width="100%", class_name="chart-addendum",
    )


def after_signing() -> rx.Component:
    """Under a signed chart: co-sign and addenda."""
    s = ChartSigningState
    return rx.cond(s.chart_status == "signed", rx.card(rx.vstack(
        rx.cond(s.signing.cosign_label != "", rx.hstack(rx.icon("badge-check", size=16, color=rx.color("grass", 11)),
                                                 rx.text(s.signing.cosign_label, size="2", id="chart-cosigned"),
                                                 spacing="2", align="center")),
        rx.cond(s.signing.needs_cosign, rx.hstack(
            rx.badge("Awaiting medical director's co-sign", color_scheme="amber", variant="soft", id="chart-cosign-waiting"),
            rx.input(value=s.cosign_comment, on_change=s.set_cosign_comment, placeholder="Comment (optional)",
                     size="1", width="220px", id="chart-cosign-comment"),
            rx.button(rx.icon("badge-check", size=14), "Co-sign", size="1", color_scheme="grass",
                      on_click=s.cosign, loading=s.busy, id="chart-cosign"),
            spacing="2", align="center", wrap="wrap")),
        rx.heading("Addenda", size="3"),
        rx.cond(s.signing.addenda.length() > 0, rx.vstack(rx.foreach(s.signing.addenda, _addendum), spacing="2", width="100%",
                                                  id="chart-addenda"),
                rx.text("No addenda.", size="1", color_scheme="gray")),
        rx.text_area(value=s.addendum_text, on_change=s.set_addendum_text, rows="3", width="100%",
                     placeholder="Add a late entry or correction note (the signed chart stays as it is)…",
                     id="chart-addendum-text"),
        rx.cond(s.addendum_error != "", rx.text(s.addendum_error, size="1", color=rx.color("red", 11))),
        rx.button(rx.icon("message-square-plus", size=14), "Add addendum", size="2", variant="soft",
                  on_click=s.add_addendum, loading=s.busy, id="chart-addendum-add"),
        spacing="3", width="100%"), width="100%", id="chart-after-signing"))
