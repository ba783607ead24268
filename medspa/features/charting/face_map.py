"""The chart's face map (issue 18): the SVG diagram component (face_map.jsx), the events that
add and remove a line's point, and the panel with the totals per product.

A click on a view adds a treatment line with its point and the area guessed from the region
clicked (domain/clinical/face_map.area_at); the new line copies the product and lot of the
last line that has one, so a provider picks the product and lot once and then types units.
The point's line is edited in the chart's row editor; each row shows its dot's number.
Mixed into ChartState (features/charting/state.py), which owns the rows and the save.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from medspa.domain.clinical import face_map
from medspa.domain.clinical.service import FACE_VIEWS, MAX_LINES, parse_units


class FaceMap(rx.Component):
    """The diagram: views (static shapes), points [{n, view, x, y, colour, label}], editable,
    selected (a point's number); on_add(view, x, y) and on_pick(n) from the browser."""

    library = rx.asset("face_map.jsx", shared=True).importable_path
    tag = "FaceMap"
    views: rx.Var[list[dict[str, Any]]]
    points: rx.Var[list[dict[str, Any]]]
    editable: rx.Var[bool]
    selected: rx.Var[int]
    on_add: rx.EventHandler[rx.event.passthrough_event_spec(str, int, int)]
    on_pick: rx.EventHandler[rx.event.passthrough_event_spec(int)]


VIEWS = [{"view": v, "label": face_map.VIEW_LABELS[v], "shapes": face_map.drawing(v)} for v in FACE_VIEWS]


def _tenths(units: str) -> int:
    try:
        return parse_units(units)
    except ValueError:
        return 0


@dataclasses.dataclass
class TotalView:
    """One product's total under the map: name, "24 units", dot colour."""

    product: str = ""
    amount: str = ""
    colour: str = ""


class FaceMapMixin(rx.State, mixin=True):
    """Points on the chart's rows (see the module docstring). Needs the host's `rows`
    (RowView with view/x/y), `editable`, `notice`, `_charting` and `_new_row()`."""

    selected_point: int = 0  # the line number (1-based) whose dot is highlighted

    @rx.var
    def face_points(self) -> list[dict[str, Any]]:
        """The numbered dots: one per row with a point, coloured per product."""
        rows = self.rows  # type: ignore[attr-defined]
        colours = face_map.product_colours([r.product for r in rows])
        out = []
        for i, r in enumerate(rows):
            if r.view in FACE_VIEWS:
                label = " ".join(p for p in (f"{i + 1}.", r.product or "(no product)",
                                             f"{r.units} {getattr(r, 'unit', '') or 'units'}" if r.units else "",
                                             r.treatment_area) if p)
                out.append({"n": i + 1, "view": r.view, "x": r.x, "y": r.y,
                            "colour": colours.get(r.product.strip().lower(), "#52525b"), "label": label})
        return out

    @rx.var
    def row_colours(self) -> list[str]:
        """Per row: its dot's colour, "" when the row has no point."""
        rows = self.rows  # type: ignore[attr-defined]
        colours = face_map.product_colours([r.product for r in rows])
        return [colours.get(r.product.strip().lower(), "#52525b") if r.view in FACE_VIEWS else "" for r in rows]

    @rx.var
    def product_totals(self) -> list[TotalView]:
        """Totals per product (units or mL) of every line, points or not."""
        rows = self.rows  # type: ignore[attr-defined]
        colours = face_map.product_colours([r.product for r in rows])
        totals = face_map.product_totals([(r.product, getattr(r, "unit", "") or "units", _tenths(r.units))
                                          for r in rows])
        return [TotalView(t.product, t.label, colours.get(t.product.lower(), "#52525b")) for t in totals]

    @rx.event
    async def add_point(self, view: str, x: int, y: int):
        """A click on the diagram: a new line with this point and the guessed area (or the
        empty last line takes it)."""
        actor, redirect = await self._charting("chart.write")  # type: ignore[attr-defined]
        if actor is None:
            return redirect
        try:
            view, x, y = face_map.clean_point(view, x, y)
        except ValueError:
            return
        if not self.editable or view is None:  # type: ignore[attr-defined]
            return
        rows = list(self.rows)  # type: ignore[attr-defined]
        last = rows[-1] if rows else None
        fill_last = last is not None and not any((last.product.strip(), last.lot_number.strip(), last.units.strip(),
                                                  last.treatment_area, last.view))
        source = next((r for r in reversed(rows) if r.product.strip()), None) or last or self._new_row()  # type: ignore[attr-defined]
        errors = {f.name: "" for f in dataclasses.fields(source) if f.name.endswith("_error")}
        new = dataclasses.replace(source, units="", treatment_area=face_map.area_at(view, x, y), view=view, x=x, y=y,
                                  **errors)
        if fill_last:
            rows[-1] = new
        elif len(rows) < MAX_LINES:
            rows.append(new)
        else:
            return
        self.rows, self.selected_point, self.notice = rows, len(rows), ""  # type: ignore[attr-defined]

    @rx.event
    async def pick_point(self, number: int):
        """A click on a dot: highlight it and its line."""
        actor, redirect = await self._charting("chart.read")  # type: ignore[attr-defined]
        if actor is None:
            return redirect
        if isinstance(number, int) and not isinstance(number, bool) and 0 < number <= len(self.rows):  # type: ignore[attr-defined]
            self.selected_point = 0 if self.selected_point == number else number

    @rx.event
    async def remove_point(self, index: int):
        """Take the point off line `index` (the line stays)."""
        actor, redirect = await self._charting("chart.write")  # type: ignore[attr-defined]
        if actor is None:
            return redirect
        rows = list(self.rows)  # type: ignore[attr-defined]
        if (self.editable and isinstance(index, int) and not isinstance(index, bool)  # type: ignore[attr-defined]
                and 0 <= index < len(rows)):
            rows[index] = dataclasses.replace(rows[index], view="", x=0, y=0, point_error="")
            self.rows, self.selected_point, self.notice = rows, 0, ""  # type: ignore[attr-defined]


def point_badge(s, colour, number, index, editable) -> rx.Component:
    """The row's dot number in its colour (and a button that takes the point off), or a dash.
    `s`: the chart's state class."""
    return rx.cond(
        colour != "",
        rx.hstack(
            rx.box(number, background=colour, color="white", border_radius="999px", min_width="22px", height="22px",
                   display="flex", align_items="center", justify_content="center", font_size="12px",
                   font_weight="700", class_name="line-point"),
            rx.cond(editable, rx.icon_button(rx.icon("x", size=12), size="1", variant="ghost", color_scheme="gray",
                                             on_click=s.remove_point(index), aria_label="Remove point",
                                             class_name="line-point-remove")),
            spacing="1", align="center"),
        rx.text("–", color_scheme="gray", size="2"),
    )


def _total(t: TotalView) -> rx.Component:
    return rx.hstack(
        rx.box(width="10px", height="10px", border_radius="999px", background=t.colour),
        rx.text(t.product, size="2", weight="medium"),
        rx.text(t.amount, size="2", color_scheme="gray"),
        spacing="2", align="center", class_name="face-total",
    )


def face_map_panel(s) -> rx.Component:
    """The face map card: the three views, the hint, and the totals per product (`s`: the
    chart's state class)."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Face map", size="4"),
                rx.cond(s.editable, rx.text("Click the face to add an injection point; set its units below.",
                                            size="1", color_scheme="gray")),
                justify="between", align="center", width="100%", wrap="wrap",
            ),
            FaceMap.create(views=VIEWS, points=s.face_points, editable=s.editable, selected=s.selected_point,
                           on_add=s.add_point, on_pick=s.pick_point, custom_attrs={"data-testid": "face-map"}),
            rx.cond(s.product_totals.length() > 0,
                    rx.hstack(rx.text("Totals", size="2", weight="bold"), rx.foreach(s.product_totals, _total),
                              spacing="4", wrap="wrap", align="center", id="face-totals"),
                    rx.text("No products yet.", size="2", color_scheme="gray")),
            spacing="3", width="100%",
        ),
        width="100%", id="face-map-card",
    )
