"""Before / After photos on the treatment chart: a self-contained component and its state.

Put `photos_panel()` anywhere on the chart page (/chart/<appointment_id>): it loads itself
when it appears (on_mount) and takes the visit from the URL, never from an event argument.

- Provider and owner only (photo.read / photo.write). Every public handler re-checks the
  staff session and the permission on the server; anyone else gets an empty, hidden panel.
- Upload with rx.upload: several photos at once (at most MAX_FILES, MAX_BATCH_BYTES together)
  from the library, or one straight from the phone's camera ("Take photo": an input with
  capture="environment", uploaded as soon as it is taken). JPEG, PNG and HEIC (iPhones'
  default). The browser posts the files to Reflex's /_upload endpoint, which hands them to
  `PhotosState.upload` as spooled temporary files. The handler reads at most MAX_BYTES + 1
  bytes of each (the size limit is enforced here on the server, the browser's max_size is
  only a convenience) and passes them to domain add_photo, which checks the content, applies
  the orientation, strips EXIF/GPS, makes the display copy and writes to the private media
  store. Each photo is its own transaction: one bad file does not lose the others, and the
  panel names each refused file with its reason. The tags chosen above the buttons (before/after,
  treatment area, angle) go with every photo of the upload. Nothing is ever written to
  rx.get_upload_dir(), which Reflex serves publicly at /_upload.
- Thumbnails and the large view are <img> elements pointing at the protected route
  /media/photos/<id>[?thumb=1] (medspa/api/media.py): the browser sends the HttpOnly session
  cookie, the route re-checks it and photo.read and audits every view.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import reflex as rx

from medspa.domain.clinical.chart_rules import area_label
from medspa.domain.clinical.actions import do_add_photo, fetch_photos
from medspa.domain.clinical.photo_actions import do_tag_photo
from medspa.domain.clinical.photos import (ANGLES, DISPLAY_MAX, KINDS, MAX_BATCH_BYTES, MAX_BYTES, MAX_FILES, MB,
                                           LocalMediaStore, MediaStore, PhotoInfo, media_store_for, megabytes,
                                           too_large)
from medspa.domain.clinical.service import TREATMENT_AREAS
from medspa.domain.errors import ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.features.auth.state import StaffState
from medspa.features.charting.state import appointment_id_from_path
from medspa.settings import get_settings

UPLOAD_ID = "chart-photos-upload"
CAMERA_ID = "chart-photos-camera"
ACCEPT = {"image/jpeg": [".jpg", ".jpeg"], "image/png": [".png"], "image/heic": [".heic"], "image/heif": [".heif"]}
NO_AREA = "none"  # the area select's "no area" (a select item cannot have an empty value)


def photo_url(photo_id: int, *, thumb: bool = False) -> str:
    """The protected URL of photo `photo_id` (or its thumbnail) under /media/photos."""
    return f"/media/photos/{photo_id}" + ("?thumb=1" if thumb else "")


def private_store() -> MediaStore:
    """The media store, refusing a local folder inside Reflex's public upload folder."""
    store = media_store_for(get_settings())
    if isinstance(store, LocalMediaStore):
        public = Path(rx.get_upload_dir()).resolve()
        if store.root == public or store.root.is_relative_to(public):
            raise RuntimeError(f"MEDIA_DIR {store.root} is inside Reflex's public upload folder {public}")
    return store


@dataclasses.dataclass
class PhotoView:
    """A photo as the chart's photo panel shows it: kind, label with pixel size, thumbnail and full URLs."""

    id: int = 0
    kind: str = ""
    label: str = ""  # "Before · Lips · Front · 1920 × 2560"
    thumb_url: str = ""
    full_url: str = ""
    area: str = NO_AREA  # the tag for the edit selects (NO_AREA: none)
    angle: str = "other"
    original_url: str = ""  # "" unless the full-resolution original was kept


def photo_label(kind: str, area: str | None, angle: str) -> str:
    """"Before · Lips · Front": kind, area (when tagged) and angle (unless "other")."""
    parts = [kind.capitalize()]
    if area:
        parts.append(area_label(area))
    if angle and angle != "other":
        parts.append(ANGLES.get(angle, angle))
    return " · ".join(parts)


