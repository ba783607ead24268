"""/settings, "Tests" tab: the clinic's test catalog (patch tests, lab panels) that providers
order from: name, category and price; add, edit, retire and bring back (never delete).

LabTestsState's public handlers are entry points: each re-checks the session and permission
through StaffState._act and one action of domain/clinical/order_actions.py (settings.write,
audited). Prices are typed as money and kept in cents (domain.money.parse_to_cents).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from medspa.domain.clinical import order_actions as oa
from medspa.domain.clinical.lab_tests import CATEGORIES, TestInfo
from medspa.domain.errors import ValidationFailed
from medspa.domain.money import InvalidAmount, format_money, parse_to_cents
from medspa.features.auth.state import StaffState
from medspa.web.inputs import form_text, parse_id


@dataclasses.dataclass
class TestView:
    """One catalog row."""

    __test__ = False
    id: int = 0
    name: str = ""
    category: str = ""
    category_label: str = ""
    price: str = ""
    price_text: str = ""  # "45.00", the edit field's start
    active: bool = True


def _view(t: TestInfo) -> TestView:
    return TestView(t.id, t.name, t.category, t.category_label, format_money(t.price_cents, t.currency),
                    f"{t.price_cents // 100}.{t.price_cents % 100:02d}", t.active)


class LabTestsState(StaffState):
    """The catalog list and its add / edit dialog (edit_id 0: adding)."""

    tests_ok: bool = False
    tests: list[TestView] = []
    edit_open: bool = False
    edit_id: int = 0
    edit_name: str = ""
    edit_price: str = ""
    edit_category: str = "lab_panel"
    errors: dict[str, str] = {}

    @rx.event
    async def load_tests(self):
        """The Tests tab appeared: the catalog (built-ins added on first use)."""
        done = await self._act(oa.fetch_tests)
        self.tests_ok = done.ok
        self.tests = [_view(t) for t in done.value] if done.ok else []

    @rx.event
    def add(self):
        if self.tests_ok:
            self.edit_open, self.edit_id, self.edit_name, self.edit_price = True, 0, "", ""
            self.edit_category, self.errors = "lab_panel", {}

    @rx.event
    def edit(self, test_id: Any):
        t = next((t for t in self.tests if t.id == parse_id(test_id)), None)
        if t is not None:
            self.edit_open, self.edit_id, self.edit_name, self.edit_price = True, t.id, t.name, t.price_text
            self.edit_category, self.errors = t.category, {}

    @rx.event
    def set_edit_open(self, value: bool):
        if not value:
            self.edit_open, self.errors = False, {}

    @rx.event
    def pick_category(self, value: Any):
        if isinstance(value, str) and value in CATEGORIES:
            self.edit_category = value

    @rx.event
    async def save(self, form: Any):
        """Add or change the test as typed."""
        if not self.edit_open:
            return
        name, price = form_text(form, "name", 81), form_text(form, "price", 20)
        try:
            cents = parse_to_cents(price or "0")
        except InvalidAmount as exc:
            self.errors = {"price": str(exc)}
            return
        try:
            done = await self._act(oa.do_save_test, self.edit_id or None, name, self.edit_category, cents)
        except ValidationFailed as exc:
            self.errors = exc.fields
            return
        if done.ok:
            self.edit_open, self.errors = False, {}
        await self.load_tests()

    @rx.event
    async def toggle(self, test_id: Any):
        """Retire an active test or bring back a retired one."""
        t = next((t for t in self.tests if t.id == parse_id(test_id)), None)
        if t is None:
            return
        await self._act(oa.do_set_test_active, t.id, not t.active)
        await self.load_tests()


S = LabTestsState


def _row(t: TestView) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(t.name, size="2", weight="medium", color_scheme=rx.cond(t.active, "gray", "gray"),
                              opacity=rx.cond(t.active, "1", "0.55"))),
        rx.table.cell(rx.badge(t.category_label, variant="outline")),
        rx.table.cell(rx.text(t.price, size="2"), text_align="right"),
        rx.table.cell(rx.hstack(
            rx.button("Edit", size="1", variant="soft", on_click=S.edit(t.id)),
            rx.button(rx.cond(t.active, "Retire", "Bring back"), size="1", variant="ghost",
                      color_scheme=rx.cond(t.active, "gray", "teal"), on_click=S.toggle(t.id)),
            spacing="2", justify="end")),
        class_name="lab-test-row",
    )


def _field_error(key: str) -> rx.Component:
    return rx.cond(S.errors.contains(key), rx.text(S.errors.get(key, ""), size="1", color_scheme="red"))


def _dialog() -> rx.Component:
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title(rx.cond(S.edit_id > 0, "Edit test", "Add a test")),
        rx.form(rx.vstack(
            rx.text("Name", size="2", weight="medium"),
            rx.input(name="name", default_value=S.edit_name, width="100%", id="lab-test-name", max_length=80),
            _field_error("name"),
            rx.text("Category", size="2", weight="medium"),
            rx.select.root(rx.select.trigger(width="100%"),
                           rx.select.content(*[rx.select.item(label, value=k) for k, label in CATEGORIES.items()]),
                           value=S.edit_category, on_change=S.pick_category),
            _field_error("category"),
            rx.text("Price", size="2", weight="medium"),
            rx.input(name="price", default_value=S.edit_price, placeholder="45.00", width="160px",
                     id="lab-test-price", input_mode="decimal"),
            _field_error("price"),
            rx.flex(rx.dialog.close(rx.button("Cancel", type="button", variant="soft", color_scheme="gray")),
                    rx.button("Save", type="submit"), justify="end", gap="3", width="100%"),
            spacing="2", width="100%"), on_submit=S.save, reset_on_submit=False),
        max_width="440px"), open=S.edit_open, on_open_change=S.set_edit_open)


def lab_tests_tab() -> rx.Component:
    """The Tests tab: the catalog table, "Add a test" and the dialog."""
    return rx.card(rx.vstack(
        rx.flex(rx.vstack(rx.heading("Tests", size="4"),
                          rx.text("Patch tests and lab panels your providers can order. Retired tests are not offered.",
                                  size="2", color_scheme="gray"), spacing="1"),
                rx.button(rx.icon("plus", size=14), "Add a test", size="2", on_click=S.add, id="lab-test-add"),
                justify="between", align="end", gap="12px", width="100%", wrap="wrap"),
        rx.box(rx.table.root(
            rx.table.header(rx.table.row(rx.table.column_header_cell("Test"), rx.table.column_header_cell("Category"),
                                         rx.table.column_header_cell("Price", text_align="right"),
                                         rx.table.column_header_cell(""))),
            rx.table.body(rx.foreach(S.tests, _row)), size="2", variant="ghost", width="100%"),
            width="100%", overflow_x="auto"),
        _dialog(),
        spacing="3", width="100%"), width="100%", on_mount=S.load_tests, id="settings-lab-tests")
