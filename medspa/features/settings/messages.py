"""/settings, Messages tab (settings.write): the wording of every client message and the
clinic's message settings.

Left: the kinds grouped Transactional / Marketing. Right: the chosen kind's editor (channel
email / text, the service for kinds a service may word its own way, subject and body, the
variables it offers), a live preview on the clinic's next visit (or a sample one) with the
text's characters and segments, Save and Reset to default. Below: "Reminders and quiet hours"
(features/settings/message_settings.py).

Every public handler is an entry point: it re-checks the session and settings.write on the
server (StaffState._act -> messaging.template_actions, which checks again and audits) and
validates its arguments; a template that does not render, or a bad setting, gets its message
next to its field and nothing is saved.
"""

from __future__ import annotations

import dataclasses

import reflex as rx

from medspa.domain.errors import ValidationFailed
from medspa.domain.messaging import template_actions as actions
from medspa.domain.messaging.template_actions import Preview, TemplateView
from medspa.domain.messaging.templates import MAX_SOURCE, MAX_SUBJECT, SYNTAX_HELP
from medspa.features.auth.state import StaffState
from medspa.features.settings.state import Choice

INVALID = "inset 0 0 0 1px var(--red-8)"
SOURCE_WORDS = {"default": "Default wording", "clinic": "Your clinic's wording", "service": "This service's wording"}
CHANNEL_WORDS = {"email": "Email", "sms": "Text (SMS)"}
SAVED_WORDS = {"email": "by email", "sms": "by text message"}  # "Saved: clients now get this wording by email"


@dataclasses.dataclass
class KindRow:
    """A message kind in the list: key, label, group, and whether the clinic has its own wording."""

    key: str = ""
    label: str = ""
    group: str = ""
    custom: bool = False


