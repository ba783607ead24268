"""`/waitlist`: the desk's waitlist per day (issue 16 §3).

For a location and a day (?day=YYYY-MM-DD, default today there): the clients waiting for a
time that day, in the order a freed time is offered to them (the order they joined), each
with the treatment, provider or anyone, dates, time of day, where they joined and the last
offer; "Add to waitlist" for a client found with the client search (or a new one typed) and
"Remove" to take one off; the entries booked or closed stay listed apart with what happened.
Offers go out on their own when a time frees (a cancellation, a move, new hours): the Outbox
shows them to the roles that open it.
"""

from __future__ import annotations

import reflex as rx

from medspa.features.auth.shell import not_found_view, staff_header
from medspa.features.waitlist.client_pick import ClientHit, WaitlistClientState
from medspa.features.waitlist.state import ROUTE, EntryView, WaitlistState

W = WaitlistState
C = WaitlistClientState


def _error(name: str) -> rx.Component:
    return rx.cond(W.form_errors[name], rx.text(W.form_errors[name], size="1", color=rx.color("red", 11),
                                                id=f"wlf-{name}-error", role="alert"))


def _field(name: str, label: str, control: rx.Component) -> rx.Component:
    return rx.vstack(rx.el.label(label, html_for=f"wlf-{name}", style={"font_size": "0.85em", "font_weight": "500"}),
                     control, _error(name), spacing="1", width="100%", min_width="0")


def _input(name: str, label: str, **props) -> rx.Component:
    return _field(name, label, rx.input(id=f"wlf-{name}", name=name, width="100%", **props))


def _select(name: str, label: str, options, default) -> rx.Component:
    return _field(name, label, rx.select.root(
        rx.select.trigger(id=f"wlf-{name}", width="100%"),
        rx.select.content(rx.foreach(options, lambda o: rx.select.item(o.label, value=o.value))),
        name=name, default_value=default))


def _row(*children: rx.Component) -> rx.Component:
    return rx.grid(*children, columns=rx.breakpoints(initial="1", sm="2"), spacing="3", width="100%")


def _hit(hit: ClientHit) -> rx.Component:
    return rx.button(
        rx.vstack(rx.text(hit.name, size="2", weight="medium", color=rx.color("gray", 12)),
                  rx.text(hit.hint, size="1", color_scheme="gray"),
                  spacing="0", align="start"),
        on_click=C.pick(hit.id), type="button", variant="ghost", color_scheme="gray", width="100%",
        justify_content="flex-start", height="auto", padding="6px 8px", class_name="wlf-hit",
        custom_attrs={"data-client-id": hit.id})


def _client_part() -> rx.Component:
    """Find an existing client (the calendar's client search), or type a new one."""
    search = rx.vstack(
        rx.el.label("Client", html_for="wlf-client-search", style={"font_size": "0.85em", "font_weight": "500"}),
        rx.input(placeholder="Search clients by name, email or phone", value=C.query,
                 on_change=C.search.debounce(250), id="wlf-client-search", name="client_search", width="100%",
                 auto_complete="off"),
        rx.cond(C.hits.length() > 0,
                rx.vstack(rx.foreach(C.hits, _hit), spacing="0", width="100%", max_height="200px", overflow_y="auto",
                          border=f"1px solid {rx.color('gray', 5)}", border_radius="8px", padding="4px",
                          id="wlf-hits"),
                rx.cond(C.query.length() >= 2, rx.text("No clients found.", size="1", color_scheme="gray"))),
        _error("client"),
        rx.button(rx.icon("user-plus", size=14), "New client", variant="ghost", size="1", type="button",
                  on_click=C.set_mode("new"), id="wlf-new-client"),
        spacing="2", width="100%")
    new = rx.vstack(
        _row(_input("first_name", "First name"), _input("last_name", "Last name")),
        _row(_input("email", "Email", type="email"), _input("phone", "Mobile phone", type="tel")),
        _error("client"),
        rx.button(rx.icon("search", size=14), "Find an existing client instead", variant="ghost", size="1",
                  type="button", on_click=C.set_mode("search"), id="wlf-find-client"),
        spacing="3", width="100%")
    picked = rx.vstack(
        rx.text("Client", size="2", weight="medium"),
        rx.hstack(rx.avatar(fallback=C.client_label.to(str)[:1], size="2", radius="full", color_scheme="teal"),
                  rx.text(C.client_label, size="3", weight="bold", id="wlf-client-picked"),
                  rx.spacer(),
                  rx.button("Change", variant="ghost", size="1", type="button", on_click=C.set_mode("search")),
                  align="center", width="100%", padding="8px", border_radius="8px", background=rx.color("teal", 2)),
        _error("client"),
        spacing="1", width="100%")
    return rx.match(C.mode, ("new", new), ("picked", picked), search)


