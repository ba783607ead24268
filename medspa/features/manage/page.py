"""The public manage-booking page `/book/[clinic]/manage/[token]` (no login; phone first).

The link from the booking confirmation (and the portal's "Reschedule") opens the visit: what,
when, with whom, the deposit and the policy. "Reschedule": a day strip (browse ahead by two
weeks), the day's free times, then the new time with its terms before anything moves.
"Cancel": a reason (and a note for "Other") with what happens to the deposit before anything
is cancelled. A link whose visit is cancelled or over shows it so; an unknown one a "not found".
"""

from __future__ import annotations

import reflex as rx

from medspa.features.manage.reasons import reason_picker
from medspa.features.manage.state import ManageState as S

ROUTE = "/book/[clinic]/manage/[token]"
ACCENT = "teal"
STATUS_COLORS = {"confirmed": "teal", "checked_in": "blue", "completed": "gray", "cancelled": "red", "no_show": "amber"}


def header() -> rx.Component:
    """Clinic name and what this page is."""
    return rx.box(
        rx.hstack(
            rx.center(rx.icon("calendar-check", size=20, color="white"), width="38px", height="38px",
                      border_radius="12px", background=rx.color(ACCENT, 9), flex_shrink="0"),
            rx.vstack(rx.heading(S.clinic_name, size="4", weight="bold", as_="h1"),
                      rx.text("Your booking", size="2", color_scheme="gray"), spacing="0"),
            spacing="3", align="center", max_width="36em", margin_x="auto", padding_x="1em", padding_y="0.9em",
        ),
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        background=rx.color("gray", 1),
    )


def line(icon: str, *children, **props) -> rx.Component:
    """One icon-led line of the visit card."""
    return rx.hstack(rx.icon(icon, size=16, color=rx.color("gray", 10), flex_shrink="0", margin_top="0.15em"),
                     rx.text(*children, size="2", **props), spacing="2", align="start")


def visit_card() -> rx.Component:
    """The visit: treatment, status, day and times, provider, place, money and policy."""
    v = S.visit
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.heading(v.service, size="5", as_="h2", id="manage-service"),
                rx.badge(v.status_label, color_scheme=rx.match(v.status, *STATUS_COLORS.items(), "gray"), size="2",
                         radius="full", id="manage-status"),
                justify="between", align="start", gap="2", width="100%",
            ),
            rx.vstack(
                rx.text(v.day, size="4", weight="bold", id="manage-day"),
                rx.text(v.times, size="3", id="manage-times"),
                spacing="0",
            ),
            line("user", v.provider),
            line("map-pin", v.location, rx.cond(v.address, rx.text.span(" · ", v.address, color_scheme="gray"))),
            rx.cond(v.deposit, line("credit-card", v.deposit, id="manage-deposit")),
            rx.cond(v.balance_due, line("wallet", v.balance_due, id="manage-balance")),
            line("hash", "Booking reference ", rx.text.strong(v.reference), color_scheme="gray"),
            rx.cond(v.can_change, rx.text(v.policy, size="1", color_scheme="gray")),
            spacing="3",
            width="100%",
        ),
        size="3",
        width="100%",
    )


def messages() -> rx.Component:
    """The last change's outcome, or why it did not go through."""
    return rx.fragment(
        rx.cond(S.notice, rx.callout(S.notice, icon="circle-check", color_scheme="green", width="100%",
                                     id="manage-notice", role="status")),
        rx.cond(S.problem, rx.callout(S.problem, icon="triangle-alert", color_scheme="amber", width="100%",
                                      id="manage-problem", role="alert")),
    )


