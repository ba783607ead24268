"""The portal's Consents tab: what to sign for upcoming visits, then the signed list with PDFs.

Its own state (ConsentPortalState) that works through the portal tab's session: every event
gets the signed-in client from PortalState._as_client (the portal token is PortalState's
backend var, never sent to the browser) and calls ONE action of
medspa.domain.clinical.consent_actions. The version a client signs must be one this tab showed
(with the hash shown); the PDF goes to the browser with rx.download from the audited action.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from medspa.domain.clinical import consent_actions as actions
from medspa.domain.errors import NotFound
from medspa.features.charting.photos import private_store
from medspa.features.consent.signing_state import SigningMixin
from medspa.features.consent.views import ConsentItem, SignedItem, item_of, signed_of, signing_card, stale_notice, todo_row
from medspa.features.portal.state import PortalState
from medspa.web.inputs import parse_id


class ConsentPortalState(SigningMixin, rx.State):
    """The signed-in client's consents (loaded when the tab mounts)."""

    signed: list[SignedItem] = []
    _signed_ids: list[int] = []

    async def _call(self, action, *args: Any, **kwargs: Any) -> tuple[bool, Any]:
        """(True, action(client actor, own client id, *args, **kwargs)) for this tab's signed-in
        client; (False, None) when not signed in (the portal goes back to sign-in)."""
        portal = await self.get_state(PortalState)
        if portal.step != "portal" or not portal._token:
            self._clear()
            return False, None
        ok, result = await portal._as_client(_with_own_id, action, *args, **kwargs)
        if not ok:
            self._clear()
        return ok, result

    def _clear(self) -> None:
        self.items, self.signed, self.loaded, self.signing, self.busy = [], [], False, False, False
        self.current, self.errors, self.error, self.notice, self._signed_ids = ConsentItem(), {}, "", "", []

    async def _reload(self) -> bool:
        ok, todo = await self._call(actions.fetch_consents_to_sign)
        if not ok:
            return False
        ok, done = await self._call(actions.fetch_signed_consents)
        if not ok:
            return False
        self.items, self.signed = [item_of(c) for c in todo], [signed_of(c) for c in done]
        self._signed_ids, self.loaded = [c.id for c in done], True
        return True

    @rx.event
    async def load(self):
        """on_mount of the tab: what to sign and what is signed (the signed list is an audited read)."""
        self.signing, self.notice, self.error = False, "", ""
        await self._reload()

    @rx.event
    async def download(self, signature_id: int):
        """The PDF of one of the signed consents this tab listed (an audited download)."""
        sid = parse_id(signature_id)
        if sid is None or sid not in self._signed_ids:
            return
        try:
            ok, pdf = await self._call(_pdf, sid)
        except NotFound:
            self.error = "This PDF is not available."
            return
        if ok:
            return rx.download(data=pdf.data, filename=pdf.filename, mime_type="application/pdf")


def _with_own_id(actor, action, *args, **kwargs):
    """Call action(actor, actor.client_id, *args, **kwargs): the portal client's own record."""
    return action(actor, actor.client_id, *args, **kwargs)


def _pdf(actor, client_id: int, signature_id: int):
    """The PDF download (the service checks that the signature is the actor's own)."""
    return actions.fetch_consent_pdf(actor, signature_id, store=private_store())


S = ConsentPortalState


def _signed_row(c: SignedItem) -> rx.Component:
    return rx.card(
        rx.flex(
            rx.vstack(
                rx.text(c.title, weight="bold", size="3"),
                rx.text("Version ", c.version, " · ", c.signed_label, size="2", color_scheme="gray"),
                rx.text(c.how, rx.cond(c.choice_label, " · " + c.choice_label, ""), size="2", color_scheme="gray"),
                spacing="1",
            ),
            rx.button(rx.icon("download", size=16), "PDF", variant="soft", color_scheme="teal", size="3",
                      on_click=S.download(c.id), class_name="consent-pdf", flex_shrink="0",
                      aria_label="Download the PDF of " + c.title),
            justify="between",
            align="center",
            gap="3",
        ),
        width="100%",
        class_name="consent-signed",
    )


def _lists() -> rx.Component:
    return rx.vstack(
        rx.cond(S.notice, rx.callout(S.notice + " You can download the PDF below.", icon="circle-check",
                                     color_scheme="teal", width="100%", id="consent-notice")),
        rx.heading("To sign", size="5", as_="h3"),
        rx.cond(
            S.items.length() > 0,
            rx.vstack(rx.foreach(S.items, lambda item, i: todo_row(S, item, i)), spacing="2", width="100%"),
            rx.text("Nothing to sign right now.", color_scheme="gray", id="consent-none"),
        ),
        rx.heading("Signed", size="5", as_="h3", padding_top="0.75em"),
        rx.cond(
            S.signed.length() > 0,
            rx.vstack(rx.foreach(S.signed, _signed_row), spacing="2", width="100%"),
            rx.text("You have not signed a consent yet.", color_scheme="gray"),
        ),
        spacing="3",
        width="100%",
    )


def consents_tab() -> rx.Component:
    """The portal's Consents tab (loads itself when it appears)."""
    return rx.box(
        stale_notice(S),
        rx.cond(~S.loaded, rx.center(rx.spinner(size="3"), padding="2em"),
                rx.cond(S.signing, signing_card(S), _lists())),
        on_mount=S.load,
        width="100%",
        id="portal-consents",
    )
