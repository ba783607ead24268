"""Turn the calendar read model into UI-sized rows with their on-screen geometry.

Pure functions (no Reflex, no database): the state and the live listener both call them, so
a page load and a push produce exactly the same rows. Positions are CSS strings: tops and
heights in px from the first visible minute, lefts and widths as fractions of the column
area, with overlapping visits of one column side by side in lanes.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from medspa.domain.money import format_money
from medspa.domain.scheduling.calendar import (
    STATUS_LABELS,
    AppointmentDetail,
    CalendarBlock,
    CalendarDay,
    CalendarWeek,
)
from medspa.domain.scheduling.models import MOVABLE_STATUSES
from medspa.domain.scheduling.models import AppointmentStatus as Status
from medspa.domain.timezones import format_clinic_clock, local_midnight

PX_PER_MINUTE = 1.6
SLOT_MINUTES = 15
STATUS_ACCENT = {
    Status.HELD: "amber",
    Status.CONFIRMED: "blue",
    Status.CHECKED_IN: "grass",
    Status.COMPLETED: "gray",
    Status.CANCELLED: "gray",
    Status.NO_SHOW: "tomato",
    "blocked": "gray",
    "time_off": "amber",
    "maintenance": "orange",
}
MOVABLE = MOVABLE_STATUSES  # visits the desk may drag to another time or provider (the domain's rule)
LEGEND = [(Status.HELD, "Held"), (Status.CONFIRMED, "Confirmed"), (Status.CHECKED_IN, "Checked in"),
          (Status.COMPLETED, "Completed"), (Status.NO_SHOW, "No-show"), (Status.CANCELLED, "Cancelled")]


@dataclasses.dataclass
class ColumnView:
    """A calendar column (provider or room/device): header labels, colour, and its day-grid left and width in %."""

    id: int = 0
    kind: str = ""
    name: str = ""
    subtitle: str = ""
    initials: str = ""
    colour: str = ""
    hours_label: str = ""
    left: str = "0%"
    width: str = "0%"


@dataclasses.dataclass
class BlockView:
    """A visit or blocked time placed in the day grid: labels, colours, top/height in px, left/width as CSS calc()."""

    key: str = ""
    appointment_id: int = 0
    kind: str = "appointment"
    status: str = ""
    status_label: str = ""
    time: str = ""
    client: str = ""
    service: str = ""
    top: str = "0px"
    height: str = "0px"
    left: str = "0%"
    width: str = "0%"
    bg: str = ""
    stripe: str = ""
    fg: str = ""
    pill: str = ""
    pill_bg: str = ""
    size: str = "full"  # full (>= 45 min), medium (>= 25 min), compact
    cancelled: bool = False
    alerts: str = ""  # the client's alerts line, shown as a flag with the text as its title
    forms: str = ""  # intake form completion: "Forms 1/2", "Forms done" ("" none needed)
    consents: str = ""  # "Consents 0/1", "Consents signed" ("" none required)
    health_flag: str = ""  # contraindication flags (issue 17): a red mark, the words as its title
    minute: int = 0  # start, minutes after local midnight
    movable: bool = False  # a visit the desk may drag (MOVABLE statuses)
    drag_id: str = ""  # "a<id>" ("a<id>@<column id>" in the rooms view: one visit, several columns)
    home: str = ""  # its column's drop target, "c<column id>"


@dataclasses.dataclass
class LineView:
    """An hour line (major, with its label) or half-hour line of the day grid; top in px."""

    top: str = "0px"
    label: str = ""
    major: bool = True


@dataclasses.dataclass
class SlotView:
    """A clickable free SLOT_MINUTES cell of the day grid: column, minute after local midnight, label, position."""

    column_id: int = 0
    minute: int = 0
    label: str = ""
    top: str = "0px"
    height: str = "0px"
    left: str = "0%"
    width: str = "0%"


@dataclasses.dataclass
class ShadeView:
    """A shaded stretch of a day-grid column outside the provider's working hours; top/height in px."""

    top: str = "0px"
    height: str = "0px"
    left: str = "0%"
    width: str = "0%"


