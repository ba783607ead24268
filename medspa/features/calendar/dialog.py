"""The "Book a client" dialog's UI (its state: book_dialog.py)."""

from __future__ import annotations

import reflex as rx

from medspa.features.calendar.book_dialog import BookDialogState, Hit, Option
from medspa.features.calendar.book_health import health_section
from medspa.features.calendar.series_dialog import NONE, SeriesState, series_section


def _error(name: str) -> rx.Component:
    return rx.cond(BookDialogState.errors.contains(name),
                   rx.text(BookDialogState.errors[name], size="1", color=rx.color("red", 11),
                           custom_attrs={"data-error": name}))


def _option(opt: Option) -> rx.Component:
    return rx.select.item(opt.label, value=opt.value)


def _hit(hit: Hit) -> rx.Component:
    return rx.hstack(
        rx.avatar(fallback=hit.name.to(str)[:1], size="1", radius="full"),
        rx.vstack(rx.text(hit.name, size="2", weight="medium"), rx.text(hit.hint, size="1", color_scheme="gray"),
                  spacing="0"),
        padding="6px 8px", border_radius="6px", cursor="pointer", width="100%", align="center",
        _hover={"background": rx.color("teal", 3)},
        on_click=BookDialogState.pick_client(hit.id),
        custom_attrs={"data-client-id": hit.id},
    )


def _duplicate(hit: Hit) -> rx.Component:
    return rx.hstack(
        rx.vstack(rx.text(hit.name, size="2", weight="medium"), rx.text(hit.hint, size="1", color_scheme="gray"),
                  spacing="0"),
        rx.spacer(),
        rx.button("Use this client", size="1", variant="soft", type="button",
                  on_click=BookDialogState.pick_duplicate(hit.id)),
        align="center", width="100%", padding="4px 6px", class_name="book-duplicate",
        custom_attrs={"data-client-id": hit.id},
    )


def _client_section() -> rx.Component:
    s = BookDialogState
    search = rx.vstack(
        rx.input(placeholder="Search clients by name, email or phone", value=s.query,
                 on_change=s.search.debounce(250), id="book-search", name="client_search", width="100%", size="2",
                 auto_complete="off"),
        rx.cond(s.hits.length() > 0,
                rx.vstack(rx.foreach(s.hits, _hit), spacing="0", width="100%", max_height="180px",
                          overflow_y="auto", border=f"1px solid {rx.color('gray', 5)}", border_radius="8px",
                          padding="4px"),
                rx.cond(s.query.length() >= 2, rx.text("No clients found.", size="1", color_scheme="gray"))),
        rx.button(rx.icon("user-plus", size=14), "New client", variant="ghost", size="1",
                  on_click=s.set_mode("new"), id="book-new-client", type="button"),
        spacing="2", width="100%",
    )
    new = rx.vstack(
        rx.grid(
            rx.vstack(rx.input(name="first_name", placeholder="First name", id="book-first", width="100%"),
                      _error("first_name"), spacing="1"),
            rx.vstack(rx.input(name="last_name", placeholder="Last name", id="book-last", width="100%"),
                      _error("last_name"), spacing="1"),
            rx.vstack(rx.input(name="email", placeholder="Email (optional)", type="email", id="book-email",
                               width="100%"), _error("email"), spacing="1"),
            rx.vstack(rx.input(name="phone", placeholder="Mobile (optional)", type="tel", id="book-phone",
                               width="100%"), _error("phone"), spacing="1"),
            columns="2", spacing="2", width="100%",
        ),
        rx.cond(s.dup_hits.length() > 0, rx.vstack(
            rx.foreach(s.dup_hits, _duplicate),
            spacing="1", width="100%", padding="6px", border_radius="8px", background=rx.color("amber", 2),
            border=f"1px solid {rx.color('amber', 6)}", id="book-duplicates")),
        rx.button(rx.icon("search", size=14), "Find an existing client instead", variant="ghost", size="1",
                  on_click=s.set_mode("search"), type="button"),
        spacing="2", width="100%",
    )
    picked = rx.hstack(
        rx.avatar(fallback=s.client_label.to(str)[:1], size="2", radius="full", color_scheme="teal"),
        rx.text(s.client_label, size="3", weight="bold", id="book-client-picked"),
        rx.spacer(),
        rx.link("Profile", href="/clients/" + s.client_id.to(str), is_external=True, size="1",
                id="book-client-profile", title="Open the client's profile in a new tab"),
        rx.button("Change", variant="ghost", size="1", on_click=s.set_mode("search"), type="button"),
        align="center", width="100%", padding="8px", border_radius="8px", background=rx.color("teal", 2),
    )
    return rx.vstack(
        rx.text("Client", size="2", weight="bold"),
        rx.match(s.mode, ("new", new), ("picked", picked), search),
        _error("client"),
        spacing="2", width="100%",
    )


def _select(label: str, items, value, on_change, name: str, placeholder: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="bold"),
        rx.select.root(
            rx.select.trigger(placeholder=placeholder, width="100%", id=f"book-{name}"),
            rx.select.content(rx.foreach(items, _option)),
            value=value, on_change=on_change, size="2",
        ),
        _error(name),
        spacing="1", width="100%",
    )


def book_dialog() -> rx.Component:
    """The calendar page's "Book a client" dialog: client, service, provider and start time."""
    s = BookDialogState
    return rx.dialog.root(
        rx.dialog.content(
            rx.form(
                rx.vstack(
                    rx.dialog.title("Book a client", margin_bottom="0"),
                    rx.cond(s.errors.contains("general"),
                            rx.callout(s.errors["general"], icon="circle-alert", color_scheme="red", size="1",
                                       width="100%")),
                    rx.hstack(rx.icon("calendar-clock", size=15), rx.text(s.title, size="2"),
                              color=rx.color("gray", 11), align="center", spacing="2", id="book-when"),
                    _client_section(),
                    _select("Service", s.services, s.service, s.set_service, "service", "Choose a service"),
                    rx.grid(
                        _select("Provider", s.providers, s.provider, s.set_provider, "provider", "Provider"),
                        _select("Start", s.times, s.minute, s.set_minute, "time", "Time"),
                        columns="2", spacing="3", width="100%",
                    ),
                    rx.cond(s.times_note != "",
                            rx.callout(s.times_note, icon="clock", size="1", color_scheme="amber", width="100%",
                                       id="book-times-note")),
                    rx.cond(s.alternatives.length() > 0,
                            rx.text("Free nearby: " + s.alternatives.join(", "), size="1", color_scheme="gray",
                                    id="book-alternatives")),
                    health_section(s.errors),
                    series_section(),
                    rx.cond(SeriesState.repeat == NONE,
                            rx.callout("Desk bookings are confirmed at once; no deposit is charged.", icon="info",
                                       size="1", color_scheme="gray", width="100%")),
                    rx.hstack(
                        rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray", type="button")),
                        rx.cond(SeriesState.repeat == NONE,
                                rx.button(rx.icon("calendar-check", size=15), "Book", type="submit", loading=s.busy,
                                          id="book-submit")),
                        justify="end", spacing="2", width="100%",
                    ),
                    spacing="4",
                    width="100%",
                ),
                on_submit=s.submit,
                reset_on_submit=False,
            ),
            max_width="520px",
            id="book-dialog",
        ),
        open=s.dialog_open,
        on_open_change=s.set_open,
    )
