"""The signature pad: react-signature-canvas 1.0.7 through the local shim signature_canvas.jsx
(the package is CommonJS only; see /work/shared/WIDGETS.md). on_save gets the PNG data URL,
or "" for an empty pad; no eval, no call_function."""

from __future__ import annotations

from typing import Any

import reflex as rx


class SignaturePad(rx.Component):
    """A drawn-signature pad with Clear and a save button (save_label) that calls on_save(data_url)."""

    library = rx.asset("signature_canvas.jsx", shared=True).importable_path
    tag = "SignaturePad"
    lib_dependencies: list[str] = ["react-signature-canvas@1.0.7", "prop-types@15.8.1"]
    pen_color: rx.Var[str]
    save_label: rx.Var[str]
    clear_label: rx.Var[str]
    disabled: rx.Var[bool]
    canvas_props: rx.Var[dict[str, Any]]
    on_save: rx.EventHandler[rx.event.passthrough_event_spec(str)]


signature_pad = SignaturePad.create
