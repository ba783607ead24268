"""State of /campaigns (owner, manager: campaign.manage).

CampaignsState's public handlers are entry points: each re-checks the staff session and the
permission on the server through StaffState._act and one action of
domain/messaging/campaign_actions.py. Ids come from the listed rows, never trusted as-is;
every typed value is cleaned (form_text rules) before the domain validates it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from medspa.domain.errors import ValidationFailed
from medspa.domain.messaging import campaign_actions as ca
from medspa.domain.messaging.campaign_results import campaign_status_label
from medspa.domain.messaging.campaigns import CHANNEL_LABELS, CampaignInfo, CampaignInput
from medspa.domain.messaging.engage_models import CAMPAIGN_CHANNELS
from medspa.domain.messaging.segments import SEGMENTS
from medspa.domain.money import format_money
from medspa.domain.timezones import format_clinic_time
from medspa.features.auth.state import StaffState
from medspa.web.inputs import clean_text, parse_id

LIMITS = {"name": 120, "subject": 300, "body": 20_000, "sms_body": 2_000, "param": 6, "day": 10, "wall": 5}


@dataclasses.dataclass
class CampaignRow:
    """A campaign in the list (and the open one): texts as shown, figures as strings."""

    id: int = 0
    name: str = ""
    status: str = ""
    status_label: str = ""
    audience: str = ""
    channel: str = ""
    when: str = ""
    sent: str = "0"
    delivered: str = "0"
    failed: str = "0"
    skipped: str = "0"
    waiting: str = "0"
    queued: str = "0"
    bookings: str = "0"
    booked: str = ""
    skipped_reasons: str = ""
    sent_text: str = ""
    editable: bool = False
    stoppable: bool = False  # sending: "Stop sending" skips who has not been queued yet


@dataclasses.dataclass
class Option:
    """A choice of a picker."""

    value: str = ""
    label: str = ""


def _count_line(c) -> str:
    """A channel's line of the count preview: "Email: 2 will get it · skipped: no marketing consent 1"."""
    return (f"{'Email' if c.channel == 'email' else 'Text'}: {c.reachable} will get it"
            + (" · skipped: " + ", ".join(f"{reason} {n}" for reason, n in c.skipped) if c.skipped else ""))


def _started_notice(queued: int, waiting: int) -> str:
    """Send now's success message: how many were queued, and how many wait for quiet hours."""
    return (f"Campaign started: {queued} message{'s' if queued != 1 else ''} queued for delivery"
            + (f"; {waiting} go out when the client's quiet hours end." if waiting else "."))


def _text(value: Any, key: str) -> str:
    return clean_text(value, LIMITS[key], strip=False) if isinstance(value, str) else ""


class CampaignsState(StaffState):
    """The list, the editor (editing) and one campaign's results (open_id). status: loading,
    ready or not_found (no campaign.manage)."""

    status: str = "loading"
    rows: list[CampaignRow] = []
    notice: str = ""
    error: str = ""
    errors: dict[str, str] = {}
    # the open campaign's results
    open_id: int = 0
    opened: CampaignRow = CampaignRow()
    locations: list[Option] = []
    zone: str = "UTC"
    editing: bool = False
    sending: bool = False  # Send now is running (the editor's button spins)

    # ---- loading

    def _row(self, c: CampaignInfo) -> CampaignRow:
        r = c.results
        # the send time (when it started), never when the last batch was written (finished_at)
        when = c.started_at or c.scheduled_at
        when_text = format_clinic_time(when, self.zone) if when else ""
        if c.status == "scheduled" and when_text:
            when_text = f"Scheduled for {when_text}"
        label = campaign_status_label(c.status, r)
        return CampaignRow(c.id, c.name, label.lower(), label, c.segment_label,
                           CHANNEL_LABELS.get(c.channel, c.channel), when_text, str(r.sent), str(r.delivered),
                           str(r.failed), str(r.skipped_total), str(r.waiting), str(r.queued),
                           str(r.bookings), format_money(r.booked_cents, c.currency), r.skipped_text,
                           r.sent_text, c.status in ("draft", "scheduled"), c.status == "sending")

    async def _reload(self):
        done = await self._act(ca.fetch_campaigns)
        if done.redirect is not None:
            return done.redirect
        if not done.ok:
            self.status, self.rows = "not_found", []
            return None
        self.rows = [self._row(c) for c in done.value]
        if self.open_id:
            self.opened = next((r for r in self.rows if r.id == self.open_id), CampaignRow())
        self.status = "ready"
        return None

    @rx.event
    async def load(self):
        """on_load: the clinic's locations (for the send time) and campaigns with results."""
        self.editing, self.open_id, self.notice, self.error, self.errors = False, 0, "", "", {}
        done = await self._act(ca.fetch_locations)
        if done.redirect is not None:
            return done.redirect
        if not done.ok:
            self.status = "not_found"
            return None
        self.locations = [Option(str(i), f"{name} ({zone})") for i, name, zone in done.value]
        self.zone = done.value[0][2] if done.value else "UTC"
        return await self._reload()

    # ---- list and results

    @rx.event
    async def open_campaign(self, campaign_id: Any):
        """Show a listed campaign's results."""
        cid = parse_id(campaign_id)
        if cid is None or cid not in {r.id for r in self.rows}:
            return None
        self.open_id, self.editing, self.notice, self.error = cid, False, "", ""
        redirect = await self._reload()
        return redirect if redirect is not None else rx.scroll_to("campaign-results")

    @rx.event
    def close(self):
        self.open_id, self.editing, self.errors, self.error = 0, False, {}, ""

    @rx.event
    async def refresh(self):
        return await self._reload()

    @rx.event
    async def cancel_campaign(self):
        """Cancel the open campaign before it starts, or stop it while it sends ("Stop sending":
        who is still waiting is skipped; messages already in the outbox go)."""
        if not self.open_id:
            return None
        sending = self.opened.status == "sending"
        done = await self._act(ca.do_cancel_campaign, self.open_id)
        if done.redirect is not None:
            return done.redirect
        if not done.ok:
            self.notice = "It has already finished sending."
        elif sending:
            n = done.value
            self.notice = (f"Sending stopped: {n} client{'s' if n != 1 else ''} waiting will not get it; "
                           "messages already in the outbox still go.")
        else:
            self.notice = "Campaign cancelled."
        return await self._reload()


