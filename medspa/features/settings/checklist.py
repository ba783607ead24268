"""The owner's "Getting started" card on /settings (issue 13) and the tab the page opens on
(`/settings?tab=hours`: the checklist's links land on the right tab)."""

from __future__ import annotations

import dataclasses

import reflex as rx

from medspa.domain.practice.actions import fetch_setup_checklist
from medspa.features.auth.state import StaffState

TABS = ("services", "locations", "rooms", "hours", "consents", "tests", "products", "messages", "clinic")  # "clinic": the owner's only


@dataclasses.dataclass
class StepView:
    """One checklist step as the card shows it."""

    key: str = ""
    label: str = ""
    hint: str = ""
    done: bool = False
    href: str = ""


class SettingsNavState(StaffState):
    """Which /settings tab is open, and the set-up checklist (shown until every step is done)."""

    tab: str = "services"
    steps: list[StepView] = []
    steps_done: int = 0

    @rx.event
    async def load_nav(self):
        """The tab named in ?tab= (else Services) and the checklist of the signed-in clinic."""
        wanted = self.router.url.query_parameters.get("tab", "")
        self.tab = wanted if wanted in TABS else "services"
        await self._load_steps()

    async def _load_steps(self) -> None:
        done = await self._act(fetch_setup_checklist)
        if self.tab == "clinic" and (done.actor is None or done.actor.role != "owner"):
            self.tab = "services"  # the Clinic tab is the owner's only
        if done.ok:
            self.steps = [StepView(s.key, s.label, s.hint, s.done, s.href) for s in done.value]
            self.steps_done = sum(1 for s in done.value if s.done)

    @rx.event
    async def refresh_steps(self):
        """The checklist read again after a change saved in a tab (a step ticks at once, not
        on the next visit). Owner and manager only: the action checks again."""
        await self._load_steps()

    @rx.event
    def pick_tab(self, value: str):
        """A tab clicked."""
        if value in TABS:
            self.tab = value


def _step(step: StepView) -> rx.Component:
    return rx.hstack(
        rx.cond(step.done, rx.icon("circle-check", size=18, color=rx.color("teal", 9)),
                rx.icon("circle", size=18, color=rx.color("gray", 8))),
        rx.vstack(
            rx.link(step.label, href=step.href, size="2", weight="medium",
                    color_scheme=rx.cond(step.done, "gray", "teal"), id=f"checklist-{step.key}"),
            rx.text(step.hint, size="1", color_scheme="gray"),
            spacing="0"),
        spacing="2", align="start", width="100%", class_name=rx.cond(step.done, "step-done", "step-open"))


def checklist_card() -> rx.Component:
    """"Getting started: 2 of 6 done" with each step linked to where it is done; hidden once
    every step is done."""
    n = SettingsNavState
    return rx.cond(
        (n.steps.length() > 0) & (n.steps_done < n.steps.length()),
        rx.card(
            rx.vstack(
                rx.hstack(rx.icon("list-checks", size=18), rx.text("Getting started", weight="bold", size="3"),
                          rx.badge(f"{n.steps_done} of {n.steps.length()} done", color_scheme="teal",
                                   variant="soft", id="checklist-progress"),
                          spacing="2", align="center"),
                rx.text("What your clinic still needs before clients can book it online.", size="2",
                        color_scheme="gray"),
                rx.grid(rx.foreach(n.steps, _step), columns=rx.breakpoints(initial="1", md="3"), spacing="3",
                        width="100%"),
                spacing="3", width="100%"),
            width="100%", id="setup-checklist"),
    )
