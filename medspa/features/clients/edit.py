"""`/clients/new` and `/clients/[client_id]/edit`: staff add or change a client (client.write:
owner, manager, provider, front desk). One form (name, contact, address, time zone, emergency
contact, preferred provider, insurance, reminder channel and hours, marketing consent, alerts,
notes); each message sits next to its field and nothing is saved while one is shown. A new client that looks like
existing ones lists them ("Open") and waits for "Create anyway". Also the profile's details
card (details_card) and its "Edit" button (edit_button)."""

from __future__ import annotations

import dataclasses

import reflex as rx

from medspa.domain.clients.actions import IDENTITY_FIELDS, fetch_duplicates_of_client
from medspa.domain.clients.details import LIMITS, REMINDER_CHANNELS, ClientForm
from medspa.domain.clients.edit_actions import do_create_client, do_open_client_form, do_update_client
from medspa.domain.errors import ValidationFailed
from medspa.features.auth.shell import not_found_view, staff_header
from medspa.features.auth.state import StaffState
from medspa.features.choices import Option
from medspa.features.clients.state import ClientProfileState
from medspa.features.settings.location_text import time_zones
from medspa.web.inputs import form_text, parse_id

NEW_ROUTE = "/clients/new"
EDIT_ROUTE = "/clients/[client_id]/edit"
NO_PROVIDER = "none"  # the select's "No preference" (a Radix select item cannot be "")
TEXTS = ("first_name", "last_name", "email", "phone", "date_of_birth", "address", "time_zone", "emergency_name",
         "emergency_phone", "preferred_provider_id", "insurance_carrier", "insurance_member_id", "alerts", "notes",
         "reminder_channel", "reminder_hours")
CONSENTS = ("email_marketing_consent", "sms_marketing_consent")


@dataclasses.dataclass
class DuplicateHit:
    """A client the new one likely is: id, name, why ("Same phone"), profile link."""

    id: int = 0
    name: str = ""
    why: str = ""
    href: str = ""


def edit_target(path: str) -> tuple[str, int]:
    """("new", 0) for /clients/new, ("edit", id) for /clients/<id>/edit, else ("", 0)."""
    parts = [p for p in (path or "").split("/") if p]
    if parts == ["clients", "new"]:
        return "new", 0
    if len(parts) == 3 and parts[0] == "clients" and parts[2] == "edit" and parse_id(parts[1]):
        return "edit", parse_id(parts[1]) or 0
    return "", 0


def form_from(form_data: dict) -> ClientForm:
    """The submitted form (any JSON a browser sent) as a ClientForm: texts cleaned and cut one
    past the domain's limit (so an overlong one gets its message, not a silent cut)."""
    texts = {n: form_text(form_data, n, LIMITS.get(n, 200) + 1) for n in TEXTS}
    if texts["preferred_provider_id"] == NO_PROVIDER:
        texts["preferred_provider_id"] = ""
    texts["reminder_channel"] = texts["reminder_channel"] or "both"  # a form without the select: the default
    data = form_data if isinstance(form_data, dict) else {}
    consents = {n: data.get(n) in ("on", "true", True) for n in CONSENTS}
    return ClientForm(**texts, **consents)