@dataclasses.dataclass
class DayView:
    """Everything the day grid renders."""

    title: str = ""
    zone: str = ""
    columns: list[ColumnView] = dataclasses.field(default_factory=list)
    blocks: list[BlockView] = dataclasses.field(default_factory=list)
    lines: list[LineView] = dataclasses.field(default_factory=list)
    slots: list[SlotView] = dataclasses.field(default_factory=list)
    shades: list[ShadeView] = dataclasses.field(default_factory=list)
    grid_height: str = "0px"
    min_width: str = "0px"
    now_top: str = ""
    now_label: str = ""
    counts: str = ""
    closure: str = ""  # "Closed · Thanksgiving": the whole day is shaded, nothing offered
    notices: list[str] = dataclasses.field(default_factory=list)  # rooms/devices out of service


@dataclasses.dataclass
class ChipView:
    """A compact visit in a week-grid cell: time, client, service, status and colours."""

    appointment_id: int = 0
    time: str = ""
    client: str = ""
    service: str = ""
    status: str = ""
    bg: str = ""
    stripe: str = ""
    cancelled: bool = False
    movable: bool = False
    home: str = ""  # its cell's drop target, "w<provider id>_<YYYY-MM-DD>"
    health: str = ""  # contraindication flags in the reader's words ("" none)
    paperwork: str = ""  # forms/consents still missing ("" all in)


@dataclasses.dataclass
class CellView:
    """One provider's day in the week grid: its visit count (cancelled not counted), working flag and chips."""

    day: str = ""
    count: int = 0
    working: bool = False
    today: bool = False
    chips: list[ChipView] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class WeekRowView:
    """One provider's row of the week grid: the column and its seven day cells."""

    column: ColumnView = dataclasses.field(default_factory=ColumnView)
    cells: list[CellView] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class WeekDayView:
    """A day heading of the week grid: ISO date, label, today flag and visit count."""

    day: str = ""
    label: str = ""
    today: bool = False
    count: int = 0
    closure: str = ""  # "Closed · <reason>"


@dataclasses.dataclass
class WeekView:
    """Everything the week grid renders: title, zone label, day headings, provider rows and the count text."""

    title: str = ""
    zone: str = ""
    days: list[WeekDayView] = dataclasses.field(default_factory=list)
    rows: list[WeekRowView] = dataclasses.field(default_factory=list)
    counts: str = ""


@dataclasses.dataclass
class DetailView:
    """What the calendar's side panel shows of one appointment: labels, money as text, allowed actions."""

    id: int = 0
    status: str = ""
    status_label: str = ""
    accent: str = "gray"
    colour: str = "gray"
    client_name: str = ""
    profile_href: str = ""  # /clients/<id> for the roles that read client records, else ""
    client_alerts: str = ""  # the client's alerts, shown under the name
    health_flags: list[str] = dataclasses.field(default_factory=list)  # contraindications, in the reader's words
    contact_visible: bool = False
    client_phone: str = ""
    client_email: str = ""
    service_name: str = ""
    category: str = ""
    provider_name: str = ""
    resources: str = ""
    location_name: str = ""
    date_label: str = ""
    time_label: str = ""
    source: str = ""
    price: str = ""
    deposit_paid: str = ""
    can_check_in: bool = False
    can_complete: bool = False
    can_no_show: bool = False
    can_cancel: bool = False
    cancel_late: bool = False
    cancel_policy: str = ""
    reference: str = ""
    # checkout: can_checkout (payment.take, checked in/completed, not checked out yet)
    can_checkout: bool = False
    checked_out: bool = False
    sale: str = ""
    applied: str = ""
    balance: str = ""
    balance_due: bool = False
    paid_label: str = ""
    cancel_reason: str = ""  # "Illness (by the client)" on a cancelled visit
    can_move: bool = False  # appointment.reschedule on a confirmed / checked-in visit: drag or edit
    card_on_file: str = ""  # "Visa ••4242" (issue 16)
    card_warning: str = ""  # the card expires before the visit
    checkout_card_id: int = 0  # the card on file checkout may charge (0: type a card), finding 6
    checkout_card: str = ""  # its label, "Visa ••4242"
    fee_id: int = 0  # its late-cancel / no-show fee (payments.fees): the line, unpaid, waivable
    fee_line: str = ""
    fee_unpaid: bool = False
    fee_waivable: bool = False
    fee_retry_card: str = ""  # an unpaid fee: "Visa ••4242" to charge again (payment.take), else ""
    fee_collect_hint: str = ""  # an unpaid fee without that: how to collect it
    no_show_preview: str = ""  # the no-show confirmation's words (payments.fees.no_show_fee_preview)
    cancel_policy_clinic: str = ""  # the cancel words for a clinic reason ("" when as cancel_policy)
    series_label: str = ""  # "Visit 3 of 6 · Weekly at 10:00 AM" (recurring series), else ""
    series_ahead: int = 0  # its visits confirmed and still ahead (the cancel choices need > 1)
    reminder: str = ""  # "<when> by email and SMS" / "Sent <when> by email" / "None: ..." (confirmed visits)


