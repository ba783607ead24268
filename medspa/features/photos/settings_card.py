"""The owner's photo setting on /settings, Clinic tab: keep full-resolution originals of new
photos or only the display copy (at most photos.DISPLAY_MAX px; default). Owner only
(clinic.manage); the change is audited (photo_actions.do_set_keep_originals)."""

from __future__ import annotations

import reflex as rx

from medspa.domain.clinical import photo_actions as pa
from medspa.domain.clinical.photos import DISPLAY_MAX
from medspa.features.auth.state import StaffState


class PhotoSettingsState(StaffState):
    """keep_originals as stored; shown only to the owner (allowed)."""

    photo_setting_allowed: bool = False
    keep_originals: bool = False
    photo_setting_message: str = ""

    @rx.event
    async def load_photo_setting(self):
        """on_mount: the setting for the owner (others: the card stays hidden)."""
        self.photo_setting_message = ""
        done = await self._act(pa.fetch_keep_originals)
        self.photo_setting_allowed = done.ok
        self.keep_originals = bool(done.value) if done.ok else False

    @rx.event
    async def set_keep_originals(self, value: bool):
        """Keep (True) or stop keeping (False) originals of new photos."""
        if not self.photo_setting_allowed or not isinstance(value, bool):
            return
        done = await self._act(pa.do_set_keep_originals, value)
        if done.ok:
            self.keep_originals = done.value
            self.photo_setting_message = ("New photos keep their full-resolution original." if done.value else
                                          f"New photos keep only the display copy ({DISPLAY_MAX} px).")


def photo_settings_card() -> rx.Component:
    """"Clinical photos": the keep-originals switch (owner only)."""
    s = PhotoSettingsState
    return rx.box(rx.cond(s.photo_setting_allowed, rx.card(rx.vstack(
        rx.heading("Clinical photos", size="3"),
        rx.hstack(rx.switch(checked=s.keep_originals, on_change=s.set_keep_originals, id="keep-photo-originals"),
                  rx.text("Keep full-resolution originals", size="2", weight="medium"), align="center"),
        rx.text(f"Off: photos are stored as a display copy of at most {DISPLAY_MAX} px on the longer side (enough "
                "to compare on any screen, and smaller to keep). On: the full-resolution picture is kept too, with "
                "location data removed. Applies to photos added from now on.", size="1", color_scheme="gray"),
        rx.cond(s.photo_setting_message != "", rx.text(s.photo_setting_message, size="1", color_scheme="grass",
                                                       id="photo-setting-message")),
        spacing="2"), max_width="640px", width="100%")), on_mount=s.load_photo_setting, width="100%")
