"""The Clinic tab's "Charts and signing" card (issue 18; owner, clinic.manage): whether covering
providers may sign a chart of a visit they did not perform, and the medical director (a
prescriber) who co-signs the charts of nurses and aestheticians (/reviews)."""

from __future__ import annotations

import reflex as rx

from medspa.domain.clinical import signing_actions
from medspa.domain.errors import ValidationFailed
from medspa.features.auth.state import StaffState
from medspa.features.settings.state import Choice

NONE = "none"


class SigningSettingsState(StaffState):
    """The two settings as shown, and the prescribers to choose from."""

    signing_ok: bool = False
    covering_may_sign: bool = False
    director: str = NONE
    director_choices: list[Choice] = []
    signing_message: str = ""
    signing_error: str = ""

    def _fill(self, got) -> None:
        self.covering_may_sign = got.covering_may_sign
        self.director = str(got.medical_director_id) if got.medical_director_id else NONE
        self.director_choices = [Choice(NONE, "No medical director"),
                                 *(Choice(str(i), label) for i, label in got.prescribers)]

    @rx.event
    async def load_signing(self):
        self.signing_message = self.signing_error = ""
        done = await self._act(signing_actions.fetch_signing_settings)
        if done.redirect is not None:
            return done.redirect
        self.signing_ok = done.ok
        if done.ok:
            self._fill(done.value)
        return None

    async def _save(self, covering: bool, director: str):
        director_id = int(director) if director.isdigit() else None
        self.signing_message = self.signing_error = ""
        try:
            done = await self._act(signing_actions.do_set_signing_settings, covering, director_id)
        except ValidationFailed as exc:
            self.signing_error = next(iter(exc.fields.values()), "")
            return None
        if done.redirect is not None:
            return done.redirect
        if done.ok:
            self._fill(done.value)
            self.signing_message = "Saved."
        return None

    @rx.event
    async def set_covering(self, value: bool):
        if isinstance(value, bool):
            return await self._save(value, self.director)
        return None

    @rx.event
    async def set_director(self, value: str):
        if isinstance(value, str) and any(c.value == value for c in self.director_choices):
            return await self._save(self.covering_may_sign, value)
        return None


def signing_card() -> rx.Component:
    """The card (loads on mount; nothing for anyone but the owner)."""
    s = SigningSettingsState
    return rx.box(rx.cond(s.signing_ok, rx.card(rx.vstack(
        rx.heading("Charts and signing", size="3"),
        rx.hstack(rx.switch(checked=s.covering_may_sign, on_change=s.set_covering, id="signing-covering"),
                  rx.vstack(rx.text("Covering providers may sign", size="2", weight="medium"),
                            rx.text("Off: only the provider who performed a visit signs its chart; others add "
                                    "addenda after it is signed.", size="1", color_scheme="gray"), spacing="0"),
                  spacing="3", align="start"),
        rx.vstack(rx.text("Medical director", size="2", weight="medium"),
                  rx.select.root(rx.select.trigger(width="260px", id="signing-director"),
                                 rx.select.content(rx.foreach(s.director_choices,
                                                              lambda c: rx.select.item(c.label, value=c.value))),
                                 value=s.director, on_change=s.set_director, size="2"),
                  rx.text("Co-signs the charts nurses and aestheticians sign under a prescriber's order (Reviews).",
                          size="1", color_scheme="gray"), spacing="1"),
        rx.cond(s.signing_message != "", rx.text(s.signing_message, size="1", color=rx.color("grass", 11))),
        rx.cond(s.signing_error != "", rx.text(s.signing_error, size="1", color=rx.color("red", 11))),
        spacing="3", width="100%"), width="100%", max_width="640px", id="signing-card")),
        width="100%", on_mount=s.load_signing)
