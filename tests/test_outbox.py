"""The owners' outbox (issue 10, part 3) against the real PostgreSQL: the filters, opening a
message (one audit row naming the client; secrets' subjects and bodies stay hidden), resending a
failed one (to the client's current address, one job however often it is clicked) or sending
now a queued one no job will send, refused for anything else, other clinics' messages out of
sight, hostile filter text and paging, the dead letters' error and their audited read."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.audit.models import AuditEvent
from medspa.domain.clients.models import Client
from medspa.domain.clients.service import ClientInput, find_or_create_client
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor, PermissionDenied
from medspa.domain.messaging.models import NOT_SENT_NO_MAIL_SERVER, ContactSuppression, OutboxMessage
from medspa.domain.messaging.delivery import add_messages
from medspa.domain.messaging.outbox import (HIDDEN_BODY, MAX_OFFSET, NO_MAIL_SERVER, NO_SMS_PROVIDER, PENDING_JOB,
                                            NotResendable, OutboxFilter, kind_label)
from medspa.domain.messaging.outbox_actions import (
    do_resend_message, fetch_outbox, fetch_outbox_message, fetch_outbox_options)
from medspa.domain.queue.actions import fetch_failed_jobs
from medspa.settings import Settings
from tests.conftest import utc
from tests.factories import build_clinic

NY = ZoneInfo("America/New_York")
CLOCK = FixedClock(utc(2026, 7, 1, 16))
NO_MAIL = Settings(smtp_host="")
MAIL = Settings(smtp_host="127.0.0.1", smtp_port=2525, mail_from_address="hello@glow.example")


def ny(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=NY).astimezone(timezone.utc)


class Shop:
    """A clinic with two clients and five messages of every status and channel."""

    def __init__(self, engine, owner_engine) -> None:
        self.clinic = build_clinic(engine, owner_engine)
        self.engine, self.owner_engine = engine, owner_engine
        c = self.clinic
        with c.session() as s:
            ana = find_or_create_client(s, c.system, ClientInput("Ana", "Alves", "ana@example.com", "+12125550147"))
            ben = find_or_create_client(s, c.system, ClientInput("Ben", "Brook", "ben@example.com", ""),
                                       require_contact=False)
            self.ana, self.ben = ana.id, ben.id
            rows = {
                "confirm": OutboxMessage(org_id=c.org_id, channel="email", kind="booking_confirmation",
                                         to_address="ana@example.com", subject="Confirmed: Botox on Jul 15",
                                         body="Hi Ana,\n\nYour Botox is confirmed.", client_id=ana.id, status="sent",
                                         created_at=ny(6, 10, 10), sent_at=ny(6, 10, 10, 1), attempts=1,
                                         message_id="<outbox-1@glow.example>", provider_id="250 OK queued as Q1"),
                "sms": OutboxMessage(org_id=c.org_id, channel="sms", kind="booking_confirmation",
                                     to_address="+12125550147", body="Glow: Botox confirmed", client_id=ana.id,
                                     status="queued", created_at=ny(6, 10, 10, 1)),
                "failed": OutboxMessage(org_id=c.org_id, channel="email", kind="cancellation_notice",
                                        to_address="ben@exmaple.com", subject="Cancelled: HydraFacial",
                                        body="Hi Ben,\n\nYour HydraFacial is cancelled.", client_id=ben.id,
                                        status="failed", failure_reason="550 5.1.1 mailbox unavailable",
                                        attempts=2, created_at=ny(6, 20, 9), message_id="<outbox-3@glow.example>"),
                "late": OutboxMessage(org_id=c.org_id, channel="email", kind="checkout_receipt",
                                      to_address="ben@example.com", subject="Receipt: HydraFacial $200.00",
                                      body="Thank you", client_id=ben.id, status="sending", attempts=1,
                                      created_at=ny(6, 30, 23, 30)),
                "code": OutboxMessage(org_id=c.org_id, channel="email", kind="portal_code",
                                      to_address="walkin@example.com",
                                      subject="Your Glow sign-in code: 123456",  # as written before the fix
                                      body="Your code is 123456.", status="failed", failure_reason="550 no such user",
                                      created_at=ny(6, 5, 8)),
            }
            s.add_all(rows.values())
            s.commit()
            self.ids = {k: m.id for k, m in rows.items()}

    def actor(self, role: str = "owner") -> Actor:
        if role == "client":
            return Actor.client(self.clinic.org_id, self.ana)
        return Actor(org_id=self.clinic.org_id, role=role, user_id=None, label=f"test {role}", ip="203.0.113.7")

    def page(self, role: str = "owner", limit: int = 50, offset: int = 0, **filt):
        return fetch_outbox(self.actor(role), OutboxFilter(time_zone="America/New_York", **filt), clock=CLOCK,
                            settings=NO_MAIL, engine=self.engine, limit=limit, offset=offset)

    def found(self, **filt) -> set[str]:
        names = {v: k for k, v in self.ids.items()}
        return {names[r.id] for r in self.page(**filt).rows}

    def row(self, key: str) -> OutboxMessage:
        with self.clinic.session() as s:
            return s.exec(select(OutboxMessage).where(OutboxMessage.id == self.ids[key])).one()

    def audit(self, action: str) -> list[AuditEvent]:
        with self.clinic.session() as s:
            return list(s.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))

    def jobs(self, key: str) -> int:
        with self.owner_engine.connect() as conn:
            return conn.execute(text("select count(*) from procrastinate_jobs where task_name = 'deliver_email' "
                                     "and args->>'message_id' = :m"), {"m": str(self.ids[key])}).scalar()

    def drop_jobs(self) -> None:
        with self.owner_engine.begin() as conn:  # no stray jobs for the job-queue tests' workers
            conn.execute(text("delete from procrastinate_jobs where task_name = 'deliver_email' "
                              "and (args->>'org_id')::bigint = :o"), {"o": self.clinic.org_id})


@pytest.fixture
def shop(engine, owner_engine):
    made = Shop(engine, owner_engine)
    yield made
    made.drop_jobs()


def test_each_filter_returns_its_rows_and_only_them(shop):
    assert shop.found() == {"confirm", "sms", "failed", "late", "code"}
    assert shop.found(status="waiting") == {"sms", "late"}
    assert shop.found(status="sent") == {"confirm"}
    assert shop.found(status="failed") == {"failed", "code"}
    assert shop.found(channel="sms") == {"sms"}
    assert shop.found(channel="email", status="failed") == {"failed", "code"}
    assert shop.found(client="ana") == {"confirm", "sms"}  # the client's name
    assert shop.found(client="ANA ALVES") == {"confirm", "sms"}
    assert shop.found(client="ben@example.com") == {"failed", "late"}  # the client's email, not the typo'd address
    assert shop.found(client="(212) 555-0147") == {"confirm", "sms"}  # phone digits however typed
    assert shop.found(client="walkin@") == {"code"}  # the message's own address, no client
    assert shop.found(client="100%_") == set()  # LIKE wildcards are plain text
    # local days of New York: 23:30 on Jun 30 is Jul 1 in UTC but Jun 30 here
    assert shop.found(start=date(2026, 6, 30), end=date(2026, 6, 30)) == {"late"}
    assert shop.found(start=date(2026, 7, 1)) == set()
    assert shop.found(end=date(2026, 6, 10)) == {"confirm", "sms", "code"}
    assert shop.found(start=date(2026, 6, 10), end=date(2026, 6, 20), status="failed") == {"failed"}


def test_the_list_shows_its_columns_newest_first_with_counts_and_pages(shop):
    page = shop.page()
    assert [r.id for r in page.rows] == [shop.ids[k] for k in ("late", "failed", "sms", "confirm", "code")]
    assert page.total == 5 and page.counts == {"all": 5, "waiting": 2, "sent": 1, "failed": 2}
    late, failed = page.rows[0], page.rows[1]
    assert late.created_label == "Jun 30, 2026, 11:30 PM EDT" and late.created_at == utc(2026, 7, 1, 3, 30)
    assert (late.channel, late.kind, late.kind_label, late.to_address) == (
        "email", "checkout_receipt", "Checkout receipt", "ben@example.com")
    assert (late.client_name, late.subject, late.status_label, late.attempts) == (
        "Ben Brook", "Receipt: HydraFacial $200.00", "sending", 1)
    assert failed.status_label == "failed: 550 5.1.1 mailbox unavailable" and failed.attempts == 2
    assert not hasattr(failed, "body")
    sms = page.rows[2]
    assert sms.status_label == "not sent: no SMS provider set up"  # NO_MAIL has no Twilio either
    emails_waiting = fetch_outbox(shop.actor(), OutboxFilter(status="waiting", channel="email"), settings=NO_MAIL,
                                  clock=CLOCK, engine=shop.engine)
    assert [r.status_label for r in emails_waiting.rows] == ["sending"]
    # counts per status keep the other filters
    assert shop.page(client="ben").counts == {"all": 2, "waiting": 1, "sent": 0, "failed": 1}
    first, second = shop.page(limit=2), shop.page(limit=2, offset=2)
    assert [r.id for r in first.rows + second.rows] == [r.id for r in page.rows[:4]]
    assert first.has_more and shop.page(limit=2, offset=4).has_more is False
    assert kind_label("birthday_greeting") == "Birthday greeting"


def test_each_list_is_audited_with_its_filter(shop):
    before = len(shop.audit("outbox.search"))
    shop.page(status="failed", client="ben")
    events = shop.audit("outbox.search")
    assert len(events) == before + 1
    event = events[-1]
    assert event.occurred_at == CLOCK.now() and event.actor_role == "owner" and event.ip == "203.0.113.7"
    assert event.detail["results"] == 1
    assert event.detail["filter"] == {"status": "failed", "channel": "all", "kind": "all", "client": "ben", "start": None,
                                      "end": None, "time_zone": "America/New_York"}


@pytest.mark.parametrize(("filt", "field"), [
    ({"start": date(2026, 7, 2), "end": date(2026, 7, 1)}, "end"),
    ({"status": "bounced"}, "status"),
    ({"channel": "fax"}, "channel"),
    ({"time_zone": "Mars/Olympus"}, "time_zone"),
])
def test_a_bad_filter_names_its_field(shop, filt, field):
    with pytest.raises(ValidationFailed) as err:
        fetch_outbox(shop.actor(), replace(OutboxFilter(), **filt), clock=CLOCK, settings=NO_MAIL, engine=shop.engine)
    assert field in err.value.fields


def test_opening_a_message_shows_it_all_and_writes_one_audit_row_naming_the_client(shop):
    before = {e.id for e in shop.audit("outbox.message.read")}
    detail = fetch_outbox_message(shop.actor("manager"), shop.ids["confirm"], time_zone="America/New_York",
                                  clock=CLOCK, settings=NO_MAIL, engine=shop.engine)
    assert (detail.subject, detail.body) == ("Confirmed: Botox on Jul 15", "Hi Ana,\n\nYour Botox is confirmed.")
    assert (detail.client_name, detail.to_address, detail.current_address) == ("Ana Alves", "ana@example.com",
                                                                              "ana@example.com")
    assert (detail.message_id, detail.provider_id, detail.attempts) == ("<outbox-1@glow.example>",
                                                                      "250 OK queued as Q1", 1)
    assert detail.sent_label == "Jun 10, 2026, 10:01 AM EDT" and detail.created_label == "Jun 10, 2026, 10:00 AM EDT"
    assert detail.resendable is False and detail.resend_note.startswith("Only a failed message")
    new = [e for e in shop.audit("outbox.message.read") if e.id not in before]
    assert [(e.client_id, e.object_type, e.object_id, e.actor_role, e.occurred_at) for e in new] == [
        (shop.ana, "outbox_message", str(shop.ids["confirm"]), "manager", CLOCK.now())]

    failed = fetch_outbox_message(shop.actor(), shop.ids["failed"], clock=CLOCK, settings=NO_MAIL, engine=shop.engine)
    assert failed.failure_reason == "550 5.1.1 mailbox unavailable" and failed.resendable
    assert failed.created_label == "Jun 20, 2026, 1:00 PM UTC"  # read in UTC when asked to
    # the desk fixed Ben's address since: the resend goes to the one on file
    assert failed.resend_note == ("Goes to ben@example.com, the client's current address "
                                  "(it went to ben@exmaple.com).")


def test_a_sign_in_code_is_never_shown_nor_resent(shop):
    detail = fetch_outbox_message(shop.actor(), shop.ids["code"], clock=CLOCK, settings=NO_MAIL, engine=shop.engine)
    assert detail.body == HIDDEN_BODY and detail.body_hidden and "123456" not in repr(detail)
    assert detail.resendable is False and "expire" in detail.resend_note
    with pytest.raises(NotResendable, match="expire"):
        do_resend_message(shop.actor(), shop.ids["code"], clock=CLOCK, settings=MAIL, engine=shop.engine)
    assert shop.row("code").status == "failed" and shop.jobs("code") == 0


@pytest.mark.parametrize("role", ["owner", "manager"])
def test_owner_and_manager_resend_a_failed_email_to_the_clients_current_address(shop, role):
    detail = do_resend_message(shop.actor(role), shop.ids["failed"], clock=CLOCK, settings=MAIL, engine=shop.engine)
    assert (detail.to_address, detail.previous_address, detail.address_changed) == (
        "ben@example.com", "ben@exmaple.com", True)
    assert detail.status == "queued" and detail.status_label == "queued" and len(detail.job_ids) == 1
    row = shop.row("failed")
    assert (row.status, row.to_address, row.failure_reason, row.attempts, row.message_id) == (
        "queued", "ben@example.com", None, 2, "<outbox-3@glow.example>")
    assert shop.jobs("failed") == 1
    (event,) = shop.audit("outbox.message.resend")
    assert (event.client_id, event.object_id, event.actor_role, event.occurred_at) == (
        shop.ben, str(shop.ids["failed"]), role, CLOCK.now())
    assert event.detail == {"kind": "cancellation_notice", "channel": "email", "address_changed": True,
                            "suppression_lifted": False, "jobs": 1, "previous_address": "ben@exmaple.com",
                            "previous_status": "failed"}


def test_a_resend_lifts_the_suppression_of_its_address(shop):
    with shop.clinic.session() as s:
        s.add(ContactSuppression(org_id=shop.clinic.org_id, channel="email", address="ben@example.com",
                                 reason="550 earlier bounce", message_id=shop.ids["failed"]))
        s.commit()
    done = do_resend_message(shop.actor(), shop.ids["failed"], clock=CLOCK, settings=NO_MAIL, engine=shop.engine)
    assert done.suppression_lifted
    with shop.clinic.session() as s:
        assert s.exec(select(ContactSuppression)).all() == []
    (lifted,) = shop.audit("contact.unsuppress")
    assert (lifted.client_id, lifted.detail["address"], lifted.detail["reason"]) == (
        shop.ben, "ben@example.com", "550 earlier bounce")


def test_a_failed_sms_is_resent_through_its_own_channel(shop):
    with shop.clinic.session() as s:
        sms = s.get(OutboxMessage, shop.ids["sms"])
        sms.status, sms.failure_reason = "failed", "Twilio 30003: Unreachable destination handset"
        s.add(sms)
        s.commit()
    twilio = MAIL.model_copy(update={"twilio_account_sid": "AC123", "twilio_auth_token": "token",
                                     "twilio_from_number": "+12125550100"})
    assert twilio.sms_enabled
    done = do_resend_message(shop.actor(), shop.ids["sms"], clock=CLOCK, settings=twilio, engine=shop.engine)
    assert (done.status, done.to_address, len(done.job_ids)) == ("queued", "+12125550147", 1)
    with shop.owner_engine.begin() as conn:
        tasks = conn.execute(text("select task_name from procrastinate_jobs where id = any(:ids)"),
                             {"ids": done.job_ids}).scalars().all()
        conn.execute(text("delete from procrastinate_jobs where id = any(:ids)"), {"ids": done.job_ids})
    assert tasks == ["deliver_sms"]


def test_without_a_mail_server_a_resent_email_waits_in_the_outbox(shop):
    done = do_resend_message(shop.actor(), shop.ids["failed"], clock=CLOCK, settings=NO_MAIL, engine=shop.engine)
    assert done.job_ids == [] and done.status_label == NOT_SENT_NO_MAIL_SERVER
    assert shop.row("failed").status == "queued" and shop.jobs("failed") == 0


@pytest.mark.parametrize("key", ["confirm", "late"])
def test_only_a_failed_message_is_resent(shop, key):
    before = shop.row(key)
    with pytest.raises(NotResendable) as err:
        do_resend_message(shop.actor(), shop.ids[key], clock=CLOCK, settings=MAIL, engine=shop.engine)
    assert err.value.reason.startswith("Only a failed message can be sent again; this one is ")
    after = shop.row(key)
    assert (after.status, after.to_address, after.attempts, after.failure_reason) == (
        before.status, before.to_address, before.attempts, before.failure_reason)
    assert shop.jobs(key) == 0 and shop.audit("outbox.message.resend") == []


def test_resending_twice_requeues_once_and_defers_one_job(shop):
    do_resend_message(shop.actor(), shop.ids["failed"], clock=CLOCK, settings=MAIL, engine=shop.engine)
    with pytest.raises(NotResendable, match="It is in line for delivery: its job will send it."):
        do_resend_message(shop.actor(), shop.ids["failed"], clock=CLOCK, settings=MAIL, engine=shop.engine)
    assert shop.jobs("failed") == 1 and len(shop.audit("outbox.message.resend")) == 1


def test_two_tabs_resending_at_once_requeue_once(shop):
    """Both clicks race for the row lock: one requeues, the other finds it queued."""
    start, outcomes = threading.Barrier(2), []

    def click() -> None:
        start.wait()
        try:
            do_resend_message(shop.actor(), shop.ids["failed"], clock=CLOCK, settings=MAIL, engine=shop.engine)
            outcomes.append("resent")
        except NotResendable:
            outcomes.append("refused")

    threads = [threading.Thread(target=click) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["refused", "resent"]
    assert shop.jobs("failed") == 1 and len(shop.audit("outbox.message.resend")) == 1


def test_a_client_without_an_address_any_more_is_refused_clearly(shop):
    with shop.clinic.session() as s:
        ben = s.get(Client, shop.ben)
        ben.email = None
        s.add(ben)
        s.commit()
    with pytest.raises(NotResendable, match="Ben Brook has no email address on file any more"):
        do_resend_message(shop.actor(), shop.ids["failed"], clock=CLOCK, settings=MAIL, engine=shop.engine)
    assert shop.row("failed").status == "failed"


@pytest.mark.parametrize("role", ["front_desk", "provider", "lab", "client", "public", "system"])
def test_other_roles_are_refused_everything(shop, role):
    actor = shop.actor(role) if role not in ("public", "system") else Actor(shop.clinic.org_id, role)
    calls = (
        lambda: fetch_outbox_options(actor, settings=NO_MAIL, engine=shop.engine),
        lambda: shop.page(role),
        lambda: fetch_outbox_message(actor, shop.ids["confirm"], clock=CLOCK, settings=NO_MAIL, engine=shop.engine),
        lambda: do_resend_message(actor, shop.ids["failed"], clock=CLOCK, settings=MAIL, engine=shop.engine),
    )
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert shop.row("failed").status == "failed" and shop.jobs("failed") == 0
    assert shop.audit("outbox.search") == shop.audit("outbox.message.read") == []


def test_another_clinics_messages_are_out_of_sight(shop, engine, owner_engine):
    other = build_clinic(engine, owner_engine)
    stranger = Actor(org_id=other.org_id, role="owner", label="other owner")
    page = fetch_outbox(stranger, OutboxFilter(), clock=CLOCK, settings=NO_MAIL, engine=engine)
    assert page.rows == [] and page.counts == {"all": 0, "waiting": 0, "sent": 0, "failed": 0}
    with pytest.raises(NotFound):
        fetch_outbox_message(stranger, shop.ids["confirm"], clock=CLOCK, settings=NO_MAIL, engine=engine)
    with pytest.raises(NotFound):
        do_resend_message(stranger, shop.ids["failed"], clock=CLOCK, settings=MAIL, engine=engine)
    assert shop.row("failed").status == "failed" and shop.jobs("failed") == 0


def test_options_name_the_zones_mail_and_the_jobs_tab(shop):
    owner = fetch_outbox_options(shop.actor("owner"), settings=NO_MAIL, engine=shop.engine)
    assert owner.locations == [(shop.clinic.location_id, "Main", "America/New_York")]
    assert owner.mail_enabled is False and owner.show_failed_jobs is True
    manager = fetch_outbox_options(shop.actor("manager"), settings=MAIL, engine=shop.engine)
    assert manager.mail_enabled is True and manager.show_failed_jobs is False
    assert owner.sms_enabled is False  # the banner says texts wait too
    twilio = MAIL.model_copy(update={"twilio_account_sid": "AC123", "twilio_auth_token": "token"})
    assert fetch_outbox_options(shop.actor("manager"), settings=twilio, engine=shop.engine).sms_enabled is True


def test_numbers_are_shown_as_people_read_them_and_searched_as_stored():
    from medspa.domain.phones import display_address, display_phone

    assert display_phone("+12125550147") == "+1 212-555-0147"
    assert display_phone("+447700900123") == "+44 7700 900123"
    assert display_phone("not a number") == "not a number"
    assert display_address("sms", "+12125550147") == "+1 212-555-0147"
    assert display_address("email", "ana@example.com") == "ana@example.com"


def test_a_dead_delivery_job_shows_its_messages_failure(shop):
    with shop.owner_engine.begin() as conn:
        job_id = conn.execute(text(
            "insert into procrastinate_jobs (queue_name, task_name, args, status, attempts) "
            "values ('default', 'deliver_email', cast(:args as jsonb), 'failed', 6) returning id"),
            {"args": f'{{"message_id": {shop.ids["failed"]}, "org_id": {shop.clinic.org_id}}}'}).scalar()
        odd = conn.execute(text(
            "insert into procrastinate_jobs (queue_name, task_name, args, status, attempts) "
            "values ('default', 'deliver_email', cast(:args as jsonb), 'failed', 1) returning id"),
            {"args": f'{{"message_id": "x1", "org_id": {shop.clinic.org_id}}}'}).scalar()
    dead = {j.id: j for j in fetch_failed_jobs(shop.actor(), engine=shop.engine)}
    assert (dead[job_id].error, dead[job_id].message_id, dead[job_id].attempts) == (
        "550 5.1.1 mailbox unavailable", shop.ids["failed"], 6)
    assert (dead[odd].error, dead[odd].message_id) == ("", None)  # arguments that name no message


# ------------------------------------------------------------------ secrets never shown


def _password_reset(shop) -> int:
    with shop.clinic.session() as s:
        m = OutboxMessage(org_id=shop.clinic.org_id, channel="email", kind="password_reset",
                          to_address="ben@example.com", client_id=shop.ben,
                          subject="Reset link https://spa.example/reset-password?token=SECRETTOKEN",
                          body="Open https://spa.example/reset-password?token=SECRETTOKEN", status="sent",
                          created_at=ny(6, 6, 8))
        s.add(m)
        s.commit()
        return m.id


def test_a_secrets_subject_and_body_are_shown_neither_in_the_list_nor_in_the_opened_message(shop):
    """A manager reading /outbox must not learn a client's sign-in code or a reset link: not from
    the body, and not from the subject (old messages carried the code there)."""
    reset = _password_reset(shop)
    listed = {r.id: r for r in shop.page(role="manager").rows}
    assert (listed[shop.ids["code"]].subject, listed[reset].subject) == ("", "")
    assert listed[shop.ids["confirm"]].subject == "Confirmed: Botox on Jul 15"
    for mid in (shop.ids["code"], reset):
        detail = fetch_outbox_message(shop.actor("manager"), mid, clock=CLOCK, settings=MAIL, engine=shop.engine)
        assert (detail.subject, detail.body, detail.body_hidden, detail.resendable) == ("", HIDDEN_BODY, True, False)
        assert "123456" not in repr(detail) and "SECRETTOKEN" not in repr(detail)


@pytest.mark.parametrize("text", ["123456", "sign-in code", "SECRETTOKEN", "reset-password"])
def test_the_client_text_search_never_matches_a_secrets_subject_or_body(shop, text):
    _password_reset(shop)
    assert shop.found(client=text) == set()


# ------------------------------------------------------------------ "Send now": queued, no job


def _queued_before_setup(shop, channel: str = "email", kind: str = "booking_confirmation") -> int:
    """A message written while its channel had no provider (no job deferred)."""
    with shop.clinic.session() as s:
        m = OutboxMessage(org_id=shop.clinic.org_id, channel=channel, kind=kind, client_id=shop.ana,
                          to_address="ana@example.com" if channel == "email" else "+12125550147",
                          subject="Confirmed: Botox" if channel == "email" else None, body="Your Botox is confirmed")
        add_messages(s, [m], settings=NO_MAIL)
        s.commit()
        return m.id


def _jobs_of(shop, message_id: int) -> int:
    with shop.owner_engine.connect() as conn:
        return conn.execute(text("select count(*) from procrastinate_jobs where args->>'message_id' = :m"),
                            {"m": str(message_id)}).scalar()


def test_a_message_queued_before_the_mail_server_was_set_up_is_sent_now_once(shop):
    mid = _queued_before_setup(shop)
    assert _jobs_of(shop, mid) == 0
    detail = fetch_outbox_message(shop.actor(), mid, clock=CLOCK, settings=MAIL, engine=shop.engine)
    assert (detail.status, detail.resendable, detail.resend_label, detail.resend_note) == (
        "queued", True, "Send now", "Goes to ana@example.com again.")
    done = do_resend_message(shop.actor(), mid, clock=CLOCK, settings=MAIL, engine=shop.engine)
    assert (done.status, len(done.job_ids), done.previous_status) == ("queued", 1, "queued")
    assert _jobs_of(shop, mid) == 1
    (event,) = shop.audit("outbox.message.resend")
    assert (event.object_id, event.client_id, event.detail["previous_status"], event.detail["jobs"]) == (
        str(mid), shop.ana, "queued", 1)
    with pytest.raises(NotResendable, match=PENDING_JOB):  # its job is in line now: a second click is refused
        do_resend_message(shop.actor(), mid, clock=CLOCK, settings=MAIL, engine=shop.engine)
    assert _jobs_of(shop, mid) == 1 and len(shop.audit("outbox.message.resend")) == 1


@pytest.mark.parametrize(("channel", "reason"), [("email", NO_MAIL_SERVER), ("sms", NO_SMS_PROVIDER)])
def test_a_queued_message_waits_while_its_channel_has_no_provider(shop, channel, reason):
    mid = _queued_before_setup(shop, channel)
    detail = fetch_outbox_message(shop.actor(), mid, clock=CLOCK, settings=NO_MAIL, engine=shop.engine)
    assert (detail.resendable, detail.resend_note) == (False, reason)
    assert reason.startswith("Waiting for the mail server: set SMTP_HOST" if channel == "email"
                             else "Waiting for the SMS provider: set TWILIO_ACCOUNT_SID")
    with pytest.raises(NotResendable, match=reason):
        do_resend_message(shop.actor(), mid, clock=CLOCK, settings=NO_MAIL, engine=shop.engine)
    assert shop.audit("outbox.message.resend") == [] and _jobs_of(shop, mid) == 0


def test_a_queued_message_with_its_job_pending_is_not_sent_now(shop):
    with shop.clinic.session() as s:
        m = OutboxMessage(org_id=shop.clinic.org_id, channel="email", kind="booking_confirmation",
                          to_address="ana@example.com", subject="s", body="b", client_id=shop.ana)
        add_messages(s, [m], settings=MAIL)
        s.commit()
    detail = fetch_outbox_message(shop.actor(), m.id, clock=CLOCK, settings=MAIL, engine=shop.engine)
    assert (detail.resendable, detail.resend_note) == (False, PENDING_JOB)
    with pytest.raises(NotResendable, match=PENDING_JOB):
        do_resend_message(shop.actor(), m.id, clock=CLOCK, settings=MAIL, engine=shop.engine)
    assert _jobs_of(shop, m.id) == 1


def test_a_queued_sign_in_code_is_never_sent_now(shop):
    mid = _queued_before_setup(shop, kind="portal_code")
    with pytest.raises(NotResendable, match="expire"):
        do_resend_message(shop.actor(), mid, clock=CLOCK, settings=MAIL, engine=shop.engine)
    assert _jobs_of(shop, mid) == 0


# ------------------------------------------------------------------ hostile filter text and paging


@pytest.mark.parametrize("typed", ["\x00", "a\x00b", "\ud800", "ana\udfff"])
def test_nul_and_lone_surrogates_in_the_client_text_are_refused_on_the_field_and_later_filters_work(shop, typed):
    before = len(shop.audit("outbox.search"))
    with pytest.raises(ValidationFailed) as err:
        shop.page(client=typed)
    assert list(err.value.fields) == ["client"]
    assert shop.found(client="ana") == {"confirm", "sms"}
    assert len(shop.audit("outbox.search")) == before + 1  # the refused one wrote nothing


@pytest.mark.parametrize(("limit", "offset", "kept", "shown"), [
    (25, 2**63, (25, MAX_OFFSET), 0), (10**9, 0, (200, 0), 5), (0, -5, (1, 0), 1), (-1, 2**62, (1, MAX_OFFSET), 0)])
def test_paging_far_off_the_end_is_clamped_not_an_error(shop, limit, offset, kept, shown):
    page = shop.page(limit=limit, offset=offset)
    assert (page.limit, page.offset, page.total, len(page.rows), page.has_more) == (*kept, 5, shown, shown == 1)


def test_each_read_of_the_failed_jobs_writes_one_audit_row(shop):
    """A dead delivery job shows its message's failure reason, which names the recipient."""
    with shop.owner_engine.begin() as conn:
        conn.execute(text("insert into procrastinate_jobs (queue_name, task_name, args, status, attempts) "
                          "values ('default', 'deliver_email', cast(:args as jsonb), 'failed', 6)"),
                     {"args": f'{{"message_id": {shop.ids["failed"]}, "org_id": {shop.clinic.org_id}}}'})
    for n in (1, 2):
        dead = [j for j in fetch_failed_jobs(shop.actor(), clock=CLOCK, engine=shop.engine)
                if j.message_id == shop.ids["failed"]]
        assert dead[0].error == "550 5.1.1 mailbox unavailable"
        events = shop.audit("jobs.failed.read")
        assert len(events) == n
    event = events[-1]
    assert (event.actor_role, event.occurred_at, event.object_type) == ("owner", CLOCK.now(), "procrastinate_job")
    assert shop.ids["failed"] in event.detail["outbox_messages"] and event.detail["results"] >= 1