# --------------------------------------------------------------------------- helpers


def _px(minutes: float) -> str:
    return f"{minutes * PX_PER_MINUTE:.1f}px"


def _pct(value: float) -> str:
    return f"{value * 100:.4f}%"


def initials(name: str) -> str:
    """"Dr. Maya Chen" -> "MC" (titles like Dr. skipped)."""
    parts = [p for p in name.replace(".", " ").split() if p.lower() not in ("dr", "np", "rn", "md", "pa")]
    return "".join(p[0] for p in parts[:2]).upper() or "?"


def _paint(status: str, colour: str) -> tuple[str, str, str, str]:
    """(background, stripe, text colour, pill text) of a block by status and category colour."""
    if status == Status.HELD:
        return "var(--amber-2)", "var(--amber-9)", "var(--amber-12)", "Held"
    if status == Status.CHECKED_IN:
        return "var(--grass-3)", "var(--grass-9)", "var(--grass-12)", "Checked in"
    if status == Status.COMPLETED:
        return "var(--gray-3)", f"var(--{colour}-7)", "var(--gray-11)", "Done"
    if status == Status.CANCELLED:
        return "var(--gray-2)", "var(--gray-7)", "var(--gray-10)", "Cancelled"
    if status == Status.NO_SHOW:
        return "var(--tomato-3)", "var(--tomato-9)", "var(--tomato-12)", "No-show"
    if status == "blocked":
        return "var(--gray-4)", "var(--gray-8)", "var(--gray-11)", ""
    if status == "time_off":
        return "var(--amber-2)", "var(--amber-8)", "var(--amber-12)", "Time off"
    if status == "maintenance":
        return "var(--orange-2)", "var(--orange-9)", "var(--orange-12)", "Out of service"
    return f"var(--{colour}-3)", f"var(--{colour}-9)", f"var(--{colour}-12)", ""


def _lanes(blocks: list[CalendarBlock]) -> dict[int, tuple[int, int]]:
    """index in `blocks` -> (lane, lanes) for overlapping blocks of one column (sorted by start).

    Blocks that overlap (directly or through a chain) form a cluster; each takes the first
    lane free at its start, and every block of the cluster is as wide as 1 / lanes used."""
    out: dict[int, tuple[int, int]] = {}
    cluster: list[int] = []
    lane_end: list[int] = []
    cluster_end = -1
    for i, b in enumerate(blocks):
        if cluster and b.start_minute >= cluster_end:
            for j in cluster:
                out[j] = (out[j][0], len(lane_end))
            cluster, lane_end, cluster_end = [], [], -1
        for lane, end in enumerate(lane_end):
            if end <= b.start_minute:
                lane_end[lane] = b.end_minute
                break
        else:
            lane = len(lane_end)
            lane_end.append(b.end_minute)
        out[i] = (lane, 0)
        cluster.append(i)
        cluster_end = max(cluster_end, b.end_minute)
    for j in cluster:
        out[j] = (out[j][0], len(lane_end))
    return out


# --------------------------------------------------------------------------- day