def _view(p: PhotoInfo) -> PhotoView:
    return PhotoView(p.id, p.kind, f"{photo_label(p.kind, p.area, p.angle)} · {p.width} × {p.height}",
                     photo_url(p.id, thumb=True), photo_url(p.id), p.area or NO_AREA, p.angle,
                     f"/media/photos/{p.id}?original=1" if p.has_original else "")


class PhotosState(StaffState):
    """The chart's photo panel. allowed: the signed-in role has photo.read for this visit."""

    allowed: bool = False
    can_upload: bool = False
    photos: list[PhotoView] = []
    kind: str = "before"
    area: str = NO_AREA
    angle: str = "front"
    error: str = ""
    notice: str = ""
    busy: bool = False
    viewing: PhotoView = PhotoView()
    _appointment_id: int = 0

    async def _photos_actor(self, action: str) -> Actor | None:
        actor = await self._staff_actor()
        if actor is None or not actor.can(action) or not self._appointment_id:
            self._hide()
            return None
        return actor

    def _hide(self) -> None:
        self.allowed = self.can_upload = self.busy = False
        self.photos, self.viewing, self.error, self.notice = [], PhotoView(), "", ""

    @rx.event
    async def load(self):
        """on_mount: the visit's photos (one audited photo.read)."""
        self._appointment_id = appointment_id_from_path(self.router.url.path)
        if not self._appointment_id:
            self._hide()
            return
        done = await self._act(fetch_photos, self._appointment_id)
        if not done.ok:  # signed out, forbidden or missing: an empty, hidden panel
            self._hide()
            return
        photos = done.value
        self.allowed, self.can_upload = True, done.actor.can("photo.write")
        self.photos, self.viewing, self.error, self.notice = [_view(p) for p in photos], PhotoView(), "", ""

    @rx.event
    async def set_kind(self, value: str):
        if await self._photos_actor("photo.write") is not None and value in KINDS:
            self.kind = value

    @rx.event
    async def set_area(self, value: str):
        if await self._photos_actor("photo.write") is not None and (value == NO_AREA or value in TREATMENT_AREAS):
            self.area = value

    @rx.event
    async def set_angle(self, value: str):
        if await self._photos_actor("photo.write") is not None and value in ANGLES:
            self.angle = value

    @rx.event
    async def upload(self, files: list[rx.UploadFile]):
        """The selected photos (or the one just taken): sizes checked here, everything else in
        the domain (add_photo), one photo at a time; refused files are named with the reason."""
        actor = await self._photos_actor("photo.write")
        if actor is None:
            return
        self.notice = ""
        if not isinstance(files, list) or not files:
            self.error = "Choose one or more photos."
            return
        if len(files) > MAX_FILES:
            self.error = f"At most {MAX_FILES} photos at once."
            return
        declared = sum(f.size or 0 for f in files)
        if declared > MAX_BATCH_BYTES:
            self.error = (f"These photos are {megabytes(declared)} together: at most {MAX_BATCH_BYTES // MB} MB "
                          "in one upload.")
            return
        self.busy, self.error = True, ""
        yield
        store = private_store()
        added, refused = [], []
        for upload in files:
            name = _file_name(upload)
            if upload.size is not None and upload.size > MAX_BYTES:
                refused.append(f"{name}: {too_large(upload.size)}")
                continue
            data = await upload.read(MAX_BYTES + 1)
            if len(data) > MAX_BYTES:
                refused.append(f"{name}: {too_large(len(data))}")
                continue
            try:
                done = await self._act(do_add_photo, self._appointment_id, data, self.kind, store=store,
                                       area=None if self.area == NO_AREA else self.area, angle=self.angle)
            except ValidationFailed as exc:
                refused.append(f"{name}: {next(iter(exc.fields.values()), 'This photo cannot be used.')}")
                continue
            if not done.ok:
                self.busy = False
                self._hide()
                return
            added.append(done.value)
        self.photos = sorted([*self.photos, *(_view(p) for p in added)], key=lambda p: (KINDS.index(p.kind), p.id))
        self.busy = False
        self.error = " ".join(refused) if len(refused) > 1 or added else (refused[0].split(": ", 1)[1] if refused
                                                                          else "")
        if added:
            what = f"{self.kind.capitalize()} photo" if len(added) == 1 else f"{len(added)} {self.kind} photos"
            self.notice = f"{what} added."
        yield [rx.clear_selected_files(UPLOAD_ID), rx.clear_selected_files(CAMERA_ID)]

    @rx.event
    async def open(self, photo_id: int):
        """Show one of the listed photos large (the image itself comes from the checked route)."""
        if await self._photos_actor("photo.read") is None:
            return
        self.viewing = next((p for p in self.photos if p.id == photo_id), PhotoView())

    @rx.event
    def close(self):
        self.viewing = PhotoView()

    @rx.event
    async def set_viewing_tag(self, field: str, value: str):
        """Edit a label of the photo being viewed (saved by save_tags)."""
        if self.viewing.id <= 0 or await self._photos_actor("photo.write") is None or not isinstance(value, str):
            return
        if (field == "kind" and value in KINDS) or (field == "angle" and value in ANGLES) or (
                field == "area" and (value == NO_AREA or value in TREATMENT_AREAS)):
            self.viewing = dataclasses.replace(self.viewing, **{field: value})

    @rx.event
    async def save_tags(self):
        """Save the viewed photo's labels (photo.write; audited "photo.tag")."""
        v = self.viewing
        if v.id <= 0 or v.id not in [p.id for p in self.photos] or await self._photos_actor("photo.write") is None:
            return
        try:
            done = await self._act(do_tag_photo, v.id, kind=v.kind, area=None if v.area == NO_AREA else v.area,
                                   angle=v.angle)
        except ValidationFailed as exc:
            self.error = next(iter(exc.fields.values()), "These labels cannot be saved.")
            return
        if done.ok:
            await self.load()
            self.notice = "Labels saved."