class CampaignEditorState(CampaignsState):
    """The editor of a new or draft campaign: its fields as typed, the segment's live count and
    the preview. Saving, scheduling or sending closes it and opens the campaign's results."""

    edit_id: int = 0
    f_name: str = ""
    f_segment: str = "lapsed_neuromodulator"
    f_param: str = ""
    f_channel: str = "email"
    f_subject: str = ""
    f_body: str = ""
    f_sms: str = ""
    f_day: str = ""
    f_wall: str = "10:00"
    f_location: str = ""
    count_text: str = ""
    count_detail: list[str] = []
    confirm_question: str = "Send now?"  # Send now's dialog: "Send to 2 clients now?" (the count preview's)
    preview_for: str = ""
    preview_subject: str = ""
    preview_body: str = ""
    preview_sms: str = ""

    @rx.var
    def segment_options(self) -> list[Option]:
        """The segments of the picker."""
        return [Option(k, s.label) for k, s in SEGMENTS.items()]

    @rx.var
    def segment_description(self) -> str:
        seg = SEGMENTS.get(self.f_segment)
        return seg.description if seg else ""

    @rx.var
    def param_label(self) -> str:
        seg = SEGMENTS.get(self.f_segment)
        return seg.params[0].label if seg and seg.params else ""

    @rx.var
    def param_unit(self) -> str:
        seg = SEGMENTS.get(self.f_segment)
        return seg.params[0].unit if seg and seg.params else ""

    @rx.var
    def uses_email(self) -> bool:
        return self.f_channel in ("email", "both")

    @rx.var
    def uses_sms(self) -> bool:
        return self.f_channel in ("sms", "both")

    # ---- the editor

    @rx.event
    async def new_campaign(self):
        """Open an empty editor (a lapsed-neuromodulator email to start from)."""
        self.editing, self.edit_id, self.open_id, self.errors, self.error, self.notice = True, 0, 0, {}, "", ""
        self.f_name, self.f_segment, self.f_channel = "", "lapsed_neuromodulator", "email"
        self.f_param = str(SEGMENTS["lapsed_neuromodulator"].params[0].default)
        self.f_subject = "We miss you, {{ client.first_name }}"
        self.f_body = ("Hi {{ client.first_name }},\n\nIt has been a while since your last visit. "
                       "Book your next appointment here: {{ links.book }}\n\n{{ clinic.name }}")
        self.f_sms = "{{ clinic.name }}: Hi {{ client.first_name }}, time for a touch-up? Book: {{ links.book }}"
        self.f_day, self.f_wall = "", "10:00"
        self.f_location = self.locations[0].value if self.locations else ""
        self._clear_preview()
        return await self._recount()

    @rx.event
    async def edit_campaign(self):
        """Open the editor on the open campaign (a draft or scheduled one)."""
        if not self.open_id:
            return None
        done = await self._act(ca.fetch_campaign, self.open_id)
        if done.redirect is not None:
            return done.redirect
        info = done.value
        if not done.ok or info.status not in ("draft", "scheduled"):
            return None
        self.editing, self.edit_id, self.errors, self.error, self.notice = True, info.id, {}, "", ""
        self.f_name, self.f_segment, self.f_channel = info.name, info.segment, info.channel
        seg = SEGMENTS.get(info.segment)
        self.f_param = str(info.params.get(seg.params[0].key, "")) if seg and seg.params else ""
        self.f_subject, self.f_body, self.f_sms = info.subject, info.body, info.sms_body
        self.f_location = self.f_location or (self.locations[0].value if self.locations else "")
        self._clear_preview()
        return await self._recount()

    def _clear_preview(self):
        self.preview_for = self.preview_subject = self.preview_body = self.preview_sms = ""

    def _input(self) -> CampaignInput:
        seg = SEGMENTS.get(self.f_segment)
        params = {seg.params[0].key: self.f_param} if seg and seg.params else {}
        return CampaignInput(self.f_name, self.f_segment, params, self.f_channel, self.f_subject, self.f_body,
                             self.f_sms)

    async def _recount(self):
        data = self._input()
        try:
            done = await self._act(ca.preview_segment_count, data.segment, data.params, data.channel)
        except ValidationFailed as exc:
            self.count_text, self.count_detail, self.confirm_question = "", [], "Send now?"
            self.errors = {k: v for k, v in exc.fields.items()}
            return None
        if done.redirect is not None:
            return done.redirect
        if not done.ok:
            return None
        count = done.value
        self.errors = {k: v for k, v in self.errors.items() if not k.startswith("param_") and k != "segment"}
        self.count_text = f"{count.matching} client{'s' if count.matching != 1 else ''} match"
        self.confirm_question = f"Send to {count.reached} client{'s' if count.reached != 1 else ''} now?"
        self.count_detail = [_count_line(c) for c in count.channels]
        return None

    @rx.event
    def set_name(self, value: Any):
        self.f_name = _text(value, "name")

    @rx.event
    def set_subject(self, value: Any):
        self.f_subject = _text(value, "subject")

    @rx.event
    def set_body(self, value: Any):
        self.f_body = _text(value, "body")

    @rx.event
    def set_sms(self, value: Any):
        self.f_sms = _text(value, "sms_body")

    @rx.event
    def set_day(self, value: Any):
        self.f_day = _text(value, "day")

    @rx.event
    def set_wall(self, value: Any):
        self.f_wall = _text(value, "wall")

    @rx.event
    def set_location(self, value: Any):
        if isinstance(value, str) and value in {o.value for o in self.locations}:
            self.f_location = value

    @rx.event
    async def set_segment(self, value: Any):
        """Pick a segment: its parameter's default, and the count again."""
        if isinstance(value, str) and value in SEGMENTS:
            self.f_segment = value
            seg = SEGMENTS[value]
            self.f_param = str(seg.params[0].default) if seg.params else ""
            return await self._recount()
        return None

    @rx.event
    async def set_param(self, value: Any):
        self.f_param = _text(value, "param")
        return await self._recount()

    @rx.event
    async def set_channel(self, value: Any):
        if isinstance(value, str) and value in CAMPAIGN_CHANNELS:
            self.f_channel = value
            return await self._recount()
        return None

    @rx.event
    async def preview(self):
        """Render the campaign as typed for a client of its segment."""
        if not self.editing:
            return None
        try:
            done = await self._act(ca.preview_campaign, self._input())
        except ValidationFailed as exc:
            self.errors, self.error = dict(exc.fields), "Check the fields marked."
            self._clear_preview()
            return None
        if done.redirect is not None:
            return done.redirect
        if done.ok:
            p = done.value
            self.errors, self.error = {}, ""
            self.preview_for, self.preview_subject, self.preview_body, self.preview_sms = (
                p.client_name, p.subject, p.body, p.sms)
        return None

    async def _save(self) -> int | None:
        try:
            done = await self._act(ca.do_save_campaign, self.edit_id or None, self._input())
        except ValidationFailed as exc:
            self.errors, self.error = dict(exc.fields), "Check the fields marked."
            return None
        if not done.ok:
            self.error = done.error
            return None
        self.edit_id, self.errors, self.error = done.value, {}, ""
        return done.value

    @rx.event
    async def save_draft(self):
        """Save the campaign as a draft and go back to the list."""
        if not self.editing:
            return None
        if await self._save() is None:
            return None
        self.editing, self.open_id, self.notice = False, self.edit_id, "Saved."
        return await self._reload()

    @rx.event
    async def schedule(self):
        """Save, then schedule at the date and time typed in the chosen location's zone."""
        if not self.editing:
            return None
        cid = await self._save()
        if cid is None:
            return None
        try:
            done = await self._act(ca.do_schedule_campaign, cid, self.f_day, self.f_wall, parse_id(self.f_location))
        except ValidationFailed as exc:
            self.errors, self.error = dict(exc.fields), "Check the send time."
            return None
        if not done.ok:
            self.error = done.error
            return None
        self.editing, self.open_id, self.notice = False, cid, "Campaign scheduled."
        return await self._reload()

    @rx.event
    async def send_now(self):
        """Save and start sending now (quiet hours respected); a spinner (sending) meanwhile."""
        if not self.editing or self.sending:
            return
        self.sending, self.error = True, ""
        yield
        try:
            cid = await self._save()
            if cid is None:
                return
            done = await self._act(ca.do_send_campaign_now, cid)
            if not done.ok:
                self.error = done.error
                return
            self.editing, self.open_id = False, cid
            if (redirect := await self._reload()) is not None:
                yield redirect
                return
            self.notice = _started_notice(done.value, int(self.opened.waiting or 0))
        finally:
            self.sending = False
