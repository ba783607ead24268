"""/settings, Clinic tab (owner only, clinic.manage): the clinic's name, currency, country,
public listing and logo.

ClinicState's public handlers are entry points: each re-checks the session and the permission
(StaffState._act) and calls one action of medspa/domain/practice/profile_actions.py, which
checks clinic.manage again and audits the change. A bad field gets its message next to it and
nothing is saved. The logo goes through rx.upload: the handler reads at most LOGO_MAX_BYTES + 1
bytes (the limit is enforced here, the browser's max_size is a convenience) and the domain
checks the content and re-encodes it; nothing is written to Reflex's public upload folder.
"""

from __future__ import annotations

import reflex as rx

from medspa.domain.errors import ValidationFailed
from medspa.domain.practice import profile_actions as actions
from medspa.domain.practice.profile import LOGO_MAX, LOGO_MAX_BYTES, LOGO_TOO_LARGE
from medspa.domain.practice.profile_actions import ClinicProfile, ClinicProfileInput
from medspa.features.auth.state import StaffState
from medspa.features.settings.signing import signing_card
from medspa.features.settings.state import Choice
from medspa.features.photos.settings_card import photo_settings_card

INVALID = "inset 0 0 0 1px var(--red-8)"
FIELDS = ("name", "currency", "country")
UPLOAD_ID = "clinic-logo-upload"
ACCEPT = {"image/png": [".png"], "image/jpeg": [".jpg", ".jpeg"], "image/webp": [".webp"]}


class ClinicState(StaffState):
    """The Clinic tab's form, its logo and its messages."""

    clinic_ok: bool = False
    clinic_slug: str = ""
    clinic_form: dict[str, str] = {}
    clinic_listed: bool = False
    clinic_logo: str = ""
    currency_locked: bool = False
    clinic_errors: dict[str, str] = {}
    clinic_message: str = ""
    clinic_error: str = ""
    logo_busy: bool = False
    currency_choices: list[Choice] = []
    country_choices: list[Choice] = []

    def _fill(self, p: ClinicProfile) -> None:
        self.clinic_slug, self.clinic_listed, self.clinic_logo = p.slug, p.listed, p.logo_url
        self.clinic_form = {"name": p.name, "currency": p.currency, "country": p.country}
        self.currency_locked, self.clinic_errors = p.currency_locked, {}
        self.org_name, self.org_logo = p.name, p.logo_url  # the header of this tab follows at once

    @rx.event
    async def load_clinic(self):
        """on_load of the Clinic tab: the owner's form (others: nothing loaded)."""
        self.clinic_message, self.clinic_error = "", ""
        done = await self._act(actions.fetch_clinic_profile)
        if done.redirect is not None:
            return done.redirect
        self.clinic_ok = done.ok
        if done.ok:
            self.currency_choices = [Choice(c, f"{c} · {n}") for c, n in actions.currencies()]
            self.country_choices = [Choice(c, n) for c, n in actions.countries()]
            self._fill(done.value)

    @rx.event
    def set_clinic_field(self, name: str, value: str | list[str]):
        """Keep a typed field (name, currency, country); its message goes."""
        if self.clinic_ok and name in FIELDS and isinstance(value, str) and len(value) <= 300:
            self.clinic_form[name] = value
            self.clinic_errors.pop(name, None)
            self.clinic_message = ""

    @rx.event
    def set_listed(self, value: bool):
        """Listed on the home page or not."""
        if self.clinic_ok and isinstance(value, bool):
            self.clinic_listed, self.clinic_message = value, ""

    @rx.event
    async def save_clinic(self):
        """Save the clinic's details (domain: practice.profile); messages by field."""
        if not self.clinic_ok:
            return
        data = ClinicProfileInput(self.clinic_form.get("name", ""), self.clinic_form.get("currency", ""),
                                  self.clinic_form.get("country", ""), self.clinic_listed)
        try:
            done = await self._act(actions.do_update_clinic, data)
        except ValidationFailed as exc:
            self.clinic_errors, self.clinic_message = dict(exc.fields), ""
            self.clinic_error = "Nothing was saved: check the fields marked in red"
            return
        if done.redirect is not None:
            return done.redirect
        if done.error:
            self.clinic_error = done.error
            return
        self._fill(done.value)
        self.clinic_error, self.clinic_message = "", "Clinic details saved"

    @rx.event
    async def upload_logo(self, files: list[rx.UploadFile]):
        """The chosen logo: size checked here, content and re-encoding in the domain."""
        if not self.clinic_ok:
            return
        self.clinic_message, self.clinic_errors = "", {}
        if not isinstance(files, list) or len(files) != 1:
            self.clinic_errors = {"logo": "Choose one image." if not files else "Upload one image at a time."}
            return
        upload = files[0]
        data = b"" if upload.size is not None and upload.size > LOGO_MAX_BYTES else \
            await upload.read(LOGO_MAX_BYTES + 1)
        if not data or len(data) > LOGO_MAX_BYTES:
            self.clinic_errors = {"logo": LOGO_TOO_LARGE if data or upload.size else "Choose an image to upload."}
            return
        self.logo_busy = True
        yield
        try:
            done = await self._act(actions.do_set_logo, data)
        except ValidationFailed as exc:
            self.logo_busy, self.clinic_errors = False, {"logo": next(iter(exc.fields.values()), "")}
            return
        self.logo_busy = False
        if done.redirect is not None:
            yield done.redirect
            return
        if done.error:
            self.clinic_error = done.error
            return
        self.clinic_logo = self.org_logo = done.value.logo_url
        self.clinic_message, self.clinic_error = "Logo uploaded", ""
        yield rx.clear_selected_files(UPLOAD_ID)

    @rx.event
    async def remove_logo(self):
        """Remove the clinic's logo."""
        if not self.clinic_ok:
            return
        done = await self._act(actions.do_remove_logo)
        if done.redirect is not None:
            return done.redirect
        if done.error:
            self.clinic_error = done.error
            return
        self.clinic_logo = self.org_logo = ""
        self.clinic_message, self.clinic_errors, self.clinic_error = "Logo removed", {}, ""