class MessagesState(StaffState):
    """The Messages tab: the kinds, the editor, the preview and the message settings."""

    msg_ok: bool = False
    msg_kinds: list[KindRow] = []
    msg_services: list[Choice] = []
    msg_kind: str = "booking_confirmation"
    msg_label: str = ""
    msg_description: str = ""
    msg_channels: list[str] = []
    msg_per_service: bool = False
    msg_variables: list[str] = []
    msg_channel: str = "email"
    msg_service: str = "0"
    msg_subject: str = ""
    msg_body: str = ""
    msg_source: str = "default"
    msg_errors: dict[str, str] = {}
    msg_message: str = ""
    msg_error: str = ""
    msg_saving: bool = False
    pv_subject: str = ""
    pv_body: str = ""
    pv_sms: str = ""
    pv_chars: int = 0
    pv_segments: int = 0
    pv_basis: str = ""
    _kind_info: dict[str, dict] = {}

    # --- loading -------------------------------------------------------------------------

    def _fill_view(self, view: TemplateView) -> None:
        self.msg_subject, self.msg_body, self.msg_source = view.subject, view.body, view.source
        self.msg_errors = {}

    def _fill_preview(self, pv: Preview) -> None:
        self.pv_subject, self.pv_body, self.pv_sms = pv.email_subject, pv.email_body, pv.sms_body
        self.pv_chars, self.pv_segments, self.pv_basis = pv.sms_chars, pv.sms_segments, pv.basis
        self.msg_errors = dict(pv.errors)

    def _service_id(self) -> int | None:
        return int(self.msg_service) if self.msg_per_service and self.msg_service.isdigit() and \
            self.msg_service != "0" else None

    def _select_kind(self, key: str) -> None:
        info = self._kind_info[key]
        self.msg_kind, self.msg_label, self.msg_description = key, info["label"], info["description"]
        self.msg_channels, self.msg_per_service = list(info["channels"]), info["per_service"]
        self.msg_variables = list(info["variables"])
        if self.msg_channel not in self.msg_channels:
            self.msg_channel = self.msg_channels[0]
        if not self.msg_per_service:
            self.msg_service = "0"

    async def _open(self):
        """Read the chosen (kind, channel, service)'s wording and preview it; returns a redirect
        when signed out."""
        done = await self._act(actions.fetch_template, self.msg_kind, self.msg_channel, self._service_id())
        if done.redirect is not None:
            return done.redirect
        if done.error:
            self.msg_error = done.error
            return None
        self._fill_view(done.value)
        return await self._preview()

    async def _preview(self):
        done = await self._act(actions.preview_template, self.msg_kind, self.msg_channel, self.msg_subject,
                               self.msg_body, self._service_id())
        if done.redirect is not None:
            return done.redirect
        if done.ok:
            self._fill_preview(done.value)
        return None

    def _fill_page(self, page) -> None:
        self._kind_info = {k.key: dataclasses.asdict(k) for k in page.kinds}
        self.msg_kinds = [KindRow(k.key, k.label, k.group, bool(k.custom)) for k in page.kinds]
        self.msg_services = [Choice("0", "All services")] + [Choice(str(s.id), s.name) for s in page.services]

    @rx.event
    async def load_messages(self):
        """on_mount of the Messages tab: the kinds, the first kind's wording and its preview."""
        self.msg_message = self.msg_error = ""
        done = await self._act(actions.fetch_messages_page)
        if done.redirect is not None:
            return done.redirect
        self.msg_ok = done.ok
        if not done.ok:
            return
        self._fill_page(done.value)
        self._select_kind(self.msg_kind if self.msg_kind in self._kind_info else "booking_confirmation")
        return await self._open()

    # --- the editor ----------------------------------------------------------------------

    @rx.event
    async def pick_kind(self, key: str):
        """A kind chosen in the list."""
        if not self.msg_ok or not isinstance(key, str) or key not in self._kind_info:
            return
        self._select_kind(key)
        self.msg_message = self.msg_error = ""
        return await self._open()

    @rx.event
    async def pick_channel(self, value: str | list[str]):
        """Email or text."""
        if not self.msg_ok or not isinstance(value, str) or value not in self.msg_channels:
            return
        self.msg_channel, self.msg_message, self.msg_error = value, "", ""
        return await self._open()

    @rx.event
    async def pick_service(self, value: str | list[str]):
        """The service whose own wording is edited ("0": every service)."""
        if not self.msg_ok or not self.msg_per_service or not isinstance(value, str) or \
                value not in {c.value for c in self.msg_services}:
            return
        self.msg_service, self.msg_message, self.msg_error = value, "", ""
        return await self._open()

    @rx.event
    async def set_subject(self, value: str):
        """The subject typed (previewed at once)."""
        if not self.msg_ok or not isinstance(value, str) or len(value) > MAX_SUBJECT * 2:
            return
        self.msg_subject, self.msg_message = value, ""
        return await self._preview()

    @rx.event
    async def set_body(self, value: str):
        """The body typed (previewed at once)."""
        if not self.msg_ok or not isinstance(value, str) or len(value) > MAX_SOURCE + 1000:
            return
        self.msg_body, self.msg_message = value, ""
        return await self._preview()

    @rx.event
    async def add_variable(self, name: str):
        """A variable clicked: added at the end of the body as {{ name }}."""
        if not self.msg_ok or not isinstance(name, str) or name not in self.msg_variables:
            return
        body = self.msg_body.rstrip(" ")
        gap = " " if body and not body.endswith("\n") else ""
        self.msg_body = f"{body}{gap}{{{{ {name} }}}}"
        return await self._preview()

    async def _reload_custom(self):
        done = await self._act(actions.fetch_messages_page)
        if done.ok:
            self._kind_info = {k.key: dataclasses.asdict(k) for k in done.value.kinds}
            self.msg_kinds = [KindRow(k.key, k.label, k.group, bool(k.custom)) for k in done.value.kinds]

    @rx.event
    async def save_template(self):
        """Save the wording (checked in the domain; a field's message next to it, nothing saved)."""
        if not self.msg_ok:
            return
        self.msg_saving = True
        yield
        try:
            done = await self._act(actions.do_save_template, self.msg_kind, self.msg_channel, self.msg_subject,
                                   self.msg_body, self._service_id())
        except ValidationFailed as exc:
            self.msg_saving, self.msg_errors, self.msg_message = False, dict(exc.fields), ""
            self.msg_error = "Nothing was saved: fix the field marked in red"
            return
        self.msg_saving = False
        if done.redirect is not None:
            yield done.redirect
            return
        if done.error:
            self.msg_error = done.error
            return
        self._fill_view(done.value)
        self.msg_error = ""
        self.msg_message = f"Saved: clients now get this wording {SAVED_WORDS[self.msg_channel]}"
        await self._reload_custom()

    @rx.event
    async def reset_template(self):
        """Back to the default wording (or, for a service, the clinic's)."""
        if not self.msg_ok:
            return
        try:
            done = await self._act(actions.do_reset_template, self.msg_kind, self.msg_channel, self._service_id())
        except ValidationFailed as exc:
            self.msg_errors = dict(exc.fields)
            return
        if done.redirect is not None:
            return done.redirect
        if done.error:
            self.msg_error = done.error
            return
        self._fill_view(done.value)
        self.msg_error, self.msg_message = "", "Reset: clients get the default wording again" \
            if done.value.source == "default" else "Reset: this service uses the clinic's wording again"
        await self._reload_custom()
        return await self._preview()

    @rx.event
    async def refresh_preview(self):
        """The preview again (a message setting changed what it shows)."""
        if self.msg_ok:
            return await self._preview()


