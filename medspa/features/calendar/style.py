"""Sizes and patterns the calendar's components share."""

from __future__ import annotations

import reflex as rx

GUTTER = "64px"
PANEL_WIDTH = "380px"  # the detail panel docks at the right; the page makes room for it
HEADER_HEIGHT = "64px"
HATCH = (f"repeating-linear-gradient(135deg, {rx.color('gray', 2)} 0 6px, {rx.color('gray', 3)} 6px 7px)")