def _file_name(upload) -> str:
    """The uploaded file's name for a message (no folders, at most 60 characters)."""
    name = Path(str(getattr(upload, "name", "") or getattr(upload, "filename", "") or "photo")).name
    return name[:60] or "photo"


# ---- component

def _thumb(p: PhotoView) -> rx.Component:
    return rx.box(
        rx.image(src=p.thumb_url, alt=p.label, width="140px", height="140px", object_fit="cover",
                 border_radius="8px", loading="lazy"),
        rx.text(p.label, size="1", color_scheme="gray", margin_top="4px"),
        on_click=PhotosState.open(p.id), cursor="pointer", class_name="chart-photo",
        custom_attrs={"data-photo-id": p.id, "data-kind": p.kind},
    )


def _select(value, on_change, items: list[tuple[str, str]], id_: str, width: str) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(width=width, id=id_),
        rx.select.content(*(rx.select.item(label, value=v) for v, label in items)),
        value=value, on_change=on_change, size="2")


def camera_capture(upload: rx.Component) -> rx.Component:
    """`upload` (an rx.upload.root) whose file input opens the phone's rear camera
    (capture="environment"): Reflex's Upload has no prop for it, so it is spread onto the
    input next to react-dropzone's own input props."""
    def walk(component):
        for child in getattr(component, "children", []):
            if getattr(child, "tag", None) == "input":
                child.special_props = [*child.special_props, rx.Var(_js_expr='({capture: "environment"})')]
                return True
            if walk(child):
                return True
        return False

    walk(upload)
    return upload


