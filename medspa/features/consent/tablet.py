"""`/consent/[appointment_id]`: the client-facing tablet view ("Sign with client").

Staff with consent.collect (owner, manager, provider, front desk) open it from the visit's
calendar panel or the chart and hand the tablet over: it shows the client's first name, the
visit and the consents to sign, nothing else of the record and no staff navigation. Every
event re-checks the staff session and the permission (StaffState._act); the visit comes from
the URL; the signature records the collecting staff member.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from medspa.domain.clinical import consent_actions as actions
from medspa.features.auth.state import StaffState
from medspa.features.consent.signing_state import SigningMixin
from medspa.features.consent.views import item_of, signing_card, stale_notice, todo_row
from medspa.web.inputs import parse_id

ROUTE = "/consent/[appointment_id]"


def appointment_id_from_path(path: str) -> int:
    """/consent/123 -> 123; anything else -> 0."""
    parts = [p for p in (path or "").split("/") if p]
    return (parse_id(parts[1]) or 0) if len(parts) == 2 and parts[0] == "consent" else 0


class ConsentTabletState(SigningMixin, StaffState):
    """What the tablet shows. status: loading | ready | not_found."""

    status: str = "loading"
    first_name: str = ""
    visit_label: str = ""
    back_url: str = "/calendar"
    _appointment_id: int = 0
    _client_id: int = 0

    def _signed_extra(self) -> dict[str, Any]:
        return {"appointment_id": self._appointment_id}

    async def _call(self, action, *args: Any, **kwargs: Any) -> tuple[bool, Any]:
        if not self._client_id:
            return False, None
        done = await self._act(action, self._client_id, *args, **kwargs)
        if done.redirect is not None or done.error:
            self.status = "not_found" if done.error else "loading"
            return False, None
        return True, done.value

    async def _reload(self) -> bool:
        done = await self._act(actions.fetch_tablet_visit, self._appointment_id)
        if done.redirect is not None:
            self.status = "loading"
            return False
        if done.error:
            self.status, self.items, self._client_id = "not_found", [], 0
            return False
        visit = done.value
        self._client_id, self.first_name = visit.client_id, visit.first_name
        self.visit_label = f"{visit.service} · {visit.when}"
        self.items, self.loaded, self.status = [item_of(c) for c in visit.items], True, "ready"
        self.back_url = f"/chart/{self._appointment_id}" if done.actor.can("chart.read") else "/calendar"
        return True

    @rx.event
    async def load(self):
        """on_load: the visit's consents to sign."""
        self._appointment_id = appointment_id_from_path(self.router.url.path)
        self.status, self.signing, self.notice, self.error, self._client_id = "loading", False, "", "", 0
        if await self._staff_actor() is None:
            return self._to_login()
        if not self._appointment_id:
            self.status = "not_found"
            return
        await self._reload()


S = ConsentTabletState


def _body() -> rx.Component:
    return rx.vstack(
        rx.heading("Consent for ", S.first_name, size="7", as_="h1", id="tablet-client"),
        rx.text(S.visit_label, color_scheme="gray", size="3"),
        stale_notice(S),
        rx.cond(
            S.signing,
            signing_card(S),
            rx.vstack(
                rx.cond(S.notice, rx.callout(S.notice, icon="circle-check", color_scheme="teal", width="100%",
                                             id="consent-notice")),
                rx.cond(
                    S.items.length() > 0,
                    rx.vstack(rx.text("Please read and sign:", size="3"),
                              rx.foreach(S.items, lambda item, i: todo_row(S, item, i)), spacing="2", width="100%"),
                    rx.callout("All consents for this visit are signed. Please hand the tablet back.",
                               icon="circle-check", color_scheme="teal", width="100%", id="tablet-done"),
                ),
                rx.link(rx.button("Done: back to the staff view", variant="soft", color_scheme="gray", size="2"),
                        href=S.back_url, id="tablet-back"),
                spacing="3",
                width="100%",
            ),
        ),
        spacing="3",
        width="100%",
        max_width="44em",
        margin_x="auto",
        padding=rx.breakpoints(initial="1em", sm="2em"),
    )


def tablet_page() -> rx.Component:
    """The client-facing consent view of one visit."""
    return rx.box(
        rx.match(S.status,
                 ("ready", _body()),
                 ("not_found", rx.center(rx.text("This visit was not found.", size="4"), padding_top="20vh",
                                         id="tablet-not-found")),
                 rx.center(rx.spinner(size="3"), padding_top="20vh")),
        min_height="100vh",
        background=rx.color("gray", 2),
        id="consent-tablet",
    )


def register(app: rx.App) -> None:
    """Add /consent/[appointment_id] (consent.collect)."""
    app.add_page(tablet_page, route=ROUTE, title="Consent · medspa", on_load=S.load)