def day_view(cal: CalendarDay, *, show_cancelled: bool) -> DayView:
    """The day grid: columns, positioned blocks, hour lines, clickable free slots, now line."""
    first, last = cal.first_minute, cal.last_minute
    n = max(len(cal.columns), 1)
    col_index = {c.id: i for i, c in enumerate(cal.columns)}
    tz = ZoneInfo(cal.time_zone)
    day_start = local_midnight(cal.day, tz)

    def label(minute: int) -> str:
        return format_clinic_clock(day_start + timedelta(minutes=minute), cal.time_zone)

    lines = []
    for mark in cal.hours:
        if first <= mark.minute <= last:
            lines.append(LineView(_px(mark.minute - first), mark.label, True))
        if first <= mark.minute + 30 < last:
            lines.append(LineView(_px(mark.minute + 30 - first), "", False))

    shown = [b for b in cal.blocks if b.column_id in col_index and (show_cancelled or b.status != Status.CANCELLED)
             and b.end_minute > first and b.start_minute < last]
    blocks: list[BlockView] = []
    for column in cal.columns:
        mine = [b for b in shown if b.column_id == column.id]
        lanes = _lanes(mine)
        for i, b in enumerate(mine):
            lane, count = lanes[i]
            top, bottom = max(b.start_minute, first), min(b.end_minute, last)
            bg, stripe, fg, pill = _paint(b.status, b.colour)
            col_left = col_index[column.id] / n
            blocks.append(BlockView(
                key=f"a{b.appointment_id}" if b.appointment_id else f"b{b.block_id}",
                appointment_id=b.appointment_id or 0, kind=b.kind, status=b.status, status_label=b.status_label,
                time=f"{b.start_label} – {b.end_label}" if b.end_label else b.start_label,
                client=b.client_name if b.kind == "appointment" else b.note,
                service=b.service_name if b.kind == "appointment" else "", top=_px(top - first), height=_px(max(bottom - top, 12)),
                pill_bg=f"var(--{STATUS_ACCENT.get(b.status, 'gray')}-9)",
                left=f"calc({_pct(col_left + lane / count / n)} + 3px)",
                width=f"calc({_pct(1 / count / n)} - 6px)", bg=bg, stripe=stripe, fg=fg, pill=pill,
                size="full" if bottom - top >= 45 else "medium" if bottom - top >= 25 else "compact",
                cancelled=b.status == Status.CANCELLED, alerts=b.alerts, health_flag=b.health_flag, forms=b.forms_label, consents=b.consents_label,
                minute=b.start_minute,
                movable=b.kind == "appointment" and b.status in MOVABLE and bool(b.appointment_id),
                drag_id=f"a{b.appointment_id}" + (f"@{column.id}" if cal.view != "providers" else "")
                if b.appointment_id else f"{b.kind}-{b.block_id}@{column.id}", home=f"c{column.id}"))

    slots, shades = [], []
    for column in cal.columns:
        i = col_index[column.id]
        left, width = _pct(i / n), _pct(1 / n)
        spans = list(column.work_spans) if column.kind == "provider" else [(first, last)]
        if cal.closure:
            spans = []  # a closed day: all shaded, nothing offered (visits already booked still show)
        cursor = first
        for lo, hi in sorted(spans):
            if lo > cursor:
                shades.append(ShadeView(_px(cursor - first), _px(min(lo, last) - cursor), left, width))
            cursor = max(cursor, hi)
            for m in range(max(lo, first), min(hi, last), SLOT_MINUTES):
                if cal.now_minute is not None and m < cal.now_minute:
                    continue  # the past of today is not bookable
                if m + SLOT_MINUTES <= min(hi, last):
                    slots.append(SlotView(column.id, m, label(m), _px(m - first), _px(SLOT_MINUTES), left, width))
        if cursor < last:
            shades.append(ShadeView(_px(cursor - first), _px(last - cursor), left, width))

    now_top = now_label = ""
    if cal.now_minute is not None and first <= cal.now_minute <= last:
        now_top, now_label = _px(cal.now_minute - first), label(cal.now_minute)
    visits = sum(1 for b in cal.blocks if b.kind == "appointment" and b.status != Status.CANCELLED)
    return DayView(
        title=cal.day_label, zone=f"{cal.zone_label} · {cal.time_zone}",
        columns=[ColumnView(c.id, c.kind, c.name, c.subtitle, initials(c.name), c.colour or "var(--gray-8)",
                            c.hours_label, _pct(i / n), _pct(1 / n)) for i, c in enumerate(cal.columns)],
        blocks=blocks, lines=lines, slots=slots, shades=shades, grid_height=_px(last - first),
        min_width=f"{64 + 168 * n}px", now_top=now_top, now_label=now_label,
        counts=f"{visits} appointment{'s' if visits != 1 else ''}", closure=cal.closure, notices=list(cal.notices))


# --------------------------------------------------------------------------- week


