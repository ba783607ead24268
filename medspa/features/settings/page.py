"""`/settings`: the clinic's settings for owners and managers (settings.write), Services tab.

The services by category with duration, buffers, price, deposit, what they need and who
performs them; add, edit, archive and restore (never delete). Other staff roles see a plain
"not found" (missing and forbidden look alike); signed-out visitors are sent to sign in.
"""

from __future__ import annotations

import reflex as rx

from medspa.features.auth.shell import not_found_view, staff_header
from medspa.features.auth.state import StaffState
from medspa.features.consent.settings import consents_settings_tab
from medspa.features.inventory.page import products_panel
from medspa.features.settings.lab_tests import lab_tests_tab
from medspa.features.settings.checklist import SettingsNavState, checklist_card
from medspa.features.settings.clinic import clinic_tab
from medspa.features.settings.hours_view import hours_tab
from medspa.features.settings.message_settings import settings_card
from medspa.features.settings.messages import messages_tab
from medspa.features.settings.rooms import rooms_tab
from medspa.features.settings.locations import locations_tab
from medspa.features.settings.service_form import service_dialog
from medspa.features.settings.state import ServiceView, SettingsState

ROUTE = "/settings"
S = SettingsState
COLUMNS = ("Service", "Duration", "Price", "Deposit", "Needs", "Providers", "Online booking", "")


def _category_row(row: ServiceView) -> rx.Component:
    return rx.cond(
        row.heading != "",
        rx.table.row(rx.table.cell(
            rx.text(row.heading, size="1", weight="bold", text_transform="uppercase", letter_spacing="0.06em",
                    color=rx.color("teal", 11)),
            col_span=len(COLUMNS), padding_top="18px", padding_bottom="6px"), class_name="svc-category"),
    )


def _actions(row: ServiceView) -> rx.Component:
    return rx.hstack(
        rx.button(rx.icon("pencil", size=13), "Edit", size="1", variant="soft", on_click=S.edit_service(row.id),
                  class_name="svc-edit"),
        rx.cond(row.active,
                rx.button(rx.icon("archive", size=13), "Archive", size="1", variant="soft", color_scheme="gray",
                          on_click=S.set_active(row.id, False), class_name="svc-archive"),
                rx.button(rx.icon("archive-restore", size=13), "Restore", size="1", variant="soft",
                          color_scheme="grass", on_click=S.set_active(row.id, True), class_name="svc-restore")),
        spacing="2", justify="end")


def _service_row(row: ServiceView) -> rx.Component:
    return rx.fragment(
        _category_row(row),
        rx.table.row(
            rx.table.cell(rx.vstack(
                rx.hstack(rx.text(row.name, size="2", weight="medium", class_name="svc-name"),
                          rx.cond(row.active, rx.fragment(), rx.badge("Archived", color_scheme="gray", size="1")),
                          spacing="2", align="center"),
                rx.cond(row.description != "", rx.text(row.description, size="1", color_scheme="gray",
                                                       max_width="340px", trim="end", truncate=True)),
                spacing="0")),
            rx.table.cell(rx.vstack(rx.text(row.duration, size="2"),
                                    rx.cond(row.buffers != "", rx.text(row.buffers, size="1", color_scheme="gray")),
                                    spacing="0")),
            rx.table.cell(rx.text(row.price, size="2", weight="medium"), class_name="svc-price"),
            rx.table.cell(rx.text(row.deposit, size="2"), class_name="svc-deposit"),
            rx.table.cell(rx.text(row.needs, size="2")),
            rx.table.cell(rx.text(row.providers, size="2")),
            rx.table.cell(rx.vstack(
                rx.badge(row.booking, color_scheme=row.booking_colour, size="1", variant="soft",
                         class_name="svc-booking"),
                rx.text(row.notice, size="1", color_scheme="gray"), spacing="1")),
            rx.table.cell(_actions(row)),
            class_name="svc-row", opacity=rx.cond(row.active, "1", "0.6"),
            custom_attrs={"data-service-id": row.id},
        ),
    )


def _empty() -> rx.Component:
    return rx.center(rx.vstack(
        rx.icon("sparkles", size=28, color=rx.color("teal", 9)),
        rx.text("No services yet", size="3", weight="bold"),
        rx.text("Add the treatments you offer: clients book them online and the calendar uses their "
                "durations, buffers and prices.", size="2", color_scheme="gray", text_align="center",
                max_width="420px"),
        rx.button(rx.icon("plus", size=14), "Add your first service", on_click=S.new_service),
        align="center", spacing="2"), padding="48px")


