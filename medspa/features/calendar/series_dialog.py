"""The "Repeat" part of the calendar's "Book a client" dialog: a recurring series
(scheduling.series). The desk picks how it repeats and how it ends, checks the dates (each one
free, or the reason it is not, before anything is saved), keeps, moves or skips each date,
then books them all in one action; a flagged series (contraindications) needs the reason
typed in its own health callout (book_health.py). Client, service, provider and first start
are the book dialog's own (BookDialogState); the browser only names ids, minutes and offered
values, each checked against what this tab's server state showed."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from zoneinfo import ZoneInfo

import reflex as rx

from medspa.domain.clinical.health_record import REASON_MAX, HealthFlagged
from medspa.domain.errors import ValidationFailed
from medspa.domain.money import format_money
from medspa.domain.scheduling.actions.series import do_book_series, do_plan_series
from medspa.domain.scheduling.series import MAX_INTERVAL, MAX_OCCURRENCES, MIN_OCCURRENCES, Recurrence, repeat_choices
from medspa.domain.timezones import format_clinic_clock
from medspa.features.auth.state import StaffState
from medspa.features.calendar.book_dialog import BookDialogState
from medspa.features.calendar.book_health import health_section, show_refusal
from medspa.features.calendar.book_offer import ANY
from medspa.features.calendar.layout import parse_day
from medspa.features.calendar.state import CalendarState
from medspa.features.choices import Option
from medspa.web.inputs import ascii_int, clean_text

NONE = "none"
SKIP = "skip"


@dataclasses.dataclass
class SeriesRow:
    """One date of the checked series: labels, free or the reason, the gap note, and the
    choices (its own start when free, the day's other free starts, skip) as Options."""

    key: str = ""
    date_label: str = ""
    time_label: str = ""
    free: bool = False
    reason: str = ""
    note: str = ""
    options: list[Option] = dataclasses.field(default_factory=list)


class SeriesState(StaffState):
    """Repeat choices, the checked dates and the desk's pick for each."""

    repeat: str = NONE
    repeat_options: list[Option] = []
    interval: str = "1"
    ends: str = "count"
    count: str = "6"
    until: str = ""
    rows: list[SeriesRow] = []
    choices: dict[str, str] = {}
    summary: str = ""
    errors: dict[str, str] = {}
    busy: bool = False
    health_reason: str = ""  # why a flagged series is booked anyway (book_health.py shows the flags)
    # backend only: what the checked dates were for, and the values each date may take
    _asked: tuple = ()
    _allowed: dict[str, list[str]] = {}

    @rx.event
    async def start(self):
        """The book dialog opened (its content mounts): no repeat, and the repeat choices of
        its day (weekly on that weekday, monthly on that date or nth weekday)."""
        book = await self.get_state(BookDialogState)
        first = parse_day(book._day, None) if book.dialog_open else None
        self.repeat_options = [Option(NONE, "Does not repeat")] + (
            [Option(f, label) for f, label in repeat_choices(first)] if first else [])
        self.repeat, self.interval, self.ends, self.count, self.until = NONE, "1", "count", "6", ""
        self.health_reason = ""
        self._clear()

    def _clear(self) -> None:
        self.rows, self.choices, self.summary, self.errors, self.busy = [], {}, "", {}, False
        self._asked, self._allowed = (), {}

    @rx.event
    def set_repeat(self, value: str):
        """How the visit repeats (one of the offered options); the checked dates are cleared."""
        if any(o.value == value for o in self.repeat_options):
            self.repeat = value
            self._clear()

    @rx.event
    def set_interval(self, value: str):
        """Every 1..MAX_INTERVAL weeks or months."""
        if isinstance(value, str) and (n := ascii_int(value)) is not None and 1 <= n <= MAX_INTERVAL:
            self.interval = str(n)
            self._clear()

    @rx.event
    def set_ends(self, value: str):
        """Ends after a number of visits ("count") or on a date ("until")."""
        if value in ("count", "until"):
            self.ends = value
            self._clear()

    @rx.event
    def set_count(self, value: str):
        """The number of visits as typed (checked when the dates are checked)."""
        self.count = value[:3] if isinstance(value, str) else ""
        self._clear()

    @rx.event
    def set_until(self, value: str):
        """The last date as picked (YYYY-MM-DD; checked when the dates are checked)."""
        self.until = value[:10] if isinstance(value, str) else ""
        self._clear()

    @rx.event
    def set_health_reason(self, value: str):
        """The reason for booking a flagged series anyway, as typed (at most REASON_MAX
        characters; anything but text: none); its field message goes. The server decides."""
        self.health_reason = clean_text(value, REASON_MAX, strip=False)
        self.errors = {k: v for k, v in self.errors.items() if k != "health_reason"}

    @rx.var
    def book_label(self) -> str:
        """The book button's words: how many dates are kept or moved."""
        n = sum(1 for v in self.choices.values() if v != SKIP)
        return f"Book {n} visit{'s' if n != 1 else ''}" if n else "Every date is skipped"

    @rx.event
    def pick(self, key: str, value: str):
        """Keep a date at its time, move it to another free start that day, or skip it (only
        the offered values)."""
        if isinstance(key, str) and value in self._allowed.get(key, []):
            self.choices = {**self.choices, key: value}

    async def _asked_now(self) -> tuple | None:
        """(location, service, provider, client, first start, recurrence) from the book dialog
        and this form, or None with the messages in `errors`."""
        book = await self.get_state(BookDialogState)
        errors: dict[str, str] = {}
        if not book.dialog_open:
            return None
        if not book.client_id:
            errors["client"] = "Pick an existing client for a series (add a new client first)"
        if not any(o.value == book.service for o in book.services):
            errors["service"] = "Choose a service"
        if book.provider == ANY or not any(o.value == book.provider for o in book.providers):
            errors["provider"] = "Choose a provider for a series"
        if not any(o.value == book.minute for o in book.times):
            errors["time"] = "Choose the first visit's time"
        interval = ascii_int(self.interval) or 0
        rec = None
        if self.ends == "count":
            count = ascii_int(self.count.strip())
            if count is None or not MIN_OCCURRENCES <= count <= MAX_OCCURRENCES:
                errors["count"] = f"A series has {MIN_OCCURRENCES} to {MAX_OCCURRENCES} visits"
            else:
                rec = Recurrence(self.repeat, interval, count=count)
        else:
            until = parse_day(self.until, None)
            if until is None or until < date(2000, 1, 1):
                errors["until"] = "Pick the last date"
            else:
                rec = Recurrence(self.repeat, interval, until=until)
        if errors:
            self.errors = errors
            return None
        return (book._location_id, int(book.service), int(book.provider), book.client_id,
                book._start(int(book.minute)), rec)

    @rx.event
    async def check(self):
        """Check every date of the series before saving: free, or the reason it is not."""
        if self.repeat == NONE:
            return
        self._clear()
        asked = await self._asked_now()
        if asked is None:
            if await self._staff_actor() is None:
                yield self._to_login()
            return
        location_id, service_id, provider_id, client_id, first, rec = asked
        self.busy = True
        yield
        try:
            done = await self._act(do_plan_series, location_id=location_id, service_id=service_id,
                                   provider_id=provider_id, client_id=client_id, recurrence=rec, first_start=first)
        except ValidationFailed as exc:
            self.busy, self.errors = False, dict(exc.fields)
            return
        self.busy = False
        if not done.ok:
            self.errors = {"series": done.error}
            yield done.redirect
            return
        plan = done.value
        tz = plan.time_zone
        rows, allowed, choices = [], {}, {}
        for c in plan.checks:
            key = str(c.index)
            local = c.start_at.astimezone(ZoneInfo(tz))
            own = [Option(c.start_at.isoformat(), f"Keep {format_clinic_clock(c.start_at, tz)}")] if c.free else []
            others = [Option(a.isoformat(), f"Move to {format_clinic_clock(a, tz)}") for a in c.alternatives[:24]]
            options = own + others + [Option(SKIP, "Skip this date")]
            rows.append(SeriesRow(key, f"{local:%a}, {local:%b} {local.day}, {local.year}",
                                  format_clinic_clock(c.start_at, tz), c.free, c.reason, c.note, options))
            allowed[key] = [o.value for o in options]
            choices[key] = options[0].value if c.free else SKIP
        self.rows, self.choices, self._allowed, self._asked = rows, choices, allowed, asked
        free = sum(1 for c in plan.checks if c.free)
        deposit = plan.deposits[0] if plan.deposits else 0
        each = len(plan.deposits) > 1 and plan.deposits[1] > 0
        where = (f"charged to {plan.card_label} on file when booked" if plan.card_label
                 else "due: no card on file, collected at checkout")
        money = (f" · deposit {format_money(deposit, plan.currency)} {'each visit' if each else 'first visit only'}"
                 f", {where}" if deposit else "")
        self.summary = (f"{plan.description} · {free} of {len(plan.checks)} free{money}"
                        + ("".join(f" · {n}" for n in plan.notes)))

    @rx.event
    async def book(self):
        """Book the kept and moved dates in one action; dates lost meanwhile are reported."""
        if not self.rows or self.busy:
            return
        asked = await self._asked_now()
        if asked is None:
            if await self._staff_actor() is None:
                yield self._to_login()
            return
        if asked != self._asked:
            self._clear()
            self.errors = {"series": "The details changed: check the dates again"}
            return
        location_id, service_id, provider_id, client_id, first, rec = asked
        picks = {int(k): datetime.fromisoformat(v) for k, v in self.choices.items()
                 if v != SKIP and v in self._allowed.get(k, [])}
        if not picks:
            self.errors = {"series": "Every date is skipped: keep or move at least one"}
            return
        self.busy = True
        yield
        try:
            done = await self._act(do_book_series, location_id=location_id, service_id=service_id,
                                   provider_id=provider_id, client_id=client_id, recurrence=rec, first_start=first,
                                   picks=picks, override_reason=self.health_reason)
        except HealthFlagged as exc:  # flagged: the reason is required (book_health.py), nothing booked
            await show_refusal(self, exc)
            return
        except ValidationFailed as exc:
            self.busy, self.errors = False, {"series": "; ".join(exc.fields.values())}
            return
        self.busy = False
        if not done.ok:
            self.errors = {"series": done.error}
            yield done.redirect
            return
        result = done.value
        labels = {r.key: r.date_label for r in self.rows}
        if result.lost:
            self.errors = {"series": "Not booked: " + "; ".join(f"{labels.get(str(i), i)}: {why}"
                                                                  for i, why in result.lost)}
        book = await self.get_state(BookDialogState)
        book.dialog_open = False
        cal = await self.get_state(CalendarState)
        await cal._reload(done.actor)
        yield _booked_toast(result, labels, self.errors.get("series", ""))
        self._clear()


def _booked_toast(result, labels: dict[str, str], lost: str):
    """The message after "Book N visits": how many and which dates were booked, what became of
    the deposits, and any date lost; it stays 12 s (30 s when something needs the desk) with a
    close button, so it is read before it goes."""
    n = len(result.booked)
    dates = ", ".join(_month_day(labels.get(str(i), str(i))) for i, _ in result.booked)
    message = f"Series booked: {n} visit{'s' if n != 1 else ''} ({dates})" + _deposit_note(result, labels)
    refused = any(d.state in ("declined", "needs_action", "charging") for d in result.deposits)
    if result.lost or refused:
        return rx.toast.warning(message + (f" · {lost}" if lost else ""), duration=30000, close_button=True)
    return rx.toast.success(message, duration=12000, close_button=True)


def _month_day(label: str) -> str:
    """"Tue, Dec 8, 2026" -> "Dec 8" (a label of another shape as it is)."""
    parts = label.split(", ")
    return parts[1] if len(parts) == 3 else label


def _deposit_note(result, labels: dict[str, str]) -> str:
    """What became of the series' deposits, for the booking's toast (scheduling.series.
    SeriesDeposit): " · deposit $50.00 paid with Visa ••4242", or per visit still owing
    " · Tue, Mar 3, 2026: $50.00 due · Visa ••0341 declined (...): collect it at checkout"."""
    paid = [d for d in result.deposits if d.state == "paid"]
    owed = [d for d in result.deposits if d.state != "paid"]
    note = ""
    if len(paid) == 1:
        note += f" · deposit {paid[0].text}"
    elif paid:
        note += f" · {len(paid)} deposits paid ({paid[0].text.split(' paid ', 1)[-1]})"
    note += "".join(f" · {labels.get(str(d.index), d.index)}: {d.text}" for d in owed)
    return note


# ---- UI -------------------------------------------------------------------------------------

def _error(name: str) -> rx.Component:
    return rx.cond(SeriesState.errors.contains(name),
                   rx.text(SeriesState.errors[name], size="1", color=rx.color("red", 11),
                           custom_attrs={"data-error": f"series-{name}"}))


def _option(opt: Option) -> rx.Component:
    return rx.select.item(opt.label, value=opt.value)


def _row(row: SeriesRow) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.hstack(rx.text(row.date_label, size="2", weight="medium"),
                      rx.text(row.time_label, size="2", color_scheme="gray"), spacing="2", wrap="wrap"),
            rx.cond(row.free, rx.badge("Free", color_scheme="grass", size="1"),
                    rx.text(row.reason, size="1", color=rx.color("red", 11))),
            rx.cond(row.note != "", rx.text(row.note, size="1", color=rx.color("amber", 11))),
            spacing="1", flex="1", min_width="0",
        ),
        rx.select.root(
            rx.select.trigger(width="150px", custom_attrs={"data-series-pick": row.key}),
            rx.select.content(rx.foreach(row.options, _option)),
            value=SeriesState.choices[row.key], on_change=lambda v: SeriesState.pick(row.key, v), size="1",
        ),
        align="center", width="100%", padding="6px 4px", border_bottom=f"1px solid {rx.color('gray', 4)}",
        class_name="series-row", custom_attrs={"data-free": row.free.to(str)},
    )