def week_view(week: CalendarWeek, *, show_cancelled: bool) -> WeekView:
    """Providers x 7 days with compact chips (time, client, service) and counts."""
    days = [WeekDayView(d.day.isoformat(), d.short_label, d.is_today,
                        sum(v for (col, i), v in week.counts.items() if i == idx), d.closure)
            for idx, d in enumerate(week.days)]
    cell_entries: dict[tuple[int, int], list] = defaultdict(list)  # one pass, not columns x days x entries
    for e in week.entries:
        if e.status != Status.CANCELLED or show_cancelled:
            cell_entries[(e.column_id, e.day_index)].append(e)
    isos = [d.day.isoformat() for d in week.days]
    rows = []
    for column in week.columns:
        cells = []
        for idx, d in enumerate(week.days):
            chips = []
            for e in cell_entries.get((column.id, idx), ()):
                bg, stripe, _, _ = _paint(e.status, e.colour)
                chips.append(ChipView(e.appointment_id, e.start_label, e.client_name, e.service_name, e.status, bg,
                                      stripe, e.status == Status.CANCELLED, e.status in MOVABLE,
                                      f"w{column.id}_{isos[idx]}", e.health_flag, e.paperwork_due))
            cells.append(CellView(isos[idx], week.counts.get((column.id, idx), 0),
                                  (column.id, idx) in week.working, d.is_today, chips))
        rows.append(WeekRowView(ColumnView(column.id, column.kind, column.name, column.subtitle,
                                           initials(column.name), column.colour), cells))
    total = sum(week.counts.values())
    return WeekView(title=week.label, zone=f"{week.zone_label} · {week.time_zone}", days=days, rows=rows,
                    counts=f"{total} appointment{'s' if total != 1 else ''}")


# --------------------------------------------------------------------------- detail


def _source_words(status: str, source: str) -> str:
    """How the visit came: at the desk, online, or still being booked online (a hold)."""
    if status == "held" and source == "online":
        return "Held online: the client is still booking; the time frees itself if they do not finish"
    return {"staff": "Booked at the desk", "online": "Booked online"}.get(source, source)


def detail_view(d: AppointmentDetail) -> DetailView:
    """The side panel's fields."""
    return DetailView(
        id=d.id, status=d.status, status_label=d.status_label or STATUS_LABELS.get(d.status, d.status),
        accent=STATUS_ACCENT.get(d.status, "gray"), colour=d.colour, client_name=d.client_name,
        profile_href=f"/clients/{d.client_id}" if d.client_id and d.contact_visible else "",
        client_alerts=d.client_alerts, health_flags=list(d.health_flags),
        contact_visible=d.contact_visible, client_phone=d.client_phone, client_email=d.client_email,
        service_name=d.service_name, category=d.category, provider_name=d.provider_name,
        resources=", ".join(d.resources), location_name=d.location_name, date_label=d.date_label,
        time_label=d.time_label, source=_source_words(d.status, d.source),
        price=d.price, deposit_paid=d.deposit_paid, can_check_in="check_in" in d.actions,
        can_complete="complete" in d.actions, can_no_show="no_show" in d.actions, can_cancel="cancel" in d.actions,
        cancel_late=d.cancel_late, cancel_policy=d.cancel_policy, reference=d.reference,
        can_checkout="checkout" in d.actions, checked_out=d.checked_out, cancel_reason=d.cancel_reason,
        can_move="move" in d.actions, card_on_file=d.card_on_file, card_warning=d.card_warning,
        checkout_card_id=d.checkout_card_id, checkout_card=d.card_on_file if d.checkout_card_id else "",
        fee_id=d.fee_id, fee_line=d.fee_line, fee_unpaid=d.fee_status == "unpaid_needs_action",
        fee_waivable=d.fee_waivable, fee_retry_card=d.fee_retry_card, fee_collect_hint=d.fee_collect_hint,
        no_show_preview=d.no_show_preview, cancel_policy_clinic=d.cancel_policy_clinic,
        series_label=d.series_label, series_ahead=d.series_ahead, reminder=d.reminder,
        sale=format_money(d.sale_cents, d.currency), applied=format_money(d.applied_cents, d.currency),
        balance=format_money(d.balance_cents, d.currency), balance_due=d.balance_cents > 0,
        paid_label=("" if not d.checked_out else "Checked out" if not d.sale_cents
                    else f"Checked out · {format_money(d.paid_at_checkout_cents, d.currency)} paid"))


def parse_day(text: str | None, default: date) -> date:
    """An ISO date from a URL or a date picker, else `default`."""
    try:
        return date.fromisoformat((text or "").strip()[:10])
    except ValueError:
        return default
