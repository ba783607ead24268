"""State of /clients/import: upload -> map the columns -> review every row -> import -> summary.

The file's bytes stay on the server (a backend var, never sent to the browser) and go to the
domain at each step (medspa/domain/clients/import_actions.py): nothing is written before the
user presses Import, and then every row or none. Anything the browser sends back (a column
index, a line number, an action) is checked against what this state offered.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import reflex as rx

from medspa.domain.clients.import_actions import (
    IMPORT_FIELDS, MAX_BYTES, ImportLine, do_import_clients, do_review_import, fetch_import_preview)
from medspa.domain.errors import ValidationFailed
from medspa.features.auth.state import StaffState

NONE = "none"  # the select value of "not in the file"
ORDERS = {"dmy": "Day / month / year (25/12/1990)", "mdy": "Month / day / year (12/25/1990)"}
ACTION_LABELS = {"create": "Create", "merge": "Merge into existing", "skip": "Skip"}
TOO_LARGE = f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB: split it"
REVIEW_LIMIT = 500  # rows listed on the review screen (the counts cover all)
PROGRESS_SECONDS = 0.5  # how often a running import tells the page how far it got


class _Progress:
    """Rows done of rows, written by the import's worker thread, read by the page's handler."""

    def __init__(self) -> None:
        self.done = self.total = 0

    def update(self, done: int, total: int) -> None:
        self.done, self.total = done, total


@dataclass
class FieldChoice:
    """One field of the mapping form: its key, label and the chosen column ("none" or an index)."""

    field: str = ""
    label: str = ""
    column: str = NONE


@dataclass
class ColumnOption:
    """A column of the file as the mapping selects offer it."""

    value: str = ""
    label: str = ""


@dataclass
class LineView:
    """One row of the review or the summary."""

    line: int = 0
    action: str = ""
    action_label: str = ""
    name: str = ""
    reason: str = ""
    choosable: list[str] = ()  # type: ignore[assignment]
    flagged: bool = False  # a duplicate or an error: shown first


def _line_view(line: ImportLine) -> LineView:
    return LineView(line.line, line.action, ACTION_LABELS.get(line.action, line.action), line.name or "—",
                    line.reason, list(line.choosable), bool(line.reason))


class ClientImportState(StaffState):
    """What /clients/import shows; `step` is upload, map, review or done."""

    allowed: bool = False
    not_found: bool = False
    step: str = "upload"
    busy: bool = False
    filename: str = ""
    file_facts: str = ""  # "UTF-8 · semicolon · 120 rows"
    headers: list[str] = []
    preview_rows: list[list[str]] = []
    columns: list[ColumnOption] = []
    fields: list[FieldChoice] = []
    date_order: str = "mdy"
    file_error: str = ""
    mapping_error: str = ""
    date_error: str = ""
    lines: list[LineView] = []
    counts: str = ""
    more_lines: int = 0
    summary: str = ""
    skipped: list[LineView] = []
    progress: int = 0  # percent of the rows imported so far (while `busy`)
    progress_text: str = ""
    _data: bytes = b""
    _decisions: dict[int, str] = {}
    _choosable: dict[int, list[str]] = {}
    _actions: dict[int, str] = {}

    def _reset(self, step: str = "upload") -> None:
        self.step, self.busy, self.filename, self.file_facts = step, False, "", ""
        self.headers, self.preview_rows, self.columns, self.fields = [], [], [], []
        self.file_error = self.mapping_error = self.date_error = self.counts = self.summary = ""
        self.lines, self.skipped, self.more_lines = [], [], 0
        self._data, self._decisions, self._choosable, self._actions = b"", {}, {}, {}

    def _mapping(self) -> dict[str, int]:
        return {f.field: int(f.column) for f in self.fields if f.column != NONE}

    @rx.event
    async def load(self):
        """on_load: owners and managers (client.import) see the page; others a "not found"."""
        actor = await self._staff_actor()
        if actor is None:
            return self._to_login()
        self.allowed = actor.can("client.import")
        self.not_found = not self.allowed
        self._reset()
        return None

    @rx.event
    async def upload(self, files: list[rx.UploadFile]):
        """Read the chosen file (size checked here, the rest in the domain) and guess the mapping."""
        if not isinstance(files, list) or len(files) != 1:
            self.file_error = "Choose one file." if not files else "Import one file at a time."
            return
        upload = files[0]
        if not hasattr(upload, "read"):
            self.file_error = "Choose one file."
            return
        data = await upload.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            self.file_error = TOO_LARGE
            return
        name = str(getattr(upload, "name", None) or getattr(upload, "filename", None) or "clients.csv")[-200:]
        self.busy = True
        yield
        try:
            done = await self._act(fetch_import_preview, data, name)
        except ValidationFailed as exc:
            self.busy, self.file_error = False, exc.fields.get("file", "This file cannot be read.")
            return
        self.busy = False
        if not done.ok:
            self.allowed, self.not_found = False, bool(done.error)
            yield done.redirect
            return
        preview = done.value
        self._reset("map")
        self._data, self.filename = data, name
        self.file_facts = f"{preview.encoding} · {preview.separator} · {preview.row_count:,} rows"
        self.headers, self.preview_rows = preview.headers, preview.first_rows
        self.columns = [ColumnOption(NONE, "Not in the file")] + [
            ColumnOption(str(i), h or f"Column {i + 1}") for i, h in enumerate(preview.headers)]
        self.fields = [FieldChoice(f, label, str(preview.mapping[f]) if f in preview.mapping else NONE)
                       for f, label in IMPORT_FIELDS.items()]

    @rx.event
    def set_column(self, field: str, column: str):
        """Map `field` to a column of the file (or to none)."""
        valid = {c.value for c in self.columns}
        if self.step != "map" or not isinstance(column, str) or column not in valid:
            return
        self.fields = [FieldChoice(f.field, f.label, column if f.field == field else f.column) for f in self.fields]
        self.mapping_error = ""

    @rx.event
    def set_date_order(self, order: str):
        """Day-first or month-first for dates that are not ISO."""
        if isinstance(order, str) and order in ORDERS:
            self.date_order, self.date_error = order, ""

    def _show_review(self, review) -> None:
        flagged = sorted(review.lines, key=lambda ln: (not ln.reason, ln.line))
        self.lines = [_line_view(ln) for ln in flagged[:REVIEW_LIMIT]]
        self.more_lines = max(0, len(review.lines) - REVIEW_LIMIT)
        self._choosable = {ln.line: list(ln.choosable) for ln in review.lines}
        self._actions = {ln.line: ln.action for ln in review.lines}
        self._count()

    def _count(self) -> None:
        actions = list(self._actions.values())
        self.counts = (f"{actions.count('create'):,} new · {actions.count('merge'):,} merged into existing clients · "
                       f"{actions.count('skip'):,} skipped")

    async def _review(self) -> bool:
        """Plan every row with the current mapping, order and decisions; False on a field error."""
        try:
            done = await self._act(do_review_import, self._data, self.filename, self._mapping(), self.date_order,
                                   dict(self._decisions))
        except ValidationFailed as exc:
            self.file_error = exc.fields.get("file", "")
            self.mapping_error = exc.fields.get("mapping", "")
            self.date_error = exc.fields.get("date_order", "")
            return False
        if not done.ok:
            self._reset()
            self.allowed, self.not_found = False, bool(done.error)
            return False
        self._show_review(done.value)
        return True

    @rx.event
    async def review(self):
        """Check every row against the clinic's clients before anything is written."""
        if self.step not in ("map", "review") or not self._data:
            return
        self.busy = True
        yield
        if await self._review():
            self.step = "review"
        self.busy = False

    @rx.event
    def choose(self, line: int, action: str):
        """The user's decision for a listed duplicate (only the actions offered for that row)."""
        if self.step != "review" or not isinstance(line, int) or isinstance(line, bool):
            return
        if not isinstance(action, str) or action not in self._choosable.get(line, []):
            return
        self._decisions[line] = self._actions[line] = action
        self.lines = [LineView(v.line, action, ACTION_LABELS[action], v.name, v.reason, v.choosable, v.flagged)
                      if v.line == line else v for v in self.lines]
        self._count()

    @rx.event
    def back(self):
        """From the review back to the mapping (decisions kept)."""
        if self.step == "review":
            self.step = "map"

    @rx.event
    def start_over(self):
        """Forget the file and begin again."""
        self._reset()

    @rx.event
    async def run_import(self):
        """Import every row or none (one transaction), then show what became of each."""
        if self.step != "review" or not self._data:
            return
        self.busy, self.progress, self.progress_text = True, 0, "Starting…"
        yield
        tracker = _Progress()
        task = asyncio.ensure_future(self._act(do_import_clients, self._data, self.filename, self._mapping(),
                                               self.date_order, dict(self._decisions), progress=tracker.update))
        while not task.done():  # the import runs in a worker thread; the page hears how far it got
            await asyncio.wait({task}, timeout=PROGRESS_SECONDS)
            if tracker.total and not task.done():
                self.progress = tracker.done * 100 // tracker.total
                self.progress_text = f"{tracker.done:,} of {tracker.total:,} rows"
                yield
        try:
            done = task.result()
        except ValidationFailed as exc:
            self.busy, self.step = False, "map"
            self.mapping_error = exc.fields.get("mapping", "") or exc.fields.get("file", "")
            self.date_error = exc.fields.get("date_order", "")
            return
        self.busy = False
        if not done.ok:
            self._reset()
            self.allowed, self.not_found = False, bool(done.error)
            yield done.redirect
            return
        result = done.value
        name, names = self.filename, {v.line: v.name for v in self.lines}
        self._reset("done")
        self.filename = name
        self.summary = (f"{len(result.created):,} clients created, {len(result.merged):,} merged into existing "
                        f"clients, {len(result.skipped):,} skipped.")
        self.skipped = [LineView(line, "skip", "Skipped", names.get(line, ""), reason, [], True)
                        for line, reason in result.skipped[:REVIEW_LIMIT]]