def _add_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Add to the waitlist"),
            rx.dialog.description("The client hears by email and text when a matching time frees up.", size="2",
                                  color_scheme="gray", margin_bottom="12px"),
            rx.form(
                rx.vstack(
                    _client_part(),
                    _row(_select("service", "Treatment", W.services, ""),
                         _select("provider", "Provider", W.providers, "any")),
                    _row(_input("first_day", "From", type="date", default_value=W.day),
                         _input("last_day", "Until", type="date", default_value=W.until)),
                    _row(_input("window_start", "Earliest start", type="time", step="900", default_value="09:00"),
                         _input("window_end", "Done by", type="time", step="900", default_value="17:00")),
                    _input("note", "Note for the desk (optional)"),
                    _error("form"),
                    rx.hstack(rx.dialog.close(rx.button("Cancel", type="button", variant="soft", color_scheme="gray",
                                                        on_click=W.close_form)),
                              rx.button("Add to waitlist", type="submit", loading=W.busy, id="wlf-save"),
                              justify="end", width="100%", spacing="2"),
                    spacing="3", width="100%"),
                on_submit=W.add, reset_on_submit=False, no_validate=True),
            max_width="560px"),
        open=W.form_open, on_open_change=lambda _: W.close_form)


def _entry(e: EntryView) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.center(rx.text(e.position, weight="bold", size="2"), width="28px", height="28px", flex_shrink="0",
                      border_radius="50%", background=rx.color("teal", 3), color=rx.color("teal", 11)),
            rx.vstack(
                rx.flex(rx.link(e.client_name, href=e.href, weight="bold", size="3", color=rx.color("gray", 12),
                                underline="hover", class_name="wl-client"),
                        rx.badge(e.status, color_scheme=e.status_color, variant="soft", class_name="wl-status"),
                        rx.badge(e.source, color_scheme="gray", variant="outline"),
                        gap="8px", align="center", wrap="wrap"),
                rx.text(e.service, " · ", e.provider, size="2", class_name="wl-service"),
                rx.flex(rx.hstack(rx.icon("calendar", size=13), rx.text(e.dates, size="2"), spacing="1", align="center"),
                        rx.hstack(rx.icon("clock", size=13), rx.text(e.window, size="2"), spacing="1", align="center"),
                        gap="4px 14px", wrap="wrap", color=rx.color("gray", 11), class_name="wl-when"),
                rx.text(e.contact, " · joined ", e.joined, size="1", color_scheme="gray"),
                rx.cond(e.offer != "", rx.hstack(rx.icon("send", size=12), rx.text(e.offer, size="1"), spacing="1",
                                                 align="center", color=rx.color("amber", 11), class_name="wl-offer")),
                rx.cond(e.note != "", rx.text(e.note, size="1", style={"font_style": "italic"})),
                spacing="1", min_width="0", flex="1"),
            rx.button("Remove", size="1", variant="ghost", color_scheme="gray", on_click=W.close_entry(e.id),
                      class_name="wl-remove"),
            spacing="3", align="start", width="100%"),
        padding="14px", border_radius="12px", background=rx.color("gray", 1), width="100%",
        border=f"1px solid {rx.color('gray', 5)}", class_name="wl-entry", custom_attrs={"data-id": e.id})


def _done_entry(e: EntryView) -> rx.Component:
    """A booked or closed entry: who, what they waited for, and what happened."""
    return rx.box(
        rx.vstack(
            rx.flex(rx.link(e.client_name, href=e.href, weight="bold", size="2", color=rx.color("gray", 12),
                            underline="hover"),
                    rx.badge(e.status, color_scheme=e.status_color, variant="soft"),
                    rx.badge(e.source, color_scheme="gray", variant="outline"),
                    gap="8px", align="center", wrap="wrap"),
            rx.text(e.service, " · ", e.provider, " · ", e.dates, ", ", e.window, size="1", color_scheme="gray"),
            rx.text(e.outcome, size="2", class_name="wl-outcome", style={"overflow_wrap": "anywhere"}),
            spacing="1", min_width="0", width="100%"),
        padding="10px 14px", border_radius="10px", background=rx.color("gray", 1), width="100%",
        border=f"1px solid {rx.color('gray', 4)}", class_name="wl-done", custom_attrs={"data-id": e.id})


