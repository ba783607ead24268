"""The Locations tab's fee block (issue 16): each location's late-cancel and no-show fee
(none, a flat amount, or a percent of the service price) with the rounding rule stated, and
the dialog that edits them. Its own state and components, apart from the location dialog.

Every public handler is an entry point: it re-checks the session and settings.write on the
server (StaffState._act -> payments.fee_actions, which checks again and audits), validates
its arguments, and puts a bad amount's message under its field; nothing is saved then.
"""

from __future__ import annotations

import reflex as rx

from medspa.domain.errors import ValidationFailed
from medspa.domain.payments import fee_actions as actions
from medspa.domain.payments.fee_actions import ROUNDING_RULE, FeeSettings, parse_fee
from medspa.domain.scheduling.policy import FEE_KINDS, FeeTerms
from medspa.features.auth.state import StaffState

GONE = "That location is not there any more"
TERM_LABELS = (("none", "No fee"), ("flat", "Flat amount"), ("percent", "Percent of the service price"))


def _amount_text(terms: FeeTerms) -> str:
    """The amount field as typed: "25.00" (flat dollars), "12.5" (percent), "" for none."""
    if terms.term == "flat":
        return f"{terms.amount / 100:.2f}"
    if terms.term == "percent":
        return f"{terms.amount / 100:g}"
    return ""


class FeeSettingsState(StaffState):
    """The fee lines shown on each location card and the fee dialog."""

    fee_lines: dict[str, list[str]] = {}  # location id (str) -> ["Late cancellation: $25.00", ...]
    fee_open: bool = False
    fee_location_id: int = 0
    fee_location_name: str = ""
    fee_form: dict[str, str] = {}
    fee_errors: dict[str, str] = {}
    fee_error: str = ""
    fee_message: str = ""
    fee_saving: bool = False
    _fees: dict[int, FeeSettings] = {}

    def _show(self, rows: list[FeeSettings]) -> None:
        self._fees = {r.location_id: r for r in rows}
        self.fee_lines = {str(r.location_id): [f"Late cancellation: {r.late_cancel_text}",
                                               f"No-show: {r.no_show_text}"] for r in rows}

    @rx.event
    async def load_fees(self):
        done = await self._act(actions.fetch_all_fee_settings)
        if done.redirect is not None:
            return done.redirect
        if done.ok:
            self._show(done.value)

    @rx.event
    def edit_fees(self, location_id: int, name: str):
        row = self._fees.get(location_id) if type(location_id) is int else None
        if row is None:
            return
        self.fee_location_id = row.location_id
        self.fee_location_name = name if isinstance(name, str) else ""
        self.fee_form = {"late_cancel_term": row.late_cancel.term, "late_cancel_amount": _amount_text(row.late_cancel),
                         "no_show_term": row.no_show.term, "no_show_amount": _amount_text(row.no_show)}
        self.fee_errors, self.fee_error, self.fee_message = {}, "", ""
        self.fee_open = True

    @rx.event
    def close_fees(self):
        self.fee_open, self.fee_errors = False, {}

    @rx.event
    def set_fee_field(self, name: str, value: str):
        if isinstance(name, str) and name in self.fee_form and isinstance(value, str) and len(value) <= 40:
            self.fee_form[name] = value
            self.fee_errors.pop(f"{name.rsplit('_', 1)[0]}_fee", None)

    @rx.event
    async def save_fees(self):
        if not self.fee_open:
            return
        terms, errors = {}, {}
        for kind in FEE_KINDS:
            try:
                terms[kind] = parse_fee(kind, self.fee_form.get(f"{kind}_term"), self.fee_form.get(f"{kind}_amount"))
            except ValidationFailed as exc:
                errors |= exc.fields
        if errors:
            self.fee_errors, self.fee_error = errors, "Check the fields marked in red"
            return
        self.fee_saving = True
        try:
            done = await self._act(actions.do_set_fees, self.fee_location_id, terms["late_cancel"], terms["no_show"],
                                   denied=GONE)
        except ValidationFailed as exc:
            self.fee_errors, self.fee_error = dict(exc.fields), "Check the fields marked in red"
            return
        finally:
            self.fee_saving = False
        if done.redirect is not None:
            return done.redirect
        if not done.ok:
            self.fee_error = done.error
            return
        self.fee_open, self.fee_errors, self.fee_error = False, {}, ""
        self.fee_message = f"The fees of {self.fee_location_name} were saved"
        await self.load_fees()


