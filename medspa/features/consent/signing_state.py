"""The events both signing screens share (the portal tab and the staff tablet): open a consent
of the list, choose draw/type and the photo choice, sign. A state mixes this in and provides
`_call(action, *args, **kwargs)` -> (ok, result): the action run for its own signer (the
portal's client, or the tablet's staff member for the visit's client), and `_reload()`."""

from __future__ import annotations

from typing import Any

import reflex as rx

from medspa.domain.clinical import consent_actions as actions
from medspa.domain.clinical.consent_signing import StaleConsent, png_from_data_url
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.features.charting.photos import private_store
from medspa.features.consent.views import ConsentItem, item_of
from medspa.web.inputs import form_text


class SigningMixin(rx.State, mixin=True):
    """Vars and events of a signing screen (see the module docstring)."""

    items: list[ConsentItem] = []
    loaded: bool = False
    current: ConsentItem = ConsentItem()
    signing: bool = False
    method: str = "drawn"
    choice: str = ""
    typed_name: str = ""
    errors: dict[str, str] = {}
    error: str = ""
    notice: str = ""
    busy: bool = False

    async def _call(self, action, *args: Any, **kwargs: Any) -> tuple[bool, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    async def _reload(self) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def _signed_extra(self) -> dict[str, Any]:
        """Extra keyword arguments of do_sign_consent (the tablet passes the visit)."""
        return {}

    @rx.event
    def start(self, index: int):
        """Open consent number `index` of the list to read and sign."""
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(self.items):
            return
        self.current, self.signing, self.method, self.choice = self.items[index], True, "drawn", ""
        self.errors, self.error, self.notice, self.typed_name = {}, "", "", ""

    @rx.event
    def back(self):
        """Back to the list without signing."""
        self.signing, self.current, self.errors, self.error = False, ConsentItem(), {}, ""

    @rx.event
    def set_method(self, value: str | list[str]):
        """Draw or type ("drawn" / "typed")."""
        if value in ("drawn", "typed"):
            self.method, self.errors = value, {}

    @rx.event
    def set_choice(self, value: str):
        """The photo-use choice ("clinical" / "marketing")."""
        if value in ("clinical", "marketing"):
            self.choice, self.errors = value, {}

    @rx.event
    async def sign_drawn(self, data_url: str):
        """The pad's PNG data URL ("" when empty) -> sign the consent shown."""
        try:
            png = png_from_data_url(data_url)
        except ValidationFailed as exc:
            self.errors = exc.fields
            return
        async for update in self._sign(method="drawn", signature_png=png):
            yield update

    @rx.event
    async def sign_typed(self, form: dict):
        """The typed full name -> sign the consent shown."""
        self.typed_name = form_text(form, "typed_name", 120)
        async for update in self._sign(method="typed", typed_name=self.typed_name):
            yield update

    async def _sign(self, **how: Any):
        item = self.current
        if not self.signing or self.busy or item.version_id not in [i.version_id for i in self.items]:
            return
        self.busy, self.errors, self.error = True, {}, ""
        yield
        try:
            ok, done = await self._call(actions.do_sign_consent, item.version_id, item.sha256, choice=self.choice,
                                        store=private_store(), **self._signed_extra(), **how)
        except ValidationFailed as exc:
            self.busy, self.errors = False, exc.fields
            return
        except StaleConsent as exc:  # a newer text: show it, the client signs again
            fresh = item_of(exc.current)
            fresh.for_label, fresh.required = item.for_label, item.required
            self.items = [fresh if i.version_id == item.version_id else i for i in self.items]
            self.current, self.busy, self.error = fresh, False, str(exc)
            return
        except NotFound:
            self.busy, self.signing, self.error = False, False, "This consent is no longer available."
            await self._reload()
            return
        self.busy = False
        if not ok or done is None:
            return
        self.signing, self.current = False, ConsentItem()
        await self._reload()
        self.notice = f"Thank you. “{done.title}” is signed."
