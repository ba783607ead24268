"""The client portal's "Health" tab (issue 17): the client reads and updates their own medical
history, section by section (source "portal"; every read and change audited and listed in
"Record access"). Loaded when the tab shows; the section being edited is kept on the server.
"""

from __future__ import annotations

import reflex as rx

from medspa.domain.clinical.history_actions import do_update_own_history, fetch_own_history
from medspa.domain.clinical.medical_history import SECTION_LABELS, SECTIONS
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.features.health_edit import HealthEditMixin
from medspa.features.health_form import SectionView, changes_from_form, field_errors, section_form
from medspa.features.portal.state import PortalState


class PortalHealthState(HealthEditMixin, PortalState):
    """The Health tab: the sections in words and the one being edited (health_edit.py)."""

    health_loaded: bool = False

    def _may_edit(self) -> bool:
        return self.health_loaded and self.step == "portal"

    def _shown(self, view) -> None:
        self.health_loaded = True
        self._show_sections(view)

    @rx.event
    async def load_health(self):
        """The tab's content for the signed-in client (an audited read of their own history)."""
        self.edit_section = ""
        if self.step != "portal":
            return
        try:
            ok, view = await self._as_client(fetch_own_history)
        except NotFound:
            return
        if ok:
            self._shown(view)

    @rx.event
    async def save_edit(self, form_data: dict):
        """Save the open section as the client's own update; messages next to the fields."""
        section = self.edit_section
        if section not in SECTIONS or self.step != "portal":
            return
        self.saving = True
        yield
        try:
            ok, view = await self._as_client(do_update_own_history,
                                             {section: changes_from_form(section, form_data, len(self.edit_rows))})
        except ValidationFailed as exc:
            self.saving, self.edit_errors = False, field_errors(section, exc.fields)
            return
        except NotFound:
            self.saving, self.edit_errors = False, {"general": "Your record cannot be changed here."}
            return
        self.saving = False
        if ok:
            self._shown(view)
            self.edit_section = ""
            yield rx.toast.success(f"{SECTION_LABELS[section]} updated. Thank you!")


def _row(row: SectionView) -> rx.Component:
    S = PortalHealthState
    return rx.vstack(
        rx.hstack(rx.text(row.label, size="2", weight="bold"), rx.spacer(),
                  rx.button(rx.icon("pencil", size=14), "Update", variant="soft", size="2",
                            on_click=S.start_edit(row.key), custom_attrs={"data-section": row.key}),
                  align="center", width="100%"),
        rx.cond(S.edit_section == row.key,
                section_form(S, "Your clinic sees this update; earlier answers are kept."),
                rx.text(row.text, size="2", color=rx.cond(row.recorded, rx.color("gray", 12), rx.color("gray", 9)))),
        spacing="2", width="100%", padding_y="10px", border_bottom=f"1px solid {rx.color('gray', 4)}",
        custom_attrs={"data-section-row": row.key})


def health_tab() -> rx.Component:
    """The portal's Health tab: the own history, each section with an Update form in place."""
    S = PortalHealthState
    return rx.vstack(
        rx.text("Keep this up to date before each visit: your provider checks it for what is safe to do.",
                size="2", color_scheme="gray"),
        rx.cond(S.health_loaded, rx.vstack(rx.foreach(S.health_rows, _row), spacing="0", width="100%"),
                rx.center(rx.spinner(size="2"), width="100%", padding="2em")),
        spacing="3", width="100%", id="portal-health", on_mount=S.load_health)
