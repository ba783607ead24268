"""The chart draft's safety net (issue 18): autosave as the provider types, and a copy in the
browser's localStorage offered back after a reload or a reconnect.

- draft_keeper.jsx (beside this module) writes the form to localStorage on every keystroke, in
  the browser, so a dropped websocket or a reload loses nothing typed in this browser; it asks
  the server to save after AUTOSAVE_IDLE_MS without typing (at least every AUTOSAVE_MAX_MS while
  typing): the server holds the draft at most ~10 seconds behind the keyboard.
- After a (re)load it compares its copy with the server's draft; when they differ the page
  offers "Restore unsaved changes from this browser, 10:42 AM" (Restore / Discard).
- The copy is removed when the draft is saved, signed or amended (ChartState.draft_sync.clear),
  discarded, or older than 24 hours; nothing is kept while the form equals the server's draft.

An autosave is the "Save draft" action (clinical.actions.do_save_chart, validated and audited
like any save) but it does not redraw the form (the provider keeps typing) and shows no field
messages while typing: an incomplete line waits ("Not saved yet: ...") until Save or Sign.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from datetime import datetime

import reflex as rx

from medspa.clock import app_clock
from medspa.domain.clinical import actions
from medspa.domain.clinical.service import MAX_LINES, ChartLocked
from medspa.domain.errors import ValidationFailed
from medspa.domain.timezones import format_clinic_clock
from medspa.features.charting.state import FIELD_LIMIT, ChartState, RowView, draft_to_json

AUTOSAVE_IDLE_MS = 3000
AUTOSAVE_MAX_MS = 10000
_COPY_LIMIT = 200_000  # characters of a copy the browser may hand back


class DraftKeeper(rx.Component):
    """The invisible keeper of the browser's copy (draft_keeper.jsx)."""

    library = rx.asset("draft_keeper.jsx", shared=True).importable_path
    tag = "DraftKeeper"
    storage_key: rx.Var[str]
    current: rx.Var[str]
    server: rx.Var[str]
    clear_token: rx.Var[int]
    idle_ms: rx.Var[int]
    max_ms: rx.Var[int]
    on_offer: rx.EventHandler[rx.event.passthrough_event_spec(str, str)]
    on_idle: rx.EventHandler[rx.event.no_args_event_spec]


def rows_from_copy(raw: object) -> tuple[list[RowView], str] | None:
    """The rows and note of a browser copy ({"draft": {"rows": [...], "note": str}}), only the
    known text fields of RowView (each at most FIELD_LIMIT characters), or None when unreadable."""
    if not isinstance(raw, str) or len(raw) > _COPY_LIMIT:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    draft = data.get("draft") if isinstance(data, dict) else None
    if not isinstance(draft, dict) or not isinstance(draft.get("rows"), list) or not isinstance(draft.get("note", ""), str):
        return None
    fields = {f.name: f for f in dataclasses.fields(RowView) if not f.name.endswith("_error")}
    rows: list[RowView] = []
    for item in draft["rows"][:MAX_LINES]:
        if not isinstance(item, dict):
            return None
        values = {}
        for name, value in item.items():
            if name not in fields:
                continue
            default = fields[name].default
            if isinstance(default, str) and isinstance(value, str):
                values[name] = value[:FIELD_LIMIT]
            elif value is None or (isinstance(value, int) and not isinstance(value, bool)):
                values[name] = value  # numeric fields of other pieces (ids, a face-map point)
        rows.append(RowView(**values))
    return rows, draft.get("note", "")[:10_000]