class ClientEditState(StaffState):
    """The client form: mode ("new" or "edit"), status (loading, ready, not_found), the
    values it opens with, the field messages, the likely duplicates of a new client."""

    mode: str = "new"
    status: str = "loading"
    name: str = ""
    values: dict[str, str] = {}
    email_consent: bool = False
    sms_consent: bool = False
    email_wording: str = ""
    sms_wording: str = ""
    providers: list[Option] = []
    default_zone: str = ""
    clinic_hours: int = 24
    zones: list[str] = []
    errors: dict[str, str] = {}
    error: str = ""
    saving: bool = False
    duplicates: list[DuplicateHit] = []
    form_key: int = 0
    _client_id: int = 0
    _pending: ClientForm | None = None  # the new client awaiting "Create anyway"

    @rx.var
    def back_href(self) -> str:
        """Where Cancel goes: the profile, or the list for a new client."""
        return f"/clients/{self._client_id}" if self.mode == "edit" and self._client_id else "/clients"

    def _reset(self, status: str) -> None:
        self.status, self.errors, self.error, self.duplicates, self._pending = status, {}, "", [], None
        self.values, self.name, self.providers, self.saving = {}, "", [], False

    @rx.event
    async def load(self):
        """on_load: an empty form (/clients/new) or the client's values (/clients/<id>/edit)."""
        self._reset("loading")
        mode, client_id = edit_target(self.router.url.path)
        if not mode:
            if await self._staff_actor() is None:
                return self._to_login()
            self.status = "not_found"
            return None
        self.mode, self._client_id = mode, client_id
        done = await self._act(do_open_client_form, client_id or None)
        if done.redirect is not None:
            return done.redirect
        if done.error:
            self.status = "not_found"
            return None
        data = done.value
        form = data.form
        self.values = {n: getattr(form, n) for n in TEXTS}
        self.values["preferred_provider_id"] = form.preferred_provider_id or NO_PROVIDER
        self.email_consent, self.sms_consent = form.email_marketing_consent, form.sms_marketing_consent
        self.name, self.default_zone, self.clinic_hours = data.name, data.default_zone, data.clinic_reminder_hours
        self.email_wording, self.sms_wording = data.email_wording, data.sms_wording
        self.providers = [Option(NO_PROVIDER, "No preference")] + [Option(str(i), n) for i, n in data.providers]
        if not self.zones:
            self.zones = time_zones()
        self.form_key += 1
        self.status = "ready"
        return None

    async def _save(self, form: ClientForm, *, confirm: bool):
        self.saving = True
        yield
        try:
            if self.mode == "edit":
                done = await self._act(do_update_client, self._client_id, form)
            else:
                done = await self._act(do_create_client, form, confirm=confirm)
        except ValidationFailed as exc:
            self.saving, self.duplicates, self._pending = False, [], None
            self.errors = {k: v for k, v in exc.fields.items() if k in TEXTS or k in CONSENTS}
            self.error = next((v for k, v in exc.fields.items() if k not in self.errors), "") or (
                "Check the fields marked in red." if self.errors else "")
            return
        self.saving = False
        if done.redirect is not None:
            yield done.redirect
            return
        if done.error:
            self.error, self.errors = "This client cannot be saved.", {}
            return
        self.errors, self.error = {}, ""
        if self.mode == "new" and not done.value.client_id:
            self._pending = form
            self.duplicates = [DuplicateHit(i, n, why.capitalize(), f"/clients/{i}")
                               for i, n, why in done.value.duplicates]
            return
        client_id = self._client_id if self.mode == "edit" else done.value.client_id
        if self.mode == "edit" and IDENTITY_FIELDS & set(done.value):  # an edit can make two records look alike
            found = await self._act(fetch_duplicates_of_client, client_id)
            if found.ok and found.value:
                names = ", ".join(f"{name} ({why})" for _, name, why in found.value[:3])
                yield rx.toast.warning(f"Saved. This client may also be on file as {names}: an owner or manager "
                                       "can merge the records from the profile.", duration=12_000)
        yield rx.redirect(f"/clients/{client_id}")

    @rx.event
    async def save(self, form_data: dict):
        """Save the form (create or update); field messages when it does not validate."""
        if self.status != "ready" or self.saving:
            return
        async for step in self._save(form_from(form_data), confirm=False):
            yield step

    @rx.event
    async def create_anyway(self):
        """Create the new client the duplicates were listed for (exactly that form)."""
        if self.mode != "new" or self._pending is None or not self.duplicates or self.saving:
            return
        form, self.duplicates = self._pending, []
        async for step in self._save(form, confirm=True):
            yield step


# ---- the form

E = ClientEditState
INVALID = "inset 0 0 0 1px var(--red-8)"


def _error(name: str) -> rx.Component:
    return rx.cond(E.errors.contains(name),
                   rx.text(rx.icon("circle-alert", size=13, flex_shrink="0"), E.errors[name], id=f"client-{name}-error",
                           role="alert", size="1", color=rx.color("red", 11), display="flex", align_items="center",
                           gap="0.3em"))


def _field(name: str, label: str, control: rx.Component, hint: str = "") -> rx.Component:
    parts = [rx.el.label(label, html_for=f"client-{name}", style={"font_weight": "500", "font_size": "13px"}),
             control]
    if hint:
        parts.append(rx.text(hint, size="1", color_scheme="gray"))
    return rx.vstack(*parts, _error(name), spacing="1", width="100%", align="stretch")


def _bad(name: str) -> dict:
    return {"style": {"box_shadow": rx.cond(E.errors.contains(name), INVALID, "")},
            "custom_attrs": {"aria-invalid": rx.cond(E.errors.contains(name), "true", "false")}}


def _input(name: str, label: str, *, hint: str = "", **props) -> rx.Component:
    return _field(name, label, rx.input(id=f"client-{name}", name=name, default_value=E.values[name], size="2",
                                        width="100%", **_bad(name), **props), hint)


def _area(name: str, label: str, *, hint: str = "", **props) -> rx.Component:
    return _field(name, label, rx.text_area(id=f"client-{name}", name=name, default_value=E.values[name],
                                            size="2", width="100%", resize="vertical", **_bad(name), **props), hint)


def _section(title: str, *children: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(title, size="2", weight="bold", color=rx.color("gray", 12)), *children,
                     spacing="3", width="100%", padding_top="16px", border_top=f"1px solid {rx.color('gray', 4)}")


