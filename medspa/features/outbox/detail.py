"""The open message of `/outbox` and its resend (MessageState), and the owners' "Failed jobs"
tab (JobsState): substates of OutboxState, so they read the page's zone and listed rows.

Opening a message is an audited read of the client's record (outbox.message.read); a resend
is audited too (outbox.message.resend). A message opens only from a row or a dead letter this
tab was shown.
"""

from __future__ import annotations

import dataclasses
from zoneinfo import ZoneInfo

import reflex as rx

from medspa.domain.messaging import outbox_actions as actions
from medspa.domain.messaging.models import NOT_SENT_NO_MAIL_SERVER
from medspa.domain.messaging.outbox import MessageDetail, NotResendable, Resent, clinic_time_label
from medspa.domain.queue.actions import fetch_failed_jobs
from medspa.domain.queue.service import FailedJob
from medspa.domain.phones import display_address
from medspa.features.outbox.state import OutboxState, RowView, badge_of
from medspa.web.inputs import parse_id

JOBS_SHOWN = 100
TASK_WORDS = {"deliver_email": "Email delivery", "deliver_sms": "SMS delivery", "expire_holds": "Hold expiry",
              "retry_stalled_jobs": "Stalled-job recovery"}
NO_ERROR_TEXT = "Not recorded: see the job worker's log."


@dataclasses.dataclass
class MessageView:
    """The open message as the dialog shows it (every field text, times in clinic time)."""

    id: int = 0
    kind: str = ""
    channel: str = ""
    address: str = ""
    client: str = ""
    subject: str = ""
    body: str = ""
    body_hidden: bool = False
    status: str = ""
    badge: str = ""
    tone: str = "gray"
    label: str = ""
    attempts: int = 0
    failure_reason: str = ""
    message_id: str = ""
    provider_id: str = ""
    created: str = ""
    sent: str = ""
    delivered: str = ""
    resendable: bool = False
    resend_note: str = ""
    resend_label: str = "Resend"


def replaced(obj, cls, **changes):
    """A `cls` (a dataclass) copy of `obj` with `changes`: works on the proxies Reflex wraps
    state values in, where dataclasses.replace does not."""
    return cls(**{f.name: changes.get(f.name, getattr(obj, f.name)) for f in dataclasses.fields(cls)})


def message_view(d: MessageDetail) -> MessageView:
    """The dialog's view of a MessageDetail."""
    word, tone, _ = badge_of(d.status, d.status_label)
    kind = f"{d.kind_label}: {d.campaign_name}" if d.campaign_name else d.kind_label
    return MessageView(d.id, kind, "SMS" if d.channel == "sms" else "Email",
                       display_address(d.channel, d.to_address), d.client_name,
                       d.subject, d.body, d.body_hidden, d.status, word, tone, d.status_label, d.attempts,
                       d.failure_reason, d.message_id, d.provider_id, d.created_label, d.sent_label,
                       d.delivered_label, d.resendable, d.resend_note, d.resend_label)


def resent_notice(r: Resent) -> str:
    """What the dialog says after a resend."""
    parts = [f"Queued again for {r.to_address}."]
    if r.address_changed:
        parts.append(f"That is the client's current address; it went to {r.previous_address} before.")
    if r.suppression_lifted:
        parts.append("The address was blocked after an earlier failure; sending to it is allowed again.")
    if r.status_label == NOT_SENT_NO_MAIL_SERVER:
        parts.append("No mail server is set up, so it waits here: not sent yet.")
    elif r.job_ids:
        parts.append("Its delivery job is in the queue.")
    return " ".join(parts)


