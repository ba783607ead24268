"""The owner's "Licences" card on /staff (issue 18): each clinical staff member's licence (MD, DO,
NP, PA prescribe; RN, LPN, aesthetician, other do not; "Not recorded" counts as not a
prescriber). The rules that use it live in domain/clinical/signing.py."""

from __future__ import annotations

import dataclasses

import reflex as rx

from medspa.domain.clinical import signing_actions
from medspa.domain.clinical.signing import LICENCES
from medspa.domain.errors import ValidationFailed
from medspa.features.auth.state import StaffState

NOT_RECORDED = "not recorded"  # the select's word for "" (a select item needs a non-empty value)
CHOICES = [NOT_RECORDED, *LICENCES]


@dataclasses.dataclass
class LicenceRow:
    """One staff member on the Licences card: id, name, role and licence ("" not recorded)."""

    staff_id: int = 0
    name: str = ""
    role: str = ""
    licence: str = NOT_RECORDED


class LicenceState(StaffState):
    """The list and its message."""

    licence_rows: list[LicenceRow] = []
    licence_message: str = ""

    @rx.event
    async def load_licences(self):
        done = await self._act(signing_actions.fetch_licences)
        if done.redirect is not None:
            return done.redirect
        self.licence_message = ""
        self.licence_rows = [LicenceRow(r.staff_id, r.name, r.role, r.licence or NOT_RECORDED)
                             for r in done.value] if done.ok else []
        return None

    @rx.event
    async def set_licence(self, staff_id: int, value: str):
        """The owner picked a licence (the domain checks staff.manage and the value)."""
        if not isinstance(value, str) or value not in CHOICES or not isinstance(staff_id, int):
            return None
        try:
            done = await self._act(signing_actions.do_set_licence, staff_id, "" if value == NOT_RECORDED else value)
        except ValidationFailed as exc:
            self.licence_message = next(iter(exc.fields.values()), "")
            return None
        if done.redirect is not None:
            return done.redirect
        if done.ok:
            self.licence_rows = [dataclasses.replace(r, licence=value) if r.staff_id == staff_id else r
                                 for r in self.licence_rows]
            name = next((r.name for r in self.licence_rows if r.staff_id == staff_id), "")
            self.licence_message = f"Licence of {name} saved."
        return None


def _row(r: LicenceRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(r.name, weight="medium")),
        rx.table.cell(rx.text(r.role, text_transform="capitalize")),
        rx.table.cell(rx.select(CHOICES, value=r.licence, on_change=LicenceState.set_licence(r.staff_id), size="1",
                                width="160px", class_name="licence-select")),
        class_name="licence-row",
    )


def licences_card() -> rx.Component:
    """The card (shown to the owner; empty for anyone else)."""
    s = LicenceState
    return rx.card(rx.vstack(
        rx.heading("Licences", size="4"),
        rx.text("MD, DO, NP and PA may examine clients and order treatments; nurses and aestheticians chart "
                "injectables only under a prescriber's order. A licence not recorded counts as not a prescriber.",
                size="2", color_scheme="gray"),
        rx.cond(s.licence_message != "", rx.text(s.licence_message, size="2", color=rx.color("grass", 11),
                                                 id="licence-message")),
        rx.table.root(
            rx.table.header(rx.table.row(*(rx.table.column_header_cell(h) for h in ("Staff member", "Role", "Licence")))),
            rx.table.body(rx.foreach(s.licence_rows, _row)),
            size="1", variant="ghost", width="100%", id="licence-table"),
        spacing="3", width="100%"), width="100%", on_mount=s.load_licences)
