"""The client profile's photo timeline (/clients/<id>) with a side-by-side and a slider
comparison of two photos, and the portal sharing switch of each photo.

- Provider and owner only (photo.read; tags and sharing photo.write): for anyone else the
  state holds nothing and the card is not rendered. Each load or filter change is one audited
  read (clinical/photo_actions.fetch_client_timeline); every image comes from the protected
  media route, which audits each view.
- Timeline: the client's photos oldest first (visit date, before then after), filtered by
  treatment area and angle. Two photos are compared: the first and the last of the list
  when it loads; a click on "Compare" replaces the older pick. A is always the earlier photo.
- Sharing: "Share to portal" marks a photo; the portal shows it only while the client's
  photo-use consent is signed (the card says so when it is not).
Photo ids sent by the browser are checked against the list this server state holds.
"""

from __future__ import annotations

import dataclasses

import reflex as rx

from medspa.domain.clinical.chart_rules import area_label
from medspa.domain.clinical.photo_actions import do_share_photo, fetch_client_timeline
from medspa.domain.clinical.photo_timeline import TimelinePhoto
from medspa.domain.clinical.photos import ANGLES
from medspa.domain.errors import ValidationFailed
from medspa.features.charting.photos import photo_label, photo_url
from medspa.features.clients.state import ClientProfileState
from medspa.features.photos.compare_slider import CompareSlider, CompareSliderImage

ALL = "all"


@dataclasses.dataclass
class TimelineView:
    """A photo on the timeline: caption ("Before · Lips · Front"), visit date and service,
    thumbnail and display URLs, chart link, shared mark, and which comparison side it is on."""

    id: int = 0
    caption: str = ""
    date: str = ""
    service: str = ""
    thumb: str = ""
    full: str = ""
    href: str = ""
    kind: str = ""
    shared: bool = False
    side: str = ""  # "A", "B" or ""


def _view(p: TimelinePhoto) -> TimelineView:
    return TimelineView(p.id, photo_label(p.kind, p.area, p.angle), p.date, p.service, photo_url(p.id, thumb=True),
                        photo_url(p.id), f"/chart/{p.appointment_id}", p.kind, p.shared)


