"""State of `/outbox`: the filter and one page of messages (OutboxState), the open message and
its resend (MessageState), the job queue's dead letters for owners (JobsState).

Owner and manager (outbox.manage): every public handler re-checks the staff session and the
permission on the server (StaffState._act); anyone else gets the page's "not found" view and
no data. Each handler calls one action (domain.messaging.outbox_actions, or
domain.queue.actions for the dead letters) in a worker thread. Ids the browser sends back
are checked against the rows it was shown.
"""

from __future__ import annotations

import dataclasses

import reflex as rx

from medspa.domain.errors import ValidationFailed
from medspa.domain.messaging import outbox_actions as actions
from medspa.domain.messaging.outbox import STATUS_CHOICES, OutboxFilter, OutboxRow
from medspa.domain.phones import display_address
from medspa.features.auth.state import Acted, StaffState
from medspa.web.inputs import clean_text, iso_day
from medspa.features.choices import Option

PAGE_SIZE = 25
CHANNEL_CHOICES = ("all", "email", "sms")
BAD_DATE = "Enter a date as YYYY-MM-DD"
# the status badge: (word, color scheme) per delivery status
BADGES = {"queued": ("Queued", "amber"), "sending": ("Sending", "blue"), "sent": ("Sent", "grass"),
          "delivered": ("Delivered", "grass"), "failed": ("Failed", "red")}


@dataclasses.dataclass
class RowView:
    """One message as the table shows it: badge word and color, and the rest of the status label."""

    id: int = 0
    when: str = ""
    channel: str = ""
    kind: str = ""
    address: str = ""
    client: str = ""
    subject: str = ""
    status: str = ""
    badge: str = ""
    tone: str = "gray"
    reason: str = ""
    label: str = ""
    attempts: int = 0


def badge_of(status: str, label: str) -> tuple[str, str, str]:
    """(badge word, color scheme, the label's rest) of a delivery status and its label:
    "failed: 550 no such user" -> ("Failed", "red", "550 no such user"); an email queued without a
    mail server -> ("Not sent", "gray", "no mail server set up"); a retry pending ->
    ("Retrying", "amber", its reason)."""
    word, tone = BADGES.get(status, (status.capitalize(), "gray"))
    head, _, rest = label.partition(": ")
    if rest and head.lower() != word.lower():
        word, tone = head.capitalize(), "amber" if head == "retrying" else "gray"
    return word, tone, rest


def row_view(r: OutboxRow) -> RowView:
    """The table row of an OutboxRow."""
    word, tone, rest = badge_of(r.status, r.status_label)
    kind = f"{r.kind_label}: {r.campaign_name}" if r.campaign_name else r.kind_label  # "Campaign: Botox touch-up"
    return RowView(r.id, r.created_label, "SMS" if r.channel == "sms" else "Email", kind,
                   display_address(r.channel, r.to_address),
                   r.client_name, r.subject, r.status, word, tone, rest, r.status_label, r.attempts)


