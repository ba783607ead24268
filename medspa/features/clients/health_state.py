"""The client profile's "Medical history" card: state (its UI: health_card.py).

For history.read roles only (provider, owner): for anyone else the state holds nothing and the
card is not rendered. Loading the card is one audited read (history.read), opening "History"
another (history.versions.read); "Edit" on a section opens its form, "Save" writes a version
of that section (history.write) or shows the messages next to the fields. The section being
edited is kept on the server: the browser only sends the form's fields.
"""

from __future__ import annotations

import reflex as rx

from medspa.domain.clinical.history_actions import do_update_history, fetch_history, fetch_history_versions
from medspa.domain.clinical.medical_history import SECTION_LABELS, SECTIONS
from medspa.domain.errors import ValidationFailed
from medspa.features.clients.state import ClientProfileState
from medspa.features.health_edit import HealthEditMixin
from medspa.features.health_form import VersionView, changes_from_form, field_errors


class HealthCardState(HealthEditMixin, ClientProfileState):
    """The "Medical history" card: sections, the section being edited (health_edit.py), the
    version viewer."""

    health_show: bool = False
    health_updated: str = ""
    versions_open: bool = False
    versions: list[VersionView] = []

    def _may_edit(self) -> bool:
        return self.health_show

    @rx.event
    async def load_health(self):
        """on_load after the profile: the card for provider/owner (audited), nothing for others."""
        self.health_show, self.health_rows, self.health_updated, self._values = False, [], "", {}
        self.edit_section, self.versions_open, self.versions = "", False, []
        if self.status != "ready" or not self._client_id:
            return None
        actor = await self._staff_actor()
        if actor is None or not actor.can("history.read"):
            return None
        done = await self._act(fetch_history, self._client_id)
        if done.redirect is not None:
            return done.redirect
        if done.ok:
            self._shown(done.value)
        return None

    def _shown(self, view) -> None:
        self.health_show = True
        self._show_sections(view)
        self.health_updated = view.last_change_label

    @rx.event
    async def save_edit(self, form_data: dict):
        """Save the open section: a new version when it changed; messages next to the fields."""
        section = self.edit_section
        if section not in SECTIONS:
            return
        self.saving = True
        yield
        try:
            done = await self._act(do_update_history, self._client_id,
                                   {section: changes_from_form(section, form_data, len(self.edit_rows))})
        except ValidationFailed as exc:
            self.saving, self.edit_errors = False, field_errors(section, exc.fields)
            return
        self.saving = False
        if done.redirect is not None:
            yield done.redirect
            return
        if done.error:
            self.edit_errors = {"general": "This record cannot be changed."}
            return
        self._shown(done.value)
        self.edit_section = ""
        yield rx.toast.success(f"{SECTION_LABELS[section]} saved")

    @rx.event
    async def open_versions(self):
        """The version viewer: every change, newest first (an audited read)."""
        if not self.health_show:
            return None
        done = await self._act(fetch_history_versions, self._client_id)
        if done.redirect is not None:
            return done.redirect
        if done.ok:
            self.versions = [VersionView(v.when_label, v.by_label or "—",
                                         "" if (v.by_label or "").casefold() == v.source.casefold() else v.source,
                                         v.section_label, v.old_text, v.new_text) for v in done.value]
            self.versions_open = True
        return None

    @rx.event
    def set_versions_open(self, value: bool):
        """The viewer's open state from the component (it may close itself, never open itself)."""
        self.versions_open = bool(value) and self.versions_open