class PhotoTimelineState(ClientProfileState):
    """The timeline card: the list, the filters, the two photos compared and the mode."""

    show_timeline: bool = False
    can_share: bool = False
    items: list[TimelineView] = []
    area: str = ALL
    angle: str = ALL
    area_options: list[list[str]] = []  # [value, label]
    angle_options: list[list[str]] = []
    consent_signed: bool = False
    mode: str = "side"  # side | slider
    left: TimelineView = TimelineView()
    right: TimelineView = TimelineView()
    timeline_error: str = ""
    _picked: list[int] = []  # the compared ids, oldest pick first

    def _clear(self) -> None:
        self.show_timeline = self.can_share = self.consent_signed = False
        self.items, self.area_options, self.angle_options, self._picked = [], [], [], []
        self.left, self.right, self.timeline_error = TimelineView(), TimelineView(), ""

    @rx.event
    async def load(self):
        """on_load after the profile: all areas and angles, first and last photo compared."""
        self.area, self.angle, self.mode = ALL, ALL, "side"
        await self._fetch(fresh=True)

    async def _fetch(self, *, fresh: bool) -> None:
        if self.status != "ready" or not self._client_id or not self.photos:
            self._clear()
            return
        try:
            done = await self._act(fetch_client_timeline, self._client_id,
                                   area="" if self.area == ALL else self.area,
                                   angle="" if self.angle == ALL else self.angle)
        except ValidationFailed:
            self.area, self.angle = ALL, ALL
            return
        if not done.ok:
            self._clear()
            return
        got = done.value
        self.show_timeline, self.can_share = True, done.actor.can("photo.write")
        self.consent_signed, self.timeline_error = got.consent_signed, ""
        self.area_options = [[ALL, "All areas"], *([a, area_label(a)] for a in got.areas)]
        self.angle_options = [[ALL, "All angles"], *([a, ANGLES[a]] for a in got.angles)]
        items = [_view(p) for p in got.photos]
        ids = [i.id for i in items]
        picked = [i for i in self._picked if i in ids] if not fresh else []
        if len(picked) < 2 and len(ids) >= 2:
            picked = [ids[0], ids[-1]] if not picked else [picked[0], next(i for i in reversed(ids)
                                                                           if i != picked[0])]
        self._picked = picked
        self._apply(items)

    def _apply(self, items: list[TimelineView]) -> None:
        """Mark sides: A the earlier of the two picks on the timeline, B the later."""
        order = {v.id: n for n, v in enumerate(items)}
        pair = sorted((i for i in self._picked if i in order), key=order.get)
        sides = dict(zip(pair, "AB"))
        for v in items:
            v.side = sides.get(v.id, "")
        self.items = items
        by_id = {v.id: v for v in items}
        self.left = by_id[pair[0]] if len(pair) > 0 else TimelineView()
        self.right = by_id[pair[1]] if len(pair) > 1 else TimelineView()

    @rx.event
    async def set_area(self, value: str):
        """Filter by treatment area ("all" for every area)."""
        if isinstance(value, str) and any(value == o[0] for o in self.area_options):
            self.area = value
            await self._fetch(fresh=False)

    @rx.event
    async def set_angle(self, value: str):
        """Filter by angle ("all" for every angle)."""
        if isinstance(value, str) and any(value == o[0] for o in self.angle_options):
            self.angle = value
            await self._fetch(fresh=False)

    @rx.event
    def set_mode(self, value: str | list[str]):
        """Side by side or slider."""
        if isinstance(value, str) and value in ("side", "slider"):
            self.mode = value

    @rx.event
    def pick(self, photo_id: int):
        """Compare this photo: it replaces the older of the two picks (a picked one is kept)."""
        ids = [v.id for v in self.items]
        if isinstance(photo_id, bool) or photo_id not in ids or photo_id in self._picked:
            return
        self._picked = [*self._picked[-1:], photo_id]
        self._apply(list(self.items))

    @rx.event
    async def toggle_share(self, photo_id: int):
        """Share the photo with the client's portal, or take it back (photo.write, audited)."""
        current = next((v for v in self.items if v.id == photo_id and not isinstance(photo_id, bool)), None)
        if current is None or not self.can_share:
            return
        try:
            done = await self._act(do_share_photo, photo_id, not current.shared)
        except ValidationFailed:
            return
        if not done.ok:
            self.timeline_error = "This photo cannot be shared."
            return
        await self._fetch(fresh=False)


# ---- components


def _select(value, options, on_change, id_: str) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(id=id_, min_width="150px"),
        rx.select.content(rx.foreach(options, lambda o: rx.select.item(o[1], value=o[0]))),
        value=value, on_change=on_change, size="2")


def _side_badge(side) -> rx.Component:
    return rx.cond(side != "", rx.badge(side, color_scheme="violet", variant="solid", position="absolute", top="6px",
                                        left="6px", size="2"))


def _item(v: TimelineView) -> rx.Component:
    t = PhotoTimelineState
    return rx.vstack(
        rx.box(
            rx.image(src=v.thumb, alt=v.caption, width="150px", height="150px", object_fit="cover",
                     border_radius="8px", loading="lazy", background=rx.color("gray", 3)),
            _side_badge(v.side),
            rx.cond(v.shared, rx.badge(rx.icon("share-2", size=11), "Portal", color_scheme="teal", variant="solid",
                                       position="absolute", bottom="6px", right="6px", size="1")),
            position="relative", border=rx.cond(v.side != "", f"3px solid {rx.color('violet', 9)}",
                                                 "3px solid transparent"),
            border_radius="11px"),
        rx.text(v.date, size="2", weight="medium"),
        rx.text(v.caption, size="1", color_scheme="gray", trim="both"),
        rx.hstack(
            rx.button(rx.icon("columns-2", size=12), "Compare", size="1", variant="soft",
                      on_click=t.pick(v.id), disabled=v.side != "", class_name="timeline-pick"),
            rx.cond(t.can_share, rx.button(rx.cond(v.shared, "Unshare", "Share"), size="1", variant="ghost",
                                           color_scheme=rx.cond(v.shared, "gray", "teal"),
                                           on_click=t.toggle_share(v.id), class_name="timeline-share")),
            spacing="2"),
        spacing="1", width="156px", flex_shrink="0", class_name="timeline-photo",
        custom_attrs={"data-photo-id": v.id, "data-side": v.side, "data-kind": v.kind},
    )