class OutboxState(StaffState):
    """What /outbox shows: the filter bar, one page of messages, the counts per status."""

    allowed: bool = False  # an owner or manager is signed in and the first load finished
    not_found: bool = False  # signed in, but not allowed: the page does not exist for them
    mail_enabled: bool = True
    sms_enabled: bool = True
    show_jobs: bool = False  # owners: the "Failed jobs" tab
    tab: str = "messages"
    locations: list[Option] = []
    location: str = ""
    status: str = "all"
    channel: str = "all"
    kind: str = "all"
    kinds: list[Option] = []  # the kinds present in the clinic's outbox
    query: str = ""
    start: str = ""
    end: str = ""
    field_errors: dict[str, str] = {}
    rows: list[RowView] = []
    total: int = 0
    counts: dict[str, int] = {}
    page: int = 0
    error: str = ""
    busy: bool = False
    _zones: dict[str, str] = {}
    _row_ids: list[int] = []

    # ---- helpers (not callable from the browser)

    @property
    def time_zone(self) -> str:
        """The IANA zone the page reads dates and times in (the chosen location's)."""
        return self._zones.get(self.location, "UTC")

    async def _call(self, action, *args, **kwargs) -> Acted:
        """`action` through StaffState._act; signed out or not allowed forgets everything
        (not allowed: the page's "not found" view)."""
        done = await self._act(action, *args, **kwargs)
        if not done.ok:
            self._forget()
            self.not_found = bool(done.error)
        return done

    def _forget(self) -> None:
        self.allowed, self.show_jobs = False, False
        self.locations, self.rows, self.counts, self._row_ids, self._zones = [], [], {}, [], {}
        self.total, self.page = 0, 0

    def _filter(self) -> OutboxFilter | None:
        """The filter of the bar, or None after noting the bad fields in field_errors."""
        typed = {"start": self.start, "end": self.end}
        errors = {name: BAD_DATE for name, value in typed.items() if value and not iso_day(value)}
        self.field_errors = errors
        if errors:
            return None
        return OutboxFilter(self.status, self.channel, self.query, iso_day(self.start), iso_day(self.end),
                            self.time_zone, self.kind)

    async def _run(self, page: int):
        """Load `page` of the filter (0: a new search); returns the redirect to sign in, or None."""
        filt = self._filter()
        if filt is None:
            return None
        self.busy = True
        try:
            done = await self._call(actions.fetch_outbox, filt, limit=PAGE_SIZE, offset=page * PAGE_SIZE)
        except ValidationFailed as exc:
            self.field_errors = dict(exc.fields)
            return None
        finally:
            self.busy = False
        if not done.ok:
            return done.redirect
        self.page, self.total, self.counts = page, done.value.total, dict(done.value.counts)
        self.rows = [row_view(r) for r in done.value.rows]
        self.kinds = [Option("all", "Every kind")] + [Option(k, label) for k, label in done.value.kinds]
        self._row_ids = [r.id for r in done.value.rows]
        return None

    # ---- events

    @rx.event
    async def load(self):
        """on_load: the locations (zones), whether mail is set up, then the newest messages
        (`?status=failed` in the address picks a status)."""
        self.not_found = False
        done = await self._call(actions.fetch_outbox_options)
        if not done.ok:
            return done.redirect
        opts = done.value
        self._zones = {str(lid): zone for lid, _, zone in opts.locations} or {"0": "UTC"}
        self.locations = [Option(str(lid), f"{name} · {zone}") for lid, name, zone in opts.locations] or [
            Option("0", "UTC")]
        if self.location not in self._zones:
            self.location = next(iter(self._zones))
        self.mail_enabled, self.show_jobs = opts.mail_enabled, opts.show_failed_jobs
        self.sms_enabled = opts.sms_enabled
        wanted = self.router.url.query_parameters.get("status")
        if isinstance(wanted, str) and wanted in STATUS_CHOICES:
            self.status = wanted
        if not self.show_jobs:
            self.tab = "messages"
        self.allowed = True
        return await self._run(0)

    @rx.event
    async def set_status(self, value: str | list[str]):
        """Messages of one status choice: all, waiting (queued or sending), sent, failed."""
        if isinstance(value, str) and value in STATUS_CHOICES:
            self.status = value
            return await self._run(0)

    @rx.event
    async def set_channel(self, value: str):
        """Email, SMS or both ("all")."""
        if isinstance(value, str) and value in CHANNEL_CHOICES:
            self.channel = value
            return await self._run(0)

    @rx.event
    async def set_kind(self, value: str):
        """Messages of one kind (reminder, campaign, ...: those listed), or every kind ("all")."""
        if isinstance(value, str) and value in {o.value for o in self.kinds}:
            self.kind = value
            return await self._run(0)

    @rx.event
    async def set_query(self, value: str):
        """Client text: a name, email or phone of the client, or the message's address."""
        if isinstance(value, str):
            self.query = clean_text(value, 100, strip=False)
            return await self._run(0)

    @rx.event
    async def set_start(self, value: str):
        """The first local day ("" = no lower bound); a malformed date gets its message."""
        if isinstance(value, str):
            self.start = value[:20]
            return await self._run(0)

    @rx.event
    async def set_end(self, value: str):
        """The last local day ("" = no upper bound); a malformed date gets its message."""
        if isinstance(value, str):
            self.end = value[:20]
            return await self._run(0)

    @rx.event
    async def set_location(self, value: str):
        """The zone dates and times are read in (a location's)."""
        if isinstance(value, str) and value in self._zones:
            self.location = value
            return await self._run(0)

    @rx.var
    def filtered(self) -> bool:
        """Some filter is set (the empty state offers to clear it only then)."""
        return (self.status, self.channel, self.kind, self.query, self.start, self.end) != (
            "all", "all", "all", "", "", "")

    @rx.event
    async def clear_filters(self):
        """Every message again."""
        self.status, self.channel, self.kind, self.query, self.start, self.end = "all", "all", "all", "", "", ""
        return await self._run(0)

    @rx.event
    async def turn_page(self, step: int):
        """The next (1) or previous (-1) page of the same filter."""
        if step == 1 and (self.page + 1) * PAGE_SIZE < self.total:
            return await self._run(self.page + 1)
        if step == -1 and self.page > 0:
            return await self._run(self.page - 1)