M = MessagesState


# ---------------------------------------------------------------------------------- view


def _error(errors, name: str, prefix: str) -> rx.Component:
    return rx.cond(errors.contains(name),
                   rx.text(rx.icon("circle-alert", size=13, flex_shrink="0"), errors[name],
                           id=f"{prefix}-{name}-error", role="alert", size="1", color=rx.color("red", 11),
                           display="flex", align_items="center", gap="0.3em"))


def _kind_button(row: KindRow) -> rx.Component:
    chosen = M.msg_kind == row.key
    return rx.box(
        rx.hstack(
            rx.text(row.label, size="2", weight=rx.cond(chosen, "medium", "regular")),
            rx.cond(row.custom, rx.badge("Edited", color_scheme="teal", variant="soft", size="1")),
            justify="between", align="center", width="100%"),
        on_click=M.pick_kind(row.key), id=f"msg-kind-{row.key}", role="button", tab_index=0,
        padding="7px 10px", border_radius="8px", cursor="pointer", width="100%",
        background=rx.cond(chosen, rx.color("accent", 3), "transparent"),
        color=rx.cond(chosen, rx.color("accent", 12), rx.color("gray", 12)),
        _hover={"background": rx.cond(chosen, rx.color("accent", 4), rx.color("gray", 3))})


def _kind_group(title: str) -> rx.Component:
    return rx.vstack(
        rx.text(title, size="1", weight="bold", color_scheme="gray", text_transform="uppercase",
                letter_spacing="0.04em", padding_left="10px"),
        rx.foreach(M.msg_kinds, lambda row: rx.cond(row.group == title, _kind_button(row))),
        spacing="1", width="100%")


def _kinds() -> rx.Component:
    return rx.card(rx.vstack(
        _kind_group("Transactional"),
        rx.separator(size="4"),
        _kind_group("Marketing"),
        rx.text("Marketing messages go only to clients who agreed to them on that channel.", size="1",
                color_scheme="gray", padding_x="10px"),
        spacing="3", width="100%"), width="100%", id="msg-kinds")


def _variables() -> rx.Component:
    return rx.vstack(
        rx.text("Variables (click to add)", size="1", weight="medium", color_scheme="gray"),
        rx.flex(rx.foreach(M.msg_variables, lambda v: rx.badge(
            "{{ " + v + " }}", variant="surface", color_scheme="gray", size="1", cursor="pointer",
            font_family="var(--code-font-family)", on_click=M.add_variable(v))),
            wrap="wrap", gap="6px", id="msg-variables"),
        rx.text(SYNTAX_HELP, size="1", color_scheme="gray", id="msg-syntax"),
        spacing="1", width="100%")