def _services_tab() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.vstack(
                rx.heading("Services", size="4"),
                rx.text("What clients can book, how long it takes, what it costs. Archived services stay in "
                        "past visits and reports.", size="2", color_scheme="gray"),
                spacing="1"),
            rx.hstack(
                rx.el.label(rx.switch(checked=S.show_archived, on_change=S.toggle_archived, size="1",
                                      id="svc-show-archived"),
                            rx.text("Show archived (", S.archived_count.to_string(), ")", size="2"),
                            display="flex", align_items="center", gap="8px", cursor="pointer"),
                rx.button(rx.icon("plus", size=15), "New service", on_click=S.new_service, id="svc-new"),
                spacing="4", align="center"),
            justify="between", align="end", width="100%", gap="12px", wrap="wrap"),
        rx.cond(S.message != "", rx.callout(S.message, icon="circle-check", color_scheme="grass", size="1",
                                            id="settings-message", width="100%")),
        rx.cond((S.error != "") & ~S.form_open, rx.callout(S.error, icon="circle-alert", color_scheme="red",
                                                           size="1", width="100%")),
        rx.card(
            rx.cond(
                S.services.length() > 0,
                rx.table.root(
                    rx.table.header(rx.table.row(*(rx.table.column_header_cell(h) for h in COLUMNS))),
                    rx.table.body(rx.foreach(S.services, _service_row)),
                    size="2", variant="ghost", width="100%", id="svc-table"),
                _empty()),
            width="100%", overflow_x="auto"),
        spacing="4", width="100%")


def _view() -> rx.Component:
    return rx.vstack(
        rx.vstack(
            rx.heading("Settings", size="6", weight="bold"),
            rx.text("How your clinic runs: the service menu, prices and deposits, and who performs what.",
                    size="2", color_scheme="gray"),
            spacing="1"),
        checklist_card(),
        rx.tabs.root(
            rx.tabs.list(rx.tabs.trigger(rx.hstack(rx.icon("sparkles", size=14), "Services", spacing="2",
                                                   align="center"), value="services", id="settings-tab-services"),
                         rx.tabs.trigger(rx.hstack(rx.icon("map-pin", size=14), "Locations", spacing="2",
                                                   align="center"), value="locations", id="settings-tab-locations"),
                         rx.tabs.trigger(rx.hstack(rx.icon("door-open", size=14), "Rooms and devices", spacing="2",
                                                   align="center"), value="rooms", id="settings-tab-rooms"),
                         rx.tabs.trigger(rx.hstack(rx.icon("clock", size=14), "Provider hours", spacing="2",
                                                   align="center"), value="hours", id="settings-tab-hours"),
                         rx.tabs.trigger(rx.hstack(rx.icon("signature", size=14), "Consents", spacing="2",
                                                   align="center"), value="consents", id="settings-tab-consents"),
                         rx.tabs.trigger(rx.hstack(rx.icon("flask-conical", size=14), "Tests", spacing="2",
                                                   align="center"), value="tests", id="settings-tab-tests"),
                         rx.tabs.trigger(rx.hstack(rx.icon("package", size=14), "Products", spacing="2",
                                                   align="center"), value="products", id="settings-tab-products"),
                         rx.tabs.trigger(rx.hstack(rx.icon("mail", size=14), "Messages", spacing="2",
                                                   align="center"), value="messages", id="settings-tab-messages"),
                         rx.cond(StaffState.staff_role == "owner",
                                 rx.tabs.trigger(rx.hstack(rx.icon("building-2", size=14), "Clinic", spacing="2",
                                                           align="center"), value="clinic", id="settings-tab-clinic"))),
            rx.tabs.content(rx.box(_services_tab(), padding_top="18px"), value="services"),
            rx.tabs.content(rx.box(locations_tab(), padding_top="18px"), value="locations"),
            rx.tabs.content(rx.box(rooms_tab(), padding_top="18px"), value="rooms"),
            rx.tabs.content(rx.box(hours_tab(), padding_top="18px"), value="hours"),
            rx.tabs.content(rx.box(consents_settings_tab(), padding_top="18px"), value="consents"),
            rx.tabs.content(rx.box(lab_tests_tab(), padding_top="18px"), value="tests"),
            rx.tabs.content(rx.box(products_panel(), padding_top="18px"), value="products"),
            rx.tabs.content(rx.vstack(messages_tab(), settings_card(), spacing="4", padding_top="18px", width="100%"),
                            value="messages"),
            rx.tabs.content(rx.box(rx.cond(StaffState.staff_role == "owner", clinic_tab()), padding_top="18px"),
                            value="clinic"),
            value=SettingsNavState.tab, on_change=SettingsNavState.pick_tab, width="100%"),
        service_dialog(),
        spacing="4", padding="20px", width="100%", max_width="1300px", margin_x="auto",
    )


def settings_page() -> rx.Component:
    """`/settings`: the tabs for owners and managers, the not-found page for everyone else."""
    return rx.box(
        rx.cond(S.not_found, not_found_view("settings-not-found"),
                rx.cond(S.allowed, rx.fragment(staff_header("settings"), _view()),
                        rx.center(rx.spinner(size="3"), padding_top="18vh"))),
        min_height="100vh", background=rx.color("gray", 2), id="settings-page",
    )


def register(app: rx.App) -> None:
    """Add /settings (owner and manager)."""
    app.add_page(settings_page, route=ROUTE, title="Settings · medspa", on_load=[S.load, SettingsNavState.load_nav])
