"""The portal's "Photos" tab: the before/after photos the clinic shared with the client, shown
only while the client's photo-use consent is signed (domain clinical/photo_timeline.py).

The portal session is a private backend var (no cookie the media route could check), so the
thumbnails travel as data URLs from one audited action (photo_actions.fetch_portal_gallery:
one "portal.photos" row and one "portal.photo" row per thumbnail), and "Download" sends the
photo's display copy with rx.download from another audited action. Photo ids the browser
sends must be among those listed.
"""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

import reflex as rx

from medspa.domain.clinical import photo_actions as pa
from medspa.features.charting.photos import photo_label, private_store
from medspa.features.portal.state import PortalState, as_tab_client


@dataclasses.dataclass
class PortalPhotoView:
    """A shared photo in the portal: id, visit date, caption, service and thumbnail data URL."""

    id: int = 0
    date: str = ""
    caption: str = ""
    service: str = ""
    src: str = ""


class PortalPhotosState(PortalState):
    """The signed-in client's shared photos."""

    portal_photos: list[PortalPhotoView] = []
    photos_loaded: bool = False

    async def _client(self, action, *args: Any, **kwargs: Any) -> tuple[bool, Any]:
        return await as_tab_client(self, action, *args, **kwargs)

    @rx.event
    async def load_photos(self):
        """The Photos tab appeared: the shared photos with their thumbnails (audited)."""
        ok, gallery = await self._client(pa.fetch_portal_gallery, store=private_store())
        if not ok:
            self.portal_photos, self.photos_loaded = [], False
            return
        self.portal_photos = [
            PortalPhotoView(p.id, p.date, photo_label(p.kind, p.area, p.angle), p.service,
                            "data:image/jpeg;base64," + base64.b64encode(thumb).decode("ascii"))
            for p, thumb in gallery]
        self.photos_loaded = True

    @rx.event
    async def download(self, photo_id: Any):
        """Download one listed photo (its display copy; audited)."""
        if not isinstance(photo_id, int) or isinstance(photo_id, bool) or photo_id not in [p.id for p in self.portal_photos]:
            return None
        ok, opened = await self._client(pa.fetch_portal_photo_file, photo_id, store=private_store())
        if not ok:
            return None
        return rx.download(data=opened.data, filename=opened.filename)


def _photo(p: PortalPhotoView) -> rx.Component:
    return rx.card(rx.vstack(
        rx.image(src=p.src, alt=p.caption, width="100%", height="220px", object_fit="cover", border_radius="8px"),
        rx.text(p.date, weight="medium", size="2"),
        rx.text(p.caption, " · ", p.service, size="1", color_scheme="gray"),
        rx.button(rx.icon("download", size=14), "Download", size="2", variant="soft", width="100%",
                  on_click=PortalPhotosState.download(p.id)),
        spacing="2", width="100%"), class_name="portal-photo", custom_attrs={"data-photo-id": p.id})


def photos_tab() -> rx.Component:
    """The shared photos, or why there are none."""
    s = PortalPhotosState
    return rx.vstack(
        rx.text("Before and after photos your clinic shares with you. They appear here once you have signed the "
                "photo consent (Consents tab).", size="2", color_scheme="gray"),
        rx.cond(s.portal_photos.length() > 0,
                rx.grid(rx.foreach(s.portal_photos, _photo), columns=rx.breakpoints(initial="1", sm="2", md="3"),
                        gap="12px", width="100%", id="portal-photos"),
                rx.cond(s.photos_loaded, rx.text("No photos shared with you yet.", size="2", color_scheme="gray",
                                                 id="portal-photos-empty"))),
        spacing="3", width="100%", on_mount=s.load_photos, id="portal-photos-tab")
