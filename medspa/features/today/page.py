"""`/today`: the daily lists (issue 15, section 3).

"My day" (providers, and owners or managers who see clients): the signed-in provider's own
visits today in order, one card each (time, client linking to the profile, service, room,
status) with its alerts as chips; made for a phone. "Arrivals" (front desk, owners,
managers): today's visits at a location, late first, then checked in and waiting, expected,
completed and no-shows, each with its minutes ("12 min late", "waiting 9 min") and a
one-click "Check in". Times are the location's wall clock. The list refreshes every 30
seconds (state.py). Roles without either list see "not found".
"""

from __future__ import annotations

import reflex as rx

from medspa.domain.clinical.consent import CONSENTS_SIGNED
from medspa.domain.clinical.forms import FORMS_DONE
from medspa.features.auth.shell import not_found_view, staff_header
from medspa.features.choices import Option
from medspa.features.today.state import ARRIVALS, MY_DAY, AlertView, CountView, TodayState, VisitView
from medspa.features.texts.page import FlaggedTextsState, flagged_banner

ROUTE = "/today"


def _alert(a: AlertView) -> rx.Component:
    icon = rx.match(a.kind, ("new_client", "sparkles"), ("balance", "circle-dollar-sign"), ("card", "credit-card"),
                    ("allergy", "triangle-alert"), ("contraindication", "triangle-alert"), "flag")
    return rx.badge(rx.icon(icon, size=12), a.text, color_scheme=a.tone, variant="soft", size="1",
                    class_name="today-alert", custom_attrs={"data-kind": a.kind}, white_space="normal",
                    max_width="100%")


def _paper(words, done_words: str, icon: str, class_name: str) -> rx.Component:
    """A paperwork status as a chip: amber while due ("Forms 1/2"), green when done."""
    return rx.cond(words != "", rx.badge(rx.icon(icon, size=12), words, variant="soft", size="1",
                                         color_scheme=rx.cond(words == done_words, "grass", "amber"),
                                         class_name=class_name))


def _forms(v: VisitView) -> rx.Component:
    """The visit's intake forms and consents as chips ("Forms 1/2", "Consents signed")."""
    return rx.fragment(_paper(v.forms, FORMS_DONE, "clipboard-list", "today-forms"),
                       _paper(v.consents, CONSENTS_SIGNED, "signature", "today-consents"))


def _alerts(v: VisitView) -> rx.Component:
    return rx.cond((v.alerts.length() > 0) | (v.forms != "") | (v.consents != ""),
                   rx.flex(rx.foreach(v.alerts, _alert), _forms(v), wrap="wrap", gap="6px", class_name="today-alerts"))


def _client(v: VisitView, size: str = "3") -> rx.Component:
    return rx.cond(v.href != "",
                   rx.link(v.client_name, href=v.href, weight="bold", size=size, class_name="today-client",
                           color=rx.color("gray", 12), underline="hover"),
                   rx.text(v.client_name, weight="bold", size=size, class_name="today-client"))


def _where(v: VisitView) -> rx.Component:
    return rx.text(v.service, rx.cond(v.rooms != "", rx.fragment(" · ", v.rooms)), size="2", color_scheme="gray",
                   class_name="today-service")


# --------------------------------------------------------------------------- My day


def _my_card(v: VisitView) -> rx.Component:
    done = (v.status == "completed") | (v.status == "no_show")
    return rx.box(
        rx.hstack(
            rx.vstack(
                rx.text(v.start, weight="bold", size="3", white_space="nowrap", class_name="today-time"),
                rx.text(v.end, size="1", color_scheme="gray", white_space="nowrap"),
                spacing="0", width="84px", flex_shrink="0", padding_top="1px",
            ),
            rx.vstack(
                rx.hstack(_client(v), rx.spacer(),
                          rx.cond((v.bucket == "late") | (v.bucket == "waiting"),
                                  rx.badge(v.timing, color_scheme=v.bucket_color, size="1", white_space="nowrap",
                                           variant=rx.cond(v.bucket == "late", "solid", "soft"),
                                           class_name="today-status", flex_shrink="0"),
                                  rx.badge(v.status_label, color_scheme=v.status_color, variant="surface", size="1",
                                           class_name="today-status", flex_shrink="0")),
                          width="100%", align="start", spacing="2"),
                _where(v),
                _alerts(v),
                spacing="1", min_width="0", flex="1",
            ),
            spacing="3", align="start", width="100%",
        ),
        padding="14px", border_radius="12px", background=rx.color("gray", 1),
        border=f"1px solid {rx.color('gray', 5)}",
        border_left=rx.cond(done, f"4px solid {rx.color('gray', 6)}", f"4px solid {rx.color('teal', 9)}"),
        opacity=rx.cond(done, "0.72", "1"), width="100%", class_name="today-visit",
        custom_attrs={"data-id": v.id, "data-status": v.status},
    )