def series_section() -> rx.Component:
    """Repeat (none, weekly, monthly by date or weekday), every N, ends after N visits or on a
    date; "Check dates" lists each date (free or why not, keep / move / skip); "Book N visits"."""
    s = SeriesState
    unit = rx.cond(s.repeat == "weekly", "week(s)", "month(s)")
    settings = rx.vstack(
        rx.grid(
            rx.vstack(rx.text("Every", size="1", color_scheme="gray"),
                      rx.hstack(rx.select.root(
                          rx.select.trigger(width="70px", id="series-interval"),
                          rx.select.content(*[rx.select.item(str(n), value=str(n))
                                              for n in range(1, MAX_INTERVAL + 1)]),
                          value=s.interval, on_change=s.set_interval, size="2"),
                          rx.text(unit, size="2"), align="center", spacing="2"),
                      spacing="1"),
            rx.vstack(rx.text("Ends", size="1", color_scheme="gray"),
                      rx.hstack(
                          rx.select.root(rx.select.trigger(width="110px", id="series-ends"),
                                         rx.select.content(rx.select.item("After", value="count"),
                                                           rx.select.item("On date", value="until")),
                                         value=s.ends, on_change=s.set_ends, size="2"),
                          rx.cond(s.ends == "count",
                                  rx.hstack(rx.input(value=s.count, on_change=s.set_count, id="series-count", name="series-count",
                                                     input_mode="numeric", width="60px", size="2"),
                                            rx.text("visits", size="2"), align="center", spacing="1"),
                                  rx.input(type="date", value=s.until, on_change=s.set_until, id="series-until", name="series-until",
                                           size="2")),
                          align="center", spacing="2", wrap="wrap"),
                      _error("count"), _error("until"), spacing="1"),
            columns=rx.breakpoints(initial="1", sm="2"), spacing="3", width="100%",
        ),
        rx.button(rx.icon("list-checks", size=15), "Check dates", type="button", variant="soft", on_click=s.check,
                  loading=s.busy, id="series-check"),
        *[_error(n) for n in ("client", "service", "provider", "time", "repeat", "interval", "picks")],
        rx.cond(s.rows.length() > 0, rx.vstack(
            rx.text(s.summary, size="1", color_scheme="gray", id="series-summary"),
            rx.vstack(rx.foreach(s.rows, _row), spacing="0", width="100%", max_height="280px", overflow_y="auto",
                      border=f"1px solid {rx.color('gray', 5)}", border_radius="8px", padding="2px 8px",
                      id="series-rows"),
            spacing="2", width="100%")),
        health_section(s.errors, reason=s.health_reason, on_reason=s.set_health_reason, prefix="series"),
        rx.cond(s.rows.length() > 0,
                rx.button(rx.icon("calendar-check", size=15), s.book_label, type="button", on_click=s.book,
                          loading=s.busy, id="series-book", width="100%",
                          disabled=s.book_label == "Every date is skipped")),
        _error("series"),
        spacing="3", width="100%",
    )
    return rx.vstack(
        rx.text("Repeat", size="2", weight="bold", on_mount=s.start),
        rx.select.root(rx.select.trigger(width="100%", id="book-repeat"),
                       rx.select.content(rx.foreach(s.repeat_options, _option)),
                       value=s.repeat, on_change=s.set_repeat, size="2"),
        rx.cond(s.repeat != NONE, settings),
        spacing="1", width="100%",
    )
