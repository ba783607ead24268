"""Breaker tests for issue 19 (messages): each test names a defect found by adversarial testing.
They fail until the product is fixed."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from medspa.clock import FixedClock
from medspa.domain.errors import ValidationFailed
from medspa.domain.messaging import template_actions as ta
from medspa.domain.messaging.templates import TemplateInvalid, render_source
from tests.factories import build_clinic
from tests.sms_support import fake_twilio, sms  # noqa: F401  (fixtures)

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 7, 1, 12, tzinfo=timezone.utc)
CLOCK = FixedClock(NOW)


# ---------------------------------------------------------------------------------- the sandbox
# MAX_OUTPUT is checked only on the final text: a filter or a namespace builds any size of string
# in memory first (center(999999999) is 1 GB in one web request; 40 doublings are 1 TB).

@pytest.mark.parametrize("source", [
    '{{ ("a"|center(30000000))|length }}',
    '{{ ("%-30000000s"|format("x"))|length }}',
    '{{ ("{0:>30000000}".format("x"))|length }}',
    '{{ ("a\\nb"|indent(30000000))|length }}',
    '{{ ("%.30000000f"|format(1.5))|length }}',
    '{{ lipsum(n=5000, html=False, min=20, max=100)|length }}',  # lipsum is a global: n is not capped
    "{% set ns = namespace(s='ab') %}{% for i in range(24) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"
    "{{ ns.s|length }}",
])
def test_sandbox_refuses_building_a_huge_string_in_memory(source):
    with pytest.raises(TemplateInvalid):
        render_source(source, {"client": {"first_name": "Ana"}})


def test_sandbox_refuses_a_million_loop_iterations():
    # range() is capped at 100 but nesting is not: 3 levels = 10**6 iterations (~1 s), 4 levels
    # ~2 minutes of CPU in the web worker, 5 levels hours (the save/preview renders it).
    source = ("{% for a in range(100) %}{% for b in range(100) %}{% for c in range(100) %}"
              "{% endfor %}{% endfor %}{% endfor %}ok")
    with pytest.raises(TemplateInvalid):
        render_source(source, {})


def test_recursive_macro_is_a_field_error_not_a_crash(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    source = "{% macro f(n) %}{{ f(n) }}{% endmacro %}Hi {{ f(1) }}"
    with pytest.raises(ValidationFailed) as exc:  # today: RecursionError escapes render_source -> a 500
        ta.do_save_template(clinic.staff_actor("owner"), "reminder", "sms", "", source, engine=engine, clock=CLOCK)
    assert "body" in exc.value.fields
    preview = ta.preview_template(clinic.staff_actor("owner"), "reminder", "sms", "", source, engine=engine,
                                  clock=CLOCK)
    assert "body" in preview.errors


# ---------------------------------------------------------------------------------- bad input: 500s
# The actions promise ValidationFailed / NotFound for bad input; these reach the database and
# come back as psycopg DataError / ProgrammingError (a 500), or an AttributeError.

def _campaign(subject="Hi {{ client.first_name }}", body="Body", sms_text="Text", name="Summer"):
    from medspa.domain.messaging.campaigns import CampaignInput
    return CampaignInput(name, "all_consenting", {}, "both", subject, body, sms_text)


@pytest.mark.parametrize("field", ["name", "body", "sms_text"])
def test_campaign_with_nul_character_is_a_field_error(engine, owner_engine, field):
    from medspa.domain.messaging import campaign_actions as ca
    clinic = build_clinic(engine, owner_engine)
    data = _campaign(**{field: "Summer\x00glow"})
    with pytest.raises(ValidationFailed):  # today: psycopg DataError "text fields cannot contain NUL"
        ca.do_save_campaign(clinic.staff_actor("owner"), None, data, engine=engine, clock=CLOCK)


def test_campaign_with_non_text_body_is_a_field_error(engine, owner_engine):
    from medspa.domain.messaging import campaign_actions as ca
    clinic = build_clinic(engine, owner_engine)
    with pytest.raises(ValidationFailed):  # today: AttributeError 'int' object has no attribute 'strip'
        ca.do_save_campaign(clinic.staff_actor("owner"), None, _campaign(subject=5, body=6, sms_text=7), engine=engine,
                            clock=CLOCK)


@pytest.mark.parametrize("location_id", ["abc", 2**70])
def test_schedule_campaign_with_bad_location_id_is_not_a_crash(engine, owner_engine, location_id):
    from medspa.domain.errors import NotFound
    from medspa.domain.messaging import campaign_actions as ca
    clinic = build_clinic(engine, owner_engine)
    cid = ca.do_save_campaign(clinic.staff_actor("owner"), None, _campaign(), engine=engine, clock=CLOCK)
    with pytest.raises((ValidationFailed, NotFound)):  # today: ProgrammingError / DataError bigint out of range
        ca.do_schedule_campaign(clinic.staff_actor("owner"), cid, "2026-07-10", "10:00", location_id,
                                engine=engine, clock=CLOCK)


@pytest.mark.parametrize("subject, body", [("Reminder\x00", "Body"), ("Reminder", "Hi\x00 there")])
def test_template_with_nul_character_is_a_field_error(engine, owner_engine, subject, body):
    clinic = build_clinic(engine, owner_engine)
    with pytest.raises(ValidationFailed):  # today: psycopg DataError "text fields cannot contain NUL"
        ta.do_save_template(clinic.staff_actor("owner"), "reminder", "email", subject, body, engine=engine,
                            clock=CLOCK)


def test_template_for_out_of_range_service_id_is_not_found(engine, owner_engine):
    from medspa.domain.errors import NotFound
    clinic = build_clinic(engine, owner_engine)
    with pytest.raises(NotFound):  # today: DataError bigint out of range ("abc" gives NotFound already)
        ta.do_save_template(clinic.staff_actor("owner"), "post_care", "email", "S", "B", 2**70, engine=engine,
                            clock=CLOCK)


# ---------------------------------------------------------------------------------- campaigns

def test_campaign_recipient_due_before_quiet_hours_is_not_queued_inside_them(engine, owner_engine):
    # A campaign scheduled for 20:59 in New York starts (recipients snapshotted, pending, due 20:59:
    # outside quiet hours) in the tick's first transaction; the worker dies before the queueing
    # transactions (or a big segment's batches run long). The next tick, at 23:00 local, writes
    # the message right away: queue_due never re-checks quiet hours (reminders do: quiet.holds(now)).
    from medspa.db import tenant_session
    from medspa.domain.clients.models import Client
    from medspa.domain.messaging import campaign_actions as ca
    from medspa.domain.messaging import campaigns as cs
    from medspa.domain.messaging.models import OutboxMessage
    from sqlmodel import select
    clinic = build_clinic(engine, owner_engine)
    with tenant_session(clinic.org_id, engine) as s:
        c = Client(org_id=clinic.org_id, first_name="Nyla", last_name="Test", email="nyla@example.com",
                   email_marketing_consent=True, time_zone="America/New_York", created_at=NOW)
        s.add(c)
        s.commit()
    owner = clinic.staff_actor("owner")
    cid = ca.do_save_campaign(owner, None, _campaign_email_only(), engine=engine, clock=CLOCK)
    ca.do_schedule_campaign(owner, cid, "2026-07-15", "20:59", None, engine=engine, clock=CLOCK)
    start = datetime(2026, 7, 15, 20, 59, tzinfo=NY).astimezone(timezone.utc)
    with tenant_session(clinic.org_id, engine) as s:  # the tick's first transaction, then the worker died
        assert cs.start_due(s, start) == [cid]
        s.commit()
    late = datetime(2026, 7, 15, 23, 0, tzinfo=NY).astimezone(timezone.utc)
    ca.do_campaign_tick(clock=FixedClock(late), engine=engine)
    with tenant_session(clinic.org_id, engine) as s:
        written = s.exec(select(OutboxMessage).where(OutboxMessage.campaign_id == cid)).all()
    assert [m.created_at.astimezone(NY).hour for m in written] == []  # today: [23] (an email at 11 p.m.)
    morning = datetime(2026, 7, 16, 8, 0, tzinfo=NY).astimezone(timezone.utc)
    ca.do_campaign_tick(clock=FixedClock(morning), engine=engine)
    with tenant_session(clinic.org_id, engine) as s:
        assert len(s.exec(select(OutboxMessage).where(OutboxMessage.campaign_id == cid)).all()) == 1


def _campaign_email_only():
    from medspa.domain.messaging.campaigns import CampaignInput
    return CampaignInput("Summer", "all_consenting", {}, "email", "Hi {{ client.first_name }}", "Body", "")


def _two_records_same_contact(clinic, engine):
    from medspa.db import tenant_session
    from medspa.domain.clients.models import Client
    ids = []
    with tenant_session(clinic.org_id, engine) as s:
        for first in ("Dana", "Danielle"):  # one person entered twice (the reason merge exists)
            c = Client(org_id=clinic.org_id, first_name=first, last_name="Reyes", email=f"{first.lower()}@example.com",
                       phone_e164="+12125550188", email_marketing_consent=True, sms_marketing_consent=True,
                       time_zone="America/New_York", created_at=NOW)
            s.add(c)
            s.flush()
            ids.append(c.id)
        s.commit()
    return ids


def _campaign_messages(engine, clinic, cid):
    from medspa.db import tenant_session
    from medspa.domain.messaging.models import OutboxMessage
    from sqlmodel import select
    with tenant_session(clinic.org_id, engine) as s:
        return list(s.exec(select(OutboxMessage).where(OutboxMessage.campaign_id == cid)))


def test_a_campaign_reaches_one_address_once(engine, owner_engine):
    # Recipients are unique per (client, channel) and the dedupe key names the client id: two
    # records with the same mobile number (allowed: only the email is unique per clinic; a
    # couple sharing a phone, or one person entered twice) get the same text twice.
    from medspa.domain.messaging import campaign_actions as ca
    from medspa.domain.messaging.campaigns import CampaignInput
    clinic = build_clinic(engine, owner_engine)
    _two_records_same_contact(clinic, engine)
    owner = clinic.staff_actor("owner")
    data = CampaignInput("Summer", "all_consenting", {}, "sms", "", "", "Summer glow week!")
    cid = ca.do_save_campaign(owner, None, data, engine=engine, clock=CLOCK)
    ca.do_send_campaign_now(owner, cid, clock=FixedClock(datetime(2026, 7, 15, 12, tzinfo=NY)), engine=engine)
    sent = sorted((m.channel, m.to_address) for m in _campaign_messages(engine, clinic, cid))
    assert sent == [("sms", "+12125550188")]  # today: the same text twice to +12125550188


# ---------------------------------------------------------------------------------- templates with real data

def test_a_template_that_renders_empty_for_a_real_visit_sends_no_blank_text(engine, owner_engine):
    # The wording passes its check with the sample visit (which has a deposit) but renders to ""
    # for a visit without one: render_message returns Rendered("", "") and the tick writes an SMS
    # with an empty body (Twilio refuses it: error 21602), instead of the default wording or none.
    from medspa.domain.clients.service import ClientInput
    from medspa.domain.messaging.models import OutboxMessage
    from medspa.domain.messaging.reminder_actions import do_send_due_messages
    from medspa.domain.scheduling.actions.desk import do_book_for_client
    from sqlmodel import select
    clinic = build_clinic(engine, owner_engine)
    ta.do_save_template(clinic.staff_actor("owner"), "reminder", "sms", "",
                        "{% if visit.deposit %}{{ clinic.name }}: your {{ visit.deposit }} deposit is held.{% endif %}",
                        engine=engine, clock=CLOCK)
    start = datetime(2026, 7, 15, 10, tzinfo=NY).astimezone(timezone.utc)
    appt = do_book_for_client(clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services["laser"],
                              provider_id=clinic.provider_ids[0], start_at=start, client_id=None,
                              new_client=ClientInput("Ana", "Silva", "ana@example.com", "(212) 555-0147"),
                              clock=CLOCK, engine=engine)
    do_send_due_messages(clock=FixedClock(datetime(2026, 7, 14, 10, tzinfo=NY).astimezone(timezone.utc)),
                         engine=engine, org_ids=[clinic.org_id])
    with clinic.session() as s:
        texts = s.exec(select(OutboxMessage).where(OutboxMessage.appointment_id == appt,
                                                   OutboxMessage.kind == "reminder",
                                                   OutboxMessage.channel == "sms")).all()
    assert [m.body for m in texts if not m.body.strip()] == []  # today: [''] (a blank SMS queued)


# ---------------------------------------------------------------------------------- quiet hours

def test_next_allowed_is_never_before_the_instant_on_the_fall_back_night():
    # Quiet 21:00-01:30; on Nov 7 2027 New York's clocks go from 02:00 EDT back to 01:00 EST. At
    # 01:10 EST (the second 01:10) it is quiet; the window's end is taken as 01:30 EDT, which was
    # 40 minutes EARLIER, so a message "held until quiet hours end" goes out at 01:10 at night.
    from medspa.domain.messaging.quiet_hours import in_quiet_hours, next_allowed
    instant = datetime(2027, 11, 7, 1, 10, tzinfo=NY, fold=1).astimezone(timezone.utc)
    assert instant == datetime(2027, 11, 7, 6, 10, tzinfo=timezone.utc)
    assert in_quiet_hours(instant, "America/New_York", time(21), time(1, 30))
    allowed = next_allowed(instant, "America/New_York", time(21), time(1, 30))
    assert allowed >= instant  # today: 2027-11-07 05:30 UTC (01:30 EDT), before the instant
    assert not in_quiet_hours(allowed, "America/New_York", time(21), time(1, 30))


# ---------------------------------------------------------------------------------- reminders and birthdays

def test_unsubscribing_from_the_birthday_email_does_not_trigger_a_birthday_text(engine, owner_engine):
    # The birthday key names the channel (birthday-<channel>-<client>-<year>) and the tick looks
    # up only the key of the channel it picks now: the client clicks "unsubscribe" in the
    # birthday email, the next tick picks SMS and texts "happy birthday" as well.
    from medspa.db import tenant_session
    from medspa.domain.clients.models import Client
    from medspa.domain.messaging.models import OutboxMessage
    from medspa.domain.messaging.reminder_actions import do_send_due_messages
    from medspa.domain.messaging.unsubscribe import unsubscribe_token
    from medspa.domain.messaging.unsubscribe_actions import do_unsubscribe
    from sqlmodel import select
    clinic = build_clinic(engine, owner_engine)
    with tenant_session(clinic.org_id, engine) as s:
        c = Client(org_id=clinic.org_id, first_name="Bea", last_name="Day", email="bea@example.com",
                   phone_e164="+12125550177", email_marketing_consent=True, sms_marketing_consent=True,
                   date_of_birth=date(1990, 7, 15), time_zone="America/New_York", created_at=NOW)
        s.add(c)
        s.commit()
        client_id = c.id
    ten = datetime(2026, 7, 15, 10, 0, tzinfo=NY).astimezone(timezone.utc)
    do_send_due_messages(clock=FixedClock(ten), engine=engine, org_ids=[clinic.org_id])
    do_unsubscribe(unsubscribe_token(clinic.org_id, client_id, "email"), clock=FixedClock(ten), engine=engine)
    from datetime import timedelta
    do_send_due_messages(clock=FixedClock(ten + timedelta(minutes=5)), engine=engine, org_ids=[clinic.org_id])
    with clinic.session() as s:
        sent = [m.channel for m in s.exec(select(OutboxMessage).where(OutboxMessage.kind == "birthday")
                                          .order_by(OutboxMessage.id))]
    assert sent == ["email"]  # today: ["email", "sms"]


# ---------------------------------------------------------------------------------- inbound texts


def test_a_signed_text_with_a_nul_character_is_kept_not_a_500(engine, owner_engine, sms):  # noqa: F811
    # A genuine Twilio request whose Body holds U+0000: inbound_message.body is a PostgreSQL text
    # column, the insert raises DataError, the route answers 500 and Twilio retries it for hours.
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from medspa.api import webhooks as webhook_api
    from tests import test_inbound_sms as tis
    settings, _ = sms
    clinic = build_clinic(engine, owner_engine)
    to = tis.own_number(clinic, owner_engine)
    ana = tis.number()
    tis.add_client(clinic, ana)
    app = FastAPI()
    app.include_router(webhook_api.router)
    app.dependency_overrides[webhook_api.webhook_settings] = lambda: settings
    app.dependency_overrides[webhook_api.webhook_engine] = lambda: engine
    app.dependency_overrides[webhook_api.webhook_clock] = lambda: CLOCK
    http = TestClient(app, raise_server_exceptions=False)
    answer = tis.text_in(http, ana, to, "Running late\x00 sorry")
    assert answer.status_code == 200  # today: 500
    assert [m.flagged for m in tis.inbound(clinic)] == [True]


def test_a_template_that_recurses_too_deep_for_one_clients_data_does_not_stop_the_clinics_reminders(
        engine, owner_engine):
    # The wording passes its check with the sample client (Jordan: 120 macro levels) but recurses
    # past Python's limit for a client named Christopher. render_message falls back to the
    # default only on TemplateInvalid; RecursionError escapes, the clinic's whole tick fails
    # every minute and nobody in the clinic gets a reminder (Ana neither).
    from medspa.domain.clients.service import ClientInput
    from medspa.domain.messaging.models import OutboxMessage
    from medspa.domain.messaging.reminder_actions import do_send_due_messages
    from medspa.domain.scheduling.actions.desk import do_book_for_client
    from sqlmodel import select
    clinic = build_clinic(engine, owner_engine)
    source = ("{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% endif %}{% endmacro %}"
              "Hi {{ client.first_name }}, see you {{ visit.when }}{{ f(client.first_name|length * 20) }}")
    # Macros are refused when saved now (the sandbox allows no loop, macro or set): the row is
    # written as it was stored before that rule, the tick must still reach every client.
    with pytest.raises(ValidationFailed):
        ta.do_save_template(clinic.staff_actor("owner"), "reminder", "email", "Reminder", source, engine=engine,
                            clock=CLOCK)
    from medspa.domain.messaging.engage_models import MessageTemplate
    with clinic.session() as s:
        s.add(MessageTemplate(org_id=clinic.org_id, kind="reminder", channel="email", service_id=None,
                              subject="Reminder", body=source, updated_at=NOW, updated_by="before the rule"))
        s.commit()
    ids = []
    for i, first in enumerate(("Christopher", "Ana")):
        start = datetime(2026, 7, 15, 10, 30 * i, tzinfo=NY).astimezone(timezone.utc)
        ids.append(do_book_for_client(clinic.staff_actor(), location_id=clinic.location_id,
                                      service_id=clinic.services["botox"], provider_id=clinic.provider_ids[0],
                                      start_at=start, client_id=None,
                                      new_client=ClientInput(first, "Silva", f"{first.lower()}@example.com", ""),
                                      clock=CLOCK, engine=engine))
    do_send_due_messages(clock=FixedClock(datetime(2026, 7, 14, 10, 30, tzinfo=NY).astimezone(timezone.utc)),
                         engine=engine, org_ids=[clinic.org_id])  # today: RecursionError
    with clinic.session() as s:
        written = {m.appointment_id for m in s.exec(select(OutboxMessage).where(OutboxMessage.kind == "reminder"))}
    assert written == set(ids)
