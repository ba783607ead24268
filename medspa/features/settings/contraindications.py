"""The service form's "Contraindications" section on /settings (issue 17): what the service
may not be done with (pregnancy, breastfeeding, a medication within N months, an allergy, a
condition, a skin type range). New services start with their category's built-in rules; this
edits them for an existing service and saves them on their own (settings.write, audited).
"""

from __future__ import annotations

import dataclasses

import reflex as rx

from medspa.domain.clinical.contraindications import KIND_LABELS, KINDS, Rule, validate_rules
from medspa.domain.clinical.rule_actions import do_set_service_rules, fetch_service_rules
from medspa.domain.errors import ValidationFailed
from medspa.features.settings.state import SettingsState


@dataclasses.dataclass
class RuleView:
    """One rule: its words ("Medication: isotretinoin (within 6 months)") and its fields."""

    label: str = ""
    kind: str = ""
    term: str = ""
    months: int = 0


class ServiceRulesState(SettingsState):
    """The rules of the service being edited and the new rule's fields."""

    rules: list[RuleView] = []
    rule_kind: str = "allergy"
    rule_term: str = ""
    rule_months: str = "6"
    rules_error: str = ""
    rules_saved: str = ""

    def _set(self, rules: list[Rule]) -> None:
        self.rules = [RuleView(r.label, r.kind, r.term, r.months) for r in rules]

    @rx.event
    async def load_rules(self):
        """The edited service's rules (nothing for a new service)."""
        self.rules, self.rules_error, self.rules_saved = [], "", ""
        if self.editing_id <= 0:
            return None
        done = await self._act(fetch_service_rules, self.editing_id)
        if done.redirect is not None:
            return done.redirect
        if done.ok:
            self._set(done.value)
        return None

    @rx.event
    def set_rule_field(self, name: str, value: str):
        """A field of the new rule: kind (one of KINDS), term, months (digits)."""
        if not isinstance(value, str):
            return
        if name == "kind" and value in KINDS:
            self.rule_kind = value
        elif name == "term":
            self.rule_term = value[:80]
        elif name == "months":
            self.rule_months = "".join(ch for ch in value if ch.isdigit())[:3]

    async def _save(self, rules: list[Rule]):
        try:
            done = await self._act(do_set_service_rules, self.editing_id, rules)
        except ValidationFailed as exc:
            self.rules_error = next(iter(exc.fields.values()), "Check the rule")
            return None
        if done.redirect is not None:
            return done.redirect
        if done.error:
            self.rules_error = "This service cannot be changed."
            return None
        self._set(done.value)
        self.rules_error, self.rules_saved = "", "Contraindications saved."
        return None

    @rx.event
    async def add_rule(self):
        """Add the typed rule and save the list (checked on the server)."""
        if self.editing_id <= 0:
            return None
        rule = Rule(self.rule_kind, self.rule_term, int(self.rule_months or 0))
        try:
            validate_rules([rule])
        except ValidationFailed as exc:
            self.rules_error = next(iter(exc.fields.values()))
            return None
        current = [Rule(r.kind, r.term, r.months) for r in self.rules]
        self.rule_term = ""
        return await self._save(current + [rule])

    @rx.event
    async def remove_rule(self, index: int):
        """Remove one rule (by its place in the list shown) and save."""
        if self.editing_id <= 0 or isinstance(index, bool) or not isinstance(index, int) \
                or not 0 <= index < len(self.rules):
            return None
        return await self._save([Rule(r.kind, r.term, r.months) for i, r in enumerate(self.rules) if i != index])


def contraindications_section() -> rx.Component:
    """The section of the service dialog (for a saved service; a new one gets its category's defaults)."""
    R = ServiceRulesState
    chip = lambda r, i: rx.badge(  # noqa: E731
        r.label, rx.icon("x", size=12, cursor="pointer", on_click=R.remove_rule(i), aria_label="Remove"),
        color_scheme="red", variant="soft", size="2", class_name="svc-rule")
    editor = rx.vstack(
        rx.cond(R.rules.length() > 0, rx.flex(rx.foreach(R.rules, chip), wrap="wrap", gap="6px", id="svc-rules"),
                rx.text("None: nothing is flagged for this service.", size="2", color_scheme="gray")),
        rx.hstack(
            rx.select.root(rx.select.trigger(id="svc-rule-kind"),
                           rx.select.content(*[rx.select.item(KIND_LABELS[k], value=k) for k in KINDS]),
                           value=R.rule_kind, on_change=R.set_rule_field("kind"), size="2"),
            rx.cond((R.rule_kind != "pregnancy") & (R.rule_kind != "breastfeeding"),
                    rx.input(value=R.rule_term, on_change=R.set_rule_field("term"), size="2", id="svc-rule-term",
                             placeholder=rx.cond(R.rule_kind == "fitzpatrick", "e.g. V-VI", "e.g. lidocaine"))),
            rx.cond(R.rule_kind == "medication",
                    rx.input(rx.input.slot(rx.text("months", size="1"), side="right"), value=R.rule_months,
                             on_change=R.set_rule_field("months"), size="2", width="110px", input_mode="numeric",
                             id="svc-rule-months", title="Within how many months (0: only while taking)")),
            rx.button(rx.icon("plus", size=14), "Add", type="button", size="2", variant="soft", on_click=R.add_rule,
                      id="svc-rule-add"),
            spacing="2", wrap="wrap", align="center"),
        rx.cond(R.rules_error != "", rx.text(R.rules_error, size="1", color=rx.color("red", 11), role="alert")),
        rx.cond(R.rules_saved != "", rx.text(R.rules_saved, size="1", color_scheme="grass")),
        spacing="2", width="100%", on_mount=R.load_rules)
    return rx.vstack(
        rx.vstack(rx.text("Contraindications", size="2", weight="bold"),
                  rx.text("Booking or charting a client whose medical history matches one is flagged and needs a "
                          "reason. Names match in any case.", size="1", color_scheme="gray"), spacing="0"),
        rx.cond(R.editing_id > 0, editor,
                rx.text("A new service starts with its category's built-in contraindications; edit them after "
                        "adding it.", size="2", color_scheme="gray")),
        spacing="3", width="100%", padding_top="14px", border_top=f"1px solid {rx.color('gray', 4)}")
