"""/settings, Messages tab: the "Reminders and quiet hours" card (settings.write): how many hours
before a visit the reminder goes, what a visit booked inside that time gets (a shorter reminder
or none), quiet hours, and whether texts and emails name the treatment.

Every public handler is an entry point: it re-checks the session and settings.write on the
server (StaffState._act -> messaging.template_actions, which checks again and audits); a bad
value gets its message next to its field and nothing is saved.
"""

from __future__ import annotations

import reflex as rx

from medspa.domain.errors import ValidationFailed
from medspa.domain.messaging import template_actions as actions
from medspa.domain.messaging.template_actions import MessageSettings
from medspa.features.auth.state import StaffState
from medspa.features.settings.messages import MessagesState

INVALID = "inset 0 0 0 1px var(--red-8)"
SETTING_FIELDS = ("reminder_hours", "reminder_late_booking", "reminder_short_hours", "quiet_start", "quiet_end")
SETTING_FLAGS = ("treatment_in_sms", "treatment_in_email")


class MessageSettingsState(StaffState):
    """The settings card's form."""

    set_ok: bool = False
    set_form: dict[str, str] = {}
    set_flags: dict[str, bool] = {}
    set_errors: dict[str, str] = {}
    set_message: str = ""

    def _fill_settings(self, st: MessageSettings) -> None:
        self.set_form = {"reminder_hours": str(st.reminder_hours), "reminder_late_booking": st.reminder_late_booking,
                         "reminder_short_hours": str(st.reminder_short_hours), "quiet_start": st.quiet_start,
                         "quiet_end": st.quiet_end}
        self.set_flags = {"treatment_in_sms": st.treatment_in_sms, "treatment_in_email": st.treatment_in_email}
        self.set_errors = {}

    @rx.event
    async def load_settings(self):
        """on_mount of the card: the clinic's message settings."""
        self.set_message = ""
        done = await self._act(actions.fetch_message_settings)
        if done.redirect is not None:
            return done.redirect
        self.set_ok = done.ok
        if done.ok:
            self._fill_settings(done.value)

    @rx.event
    def set_setting(self, name: str, value: str | list[str]):
        """A typed or chosen setting."""
        if self.set_ok and name in SETTING_FIELDS and isinstance(value, str) and len(value) <= 10:
            self.set_form[name] = value
            self.set_errors.pop(name, None)
            self.set_message = ""

    @rx.event
    def set_flag(self, name: str, value: bool):
        """A switch turned."""
        if self.set_ok and name in SETTING_FLAGS and isinstance(value, bool):
            self.set_flags[name] = value
            self.set_message = ""

    @rx.event
    async def save_settings(self):
        """Save the reminder, quiet-hour and treatment settings (a message per bad field)."""
        if not self.set_ok:
            return
        data = {**{k: self.set_form.get(k, "") for k in SETTING_FIELDS},
                **{k: bool(self.set_flags.get(k, False)) for k in SETTING_FLAGS}}
        try:
            done = await self._act(actions.do_update_message_settings, data)
        except ValidationFailed as exc:
            self.set_errors, self.set_message = dict(exc.fields), ""
            return
        if done.redirect is not None:
            return done.redirect
        if done.error:
            self.set_message = done.error
            return
        self._fill_settings(done.value)
        self.set_message = "Message settings saved"
        return MessagesState.refresh_preview  # the treatment setting changes the preview


S = MessageSettingsState


def _error(name: str) -> rx.Component:
    return rx.cond(S.set_errors.contains(name),
                   rx.text(rx.icon("circle-alert", size=13, flex_shrink="0"), S.set_errors[name],
                           id=f"msg-set-{name}-error", role="alert", size="1", color=rx.color("red", 11),
                           display="flex", align_items="center", gap="0.3em"))


def _setting(name: str, label: str, control: rx.Component, hint: str = "") -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=f"msg-set-{name}", style={"font_weight": "500", "font_size": "13px"}),
        control, rx.cond(hint != "", rx.text(hint, size="1", color_scheme="gray")),
        _error(name), spacing="1", width="100%")


