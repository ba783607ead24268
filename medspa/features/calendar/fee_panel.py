"""The visit's late-cancel / no-show fee in the calendar's side panel (issue 16): the fee in
words ("No-show fee $75.00: ... $25.00 unpaid, needs action: the card was declined"), amber
while it needs action, and for a manager or owner (fee.waive) "Waive fee" with a reason.

waive is an entry point: it re-checks the session (StaffState._act) and the action checks
fee.waive, the fee id and the reason on the server again (payments.fee_actions.do_waive_fee).
"""

from __future__ import annotations

import reflex as rx

from medspa.domain.errors import ValidationFailed
from medspa.domain.payments.fee_actions import do_retry_fee_charge, do_waive_fee
from medspa.domain.payments.stripe_gateway import GatewayUnavailable
from medspa.features.auth.state import StaffState
from medspa.features.calendar.state import DetailState


class FeeWaiveState(StaffState):
    """The waive form under the fee line: open or not, and its message."""

    waive_open: bool = False
    waive_error: str = ""
    waive_busy: bool = False

    @rx.event
    def ask_waive(self, show: bool):
        self.waive_open, self.waive_error = bool(show), ""

    @rx.event
    async def waive(self, form: dict):
        detail = (await self.get_state(DetailState)).detail
        reason = form.get("reason", "") if isinstance(form, dict) else ""
        if not isinstance(reason, str) or len(reason) > 1000 or not detail.fee_id:
            self.waive_error = "Say why the fee is waived"
            return
        self.waive_busy = True
        try:
            done = await self._act(do_waive_fee, detail.fee_id, reason, denied="You cannot waive this fee")
        except ValidationFailed as exc:
            self.waive_error = next(iter(exc.fields.values()), "The fee cannot be waived")
            return
        finally:
            self.waive_busy = False
        if done.redirect is not None:
            return done.redirect
        if not done.ok:
            self.waive_error = done.error
            return
        self.waive_open, self.waive_error = False, ""
        panel = await self.get_state(DetailState)
        await panel._reload(done.actor)
        await panel._after(done.actor, "The fee was waived; what it took goes back to the client")


    @rx.event
    async def charge_again(self):
        """"Charge card on file again" on an unpaid fee (payment.take, checked again on the
        server: payments.fee_actions.do_retry_fee_charge); one attempt per press, the busy flag
        keeps a double click from sending a second (the fee row's lock refuses it anyway)."""
        detail = (await self.get_state(DetailState)).detail
        if self.waive_busy or not detail.fee_id:
            return
        self.waive_busy, self.waive_error = True, ""
        yield
        try:
            done = await self._act(do_retry_fee_charge, detail.fee_id, denied="You cannot charge this fee")
        except ValidationFailed as exc:
            self.waive_error = next(iter(exc.fields.values()), "The fee cannot be charged now")
            return
        except GatewayUnavailable as exc:
            self.waive_error = exc.message
            return
        finally:
            self.waive_busy = False
        if done.redirect is not None:
            yield done.redirect
            return
        if not done.ok:
            self.waive_error = done.error
            return
        panel = await self.get_state(DetailState)
        await panel._reload(done.actor)
        await panel._after(done.actor, "The fee is paid" if done.value.status == "paid"
                           else "The card was not charged: see the fee")


W = FeeWaiveState


def fee_section() -> rx.Component:
    """The fee line (amber while unpaid, needs action) and the waive form, when the visit has a fee."""
    d = DetailState.detail
    form = rx.form(
        rx.vstack(
            rx.input(name="reason", placeholder="Why is it waived? (kept in the audit trail)", size="2", width="100%",
                     max_length=300, id="fee-waive-reason", aria_label="Reason for waiving the fee"),
            rx.cond(W.waive_error != "", rx.text(W.waive_error, size="1", color=rx.color("red", 11), role="alert",
                                                 id="fee-waive-error")),
            rx.hstack(
                rx.button("Keep the fee", type="button", size="1", variant="soft", color_scheme="gray",
                          on_click=W.ask_waive(False)),
                rx.button("Waive fee", type="submit", size="1", color_scheme="amber", loading=W.waive_busy,
                          id="fee-waive-confirm"),
                justify="end", width="100%", spacing="2"),
            spacing="2", width="100%"),
        on_submit=W.waive, reset_on_submit=False, width="100%")
    return rx.cond(
        d.fee_id > 0,
        rx.callout.root(
            rx.callout.icon(rx.icon(rx.cond(d.fee_unpaid, "triangle-alert", "receipt"), size=16)),
            rx.vstack(
                rx.callout.text(d.fee_line, id="detail-fee"),
                rx.cond(d.fee_retry_card != "",
                        rx.button(rx.icon("credit-card", size=14), "Charge card on file again (" + d.fee_retry_card
                                  + ")", size="1", color_scheme="amber", loading=W.waive_busy,
                                  on_click=W.charge_again, id="fee-charge-again")),
                rx.cond(d.fee_collect_hint != "", rx.callout.text(d.fee_collect_hint, size="1",
                                                                  id="detail-fee-collect")),
                rx.cond((W.waive_error != "") & ~W.waive_open,
                        rx.text(W.waive_error, size="1", color=rx.color("red", 11), role="alert",
                                id="fee-charge-error")),
                rx.cond(d.fee_waivable,
                        rx.cond(W.waive_open, form,
                                rx.button("Waive fee…", size="1", variant="ghost", color_scheme="amber",
                                          on_click=W.ask_waive(True), id="fee-waive")),
                        ),
                spacing="2", width="100%"),
            color_scheme=rx.cond(d.fee_unpaid, "amber", "gray"), size="1", width="100%", id="detail-fee-box"),
    )