def _my_day() -> rx.Component:
    s = TodayState
    return rx.vstack(
        rx.hstack(
            rx.vstack(rx.text(s.provider_name, size="2", color_scheme="gray", id="today-provider"),
                      rx.heading(s.day_label, size="5", id="today-day"), spacing="0"),
            rx.spacer(),
            rx.cond(s.my_visits.length() > 0,
                    rx.badge(s.my_visits.length().to_string() + " visits · " + s.remaining.to_string() + " to go",
                             color_scheme="teal", variant="soft", size="2", id="today-remaining")),
            width="100%", align="end",
        ),
        rx.cond(s.my_visits.length() > 0,
                rx.vstack(rx.foreach(s.my_visits, _my_card), spacing="2", width="100%", id="today-my-list"),
                rx.center(rx.vstack(rx.icon("calendar-check", size=28, color=rx.color("gray", 9)),
                                    rx.cond(s.bookable,
                                            rx.text("No visits for you today.", size="2", color_scheme="gray"),
                                            rx.text("Your account is not linked to a bookable provider on the staff "
                                                    "list, so it has no visits of its own.",
                                                    size="2", color_scheme="gray", text_align="center")),
                                    align="center", spacing="2"),
                          padding_y="40px", width="100%", id="today-my-empty")),
        spacing="3", width="100%",
    )


# --------------------------------------------------------------------------- Arrivals


def _count(c: CountView) -> rx.Component:
    return rx.hstack(
        rx.text(c.count, weight="bold", size="4"),
        rx.text(c.label, size="2", color_scheme="gray"),
        spacing="2", align="baseline", padding_x="12px", padding_y="6px", border_radius="10px",
        background=rx.cond(c.count > 0, rx.color(c.color, 3), rx.color("gray", 2)),
        border=f"1px solid {rx.color('gray', 4)}", class_name="today-count",
        custom_attrs={"data-bucket": c.bucket},
    )


def _option(o: Option) -> rx.Component:
    return rx.select.item(o.label, value=o.value)


def _arrival(v: VisitView) -> rx.Component:
    s = TodayState
    timing = rx.cond(v.timing != "", v.timing, v.bucket_label)
    return rx.table.row(
        rx.table.cell(rx.text(v.start, weight="bold", size="2", white_space="nowrap"), class_name="today-time"),
        rx.table.cell(rx.vstack(_client(v, "2"), _alerts(v), spacing="1")),
        rx.table.cell(rx.vstack(rx.text(v.service, size="2"),
                                rx.text(v.provider, rx.cond(v.rooms != "", rx.fragment(" · ", v.rooms)),
                                        size="1", color_scheme="gray"), spacing="0")),
        rx.table.cell(rx.badge(timing, color_scheme=v.bucket_color,
                               variant=rx.cond(v.bucket == "late", "solid", "soft"),
                               size="2", white_space="nowrap", class_name="today-timing")),
        rx.table.cell(rx.cond(v.can_check_in,
                              rx.button(rx.cond(s.busy_id == v.id, rx.spinner(size="1"), rx.icon("log-in", size=14)),
                                        "Check in", size="2", on_click=s.check_in(v.id), disabled=s.busy_id != 0,
                                        white_space="nowrap",
                                        class_name="today-check-in", custom_attrs={"data-id": v.id})),
                      text_align="right"),
        class_name="today-arrival", vertical_align="middle",
        custom_attrs={"data-id": v.id, "data-bucket": v.bucket},
        background=rx.cond(v.bucket == "late", rx.color("red", 2), "transparent"),
        opacity=rx.cond((v.bucket == "done") | (v.bucket == "no_show"), "0.7", "1"),
    )