F = FeeSettingsState


def fee_block(location_id, location_name) -> rx.Component:
    """The fee lines of one location card with its "Edit fees" button and the rounding rule."""
    return rx.vstack(
        rx.hstack(
            rx.text("Late-cancel and no-show fees", size="1", weight="bold", color_scheme="gray",
                    text_transform="uppercase"),
            rx.spacer(),
            rx.button(rx.icon("receipt", size=13), "Edit fees", size="1", variant="soft",
                      on_click=F.edit_fees(location_id, location_name), class_name="loc-edit-fees"),
            width="100%", align="center"),
        rx.foreach(F.fee_lines.get(location_id.to(str), []),
                   lambda line: rx.text(line, size="2", class_name="loc-fee-line")),
        rx.text(ROUNDING_RULE, size="1", color_scheme="gray"),
        spacing="1", width="100%", padding_top="10px", border_top=f"1px solid {rx.color('gray', 4)}",
        class_name="loc-fees")


def _fee_row(kind: str, label: str) -> rx.Component:
    key = f"{kind}_fee"
    term = F.fee_form[f"{kind}_term"]
    bad = F.fee_errors.contains(key)
    return rx.vstack(
        rx.el.label(label, html_for=f"fee-{kind}-term", style={"font_weight": "500", "font_size": "13px"}),
        rx.flex(
            rx.select.root(
                rx.select.trigger(id=f"fee-{kind}-term", width="100%"),
                rx.select.content(*[rx.select.item(text, value=value) for value, text in TERM_LABELS]),
                value=term, on_change=F.set_fee_field(f"{kind}_term"), size="2"),
            rx.cond(term != "none",
                    rx.input(rx.input.slot(rx.text(rx.cond(term == "flat", "$", "%"), size="1", color_scheme="gray"),
                                           side=rx.cond(term == "flat", "left", "right")),
                             id=f"fee-{kind}-amount", value=F.fee_form[f"{kind}_amount"],
                             on_change=F.set_fee_field(f"{kind}_amount"), input_mode="decimal", size="2",
                             placeholder=rx.cond(term == "flat", "25.00", "50"), width="140px",
                             style={"box_shadow": rx.cond(bad, "inset 0 0 0 1px var(--red-8)", "")},
                             custom_attrs={"aria-invalid": rx.cond(bad, "true", "false")})),
            gap="8px", width="100%", wrap="wrap"),
        rx.cond(bad, rx.text(rx.icon("circle-alert", size=13, flex_shrink="0"), F.fee_errors[key],
                             id=f"fee-{kind}-error", role="alert", size="1", color=rx.color("red", 11),
                             display="flex", align_items="center", gap="0.3em")),
        spacing="1", width="100%")


def fee_dialog() -> rx.Component:
    """The "Edit fees" dialog (open while FeeSettingsState.fee_open)."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Fees at ", F.fee_location_name),
            rx.dialog.description(
                "Charged when a client cancels inside the free-cancellation window, or does not come. "
                "Cancellations for the clinic's own reasons (clinic, weather) never charge a fee, and a manager "
                "can waive any fee with a reason. Visits already booked keep the fee they were booked with "
                "when it was lower; those booked with no fee owe none.",
                size="2", color_scheme="gray", margin_bottom="12px"),
            rx.el.form(
                rx.vstack(
                    _fee_row("late_cancel", "Late cancellation"),
                    _fee_row("no_show", "No-show"),
                    rx.text(ROUNDING_RULE, size="1", color_scheme="gray"),
                    rx.cond(F.fee_error != "", rx.callout(F.fee_error, icon="circle-alert", color_scheme="red",
                                                          size="1", width="100%", id="fee-form-error")),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", type="button", variant="soft", color_scheme="gray",
                                                  on_click=F.close_fees)),
                        rx.button("Save fees", type="submit", loading=F.fee_saving, id="fee-save"),
                        justify="end", width="100%", spacing="3"),
                    spacing="4", width="100%"),
                on_submit=F.save_fees, prevent_default=True, width="100%"),
            max_width="520px", id="fee-dialog"),
        open=F.fee_open, on_open_change=lambda _o: F.close_fees())


def fee_message() -> rx.Component:
    """The "fees saved" confirmation above the location cards."""
    return rx.cond(F.fee_message != "", rx.callout(F.fee_message, icon="circle-check", color_scheme="grass",
                                                   size="1", id="fee-message", width="100%"))
