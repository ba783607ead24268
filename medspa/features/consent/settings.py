"""The "Consents" tab of /settings (owner and manager: consent.manage): the clinic's consent
templates, an editor with a live preview of what the client reads, and each template's versions
(how many signatures each has). Saving an unsigned version changes it in place; saving a
signed one makes a new version (the domain decides and says which). Loads itself on mount;
every handler re-checks the session and the permission (StaffState._act); template ids the
browser sends must be ones this state listed."""

from __future__ import annotations

import dataclasses

import reflex as rx

from medspa.domain.clinical import consent_actions as actions
from medspa.domain.clinical.consent import TemplateInfo
from medspa.domain.errors import ValidationFailed
from medspa.features.auth.state import StaffState
from medspa.web.inputs import parse_id


@dataclasses.dataclass
class VersionRow:
    """One version in the history list."""

    version: int = 0
    title: str = ""
    sha: str = ""  # first 12 hex digits
    signatures: int = 0
    edited_by: str = ""
    made: str = ""  # when the version was made (clinic-local)


@dataclasses.dataclass
class TemplateRow:
    """A template in the list (current version)."""

    id: int = 0
    title: str = ""
    version: int = 0
    signed: bool = False
    default_for: str = ""


@dataclasses.dataclass
class ServiceRow:
    """A service and its requirement of the selected template."""

    id: int = 0
    name: str = ""
    category: str = ""
    choice: str = "default"  # default | required | not_required
    applies: str = ""  # "Required" / "Not required" (what applies now)
    default_label: str = ""  # "Default: required" / "Default: not required"


CHOICES = ("default", "required", "not_required")


def _row(t: TemplateInfo) -> TemplateRow:
    return TemplateRow(t.id, t.title, t.version, t.signed, t.default_for)


class ConsentSettingsState(StaffState):
    """The consent templates tab."""

    allowed: bool = False
    templates: list[TemplateRow] = []
    selected: int = 0
    title: str = ""
    body: str = ""
    signed: bool = False
    versions: list[VersionRow] = []
    services: list[ServiceRow] = []
    errors: dict[str, str] = {}
    notice: str = ""
    busy: bool = False
    _infos: dict[int, TemplateInfo] = {}

    async def _fetch(self) -> bool:
        done = await self._act(actions.fetch_consent_templates)
        if done.redirect is not None or done.error:
            self.allowed, self.templates, self._infos = False, [], {}
            return False
        self._infos = {t.id: t for t in done.value}
        self.templates, self.allowed = [_row(t) for t in done.value], True
        return True

    def _select(self, template_id: int) -> None:
        t = self._infos.get(template_id)
        if t is None:
            return
        self.selected, self.title, self.body, self.signed = t.id, t.title, t.body, t.signed
        self.versions = [VersionRow(v.version, v.title, v.sha256[:12], v.signatures, v.updated_label, v.made_label)
                         for v in t.versions]
        self.errors = {}

    async def _load_services(self) -> None:
        done = await self._act(actions.fetch_service_choices, self.selected)
        if done.redirect is not None or done.error:
            self.services = []
            return
        self.services = [ServiceRow(c.service_id, c.name, c.category, c.choice,
                                    "Required" if c.required else "Not required",
                                    "Default: required" if c.by_default else "Default: not required")
                         for c in done.value]

    @rx.event
    async def set_service_choice(self, service_id: int, choice: str):
        """A listed service's own choice for the selected template ("default" follows the category)."""
        sid = parse_id(service_id)
        if (not self.allowed or sid is None or choice not in CHOICES or self.selected not in self._infos
                or sid not in [r.id for r in self.services]):
            return
        required = None if choice == "default" else choice == "required"
        done = await self._act(actions.do_set_service_consent, sid, self.selected, required)
        if done.redirect is not None:
            return done.redirect
        await self._load_services()

    @rx.event
    async def load(self):
        """on_mount: the templates (consent.manage), the first one opened in the editor."""
        self.notice = ""
        if await self._fetch() and self.templates:
            self._select(self.selected if self.selected in self._infos else self.templates[0].id)
            await self._load_services()

    @rx.event
    async def pick(self, template_id: int):
        """Open a listed template in the editor."""
        tid = parse_id(template_id)
        if tid is not None and tid in self._infos:
            self._select(tid)
            self.notice = ""
            await self._load_services()

    @rx.event
    def set_title(self, value: str):
        if self.allowed and isinstance(value, str):
            self.title, self.notice = value[:200], ""

    @rx.event
    def set_body(self, value: str):
        if self.allowed and isinstance(value, str):
            self.body, self.notice = value[:25_000], ""

    @rx.event
    async def save(self):
        """Save the text: in place while unsigned, else as a new version."""
        if not self.allowed or self.selected not in self._infos or self.busy:
            return
        self.busy, self.errors, self.notice = True, {}, ""
        yield
        try:
            done = await self._act(actions.do_edit_consent_template, self.selected, self.title, self.body)
        except ValidationFailed as exc:
            self.busy, self.errors = False, exc.fields
            return
        self.busy = False
        if done.redirect is not None:
            yield done.redirect
            return
        if done.error:
            self.allowed = False
            return
        version, new = done.value
        await self._fetch()
        self._select(self.selected)
        self.notice = (f"Saved as version {version}: clients who signed an earlier version sign again before "
                       "their next chart." if new else f"Saved (version {version}, not signed by anyone yet).")