def _uploader() -> rx.Component:
    s = PhotosState
    return rx.vstack(
        rx.flex(
            _select(s.kind, s.set_kind, [("before", "Before"), ("after", "After")], "chart-photo-kind", "110px"),
            _select(s.area, s.set_area, [(NO_AREA, "No area"), *((a, area_label(a)) for a in TREATMENT_AREAS)],
                    "chart-photo-area", "170px"),
            _select(s.angle, s.set_angle, list(ANGLES.items()), "chart-photo-angle", "140px"),
            gap="8px", wrap="wrap", align="center"),
        rx.flex(
            rx.upload.root(
                rx.button(rx.icon("image-plus", size=15), "Choose photos", size="2", variant="outline",
                          type="button"),
                id=UPLOAD_ID, accept=ACCEPT, max_files=MAX_FILES, max_size=MAX_BYTES, multiple=True,
                border="none", padding="0"),
            camera_capture(rx.upload.root(
                rx.button(rx.icon("camera", size=15), "Take photo", size="2", variant="outline", type="button"),
                id=CAMERA_ID, accept={"image/*": []}, max_files=1, max_size=MAX_BYTES, multiple=False,
                on_drop=s.upload(rx.upload_files(upload_id=CAMERA_ID)), border="none", padding="0")),
            rx.button(rx.icon("upload", size=15), "Upload", size="2", loading=s.busy, id="chart-photo-upload",
                      on_click=s.upload(rx.upload_files(upload_id=UPLOAD_ID))),
            gap="8px", wrap="wrap", align="center"),
        rx.text(rx.foreach(rx.selected_files(UPLOAD_ID), lambda name: rx.badge(name, variant="soft",
                                                                               color_scheme="gray")),
                size="2", id="chart-photo-selected", display="flex", gap="6px", flex_wrap="wrap"),
        rx.text(f"JPEG, PNG or HEIC, up to {MAX_FILES} at once, at most {MAX_BYTES // MB} MB each. Large photos "
                f"are scaled to {DISPLAY_MAX} px; location data is removed; rotation is kept.", size="1",
                color_scheme="gray"),
        spacing="2", width="100%",
    )


def _viewer() -> rx.Component:
    s = PhotosState
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(s.viewing.label),
            rx.cond(s.viewing.id > 0, rx.image(src=s.viewing.full_url, alt=s.viewing.label, width="100%",
                                               max_height="70vh", object_fit="contain", id="chart-photo-large")),
            rx.cond(s.can_upload, rx.flex(
                _select(s.viewing.kind, lambda v: PhotosState.set_viewing_tag("kind", v),
                        [("before", "Before"), ("after", "After")], "chart-photo-edit-kind", "110px"),
                _select(s.viewing.area, lambda v: PhotosState.set_viewing_tag("area", v),
                        [(NO_AREA, "No area"), *((a, area_label(a)) for a in TREATMENT_AREAS)],
                        "chart-photo-edit-area", "170px"),
                _select(s.viewing.angle, lambda v: PhotosState.set_viewing_tag("angle", v), list(ANGLES.items()),
                        "chart-photo-edit-angle", "140px"),
                rx.button("Save labels", size="2", variant="soft", on_click=s.save_tags, id="chart-photo-save-tags"),
                gap="8px", wrap="wrap", align="center", margin_top="12px")),
            rx.hstack(rx.cond(s.viewing.original_url != "",
                              rx.link("Full-resolution original", href=s.viewing.original_url, is_external=True,
                                      size="2")),
                      rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray", on_click=s.close)),
                      justify="end", align="center", spacing="4", margin_top="12px"),
            max_width="900px",
        ),
        open=s.viewing.id > 0,
        on_open_change=lambda _open: PhotosState.close(),
    )


def photos_panel() -> rx.Component:
    """"Before / After photos": thumbnails, click to open large, upload (photo.write)."""
    s = PhotosState
    return rx.box(
        rx.cond(
            s.allowed,
            rx.card(
                rx.vstack(
                    rx.heading("Before / After photos", size="4"),
                    rx.cond(s.error != "", rx.callout(s.error, icon="circle-alert", color_scheme="red", size="1",
                                                      width="100%", id="chart-photo-error")),
                    rx.cond(s.notice != "", rx.callout(s.notice, icon="circle-check", color_scheme="grass",
                                                       size="1", width="100%", id="chart-photo-notice")),
                    rx.cond(s.photos.length() > 0,
                            rx.flex(rx.foreach(s.photos, _thumb), wrap="wrap", gap="12px", id="chart-photo-list"),
                            rx.text("No photos yet.", size="2", color_scheme="gray")),
                    rx.cond(s.can_upload, _uploader()),
                    _viewer(),
                    spacing="3", width="100%",
                ),
                width="100%",
            ),
        ),
        on_mount=PhotosState.load,
        id="chart-photos",
        width="100%",
        custom_attrs={"data-count": s.photos.length(), "data-busy": s.busy},
    )
