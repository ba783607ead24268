"""Every page's form controls are submitted by name, not by id.

Reflex 0.10.1 still sends a control with a static `id` and no `name` in its form's data,
warns that this is deprecated, and 0.11 drops it (reflex_components_core forms.py
`_deprecate_id_only_form_controls`): a form read by id would then silently lose the field.
This evaluates every registered page and fails on any such warning.
"""

from __future__ import annotations

import pytest
from reflex_base.utils import console

import medspa.medspa as medspa_app


def test_no_page_submits_a_form_control_by_its_id(monkeypatch: pytest.MonkeyPatch) -> None:
    warned: list[str] = []
    real_deprecate = console.deprecate

    def record(feature_name: str, *args, **kwargs):
        if "form control" in feature_name:
            warned.append(feature_name)
            return None
        return real_deprecate(feature_name, *args, **kwargs)

    monkeypatch.setattr(console, "deprecate", record)
    app = medspa_app.app
    routes = list(app._unevaluated_pages)
    assert len(routes) > 20  # the staff app, the public pages and the portal are all registered
    for route in routes:
        component = app._unevaluated_pages[route].component
        component() if callable(component) else component
    assert warned == []