S = ConsentSettingsState


def _template_item(t: TemplateRow) -> rx.Component:
    return rx.box(
        rx.text(t.title, weight="medium", size="2"),
        rx.text("Version ", t.version, rx.cond(t.signed, " · signed", " · not signed yet"), size="1",
                color_scheme="gray"),
        rx.text(t.default_for, size="1", color_scheme="gray"),
        on_click=S.pick(t.id),
        padding="10px 12px",
        border_radius="8px",
        cursor="pointer",
        background=rx.cond(S.selected == t.id, rx.color("teal", 3), "transparent"),
        _hover={"background": rx.color("gray", 3)},
        class_name="consent-template",
        width="100%",
    )


def _version_row(v: VersionRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell("v", v.version),
        rx.table.cell(v.made, white_space="nowrap"),
        rx.table.cell(v.title),
        rx.table.cell(rx.code(v.sha, size="1")),
        rx.table.cell(v.signatures),
        rx.table.cell(v.edited_by),
    )


def _service_row(r: ServiceRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(r.name, weight="medium"), rx.text(r.category, size="1", color_scheme="gray")),
        rx.table.cell(rx.badge(r.applies, color_scheme=rx.cond(r.applies == "Required", "teal", "gray"))),
        rx.table.cell(rx.select.root(
            rx.select.trigger(),
            rx.select.content(rx.select.item(r.default_label, value="default"),
                              rx.select.item("Always required", value="required"),
                              rx.select.item("Never required", value="not_required")),
            value=r.choice, on_change=lambda v: S.set_service_choice(r.id, v), size="1"),
            class_name="consent-service-choice"),
    )


def _error(name: str) -> rx.Component:
    return rx.cond(S.errors[name], rx.text(S.errors[name], color_scheme="red", size="1", class_name="field-error"))


def _editor() -> rx.Component:
    return rx.vstack(
        rx.cond(S.signed, rx.callout("Signed by clients: saving makes a new version. Earlier signatures stay with "
                                     "the version they signed.", icon="info", size="1", color_scheme="blue",
                                     width="100%")),
        rx.text("Title", size="2", weight="medium"),
        rx.input(value=S.title, on_change=S.set_title.debounce(300), width="100%", id="consent-edit-title"),
        _error("title"),
        rx.text("Text", size="2", weight="medium"),
        rx.text_area(value=S.body, on_change=S.set_body.debounce(300), rows="14", width="100%",
                     id="consent-edit-body", resize="vertical"),
        _error("body"),
        rx.hstack(
            rx.button(rx.icon("save", size=14), "Save", on_click=S.save, loading=S.busy, size="2",
                      id="consent-edit-save"),
            rx.cond(S.notice, rx.text(S.notice, size="2", color_scheme="teal", id="consent-edit-notice")),
            align="center", spacing="3", wrap="wrap",
        ),
        spacing="2", width="100%",
    )


def _preview() -> rx.Component:
    return rx.vstack(
        rx.text("Preview: what the client reads", size="2", weight="medium", color_scheme="gray"),
        rx.box(
            rx.heading(S.title, size="4", as_="h4"),
            rx.text(S.body, white_space="pre-wrap", size="2", line_height="1.6", margin_top="8px"),
            padding="16px", border_radius="10px", background="white", border=f"1px solid {rx.color('gray', 5)}",
            max_height="30em", overflow_y="auto", width="100%", id="consent-preview",
        ),
        spacing="2", width="100%",
    )


def consents_settings_tab() -> rx.Component:
    """The settings "Consents" tab (loads itself; nothing without consent.manage)."""
    return rx.box(
        rx.cond(S.allowed, rx.flex(
            rx.vstack(rx.foreach(S.templates, _template_item), spacing="1",
                      width=rx.breakpoints(initial="100%", md="300px"), flex_shrink="0"),
            rx.vstack(
                rx.grid(_editor(), _preview(), columns=rx.breakpoints(initial="1", lg="2"), spacing="4",
                        width="100%"),
                rx.text("Which services require it", size="3", weight="bold"),
                rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                                   ("Service", "Now", "Choice")])),
                    rx.table.body(rx.foreach(S.services, _service_row)), size="1", width="100%",
                    id="consent-services"),
                rx.text("Versions", size="3", weight="bold"),
                rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                                   ("Version", "Made", "Title", "SHA-256", "Signatures", "Edited by")])),
                    rx.table.body(rx.foreach(S.versions, _version_row)), size="1", width="100%",
                    id="consent-versions"),
                spacing="3", width="100%",
            ),
            direction=rx.breakpoints(initial="column", md="row"), gap="5", width="100%",
        ), rx.text("Only owners and managers edit consents.", color_scheme="gray", size="2")),
        on_mount=S.load,
        width="100%",
        id="settings-consents",
    )