C = ClinicState


def _error(name: str) -> rx.Component:
    return rx.cond(C.clinic_errors.contains(name),
                   rx.text(rx.icon("circle-alert", size=13, flex_shrink="0"), C.clinic_errors[name],
                           id=f"clinic-{name}-error", role="alert", size="1", color=rx.color("red", 11),
                           display="flex", align_items="center", gap="0.3em"))


def _field(name: str, label: str, control: rx.Component, hint: str | rx.Var = "") -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=f"clinic-{name}", style={"font_weight": "500", "font_size": "13px"}),
        control, rx.text(hint, size="1", color_scheme="gray"), _error(name),
        spacing="1", width="100%", align="stretch")


def _select(name: str, choices) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(id=f"clinic-{name}", width="100%",
                          style={"box_shadow": rx.cond(C.clinic_errors.contains(name), INVALID, "")}),
        rx.select.content(rx.foreach(choices, lambda c: rx.select.item(c.label, value=c.value)), position="popper",
                          max_height="320px"),
        value=C.clinic_form[name], on_change=C.set_clinic_field(name))


def _details() -> rx.Component:
    return rx.card(rx.el.form(rx.vstack(
        rx.heading("Details", size="3"),
        _field("name", "Clinic name", rx.input(
            id="clinic-name-input", value=C.clinic_form["name"], on_change=C.set_clinic_field("name"), width="100%",
            max_length=200, style={"box_shadow": rx.cond(C.clinic_errors.contains("name"), INVALID, "")},
            custom_attrs={"aria-invalid": rx.cond(C.clinic_errors.contains("name"), "true", "false")}),
            "Shown to clients on the booking page, in emails and texts, and in the staff header."),
        rx.grid(
            _field("currency", "Currency", _select("currency", C.currency_choices),
                   rx.cond(C.currency_locked, "Locked: the clinic has taken payments in this currency.",
                           "Prices, deposits and payments are in this currency.")),
            _field("country", "Country", _select("country", C.country_choices),
                   "Phone numbers without a country code are read as this country's."),
            columns=rx.breakpoints(initial="1", sm="2"), spacing="4", width="100%"),
        rx.el.label(
            rx.switch(checked=C.clinic_listed, on_change=C.set_listed, id="clinic-listed"),
            rx.vstack(rx.text("List on the home page", size="2", weight="medium"),
                      rx.text("Clients find the clinic on this server's front page. The booking link ",
                              rx.code("/book/", C.clinic_slug), " works either way.", size="1", color_scheme="gray"),
                      spacing="0"),
            display="flex", align_items="start", gap="10px", cursor="pointer"),
        rx.hstack(rx.button(rx.icon("save", size=15), "Save details", type="submit", id="clinic-save"),
                  justify="end", width="100%"),
        spacing="4", width="100%"), on_submit=C.save_clinic, prevent_default=True, width="100%"),
        width="100%", max_width="640px")


