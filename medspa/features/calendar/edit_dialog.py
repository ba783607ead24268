"""The "Edit visit" dialog's UI (state: edit.py) and the banner of a refused drag (move.py)."""

from __future__ import annotations

import reflex as rx

from medspa.features.calendar.book_health import health_section
from medspa.features.calendar.edit import EditVisitState
from medspa.features.calendar.state import DetailState
from medspa.features.calendar.move import MoveState
from medspa.features.choices import Option


def _error(name: str) -> rx.Component:
    s = EditVisitState
    return rx.cond(s.errors.contains(name),
                   rx.text(s.errors[name], size="1", color=rx.color("red", 11), id=f"edit-{name}-error",
                           custom_attrs={"data-error": name}))


def _label(text: str, html_for: str) -> rx.Component:
    return rx.el.label(text, html_for=html_for, style={"font_weight": "600", "font_size": "0.875rem"})


def _option(opt: Option) -> rx.Component:
    return rx.select.item(opt.label, value=opt.value)


def _select(label: str, name: str, items, value) -> rx.Component:
    return rx.vstack(
        _label(label, f"edit-{name}"),
        rx.select.root(
            rx.select.trigger(width="100%", id=f"edit-{name}"),
            rx.select.content(rx.foreach(items, _option)),
            name=name, default_value=value, size="2",
        ),
        _error(name),
        spacing="1", width="100%",
    )


def _field(label: str, name: str, control: rx.Component) -> rx.Component:
    return rx.vstack(_label(label, f"edit-{name}"), control, _error(name), spacing="1", width="100%")


def _series_scope() -> rx.Component:
    """A visit of a recurring series: change this one, this and following (the series splits
    at it), or all still ahead; for several, the start time and provider apply on each one's
    own date (scheduling.series_changes.move_in_series)."""
    choices = (("one", "This visit only"), ("following", "This and following"), ("all", "All visits still ahead"))
    return rx.vstack(
        _label("Apply to", "edit-scope"),
        rx.radio_group.root(
            rx.flex(*[rx.text(rx.flex(rx.radio_group.item(value=code, id=f"edit-scope-{code}"), label, gap="2",
                                      align="center"), as_="label", size="2") for code, label in choices],
                    wrap="wrap", column_gap="16px", row_gap="6px"),
            name="scope", default_value="one", id="edit-scope"),
        rx.text("For several visits, the start time and provider change on each one's own date.", size="1",
                color_scheme="gray"),
        spacing="1", width="100%")


def edit_dialog() -> rx.Component:
    """The calendar page's "Edit visit" dialog: when, who, what, where and notes."""
    s = EditVisitState
    return rx.dialog.root(
        rx.dialog.content(
            rx.form(
                rx.vstack(
                    rx.dialog.title("Edit visit", margin_bottom="0"),
                    rx.text(s.title, size="2", color_scheme="gray", id="edit-title"),
                    rx.cond(s.reason != "", rx.callout(s.reason, icon="calendar-x-2", color_scheme="red", size="1",
                                                       width="100%", id="edit-reason", role="alert")),
                    rx.grid(
                        _field("Date", "day", rx.input(type="date", name="day", id="edit-day",
                                                       default_value=s.day, width="100%")),
                        _field("Start (" + s.zone + ")", "time",
                               rx.input(type="time", name="time", id="edit-time", default_value=s.start,
                                        step=300, width="100%")),
                        # one column on a phone: two date/time inputs side by side ran off a 390 px screen
                        columns=rx.breakpoints(initial="1", xs="2"), spacing="3", width="100%",
                    ),
                    rx.cond(DetailState.detail.series_ahead > 1, _series_scope()),
                    _select("Provider", "provider", s.providers, s.provider),
                    _select("Service", "service", s.services, s.service),
                    _select("Room (when the service uses one)", "room", s.rooms, s.room),
                    _field("Notes", "notes", rx.text_area(name="notes", id="edit-notes", default_value=s.notes,
                                                          rows="3", width="100%", max_length=2000)),
                    health_section(s.errors, prefix="edit",
                                   hint="To change to this service anyway, say why (kept with the visit):"),
                    rx.text("The server checks the provider's hours, the room and other visits before saving.",
                            size="1", color_scheme="gray"),
                    rx.hstack(
                        rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray", type="button")),
                        rx.button(rx.icon("calendar-check", size=15), "Save changes", type="submit",
                                  loading=s.busy, id="edit-submit"),
                        justify="end", spacing="2", width="100%",
                    ),
                    spacing="3",
                    width="100%",
                ),
                on_submit=s.save,
                reset_on_submit=False,
            ),
            max_width="520px",
            id="edit-dialog",
        ),
        open=s.dialog_open,
        on_open_change=s.set_open,
    )


def move_refused_banner() -> rx.Component:
    """Above the grid: why the last drag could not move the visit (it stays where it was)."""
    return rx.cond(
        MoveState.refused != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("calendar-x-2", size=16)),
            rx.hstack(
                rx.vstack(
                    rx.text(rx.text.strong("Not moved: "), MoveState.refused, size="2", id="cal-move-reason"),
                    rx.cond(MoveState.nearby != "", rx.text("Free nearby: " + MoveState.nearby, size="1",
                                                            color_scheme="gray", id="cal-move-nearby")),
                    spacing="1",
                ),
                rx.spacer(),
                rx.icon_button(rx.icon("x", size=14), size="1", variant="ghost", color_scheme="gray",
                               on_click=MoveState.dismiss, aria_label="Dismiss"),
                align="center", width="100%",
            ),
            color_scheme="red", size="1", variant="surface",
            # over the page, not in its flow: the grid (and the block just dropped) does not shift
            position="fixed", bottom="20px", left="50%", transform="translateX(-50%)", z_index="30",
            width="min(640px, calc(100vw - 40px))", background=rx.color("red", 2),
            box_shadow="0 8px 24px rgba(16, 24, 40, 0.18)",
            id="cal-move-refused", role="alert",
        ),
    )