def _arrivals() -> rx.Component:
    s = TodayState
    return rx.vstack(
        rx.hstack(
            rx.vstack(rx.text(s.location_name, size="2", color_scheme="gray"),
                      rx.heading(s.arrivals_day, size="5", id="today-arrivals-day"), spacing="0"),
            rx.spacer(),
            rx.cond(s.locations.length() > 1,
                    rx.select.root(rx.select.trigger(id="today-location", min_width="200px"),
                                   rx.select.content(rx.foreach(s.locations, _option)),
                                   value=s.location, on_change=s.set_location, size="2")),
            width="100%", align="end", wrap="wrap", spacing="3",
        ),
        rx.flex(rx.foreach(s.counts, _count), wrap="wrap", gap="8px", id="today-counts"),
        rx.cond(s.rows.length() > 0,
                rx.table.root(
                    rx.table.header(rx.table.row(
                        rx.table.column_header_cell("Time", width="92px"),
                        rx.table.column_header_cell("Client"),
                        rx.table.column_header_cell("Service"),
                        rx.table.column_header_cell("Now", width="150px"),
                        rx.table.column_header_cell("", width="132px"),
                    )),
                    rx.table.body(rx.foreach(s.rows, _arrival)),
                    variant="surface", size="2", width="100%", id="today-arrivals",
                ),
                rx.center(rx.vstack(rx.icon("calendar-check", size=28, color=rx.color("gray", 9)),
                                    rx.text("No visits at this location today.", size="2", color_scheme="gray"),
                                    align="center", spacing="2"),
                          padding_y="40px", width="100%", id="today-arrivals-empty")),
        spacing="3", width="100%",
    )


# --------------------------------------------------------------------------- page


def _tabs() -> rx.Component:
    s = TodayState
    return rx.cond(s.tabs.length() > 1,
                   rx.segmented_control.root(
                       rx.segmented_control.item("My day", value=MY_DAY),
                       rx.segmented_control.item("Arrivals", value=ARRIVALS),
                       value=s.tab, on_change=s.set_tab, size="2", id="today-tabs"))


def _body() -> rx.Component:
    s = TodayState
    return rx.box(
        rx.vstack(
            rx.hstack(
                rx.heading("Today", size="7", weight="bold"),
                _tabs(),
                rx.spacer(),
                rx.text(rx.cond(s.tab == ARRIVALS, "As of " + s.now_label, ""), size="1", color_scheme="gray",
                        id="today-now", display=rx.breakpoints(initial="none", sm="block")),
                rx.icon_button(rx.icon("refresh-cw", size=16), on_click=s.refresh, variant="ghost", size="2",
                               id="today-refresh", title="Refresh (the list also refreshes every 30 seconds)",
                               aria_label="Refresh"),
                width="100%", align="center", spacing="3", wrap="wrap",
            ),
            rx.cond(s.error != "", rx.callout(s.error, icon="triangle-alert", color_scheme="red", size="1",
                                              width="100%", id="today-error")),
            rx.cond(s.notice != "", rx.callout(s.notice, icon="check", color_scheme="grass", size="1",
                                               width="100%", id="today-notice")),
            flagged_banner(),
            rx.cond(s.tab == MY_DAY, rx.cond(s.loaded_my_day, _my_day(), rx.spinner(size="3")),
                    rx.cond(s.loaded_arrivals, _arrivals(), rx.spinner(size="3"))),
            spacing="4", width="100%",
        ),
        width="100%", max_width=rx.cond(s.tab == MY_DAY, "720px", "1100px"), margin_x="auto",
        padding=rx.breakpoints(initial="14px", sm="24px"),
    )


def today_page() -> rx.Component:
    """/today: the daily lists of this role."""
    s = TodayState
    return rx.box(
        rx.cond(s.allowed, rx.fragment(staff_header("today"), _body()),
                rx.cond(s.not_found, rx.fragment(staff_header("today"), not_found_view("today-not-found")),
                        rx.center(rx.spinner(size="3"), padding_top="20vh"))),
        min_height="100vh", background=rx.color("gray", 2), id="today-page",
    )


def register(app: rx.App) -> None:
    """Add /today (staff with calendar.read and client.read)."""
    app.add_page(today_page, route=ROUTE, title="Today · medspa", on_load=[TodayState.load, FlaggedTextsState.load_count])