def _logo() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Logo", size="3"),
        rx.hstack(
            rx.center(rx.cond(C.clinic_logo != "",
                              rx.image(src=C.clinic_logo, alt="Clinic logo", max_width="120px", max_height="120px",
                                       object_fit="contain", id="clinic-logo-preview"),
                              rx.icon("image", size=28, color=rx.color("gray", 8))),
                      width="136px", height="136px", border_radius="12px", flex_shrink="0",
                      border=f"1px dashed {rx.color('gray', 7)}", background=rx.color("gray", 2)),
            rx.vstack(
                rx.upload.root(
                    rx.button(rx.icon("image-plus", size=15), "Choose image", size="2", variant="outline",
                              type="button"),
                    id=UPLOAD_ID, accept=ACCEPT, max_files=1, max_size=LOGO_MAX_BYTES, multiple=False,
                    border="none", padding="0"),
                rx.text(rx.foreach(rx.selected_files(UPLOAD_ID), lambda n: rx.text(n, as_="span")), size="2",
                        color_scheme="gray", id="clinic-logo-selected"),
                rx.hstack(
                    rx.button(rx.icon("upload", size=15), "Upload logo", size="2", loading=C.logo_busy,
                              id="clinic-logo-submit", on_click=C.upload_logo(rx.upload_files(upload_id=UPLOAD_ID))),
                    rx.cond(C.clinic_logo != "", rx.button(rx.icon("trash-2", size=15), "Remove", size="2",
                                                           variant="soft", color_scheme="red", id="clinic-logo-remove",
                                                           on_click=C.remove_logo)),
                    spacing="2"),
                rx.text(f"PNG, JPEG or WebP, at most {LOGO_MAX_BYTES // (1024 * 1024)} MB; shown at most "
                        f"{LOGO_MAX} px wide. A square or wide logo on a transparent background looks best.",
                        size="1", color_scheme="gray", max_width="340px"),
                _error("logo"),
                spacing="2"),
            spacing="4", align="start", wrap="wrap"),
        spacing="3", width="100%"), width="100%", max_width="640px")


def clinic_tab() -> rx.Component:
    """The tab's content (loads on mount)."""
    return rx.vstack(
        rx.vstack(rx.heading("Clinic", size="4"),
                  rx.text("Who the clinic is to its clients: name, logo, currency, country, and whether it is "
                          "listed on the home page.", size="2", color_scheme="gray"), spacing="1"),
        rx.cond(C.clinic_message != "", rx.callout(C.clinic_message, icon="circle-check", color_scheme="grass",
                                                   size="1", width="100%", max_width="640px", id="clinic-message")),
        rx.cond(C.clinic_error != "", rx.callout(C.clinic_error, icon="circle-alert", color_scheme="red", size="1",
                                                 width="100%", max_width="640px", id="clinic-error")),
        rx.cond(C.clinic_ok,
                rx.flex(_details(), _logo(), gap="16px", width="100%", align="start",
                        direction=rx.breakpoints(initial="column", lg="row")),
                rx.center(rx.spinner(size="2"), padding="36px")),
        photo_settings_card(),  # issue 18: keep photo originals (owner)
        signing_card(),  # issue 18: covering providers, medical director (features/settings/signing.py)
        spacing="4", width="100%", on_mount=C.load_clinic)