def _done_section(title: str, rows, id_: str) -> rx.Component:
    return rx.cond(rows.length() > 0, rx.vstack(
        rx.heading(title, size="3", weight="bold", color=rx.color("gray", 11)),
        rx.foreach(rows, _done_entry),
        spacing="2", width="100%", id=id_))


def _toolbar() -> rx.Component:
    return rx.flex(
        rx.select.root(rx.select.trigger(id="wl-location", min_width="140px"),
                       rx.select.content(rx.foreach(W.locations, lambda o: rx.select.item(o.label, value=o.value))),
                       value=W.location, on_change=W.set_location),
        rx.hstack(
            rx.icon_button(rx.icon("chevron-left", size=16), on_click=W.shift_day(-1), variant="soft", size="2",
                           aria_label="Previous day", id="wl-prev"),
            rx.input(type="date", value=W.day, on_change=W.set_day, id="wl-day", width="150px"),
            rx.icon_button(rx.icon("chevron-right", size=16), on_click=W.shift_day(1), variant="soft", size="2",
                           aria_label="Next day", id="wl-next"),
            spacing="1", align="center"),
        rx.spacer(display=rx.breakpoints(initial="none", sm="block")),
        rx.button(rx.icon("user-plus", size=15), "Add to waitlist", on_click=W.open_form, id="wl-add"),
        gap="10px", wrap="wrap", align="center", width="100%")


def _body() -> rx.Component:
    return rx.box(
        rx.vstack(
            rx.vstack(rx.heading("Waitlist", size="7", weight="bold"),
                      rx.text(W.day_label, " · ", W.mode_label, size="2", color_scheme="gray", id="wl-day-label"),
                      spacing="1"),
            _toolbar(),
            rx.cond(W.error != "", rx.callout(W.error, icon="triangle-alert", color_scheme="red", size="1",
                                              width="100%")),
            rx.cond(W.notice != "", rx.callout(W.notice, icon="check", color_scheme="grass", size="1", width="100%",
                                               id="wl-notice")),
            rx.cond(W.rows.length() > 0,
                    rx.vstack(rx.foreach(W.rows, _entry), spacing="2", width="100%", id="wl-list"),
                    rx.center(rx.vstack(rx.icon("hourglass", size=28, color=rx.color("gray", 8)),
                                        rx.text("Nobody is waiting for this day.", size="2", color_scheme="gray",
                                                text_align="center"),
                                        align="center", spacing="2"),
                              padding="40px", width="100%", border=f"1px dashed {rx.color('gray', 6)}",
                              border_radius="12px", id="wl-empty")),
            _done_section("Booked from the waitlist", W.booked_rows, "wl-booked"),
            _done_section("Closed", W.closed_rows, "wl-closed"),
            rx.text("A freed time (a cancellation, a moved visit, new hours) is offered by itself, in this order; ",
                    rx.cond(W.can_open_outbox, "the messages are in the Outbox.",
                            "the client gets the offer by email and text automatically."),
                    size="1", color_scheme="gray", id="wl-hint"),
            _add_dialog(),
            spacing="4", width="100%"),
        width="100%", max_width="860px", margin_x="auto", padding=rx.breakpoints(initial="14px", sm="24px"))


def waitlist_page() -> rx.Component:
    """/waitlist: the day's waitlist at a location."""
    return rx.box(
        rx.cond(W.allowed, rx.fragment(staff_header("waitlist"), _body()),
                rx.cond(W.not_found, rx.fragment(staff_header("waitlist"), not_found_view("wl-not-found")),
                        rx.center(rx.spinner(size="3"), padding_top="20vh"))),
        min_height="100vh", background=rx.color("gray", 2), id="waitlist-page")


def register(app: rx.App) -> None:
    """Add /waitlist (staff who book: waitlist.manage)."""
    app.add_page(waitlist_page, route=ROUTE, title="Waitlist · medspa", on_load=W.load)