def _editor() -> rx.Component:
    bad_subject, bad_body = M.msg_errors.contains("subject"), M.msg_errors.contains("body")
    return rx.card(rx.vstack(
        rx.hstack(
            rx.vstack(rx.heading(M.msg_label, size="4", id="msg-title"),
                      rx.text(M.msg_description, size="2", color_scheme="gray"), spacing="1"),
            rx.badge(rx.match(M.msg_source, ("clinic", SOURCE_WORDS["clinic"]), ("service", SOURCE_WORDS["service"]),
                              SOURCE_WORDS["default"]), id="msg-source", size="2",
                     color_scheme=rx.cond(M.msg_source == "default", "gray", "teal"), variant="soft",
                     flex_shrink="0"),
            justify="between", align="start", width="100%"),
        rx.hstack(
            rx.segmented_control.root(
                rx.foreach(M.msg_channels, lambda c: rx.segmented_control.item(
                    rx.cond(c == "email", "Email", "Text (SMS)"), value=c)),
                value=M.msg_channel, on_change=M.pick_channel, id="msg-channel", size="2"),
            rx.cond(M.msg_per_service, rx.hstack(
                rx.text("For", size="2", color_scheme="gray"),
                rx.select.root(
                    rx.select.trigger(id="msg-service", min_width="200px"),
                    rx.select.content(rx.foreach(M.msg_services, lambda c: rx.select.item(c.label, value=c.value)),
                                      position="popper"),
                    value=M.msg_service, on_change=M.pick_service),
                align="center", spacing="2")),
            spacing="4", align="center", wrap="wrap"),
        rx.cond(M.msg_channel == "email", rx.vstack(
            rx.el.label("Subject", html_for="msg-subject", style={"font_weight": "500", "font_size": "13px"}),
            rx.input(id="msg-subject", value=M.msg_subject, on_change=M.set_subject, width="100%",
                     max_length=MAX_SUBJECT, font_family="var(--code-font-family)",
                     style={"box_shadow": rx.cond(bad_subject, INVALID, "")},
                     custom_attrs={"aria-invalid": rx.cond(bad_subject, "true", "false")}),
            _error(M.msg_errors, "subject", "msg"),
            spacing="1", width="100%")),
        rx.vstack(
            rx.el.label(rx.cond(M.msg_channel == "email", "Message", "Text"), html_for="msg-body",
                        style={"font_weight": "500", "font_size": "13px"}),
            rx.text_area(id="msg-body", value=M.msg_body, on_change=M.set_body, rows="11", width="100%",
                         resize="vertical", font_family="var(--code-font-family)", font_size="13px",
                         placeholder=rx.cond(M.msg_source == "default",
                                             "Not sent by default: write the message to start sending it.", ""),
                         style={"box_shadow": rx.cond(bad_body, INVALID, "")},
                         custom_attrs={"aria-invalid": rx.cond(bad_body, "true", "false")}),
            _error(M.msg_errors, "body", "msg"),
            _error(M.msg_errors, "channel", "msg"),
            spacing="1", width="100%"),
        _variables(),
        rx.hstack(
            _reset_button(),
            rx.button(rx.icon("save", size=15), "Save", id="msg-save", on_click=M.save_template, loading=M.msg_saving,
                      type="button"),
            justify="end", width="100%", spacing="2"),
        rx.cond(M.msg_message != "", rx.callout(M.msg_message, icon="circle-check", color_scheme="grass", size="1",
                                                width="100%", id="msg-message")),
        rx.cond(M.msg_error != "", rx.callout(M.msg_error, icon="circle-alert", color_scheme="red", size="1",
                                              width="100%", id="msg-error")),
        spacing="4", width="100%"), width="100%")