def _pane(v: TimelineView, label: str) -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.badge(label, color_scheme="violet", variant="solid"), rx.text(v.date, size="2", weight="medium"),
                  rx.text(v.caption, size="2", color_scheme="gray"), spacing="2", align="center", wrap="wrap"),
        rx.image(src=v.full, alt=v.caption, width="100%", height=rx.breakpoints(initial="320px", md="460px"),
                 object_fit="contain", background=rx.color("gray", 12), border_radius="8px"),
        spacing="2", width="100%")


def _comparison() -> rx.Component:
    t = PhotoTimelineState
    slider = rx.box(
        CompareSlider.create(
            item_one=CompareSliderImage.create(src=t.left.full, alt=t.left.caption),
            item_two=CompareSliderImage.create(src=t.right.full, alt=t.right.caption),
            default_position=50, custom_attrs={"data-testid": "photo-slider"}),
        rx.badge("A · ", t.left.date, color_scheme="violet", variant="solid", position="absolute", top="8px",
                 left="8px", pointer_events="none", z_index="2"),
        rx.badge("B · ", t.right.date, color_scheme="violet", variant="solid", position="absolute", top="8px",
                 right="8px", pointer_events="none", z_index="2"),
        position="relative", width="100%", max_width="720px", height=rx.breakpoints(initial="360px", md="520px"),
        border_radius="8px", overflow="hidden", background=rx.color("gray", 12), margin_x="auto",
        id="photo-compare-slider")
    return rx.vstack(
        rx.hstack(
            rx.text("Compare", size="3", weight="bold"),
            rx.segmented_control.root(
                rx.segmented_control.item("Side by side", value="side"),
                rx.segmented_control.item("Slider", value="slider"),
                value=t.mode, on_change=t.set_mode, size="1", id="photo-compare-mode"),
            justify="between", width="100%", align="center"),
        rx.cond(t.mode == "slider", slider,
                rx.grid(_pane(t.left, "A"), _pane(t.right, "B"), columns=rx.breakpoints(initial="1", sm="2"),
                        gap="12px", width="100%", id="photo-compare-side")),
        spacing="3", width="100%", id="photo-compare")


def photo_timeline_card() -> rx.Component:
    """The "Photo timeline" card: rendered only for photo.read (absent from the page otherwise)."""
    t = PhotoTimelineState
    return rx.cond(t.show_timeline, rx.card(rx.vstack(
        rx.flex(
            rx.hstack(rx.heading("Photo timeline", size="4"),
                      rx.badge(t.items.length(), " photos", color_scheme="gray", variant="soft"), align="center"),
            rx.hstack(_select(t.area, t.area_options, t.set_area, "timeline-area"),
                      _select(t.angle, t.angle_options, t.set_angle, "timeline-angle"), spacing="2", wrap="wrap"),
            justify="between", align="center", gap="12px", wrap="wrap", width="100%"),
        rx.cond(t.timeline_error != "", rx.callout(t.timeline_error, icon="circle-alert", color_scheme="red",
                                                   size="1", width="100%")),
        rx.cond(t.can_share & ~t.consent_signed,
                rx.text("Shared photos appear in the client's portal once they sign the photo consent.", size="1",
                        color_scheme="amber", id="timeline-consent-note")),
        rx.cond(t.items.length() > 0,
                rx.flex(rx.foreach(t.items, _item), gap="14px", overflow_x="auto", width="100%", padding_bottom="6px",
                        id="timeline-list"),
                rx.text("No photos match.", size="2", color_scheme="gray")),
        rx.cond((t.left.id > 0) & (t.right.id > 0), _comparison(),
                rx.cond(t.items.length() == 1, rx.text("Add a second photo to compare.", size="2",
                                                       color_scheme="gray"))),
        spacing="4", width="100%"), width="100%", id="profile-photo-timeline"))
