"""The client profile's "Signed consents" card (/clients/<id>): provider and owner only
(consent.read). Loads itself on mount (one audited consent.read); each PDF download is an
audited action and goes to the browser with rx.download. For anyone else the state holds
nothing and the card is not rendered. Signature ids the browser sends must be ones listed."""

from __future__ import annotations

import reflex as rx

from medspa.domain.clinical import consent_actions as actions
from medspa.features.auth.state import StaffState
from medspa.features.charting.photos import private_store
from medspa.features.clients.state import client_id_from_path
from medspa.features.consent.views import SignedItem, signed_of
from medspa.web.inputs import parse_id


class ConsentProfileState(StaffState):
    """The card's rows. allowed: the signed-in role has consent.read."""

    allowed: bool = False
    signed: list[SignedItem] = []
    error: str = ""
    _ids: list[int] = []

    @rx.event
    async def load(self):
        """on_mount: the client's signed consents (an audited read), for consent.read only."""
        self.allowed, self.signed, self.error, self._ids = False, [], "", []
        client_id = client_id_from_path(self.router.url.path)
        actor = await self._staff_actor()
        if actor is None or not actor.can("consent.read") or not client_id:
            return
        done = await self._act(actions.fetch_signed_consents, client_id)
        if done.redirect is not None or done.error:
            return
        self.signed, self._ids, self.allowed = [signed_of(c) for c in done.value], [c.id for c in done.value], True

    @rx.event
    async def download(self, signature_id: int):
        """One listed consent's PDF (an audited download)."""
        sid = parse_id(signature_id)
        if sid is None or sid not in self._ids:
            return
        done = await self._act(actions.fetch_consent_pdf, sid, store=private_store())
        if done.redirect is not None:
            return done.redirect
        if done.error:
            self.error = "This PDF is not available."
            return
        return rx.download(data=done.value.data, filename=done.value.filename, mime_type="application/pdf")


S = ConsentProfileState


def _row(c: SignedItem) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(c.title, weight="medium")),
        rx.table.cell("v", c.version),
        rx.table.cell(c.signed_label),
        rx.table.cell(c.how, rx.cond(c.choice_label, " · " + c.choice_label, "")),
        rx.table.cell(rx.button(rx.icon("download", size=14), "PDF", size="1", variant="soft",
                                on_click=S.download(c.id), class_name="profile-consent-pdf")),
    )


def consents_card() -> rx.Component:
    """The "Signed consents" card (renders nothing without consent.read)."""
    return rx.box(
        rx.cond(S.allowed, rx.card(
            rx.vstack(
                rx.hstack(rx.heading("Signed consents", size="4", as_="h3"),
                          rx.badge("Clinical", color_scheme="purple", variant="soft"), align="center", spacing="2"),
                rx.cond(S.error, rx.text(S.error, color_scheme="red", size="2")),
                rx.cond(S.signed.length() > 0,
                        rx.box(rx.table.root(
                            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                                           ("Consent", "Version", "Signed", "How", "")])),
                            rx.table.body(rx.foreach(S.signed, _row)), size="1", width="100%"),
                            overflow_x="auto", width="100%"),
                        rx.text("No signed consents yet.", color_scheme="gray", size="2")),
                spacing="3", width="100%",
            ),
            width="100%",
        )),
        on_mount=S.load,
        width="100%",
        id="profile-consents",
    )