class ChartDraftState(ChartState):
    """The restore offer and the autosave status of /chart/<id>."""

    draft_offer: str = ""  # "Restore unsaved changes from this browser, 10:42 AM" or ""
    autosave_label: str = ""  # "Saved automatically at 2:03 PM" / "Not saved yet: ..."
    _draft_copy: str = ""
    _draft_copy_key: str = ""  # the chart version the copy is for

    @rx.event
    async def load_draft(self):
        """on_load after the chart: drop an offer or a status of another chart or version."""
        if self._draft_copy_key != self.draft_sync.key:
            self.draft_offer, self._draft_copy, self._draft_copy_key = "", "", ""
        self.autosave_label = ""

    @rx.event
    async def offer_restore(self, copy: str, label: str):
        """The browser holds a copy that differs from the server's draft: offer it."""
        actor, redirect = await self._charting("chart.write")
        if actor is None:
            return redirect
        if not self.editable or rows_from_copy(copy) is None:
            return
        clock = label.strip()[:20] if isinstance(label, str) else ""
        self._draft_copy, self._draft_copy_key = copy, self.draft_sync.key
        self.draft_offer = "Restore unsaved changes from this browser" + (f", {clock}" if clock else "")

    @rx.event
    async def restore_draft(self):
        """Put the browser's copy into the form (saved by the next autosave or Save)."""
        actor, redirect = await self._charting("chart.write")
        if actor is None:
            return redirect
        same = self._draft_copy_key == self.draft_sync.key
        got = rows_from_copy(self._draft_copy) if self.editable and same else None
        self.draft_offer, self._draft_copy = "", ""
        if got is None:
            return
        rows, note = got
        self.rows = rows or [RowView()]
        self.note, self.notice, self.error = note, "Restored the unsaved changes from this browser.", ""

    @rx.event
    async def discard_draft(self):
        """Forget the browser's copy."""
        actor, redirect = await self._charting("chart.write")
        if actor is None:
            return redirect
        self.draft_offer, self._draft_copy = "", ""
        self.draft_sync = dataclasses.replace(self.draft_sync, clear=self.draft_sync.clear + 1)

    @rx.event
    async def autosave(self):
        """Save the draft as typed, without redrawing the form (the browser asked: idle)."""
        if not self.editable or self.busy or self.status != "ready" or self.draft_offer:
            return
        sent = draft_to_json(self.rows, self.note)
        if sent == self.draft_sync.server:
            return
        try:
            save = functools.partial(actions.do_save_chart, settings=self._settings())
            chart, redirect = await self._chart_act(save, self._lines(), self.note)
        except ValidationFailed:
            self.autosave_label, self.notice = "Not saved yet: complete the lines, then Save draft.", ""
            return
        except ChartLocked as exc:
            self.autosave_label, self.notice = f"Not saved: {exc}", ""
            return
        if chart is None:
            return redirect
        self.draft_sync = dataclasses.replace(self.draft_sync, server=sent)
        self.version, self.chart_status = chart.version, chart.status
        now: datetime = app_clock().now()
        self.autosave_label = f"Saved automatically at {format_clinic_clock(now, chart.time_zone)}"
        self.notice = ""  # the newest word on saving is this one (a manual save's notice hides it again)


def draft_keeper() -> rx.Component:
    """The keeper component and the restore offer (put it above the chart's lines)."""
    d = ChartDraftState
    return rx.fragment(
        DraftKeeper.create(storage_key=d.draft_sync.key, current=d.draft_json, server=d.draft_sync.server,
                           clear_token=d.draft_sync.clear, idle_ms=AUTOSAVE_IDLE_MS, max_ms=AUTOSAVE_MAX_MS,
                           on_offer=d.offer_restore, on_idle=d.autosave),
        rx.cond(d.draft_offer != "", rx.callout.root(
            rx.hstack(
                rx.hstack(rx.icon("history", size=16), rx.text(d.draft_offer, size="2", weight="medium",
                                                               id="chart-restore-text"),
                          spacing="2", align="center"),
                rx.hstack(
                    rx.button("Discard", size="1", variant="soft", color_scheme="gray", on_click=d.discard_draft,
                              id="chart-restore-discard"),
                    rx.button(rx.icon("rotate-ccw", size=14), "Restore", size="1", on_click=d.restore_draft,
                              id="chart-restore"),
                    spacing="2"),
                justify="between", align="center", width="100%", wrap="wrap", spacing="3"),
            color_scheme="amber", size="1", width="100%", id="chart-restore-offer")),
    )


def autosave_status() -> rx.Component:
    """"Saved automatically at 2:03 PM" under the note (or why it waits), unless a Save, Sign or
    Amend said something since (its notice is newer; user trial: "Not saved yet" beside "Draft saved.")."""
    d = ChartDraftState
    return rx.cond((d.autosave_label != "") & (d.notice == ""), rx.text(d.autosave_label, size="1", color_scheme="gray",
                                                   id="chart-autosave"))