def _two(*children: rx.Component) -> rx.Component:
    return rx.grid(*children, columns=rx.breakpoints(initial="1", sm="2"), spacing="3", width="100%")


def _consent(name: str, label: str, checked, wording) -> rx.Component:
    return rx.vstack(rx.el.label(
        rx.checkbox(name=name, default_checked=checked, id=f"client-{name}", size="2"),
        rx.text(label, size="2"), style={"display": "flex", "align_items": "center", "gap": "8px"}),
        rx.text(wording, size="1", color_scheme="gray", id=f"client-{name}-wording", max_width="300px",
                padding_left="28px"),
        _error(name), spacing="1")


def _duplicates() -> rx.Component:
    return rx.cond(E.duplicates.length() > 0, rx.callout.root(
        rx.callout.icon(rx.icon("users")),
        rx.vstack(
            rx.text("This may be a client you already have. Open the record to check, or create a new one anyway.",
                    size="2", weight="medium"),
            rx.foreach(E.duplicates, lambda d: rx.hstack(
                rx.text(d.name, size="2", weight="medium"), rx.text(d.why, size="1", color_scheme="gray"),
                rx.spacer(),
                rx.link(rx.button("Open", size="1", variant="soft", type="button"), href=d.href, is_external=False,
                        class_name="duplicate-open"),
                align="center", width="100%", spacing="2", class_name="duplicate-hit",
                custom_attrs={"data-client-id": d.id})),
            rx.button("Create anyway", size="2", color_scheme="amber", type="button", on_click=E.create_anyway,
                      loading=E.saving, id="client-create-anyway"),
            spacing="2", width="100%"),
        color_scheme="amber", width="100%", id="client-duplicates"))


def _form() -> rx.Component:
    zone_hint = rx.cond(E.default_zone != "", "Leave empty for " + E.default_zone + " (their usual location)", "")
    return rx.form(
        rx.vstack(
            _two(_input("first_name", "First name", auto_complete="off"),
                 _input("last_name", "Last name", auto_complete="off")),
            _two(_input("phone", "Mobile phone", input_mode="tel", placeholder="Local or with the country code"),
                 _input("email", "Email", type="email", placeholder="name@example.com")),
            _two(_input("date_of_birth", "Date of birth", type="date"),
                 _field("time_zone", "Time zone", rx.input(
                     id="client-time_zone", name="time_zone", default_value=E.values["time_zone"], list="client-zones",
                     placeholder=E.default_zone, size="2", width="100%", **_bad("time_zone")), "")),
            rx.text(zone_hint, size="1", color_scheme="gray", margin_top="-6px"),
            _area("address", "Address", rows="3", placeholder="Street, city, postcode"),
            _section("Emergency contact",
                     _two(_input("emergency_name", "Name", placeholder="e.g. Sam Lee (partner)"),
                          _input("emergency_phone", "Phone", input_mode="tel"))),
            _section("Care and insurance",
                     _field("preferred_provider_id", "Preferred provider", rx.select.root(
                         rx.select.trigger(id="client-preferred_provider_id", width="100%", **_bad("preferred_provider_id")),
                         rx.select.content(rx.foreach(E.providers, lambda o: rx.select.item(o.label, value=o.value))),
                         name="preferred_provider_id", default_value=E.values["preferred_provider_id"], size="2")),
                     _two(_input("insurance_carrier", "Insurance carrier"),
                          _input("insurance_member_id", "Member id"))),
            _section("Reminders",
                     rx.text("Visit reminders are not marketing: they are sent whatever the consents say.",
                             size="1", color_scheme="gray"),
                     _two(_field("reminder_channel", "Send reminders by", rx.select.root(
                         rx.select.trigger(id="client-reminder_channel", width="100%", **_bad("reminder_channel")),
                         rx.select.content(*[rx.select.item(label, value=key)
                                             for key, label in REMINDER_CHANNELS.items()]),
                         name="reminder_channel", default_value=E.values["reminder_channel"], size="2")),
                          _input("reminder_hours", "Hours before the visit", input_mode="numeric",
                                 placeholder=E.clinic_hours.to(str) + " (the clinic's)",
                                 hint="Leave empty for the clinic's setting"))),
            _section("Marketing",
                     rx.text("Only with the client's say-so: read them the words and tick what they agree to. "
                             "Reminders about visits are sent either way.", size="1", color_scheme="gray"),
                     rx.flex(_consent("email_marketing_consent", "Email offers and news", E.email_consent,
                                      E.email_wording),
                             _consent("sms_marketing_consent", "Text message offers", E.sms_consent, E.sms_wording),
                             gap="24px", wrap="wrap")),
            _section("Alerts and notes",
                     _input("alerts", "Alerts", max_length=LIMITS["alerts"] + 20,
                            placeholder="e.g. VIP · prefers afternoons",
                            hint="One short line, shown on the client's visits in the calendar"),
                     _area("notes", "Notes", rows="4", placeholder="Anything the team should know")),
            rx.el.datalist(rx.foreach(E.zones, lambda z: rx.el.option(value=z)), id="client-zones"),
            rx.cond(E.error != "", rx.callout(E.error, icon="circle-alert", color_scheme="red", size="1",
                                             width="100%", id="client-form-error")),
            _duplicates(),
            rx.hstack(
                rx.link(rx.button("Cancel", type="button", variant="soft", color_scheme="gray"), href=E.back_href),
                rx.button(rx.cond(E.mode == "new", "Add client", "Save changes"), type="submit", loading=E.saving,
                          id="client-save"),
                justify="end", width="100%", spacing="3", padding_top="8px"),
            spacing="3", width="100%"),
        on_submit=E.save, reset_on_submit=False, key=E.form_key.to(str), id="client-form", width="100%",
    )