def _number(name: str, low: int, high: int) -> rx.Component:
    bad = S.set_errors.contains(name)
    return rx.input(id=f"msg-set-{name}", type="number", min=low, max=high, value=S.set_form[name],
                    on_change=S.set_setting(name), width="120px",
                    style={"box_shadow": rx.cond(bad, INVALID, "")},
                    custom_attrs={"aria-invalid": rx.cond(bad, "true", "false")})


def _time(name: str) -> rx.Component:
    bad = S.set_errors.contains(name)
    return rx.input(id=f"msg-set-{name}", type="time", value=S.set_form[name], on_change=S.set_setting(name),
                    width="140px", style={"box_shadow": rx.cond(bad, INVALID, "")})


def _switch(name: str, title: str, hint: str) -> rx.Component:
    return rx.el.label(
        rx.switch(checked=S.set_flags[name], on_change=S.set_flag(name), id=f"msg-set-{name}"),
        rx.vstack(rx.text(title, size="2", weight="medium"), rx.text(hint, size="1", color_scheme="gray"),
                  spacing="0"),
        display="flex", align_items="start", gap="10px", cursor="pointer")


def settings_card() -> rx.Component:
    """The "Reminders and quiet hours" card (loads on mount)."""
    return rx.card(rx.vstack(
        rx.heading("Reminders and quiet hours", size="3"),
        rx.grid(
            rx.vstack(
                _setting("reminder_hours", "Send the reminder",
                         rx.hstack(_number("reminder_hours", 1, 168), rx.text("hours before the visit", size="2"),
                                   align="center", spacing="2"),
                         "1 to 168 hours (a week). A client's own timing and channel, set at the desk on "
                         "their record (Edit client), come first."),
                _setting("reminder_late_booking", "A visit booked inside that time",
                         rx.select.root(
                             rx.select.trigger(id="msg-set-reminder_late_booking", width="260px"),
                             rx.select.content(rx.select.item("Gets a shorter reminder", value="shorter"),
                                               rx.select.item("Gets no reminder", value="none"), position="popper"),
                             value=S.set_form["reminder_late_booking"],
                             on_change=S.set_setting("reminder_late_booking"))),
                rx.cond(S.set_form["reminder_late_booking"] == "shorter", _setting(
                    "reminder_short_hours", "Shorter reminder",
                    rx.hstack(_number("reminder_short_hours", 1, 24), rx.text("hours before", size="2"),
                              align="center", spacing="2"), "1 to 24 hours.")),
                spacing="4", width="100%"),
            rx.vstack(
                _setting("quiet_start", "Quiet hours",
                         rx.hstack(_time("quiet_start"), rx.text("to", size="2"), _time("quiet_end"), align="center",
                                   spacing="2"),
                         "No reminder or marketing text is sent in these hours, in the client's own time zone. "
                         "Confirmations and notices of a change go at once."),
                _error("quiet_end"),
                _switch("treatment_in_sms", "Name the treatment in texts",
                        "Off: a text says \"your appointment\" (texts show on lock screens)."),
                _switch("treatment_in_email", "Name the treatment in emails",
                        "Off: an email says \"your appointment\" too."),
                spacing="4", width="100%"),
            columns=rx.breakpoints(initial="1", md="2"), spacing="6", width="100%"),
        rx.hstack(
            rx.cond(S.set_message != "", rx.text(rx.icon("circle-check", size=14), S.set_message, size="2",
                                                 color=rx.color("grass", 11), id="msg-set-message", display="flex",
                                                 align_items="center", gap="0.3em")),
            rx.button(rx.icon("save", size=15), "Save settings", id="msg-set-save", on_click=S.save_settings,
                      type="button"),
            justify="end", align="center", spacing="3", width="100%"),
        spacing="4", width="100%"), width="100%", id="msg-settings", on_mount=S.load_settings)
