"""Drag and drop on the calendar grids: dnd-kit (@dnd-kit/core) wrapped by our own small
JSX file (dnd_calendar.jsx, beside this module; shipped with the app through rx.asset).

The browser only says what was dropped where: `on_move(item_id, target_id, dy_px)`; the
state (move.py) checks both ids against what this tab showed and the server re-checks the
visit's availability. Item ids are "a<appointment id>" (or "a<id>@<column id>" in the rooms
view, where one visit shows in a room and a device column); targets are "c<column id>"
(day grid) or "w<provider id>_<YYYY-MM-DD>" (week grid).
"""

from __future__ import annotations

import reflex as rx

_LIBRARY = rx.asset("dnd_calendar.jsx", shared=True).importable_path
_DND_KIT = ["@dnd-kit/core@6.3.1"]


class CalendarDnd(rx.Component):
    """The drag-and-drop area of one grid (renders only its children)."""

    library = _LIBRARY
    tag = "CalendarDnd"
    lib_dependencies: list[str] = _DND_KIT
    snap_px: rx.Var[float]  # the day grid's row height in px (0: no vertical snap, the week grid)
    px_per_minute: rx.Var[float]  # the day grid's scale (0: the week grid, no time badge while dragging)
    settle: rx.Var[int]  # changes when the server answered a move: dropped blocks are redrawn from state
    on_move: rx.EventHandler[rx.event.passthrough_event_spec(str, str, int)]


class DragItem(rx.Component):
    """A movable visit (a day block, absolutely placed with at_*; or a week chip)."""

    library = _LIBRARY
    tag = "DragItem"
    lib_dependencies: list[str] = _DND_KIT
    drag_id: rx.Var[str]
    home: rx.Var[str]  # the drop target it sits in
    movable: rx.Var[bool]
    minute: rx.Var[int]  # its start, minutes after local midnight (day grid: the badge while dragging)
    at_top: rx.Var[str]
    at_left: rx.Var[str]
    at_width: rx.Var[str]
    at_height: rx.Var[str]


class DropZone(rx.Component):
    """A drop target: a day-grid column (at_left/at_width) or a week cell."""

    library = _LIBRARY
    tag = "DropZone"
    lib_dependencies: list[str] = _DND_KIT
    drop_id: rx.Var[str]
    at_left: rx.Var[str]
    at_width: rx.Var[str]


calendar_dnd = CalendarDnd.create
drag_item = DragItem.create
drop_zone = DropZone.create