class MessageState(OutboxState):
    """The message dialog: what it shows, the resend confirmation and its outcome."""

    view_open: bool = False
    view: MessageView = MessageView()
    confirming: bool = False
    resending: bool = False
    notice: str = ""
    msg_error: str = ""
    _message_id: int = 0

    def _close(self) -> None:
        self.view_open, self.confirming, self.resending, self.notice, self.msg_error = False, False, False, "", ""
        self.view, self._message_id = MessageView(), 0

    async def _open(self, message_id: int):
        """Read message `message_id` (audited) into the dialog; returns the redirect to sign in, or None."""
        done = await self._act(actions.fetch_outbox_message, message_id, time_zone=self.time_zone)
        if done.redirect is not None:
            self._close()
            return done.redirect
        self._close()
        if done.error:
            self.msg_error, self.view_open = "That message is not available.", True
            return None
        self.view, self._message_id, self.view_open = message_view(done.value), message_id, True
        return None

    def _show_resent(self, r: Resent) -> None:
        word, tone, rest = badge_of(r.status, r.status_label)
        shown = display_address("sms" if self.view.channel == "SMS" else "email", r.to_address)
        self.view = replaced(self.view, MessageView, address=shown, status=r.status, badge=word, tone=tone,
                                        label=r.status_label, failure_reason="", resendable=False, resend_note="")
        self.rows = [replaced(row, RowView, address=shown, status=r.status, badge=word, tone=tone, reason=rest,
                                         label=r.status_label) if row.id == r.id else row for row in self.rows]
        counts = dict(self.counts)
        if counts and r.previous_status == "failed":
            counts["failed"] = max(0, counts.get("failed", 0) - 1)
            counts["waiting"] = counts.get("waiting", 0) + 1
        self.counts = counts

    @rx.event
    async def open_message(self, message_id: int):
        """Open a listed message in the dialog (an audited read)."""
        mid = parse_id(message_id)
        if mid is None or mid not in self._row_ids:
            return
        return await self._open(mid)

    @rx.event
    async def close_message(self):
        """Close the dialog."""
        self._close()

    @rx.event
    async def ask_resend(self):
        """Show the resend confirmation (names the recipient) for a failed message, or for a queued
        one no job will send ("Send now")."""
        if self._message_id and self.view.resendable:
            self.confirming, self.msg_error = True, ""

    @rx.event
    async def cancel_resend(self):
        """Back out of the confirmation."""
        self.confirming = False

    @rx.event
    async def resend(self):
        """Send the open message again, or now (audited); the row shows its new status."""
        if not (self._message_id and self.confirming):
            return
        self.resending = True
        try:
            done = await self._act(actions.do_resend_message, self._message_id)
        except NotResendable as exc:
            self.msg_error, self.confirming = exc.reason, False
            return
        finally:
            self.resending = False
        if done.redirect is not None:
            self._close()
            return done.redirect
        self.confirming = False
        if done.error:
            self.msg_error = "That message is not available."
            return
        self._show_resent(done.value)
        self.notice = resent_notice(done.value)


@dataclasses.dataclass
class JobView:
    """One dead letter: task in words, when it failed (clinic time), attempts, the error, scope."""

    id: int = 0
    task: str = ""
    task_name: str = ""
    when: str = ""
    attempts: int = 0
    error: str = ""
    scope: str = ""
    message_id: int = 0


def _job_error(j: FailedJob) -> str:
    if j.error:
        return j.error
    if j.message_id and j.message_status:
        return f"No failure on record: its message is {j.message_status} now (sent again or delivered since)."
    return NO_ERROR_TEXT


def job_view(j: FailedJob, tz: ZoneInfo) -> JobView:
    """The table row of a FailedJob."""
    return JobView(j.id, TASK_WORDS.get(j.task_name, j.task_name.replace("_", " ").capitalize()), j.task_name,
                   clinic_time_label(j.failed_at, tz) or "—", j.attempts, _job_error(j),
                   "All clinics" if j.clinic_wide else "This clinic", j.message_id or 0)


class JobsState(OutboxState):
    """The owners' "Failed jobs" tab: jobs that failed their last attempt (jobs.read)."""

    jobs: list[JobView] = []
    jobs_loaded: bool = False
    jobs_error: str = ""
    _job_messages: dict[int, int] = {}

    @rx.event
    async def open_tab(self, value: str):
        """The messages, or (owners) the failed jobs, loaded each time their tab opens."""
        if value == "messages":
            self.tab = value
        elif value == "jobs" and self.show_jobs:
            self.tab = value
            return await self._load_jobs()

    async def _load_jobs(self):
        done = await self._act(fetch_failed_jobs, limit=JOBS_SHOWN)
        if done.redirect is not None:
            return done.redirect
        if done.error:
            self.jobs, self._job_messages, self.jobs_error = [], {}, "Failed jobs are for owners."
            return None
        tz = ZoneInfo(self.time_zone)
        self.jobs = [job_view(j, tz) for j in done.value]
        self._job_messages = {j.id: j.message_id for j in done.value if j.message_id}
        self.jobs_loaded, self.jobs_error = True, ""
        return None

    @rx.event
    async def open_job_message(self, job_id: int):
        """Open the outbox message a listed dead letter was about (an audited read)."""
        jid = parse_id(job_id)
        if jid is None or jid not in self._job_messages:
            return
        return await (await self.get_state(MessageState))._open(self._job_messages[jid])
