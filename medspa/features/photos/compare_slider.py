"""react-compare-slider 4.0.0 wrapped for Reflex (shared/WIDGETS.md §1, checked in a browser).

Never give CompareSlider an `id=`: Reflex then passes a `ref` and the slider ignores drags.
Put ids on a wrapping box or use custom_attrs."""

from __future__ import annotations

import reflex as rx


class CompareSliderImage(rx.Component):
    """One of the two images (an <img> filling the slider: object-fit cover by default)."""

    library = "react-compare-slider@4.0.0"
    tag = "ReactCompareSliderImage"
    src: rx.Var[str]
    alt: rx.Var[str]


class CompareSlider(rx.Component):
    """Two images over each other with a draggable divider (item_one left, item_two right)."""

    library = "react-compare-slider@4.0.0"
    tag = "ReactCompareSlider"
    item_one: rx.Var[rx.Component]
    item_two: rx.Var[rx.Component]
    default_position: rx.Var[float]
    only_handle_draggable: rx.Var[bool]
    portrait: rx.Var[bool]