def _edit_view() -> rx.Component:
    return rx.vstack(
        rx.link(rx.hstack(rx.icon("arrow-left", size=14), rx.text(rx.cond(E.mode == "new", "Clients", E.name),
                                                                   size="2"), align="center", spacing="1"),
                href=E.back_href, color=rx.color("gray", 11), id="client-form-back"),
        rx.heading(rx.cond(E.mode == "new", "New client", "Edit " + E.name), size="6", id="client-form-title"),
        rx.card(_form(), width="100%", size=rx.breakpoints(initial="2", sm="3")),
        spacing="4", padding=rx.breakpoints(initial="12px", sm="20px"), width="100%", max_width="760px",
        margin_x="auto",
    )


def client_edit_page() -> rx.Component:
    """/clients/new and /clients/<id>/edit."""
    return rx.box(
        rx.cond(E.status == "not_found", not_found_view("client-form-not-found"),
                rx.cond(E.status == "ready", rx.fragment(staff_header("clients"), _edit_view()),
                        rx.center(rx.spinner(size="3"), padding_top="18vh"))),
        min_height="100vh", background=rx.color("gray", 2), id="client-form-page",
    )


# ---- on the profile

def edit_button() -> rx.Component:
    """The profile's "Edit" button (opens /clients/<id>/edit)."""
    p = ClientProfileState
    return rx.cond(p.merged_into.length() == 0, rx.link(
        rx.button(rx.icon("pencil", size=14), "Edit", size="2", variant="soft"),
        href=p.details.edit_href, id="profile-edit"))


def _line(label: str, value, id_: str) -> rx.Component:
    return rx.cond(value != "", rx.vstack(
        rx.text(label, size="1", color_scheme="gray", weight="medium"),
        rx.text(value, size="2", white_space="pre-wrap", id=id_), spacing="1", min_width="200px", flex="1"))


def _consent_line(label: str, value, wording, id_: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray", weight="medium"),
        rx.text(value, size="2", id=id_),
        rx.cond(wording != "", rx.text(wording, size="1", color_scheme="gray", font_style="italic",
                                       id=f"{id_}-wording")),
        spacing="1", min_width="200px", flex="1")


def details_card() -> rx.Component:
    """The profile's details: alerts on top, then address, time zone, emergency contact,
    preferred provider, insurance, reminders, marketing consent (time and source), notes."""
    d = ClientProfileState.details
    return rx.card(rx.vstack(
        rx.hstack(rx.heading("Details", size="4"), rx.spacer(), edit_button(), width="100%", align="center"),
        rx.cond(d.alerts != "", rx.callout(d.alerts, icon="flag", color_scheme="amber", size="1", width="100%",
                                           id="profile-alerts")),
        rx.flex(
            _line("Address", d.address, "profile-address"),
            _line("Time zone", d.time_zone, "profile-time-zone"),
            _line("Emergency contact", d.emergency, "profile-emergency"),
            _line("Preferred provider", d.provider, "profile-provider"),
            _line("Insurance", d.insurance, "profile-insurance"),
            _line("Reminders", d.reminders, "profile-reminders"),
            gap="16px", wrap="wrap", width="100%"),
        rx.flex(_consent_line("Email offers", d.email_consent, d.email_wording, "profile-email-consent"),
                _consent_line("Text offers", d.sms_consent, d.sms_wording, "profile-sms-consent"),
                gap="16px", wrap="wrap", width="100%"),
        _line("Notes", d.notes, "profile-notes"),
        spacing="3", width="100%"), width="100%", id="profile-details")


def register(app: rx.App) -> None:
    """Add /clients/new and /clients/[client_id]/edit (staff with client.write)."""
    app.add_page(client_edit_page, route=NEW_ROUTE, title="New client · medspa", on_load=E.load)
    app.add_page(client_edit_page, route=EDIT_ROUTE, title="Edit client · medspa", on_load=E.load)
