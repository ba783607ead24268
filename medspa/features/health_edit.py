"""The medical history's section editor, shared by the staff profile card
(clients/health_state.py) and the client's portal Health tab (portal/health.py): the vars of the
section being edited and the events that open, close and grow its form. Each state says who may
edit (`_may_edit`) and saves through its own action (history.write for staff, the client's own
record in the portal); the section being edited is kept on the server.
"""

from __future__ import annotations

import reflex as rx

from medspa.domain.clinical.medical_history import MAX_ROWS, SECTION_LABELS, SECTIONS
from medspa.features.health_form import LIST_SPECS, EditRow, SectionView, edit_values, section_views


class HealthEditMixin(rx.State, mixin=True):
    """Sections in words and the one being edited (see the module docstring)."""

    health_rows: list[SectionView] = []
    edit_section: str = ""
    edit_label: str = ""
    edit_cols: list[str] = []
    edit_rows: list[EditRow] = []
    edit_flags: dict[str, bool] = {}  # pregnant, breastfeeding, smoking
    edit_texts: dict[str, str] = {}  # fitz, sun, goals
    edit_errors: dict[str, str] = {}
    saving: bool = False
    _values: dict = {}

    def _may_edit(self) -> bool:
        """Whether this page shows a history it may edit (each state says)."""
        return False

    def _show_sections(self, view) -> None:
        """Keep the history `view` (values and when each was recorded) and its words."""
        self._values = dict(view.values)
        self.health_rows = section_views(view.values, view.recorded)

    @rx.event
    def start_edit(self, section: str):
        """Open the form of one section (one of SECTIONS), filled with its current value."""
        if not self._may_edit() or section not in SECTIONS:
            return
        self.edit_section, self.edit_label, self.edit_errors = section, SECTION_LABELS[section], {}
        self.edit_cols, self.edit_rows, self.edit_flags, self.edit_texts = edit_values(section, self._values.get(section))

    @rx.event
    def cancel_edit(self):
        """Close the section's form without saving."""
        self.edit_section, self.edit_errors = "", {}

    @rx.event
    def add_row(self):
        """One more empty row in a list section's form (at most MAX_ROWS)."""
        if self.edit_section in LIST_SPECS and len(self.edit_rows) < MAX_ROWS:
            self.edit_rows = self.edit_rows + [EditRow(len(self.edit_rows))]