def _reset_button() -> rx.Component:
    """"Reset to default" asks first: one click used to throw the clinic's wording away (user trial)."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(rx.button(rx.icon("rotate-ccw", size=15), "Reset to default", variant="soft",
                                          color_scheme="gray", id="msg-reset", disabled=M.msg_source == "default",
                                          type="button")),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Reset this message?"),
            rx.alert_dialog.description(
                "The clinic's own wording of this message is deleted and clients get the default again "
                "(for a service: the clinic's wording). This cannot be undone.", size="2"),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Keep my wording", variant="soft", color_scheme="gray",
                                                 type="button")),
                rx.alert_dialog.action(rx.button("Reset", color_scheme="red", on_click=M.reset_template,
                                                 type="button", id="msg-reset-confirm")),
                justify="end", gap="3", margin_top="1em"),
            max_width="28em"))


def _preview() -> rx.Component:
    return rx.card(rx.vstack(
        rx.hstack(rx.icon("eye", size=16, color=rx.color("gray", 10)), rx.heading("Preview", size="3"),
                  spacing="2", align="center"),
        rx.text("As a client would get it, using ", M.pv_basis, ". Unsaved changes show here first.", size="1",
                color_scheme="gray", id="msg-preview-basis"),
        rx.cond(M.msg_channels.contains("email"), rx.vstack(
            rx.hstack(rx.icon("mail", size=14), rx.text("Email", size="1", weight="medium"), spacing="1",
                      align="center", color=rx.color("gray", 11)),
            rx.box(
                rx.text(M.pv_subject, weight="bold", size="2", id="msg-preview-subject"),
                rx.separator(size="4", margin_y="8px"),
                rx.text(rx.cond(M.pv_body != "", M.pv_body,
                                rx.cond(M.msg_errors.contains("body") | M.msg_errors.contains("subject"),
                                        "Fix the error in the message to see it here.", "Not sent by email.")),
                        size="2",
                        white_space="pre-wrap", id="msg-preview-email", word_break="break-word"),
                padding="12px 14px", border=f"1px solid {rx.color('gray', 5)}", border_radius="10px",
                background=rx.color("gray", 1), width="100%", max_height="360px", overflow_y="auto"),
            spacing="1", width="100%")),
        rx.cond(M.msg_channels.contains("sms"), rx.vstack(
            rx.hstack(rx.icon("message-square", size=14), rx.text("Text", size="1", weight="medium"), spacing="1",
                      align="center", color=rx.color("gray", 11)),
            rx.cond(M.pv_sms != "",
                    rx.box(rx.text(M.pv_sms, size="2", white_space="pre-wrap", word_break="break-word"),
                           id="msg-preview-sms", padding="10px 14px", border_radius="16px 16px 16px 4px",
                           background=rx.color("gray", 3), max_width="340px"),
                    rx.text(rx.cond(M.msg_errors.contains("body"), "Fix the error in the message to see it here.",
                                    "Not sent by text."), size="2", color_scheme="gray", id="msg-preview-sms")),
            rx.cond(M.pv_sms != "", rx.text(
                M.pv_chars, " characters · ", M.pv_segments, rx.cond(M.pv_segments == 1, " segment", " segments"),
                rx.cond(M.pv_segments > 1, " (each segment is billed; an emoji or a special character makes "
                                           "segments 70 characters instead of 160)", ""),
                size="1", color=rx.cond(M.pv_segments > 2, rx.color("amber", 11), rx.color("gray", 10)),
                id="msg-preview-count")),
            spacing="1", width="100%")),
        spacing="3", width="100%"), width="100%", id="msg-preview")


def messages_tab() -> rx.Component:
    """The tab's templates part (loads on mount); page.py adds message_settings.settings_card."""
    return rx.vstack(
        rx.vstack(rx.heading("Messages", size="4"),
                  rx.text("What clients receive by email and text, in your words. Times are always in the "
                          "location's time zone, with the zone named.", size="2", color_scheme="gray"),
                  spacing="1"),
        rx.cond(M.msg_ok,
                rx.grid(
                    _kinds(),
                    rx.grid(_editor(), _preview(),
                            columns=rx.breakpoints(initial="1", lg="minmax(0, 1.2fr) minmax(0, 1fr)"),
                            spacing="4", width="100%", align_items="start"),
                    columns=rx.breakpoints(initial="1", md="230px minmax(0, 1fr)"),
                    spacing="4", width="100%", align_items="start"),
                rx.center(rx.spinner(size="2"), padding="36px")),
        spacing="4", width="100%", on_mount=M.load_messages)