def actions() -> rx.Component:
    """Reschedule and Cancel for a visit that can change; else why not and how to reach the clinic."""
    return rx.cond(
        S.visit.can_change,
        rx.grid(
            rx.button(rx.icon("calendar-clock", size=18), "Reschedule", size="3", color_scheme=ACCENT,
                      on_click=S.start_reschedule, id="start-reschedule", width="100%"),
            rx.button(rx.icon("calendar-x", size=18), "Cancel visit", size="3", variant="soft", color_scheme="red",
                      on_click=S.start_cancel, id="start-cancel", width="100%"),
            columns="2", spacing="3", width="100%",
        ),
        rx.vstack(
            rx.callout(S.visit.why_not, icon="info", color_scheme="gray", width="100%", id="manage-why-not"),
            rx.cond(S.visit.phone, rx.link(rx.icon("phone", size=16), "Call the clinic", href="tel:" + S.visit.phone,
                                            display="flex", align_items="center", gap="0.4em")),
            rx.button(rx.link("Book a new visit", href=S.book_url, id="book-again", underline="none", color="inherit"),
                      as_child=True, variant="soft", color_scheme=ACCENT, size="3", width="100%"),
            spacing="3", width="100%",
        ),
    )


def day_button(day) -> rx.Component:
    """One day of the strip; disabled when the visit cannot move to it."""
    selected = S.day == day.iso
    return rx.button(
        rx.vstack(rx.text(day.weekday, size="1", weight="medium"), rx.text(day.day, size="5", weight="bold"),
                  rx.text(day.month, size="1"), spacing="0", align="center"),
        on_click=S.choose_day(day.iso), disabled=~day.open, variant=rx.cond(selected, "solid", "surface"),
        color_scheme=ACCENT, aria_label=day.label, aria_pressed=selected, height="auto", min_width="56px",
        padding_y="0.55em", flex_shrink="0",
    )


def time_group(group) -> rx.Component:
    """The free times of one part of the day."""
    return rx.vstack(
        rx.text(group.name, size="2", weight="bold", color=rx.color("gray", 11)),
        rx.grid(
            rx.foreach(group.slots, lambda t: rx.button(
                t.label, on_click=S.choose_time(t.start), size="2", width="100%", aria_label=t.long_label,
                height="2.6em",
                variant=rx.cond(S.picked.start == t.start, "solid", "surface"), color_scheme=ACCENT,
                aria_pressed=S.picked.start == t.start)),
            columns=rx.breakpoints(initial="3", sm="4"), spacing="2", width="100%", role="group",
            aria_label=group.name),
        spacing="2", width="100%",
    )


def confirm_move() -> rx.Component:
    """The picked time with the terms of moving now, before anything changes."""
    return rx.card(
        rx.vstack(
            rx.text(rx.text.span("New time: ", color=rx.color("gray", 11)),
                    rx.text.strong(S.picked.long_label, id="picked-time"), size="2"),
            rx.text(rx.icon("info", size=14, flex_shrink="0", margin_top="0.2em"), S.visit.terms, size="2",
                    id="reschedule-terms", color=rx.color(ACCENT, 11), display="flex", gap="0.4em"),
            rx.button("Confirm new time", size="3", width="100%", color_scheme=ACCENT, loading=S.busy,
                      on_click=S.confirm_reschedule, id="confirm-reschedule"),
            spacing="2", width="100%",
        ),
        size="1",
        width="100%", id="confirm-move", position="sticky", bottom="0.75em", z_index="2",
        style={"outline": f"2px solid {rx.color(ACCENT, 8)}", "box_shadow": "0 8px 28px rgba(0, 0, 0, 0.18)",
               "background": "var(--color-panel-solid)"},
    )


