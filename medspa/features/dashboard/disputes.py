"""The owners' "Open disputes" section of /dashboard (issue 11 part 3): chargebacks and
inquiries Stripe reported (payments.disputes) that are not closed yet, with the amount, the
reason, the status and when the evidence is due. Owners only (dispute.read); for anyone else
the list stays empty and the section is not shown."""

from __future__ import annotations

import dataclasses

import reflex as rx

from medspa.domain.money import format_money
from medspa.domain.payments.actions import fetch_open_disputes
from medspa.features.auth.state import StaffState


@dataclasses.dataclass
class DisputeView:
    """One open dispute as the page shows it (text only)."""

    id: int = 0
    amount: str = ""
    reason: str = ""
    status: str = ""
    due: str = ""
    payment: str = ""


class DisputesState(StaffState):
    """The open disputes of the signed-in owner's clinic."""

    disputes: list[DisputeView] = []

    @rx.event
    async def load(self):
        """on_load of /dashboard: the open disputes (empty unless the actor is an owner)."""
        done = await self._act(fetch_open_disputes)
        if done.redirect is not None:
            self.disputes = []
            return
        self.disputes = [] if done.error else [
            DisputeView(d.id, format_money(d.amount_cents, d.currency), d.reason.replace("_", " ") or "not given",
                        d.status.replace("_", " "),
                        d.evidence_due_by.strftime("%Y-%m-%d %H:%M UTC") if d.evidence_due_by else "not given",
                        f"#{d.payment_id} · {d.gateway_dispute_id}") for d in done.value]


def _row(d: DisputeView) -> rx.Component:
    return rx.table.row(rx.table.cell(d.amount), rx.table.cell(d.reason), rx.table.cell(rx.badge(d.status)),
                        rx.table.cell(d.due), rx.table.cell(rx.code(d.payment, size="1", variant="ghost")),
                        custom_attrs={"data-id": d.id})


def disputes_section() -> rx.Component:
    """The section, shown only when there are open disputes."""
    return rx.cond(DisputesState.disputes.length() > 0, rx.card(rx.vstack(
        rx.heading("Open disputes", size="4", color=rx.color("red", 11)),
        rx.text("Clients disputed these payments with their bank. Answer each in the Stripe Dashboard before the "
                "evidence is due; the owners were emailed what the clinic holds (booking time, IP, policy, chart).",
                size="2", color_scheme="gray"),
        rx.table.root(rx.table.header(rx.table.row(*(rx.table.column_header_cell(h) for h in (
            "Amount", "Reason", "Status", "Evidence due", "Payment")))),
            rx.table.body(rx.foreach(DisputesState.disputes, _row)), size="1", variant="ghost", width="100%"),
        spacing="2", width="100%"), width="100%", id="dash-disputes"))
