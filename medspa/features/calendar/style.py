"""Sizes and patterns the calendar's components share."""

from __future__ import annotations

import reflex as rx

GUTTER = "64px"
PANEL_WIDTH = "380px"  # the detail panel docks at the right; the page makes room for it
HEADER_HEIGHT = "64px"
HATCH = (f"repeating-linear-gradient(135deg, {rx.color('gray', 2)} 0 6px, {rx.color('gray', 3)} 6px 7px)")
TIME_OFF_HATCH = "repeating-linear-gradient(135deg, var(--amber-2) 0 7px, var(--amber-4) 7px 9px)"
MAINTENANCE_HATCH = "repeating-linear-gradient(135deg, var(--orange-2) 0 7px, var(--orange-4) 7px 9px)"
CLOSED_HATCH = "repeating-linear-gradient(135deg, var(--gray-3) 0 7px, var(--gray-5) 7px 9px)"