def reschedule_panel() -> rx.Component:
    """Pick a day (two weeks at a time) and a free time, then confirm."""
    return rx.vstack(
        rx.flex(rx.heading("Pick a new time", size="4", as_="h3"),
                rx.button("Back", variant="ghost", color_scheme="gray", on_click=S.back), justify="between",
                align="center", width="100%"),
        rx.text(S.visit.terms, size="2", color_scheme="gray"),
        rx.hstack(
            rx.icon_button(rx.icon("chevron-left"), variant="soft", color_scheme="gray", on_click=S.browse(-1),
                           disabled=S.page == 0, aria_label="Earlier dates"),
            rx.box(rx.hstack(rx.foreach(S.days, day_button), spacing="2", padding_bottom="0.3em"),
                   overflow_x="auto", flex="1", min_width="0", role="group", aria_label="Days"),
            rx.icon_button(rx.icon("chevron-right"), variant="soft", color_scheme="gray", on_click=S.browse(1),
                           aria_label="Later dates", id="later-dates"),
            spacing="2", align="center", width="100%",
        ),
        rx.hstack(rx.icon("globe", size=14), rx.text("Times are clinic time (" + S.visit.time_zone + ").", size="1"),
                  spacing="2", align="center", color=rx.color("gray", 11)),
        rx.cond(
            S.groups.length() > 0,
            rx.vstack(rx.foreach(S.groups, time_group), spacing="4", width="100%", id="free-times"),
            rx.callout(rx.cond(S.day, "No free times on this day. Try another day.",
                               "No free times in these two weeks. Try later dates."),
                       icon="calendar-off", color_scheme="gray", width="100%"),
        ),
        rx.cond(S.picked.start, confirm_move()),
        spacing="4", width="100%", id="reschedule-panel",
    )


def cancel_panel() -> rx.Component:
    """A reason, what happens to the deposit, then cancel (or keep the visit)."""
    return rx.form(
        rx.vstack(
            rx.heading("Cancel this visit?", size="4", as_="h3"),
            reason_picker(S.reason, S.set_reason, S.errors.get("note", ""), disabled=S.busy),
            rx.callout(S.visit.cancel_outcome, icon=rx.cond(S.visit.late, "triangle-alert", "info"),
                       color_scheme=rx.cond(S.visit.late, "amber", ACCENT), width="100%", id="cancel-outcome"),
            rx.grid(
                rx.button("Keep my visit", type="button", variant="soft", color_scheme="gray", size="3",
                          on_click=S.back, width="100%"),
                rx.button("Cancel visit", type="submit", color_scheme="red", size="3", loading=S.busy,
                          id="confirm-cancel", width="100%"),
                columns="2", spacing="3", width="100%",
            ),
            spacing="4", width="100%",
        ),
        on_submit=S.confirm_cancel,
        reset_on_submit=False,
        width="100%",
        id="cancel-panel",
    )


def ready() -> rx.Component:
    """The page once the link found its visit."""
    return rx.box(
        header(),
        rx.vstack(
            messages(),
            visit_card(),
            rx.match(S.mode, ("reschedule", reschedule_panel()), ("cancel", cancel_panel()), actions()),
            spacing="4", max_width="36em", margin_x="auto", padding_x="0.9em", padding_y="1.25em",
        ),
    )


def not_found() -> rx.Component:
    """A link that finds no booking (mistyped, or not this clinic's)."""
    return rx.center(
        rx.vstack(
            rx.icon("search-x", size=40, color=rx.color("gray", 9)),
            rx.heading("Booking not found", size="6", id="manage-not-found"),
            rx.text("This link does not open a booking. Check the link in your confirmation email, "
                    "or call the clinic.", color_scheme="gray", text_align="center"),
            rx.link("Go to the start page", href="/"),
            align="center", spacing="3", max_width="26em", padding="1.5em",
        ),
        min_height="70vh",
    )


def manage_page() -> rx.Component:
    """The whole manage-booking page."""
    return rx.box(
        rx.match(S.status, ("ready", ready()), ("not_found", not_found()),
                 rx.center(rx.spinner(size="3"), min_height="60vh")),
        min_height="100vh",
        background=f"linear-gradient(180deg, {rx.color('teal', 2)} 0%, {rx.color('gray', 2)} 40%)",
    )


def register(app: rx.App) -> None:
    """Add the manage-booking page to `app`."""
    app.add_page(manage_page, route=ROUTE, title="Your booking", on_load=S.load)