def test_filter_by_kind_lists_the_kinds_present_and_names_a_campaign(shop):
    from medspa.domain.messaging.engage_models import Campaign

    c = shop.clinic
    with c.session() as s:
        campaign = Campaign(org_id=c.org_id, name="Botox touch-up", segment="all_consenting", segment_params={},
                            channel="email", status="sent", created_at=ny(6, 1, 9), created_by="test")
        s.add(campaign)
        s.flush()
        s.add(OutboxMessage(org_id=c.org_id, channel="email", kind="campaign", to_address="ana@example.com",
                            subject="Touch-up?", body="Hi", client_id=shop.ana, campaign_id=campaign.id,
                            created_at=ny(6, 11, 10)))
        s.add(OutboxMessage(org_id=c.org_id, channel="sms", kind="reminder", to_address="+12125550147",
                            body="See you tomorrow", client_id=shop.ana, created_at=ny(6, 12, 10)))
        s.commit()
    page = shop.page()
    assert page.kinds == [("booking_confirmation", "Booking confirmation"), ("campaign", "Campaign"),
                          ("cancellation_notice", "Cancellation notice"), ("checkout_receipt", "Checkout receipt"),
                          ("portal_code", "Portal sign-in code"), ("reminder", "Reminder")]
    reminders = shop.page(kind="reminder")
    assert [(r.kind, r.channel, r.kind_label) for r in reminders.rows] == [("reminder", "sms", "Reminder")]
    assert reminders.total == 1 and reminders.counts["all"] == 1
    assert shop.page(kind="booking_confirmation").total == 2
    campaigns = shop.page(kind="campaign")
    assert [(r.kind_label, r.campaign_name) for r in campaigns.rows] == [("Campaign", "Botox touch-up")]
    assert {r.campaign_name for r in shop.page(kind="reminder").rows} == {""}
    detail = fetch_outbox_message(shop.actor(), campaigns.rows[0].id, time_zone="America/New_York", clock=CLOCK,
                                  settings=NO_MAIL, engine=shop.engine)
    assert detail.campaign_name == "Botox touch-up"
    with pytest.raises(ValidationFailed) as bad:
        shop.page(kind="'; drop")
    assert set(bad.value.fields) == {"kind"}
    assert shop.audit("outbox.search")[-1].detail["filter"]["kind"] == "reminder"
