"""The chart page's health panel (issue 17): the visit's contraindication flags, the overrides
given so far (at booking), and the provider's reason that signing a flagged chart needs.

`sign_with_reason` is the chart's Sign: the same one transaction as ChartState.sign
(clinical.actions.do_sign_chart), with the reason typed here; the server checks the flags
again and keeps the reason (stage "chart"). A chart without flags signs without one.
"""

from __future__ import annotations

import functools

import reflex as rx

from medspa.domain.clinical import actions
from medspa.domain.clinical.history_actions import fetch_chart_flags
from medspa.domain.clinical.health_record import REASON_MAX
from medspa.features.charting.state import ChartState


class ChartHealthState(ChartState):
    """The flags of the chart's visit and the override reason being typed."""

    health_flags: list[str] = []
    health_overrides: list[str] = []
    health_reason: str = ""
    health_error: str = ""
    _health_reason_visit: int = 0  # the visit the typed reason is for (kept across "Sign with client")

    @rx.event
    async def load_health(self):
        """on_load after the chart: the visit's flags (an audited read for history.read roles).
        A reason typed for this same visit survives (the round trip through /consent/<visit>)."""
        same = self.status == "ready" and self._appointment_id and self._health_reason_visit == self._appointment_id
        kept = self.health_reason if same and self.editable else ""
        self.health_flags, self.health_overrides, self.health_reason, self.health_error = [], [], kept, ""
        if self.status != "ready" or not self._appointment_id:
            return None
        done = await self._act(fetch_chart_flags, self._appointment_id)
        if done.redirect is not None:
            return done.redirect
        if done.ok:
            self.health_flags, self.health_overrides = list(done.value.flags), list(done.value.overrides)
        return None

    @rx.event
    async def set_health_reason(self, value: str):
        """The reason as typed (at most REASON_MAX characters)."""
        actor, redirect = await self._charting("chart.write")
        if actor is None:
            return redirect
        if isinstance(value, str):
            self.health_reason, self.health_error = value[:REASON_MAX], ""
            self._health_reason_visit = self._appointment_id

    @rx.event
    async def sign_with_client(self):
        """"Sign with client": save the draft as shown (the "Save draft" action), then open the
        visit's consent page. The typed override reason stays here for the return; a draft that
        does not save (field messages, lock) keeps the provider on the chart."""
        actor, redirect = await self._charting("chart.write")
        if actor is None:
            yield redirect
            return
        if self.editable:
            async for update in self._write(actions.do_save_chart, self._lines(), self.note, settings=self._settings(),
                                            notice="Draft saved."):
                yield update
            if self.status != "ready" or self.error:
                return
        yield rx.redirect(f"/consent/{self._appointment_id}")

    @rx.event
    async def sign_with_reason(self):
        """Save what is shown and sign it, with the override reason when the visit is flagged."""
        if not self.confirm_sign:
            return
        if self.health_flags and not self.health_reason.strip():
            self.health_error, self.confirm_sign = "A contraindication is flagged: give your clinical reason to sign", False
            return
        sign = functools.partial(actions.do_sign_chart, override_reason=self.health_reason)
        async for update in self._write(sign, self._lines(), self.note, settings=self._settings(),
                                        notice="Chart signed."):
            yield update
        if self.chart_status == "signed":
            self.health_reason = ""
            done = await self._act(fetch_chart_flags, self._appointment_id)
            if done.ok:
                self.health_overrides = list(done.value.overrides)


def health_panel() -> rx.Component:
    """The red panel above the chart's actions (nothing when the visit is not flagged)."""
    h = ChartHealthState
    return rx.cond(h.health_flags.length() > 0, rx.card(rx.vstack(
        rx.hstack(rx.icon("triangle-alert", size=16, color=rx.color("red", 11)),
                  rx.text("Contraindication flagged", size="3", weight="bold", color=rx.color("red", 11)),
                  align="center", spacing="2"),
        rx.foreach(h.health_flags, lambda f: rx.text(f, size="2", class_name="chart-health-flag")),
        rx.foreach(h.health_overrides, lambda o: rx.text("Overridden at " + o, size="1", color_scheme="gray",
                                                          class_name="chart-health-override")),
        rx.cond(h.editable, rx.vstack(
            rx.text("Your clinical reason for treating anyway (required to sign, kept with the chart):", size="1",
                    color=rx.color("gray", 11)),
            rx.text_area(value=h.health_reason, on_change=h.set_health_reason.debounce(300), rows="2",
                         width="100%", id="chart-health-reason", max_length=REASON_MAX),
            rx.cond(h.health_error != "", rx.text(h.health_error, size="1", color=rx.color("red", 11),
                                                  custom_attrs={"data-error": "health_reason"})),
            spacing="1", width="100%")),
        spacing="2", width="100%"), width="100%", background=rx.color("red", 2), id="chart-health"))
