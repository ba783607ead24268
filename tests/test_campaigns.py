"""Campaigns (issue 19 part 4): segments, the consent gate, quiet hours per client zone, the
tick under two workers, results with bookings within 14 days, validation."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.db import tenant_session
from medspa.domain.clients.models import Client
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.messaging import campaign_actions as ca
from medspa.domain.messaging.campaigns import CampaignInput
from medspa.domain.messaging.engage_models import Campaign, CampaignRecipient
from medspa.domain.messaging.marketing import NO_CONSENT, OPTED_OUT
from medspa.domain.messaging.models import ContactSuppression, OutboxMessage
from medspa.domain.messaging.segments import segment_clients
from medspa.domain.scheduling.models import Appointment
from tests.conftest import utc

NOW = utc(2026, 7, 15, 16, 0)  # 12:00 in New York, 09:00 in Los Angeles, 02:00 in Sydney (16 Jul)


def _owner(clinic) -> Actor:
    return Actor(org_id=clinic.org_id, role="owner", user_id=None, label="Owner Olga")


def _client(s, clinic, first: str, *, email: bool = True, sms: bool = True, consent_email: bool = True,
            consent_sms: bool = True, zone: str | None = None, phone: str | None = None) -> Client:
    c = Client(org_id=clinic.org_id, first_name=first, last_name="Test", created_at=NOW - timedelta(days=400),
               email=f"{first.lower()}@example.com" if email else None,
               phone_e164=(phone or f"+1415555{abs(hash(first)) % 10000:04d}") if sms else None,
               email_marketing_consent=consent_email, sms_marketing_consent=consent_sms, time_zone=zone)
    s.add(c)
    s.flush()
    return c


def _visit(s, clinic, client: Client, start: datetime, *, service: str = "botox", status: str = "completed",
           created_at: datetime | None = None, price_cents: int = 35000) -> Appointment:
    appt = Appointment(org_id=clinic.org_id, location_id=clinic.location_id, service_id=clinic.services[service],
                       provider_id=clinic.provider_ids[0], client_id=client.id, start_at=start,
                       end_at=start + timedelta(minutes=30), status=status, price_cents=price_cents,
                       created_at=created_at or start - timedelta(days=7))
    s.add(appt)
    s.flush()
    return appt


def _draft(clinic, segment: str = "all_consenting", channel: str = "both", **params) -> int:
    data = CampaignInput("Summer glow", segment, params, channel, "Hi {{ client.first_name }}",
                         "Book your summer glow, {{ client.first_name }}: {{ links.book }}",
                         "{{ clinic.name }}: summer glow week! {{ links.book }}")
    return ca.do_save_campaign(_owner(clinic), None, data, clock=FixedClock(NOW), engine=clinic.engine)


def _messages(clinic, campaign_id: int) -> list[OutboxMessage]:
    with tenant_session(clinic.org_id, clinic.engine) as s:
        return list(s.exec(select(OutboxMessage).where(OutboxMessage.campaign_id == campaign_id)
                           .order_by(OutboxMessage.id)))


def _recipients(clinic, campaign_id: int) -> dict[tuple[int, str], CampaignRecipient]:
    with tenant_session(clinic.org_id, clinic.engine) as s:
        rows = s.exec(select(CampaignRecipient).where(CampaignRecipient.campaign_id == campaign_id)).all()
        return {(r.client_id, r.channel): r for r in rows}


def test_no_campaign_message_without_consent_opted_out_or_merged(clinic):
    with tenant_session(clinic.org_id, clinic.engine) as s:
        yes = _client(s, clinic, "Yara", zone="America/New_York")
        no_consent = _client(s, clinic, "Nora", consent_email=False, consent_sms=False, zone="America/New_York")
        sms_only = _client(s, clinic, "Sam", consent_email=False, zone="America/New_York")
        stopped = _client(s, clinic, "Stella", zone="America/New_York", phone="+14155550199")
        no_phone = _client(s, clinic, "Pia", sms=False, zone="America/New_York")
        merged = _client(s, clinic, "Mona", zone="America/New_York")
        merged.merged_into_id = yes.id
        s.add(ContactSuppression(org_id=clinic.org_id, channel="sms", address="+14155550199", reason="STOP",
                                 kind="opted_out", created_at=NOW))
        ids = {c.first_name: c.id for c in (yes, no_consent, sms_only, stopped, no_phone, merged)}
        s.commit()
    campaign_id = _draft(clinic)
    count = ca.preview_segment_count(_owner(clinic), "all_consenting", {}, "both", clock=FixedClock(NOW),
                                     engine=clinic.engine)
    assert count.matching == 4  # Yara, Sam, Stella, Pia (Nora has no consent, Mona is merged away)
    email, sms = count.channels
    assert (email.channel, email.reachable, dict(email.skipped)) == ("email", 3, {NO_CONSENT: 1})
    assert (sms.channel, sms.reachable, dict(sms.skipped)) == ("sms", 2, {OPTED_OUT: 1, "no mobile number": 1})

    queued = ca.do_send_campaign_now(_owner(clinic), campaign_id, clock=FixedClock(NOW), engine=clinic.engine)
    assert queued == 5
    sent_to = {(m.client_id, m.channel) for m in _messages(clinic, campaign_id)}
    assert sent_to == {(ids["Yara"], "email"), (ids["Yara"], "sms"), (ids["Sam"], "sms"),
                       (ids["Stella"], "email"), (ids["Pia"], "email")}
    rec = _recipients(clinic, campaign_id)
    assert rec[(ids["Sam"], "email")].skip_reason == NO_CONSENT
    assert rec[(ids["Stella"], "sms")].skip_reason == OPTED_OUT
    assert not any(cid in (ids["Nora"], ids["Mona"]) for cid, _ in rec)
    msg = next(m for m in _messages(clinic, campaign_id) if m.client_id == ids["Yara"] and m.channel == "email")
    assert msg.kind == "campaign" and msg.dedupe_key == f"campaign-{campaign_id}-email-{ids['Yara']}"
    assert msg.subject == "Hi Yara" and "/u/" in msg.body  # the unsubscribe link is added
    sms_msg = next(m for m in _messages(clinic, campaign_id) if m.client_id == ids["Yara"] and m.channel == "sms")
    assert sms_msg.body.endswith("Reply STOP to opt out.")
    info = ca.fetch_campaign(_owner(clinic), campaign_id, engine=clinic.engine)
    assert info.status == "sent"


def test_consent_withdrawn_while_waiting_for_quiet_hours_is_skipped(clinic):
    with tenant_session(clinic.org_id, clinic.engine) as s:
        sydney = _client(s, clinic, "Syd", sms=False, zone="Australia/Sydney")
        s.commit()
        sid = sydney.id
    campaign_id = _draft(clinic, channel="email")
    assert ca.do_send_campaign_now(_owner(clinic), campaign_id, clock=FixedClock(NOW), engine=clinic.engine) == 0
    with tenant_session(clinic.org_id, clinic.engine) as s:
        s.get(Client, sid).email_marketing_consent = False
        s.commit()
    ca.do_campaign_tick(clock=FixedClock(NOW + timedelta(hours=7)), engine=clinic.engine)
    assert _messages(clinic, campaign_id) == []
    assert _recipients(clinic, campaign_id)[(sid, "email")].skip_reason == NO_CONSENT


def test_quiet_hours_per_client_zone_across_a_dst_change(clinic):
    # Sat 2026-10-31 23:30 in New York (EDT); US clocks fall back Sun Nov 1 at 02:00.
    start = utc(2026, 11, 1, 3, 30)
    with tenant_session(clinic.org_id, clinic.engine) as s:
        ny = _client(s, clinic, "Nyla", sms=False, zone="America/New_York")
        la = _client(s, clinic, "Lana", sms=False, zone="America/Los_Angeles")  # 20:30 PDT: not quiet
        usual = _client(s, clinic, "Uma", sms=False)  # no zone: her usual location's (New York)
        _visit(s, clinic, usual, utc(2026, 6, 1, 15, 0))
        s.commit()
        ids = (ny.id, la.id, usual.id)
    campaign_id = _draft(clinic, channel="email")
    ca.do_schedule_campaign(_owner(clinic), campaign_id, "2026-10-31", "23:30", None,
                            clock=FixedClock(NOW), engine=clinic.engine)
    result = ca.do_campaign_tick(clock=FixedClock(start), engine=clinic.engine)
    assert (result.started, result.queued) == (1, 1)
    rec = _recipients(clinic, campaign_id)
    eight_est = utc(2026, 11, 1, 13, 0)  # 08:00 EST (UTC-5) after the change: 9.5 hours, not 8.5
    assert rec[(ids[0], "email")].due_at == eight_est
    assert rec[(ids[2], "email")].due_at == eight_est
    assert rec[(ids[1], "email")].due_at == start
    assert [m.client_id for m in _messages(clinic, campaign_id)] == [ids[1]]
    waiting = ca.fetch_campaign(_owner(clinic), campaign_id, engine=clinic.engine)
    assert (waiting.status, waiting.results.waiting, waiting.results.queued) == ("sending", 2, 1)
    assert ca.do_campaign_tick(clock=FixedClock(eight_est - timedelta(minutes=1)), engine=clinic.engine).queued == 0
    assert ca.do_campaign_tick(clock=FixedClock(eight_est), engine=clinic.engine).queued == 2
    assert ca.fetch_campaign(_owner(clinic), campaign_id, engine=clinic.engine).status == "sent"


def test_two_concurrent_ticks_write_each_message_once(clinic):
    with tenant_session(clinic.org_id, clinic.engine) as s:
        for i in range(30):
            _client(s, clinic, f"Cli{i}", zone="America/New_York", phone=f"+1415555{1000 + i}")
        s.commit()
    campaign_id = _draft(clinic)
    ca.do_schedule_campaign(_owner(clinic), campaign_id, "2026-07-15", "12:30", None, clock=FixedClock(NOW),
                            engine=clinic.engine)
    at = FixedClock(NOW + timedelta(minutes=31))
    barrier, results, errors = threading.Barrier(2), [], []

    def tick():
        try:
            barrier.wait()
            results.append(ca.do_campaign_tick(clock=at, engine=clinic.engine))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(r.queued for r in results) == 60
    assert ca.do_campaign_tick(clock=at, engine=clinic.engine).queued == 0  # a re-run adds nothing
    messages = _messages(clinic, campaign_id)
    assert len(messages) == 60 and len({m.dedupe_key for m in messages}) == 60
    assert all(r.status == "queued" and r.message_id for r in _recipients(clinic, campaign_id).values())


def test_results_count_sent_delivered_failed_skipped_and_bookings_within_14_days(clinic):
    with tenant_session(clinic.org_id, clinic.engine) as s:
        a = _client(s, clinic, "Ava", sms=False, zone="America/New_York")
        b = _client(s, clinic, "Bea", sms=False, zone="America/New_York")
        c = _client(s, clinic, "Cat", sms=False, zone="America/New_York")
        d = _client(s, clinic, "Dee", sms=False, consent_email=False, consent_sms=True, zone="America/New_York")
        s.commit()
        a_id, b_id, c_id = a.id, b.id, c.id
    campaign_id = _draft(clinic, channel="email")
    ca.do_send_campaign_now(_owner(clinic), campaign_id, clock=FixedClock(NOW), engine=clinic.engine)
    sent_at = NOW + timedelta(minutes=1)
    with tenant_session(clinic.org_id, clinic.engine) as s:
        for client_id, status in ((a_id, "sent"), (b_id, "delivered"), (c_id, "failed")):
            m = s.exec(select(OutboxMessage).where(OutboxMessage.campaign_id == campaign_id,
                                                   OutboxMessage.client_id == client_id)).one()
            m.status, m.sent_at = status, (sent_at if status != "failed" else None)
        s.commit()
    with tenant_session(clinic.org_id, clinic.engine) as s:
        _visit(s, clinic, s.get(Client, a_id), NOW + timedelta(days=20), status="confirmed",
               created_at=sent_at + timedelta(days=13, hours=23), price_cents=35000)  # day 14: counts
        _visit(s, clinic, s.get(Client, b_id), NOW + timedelta(days=30), status="confirmed",
               created_at=sent_at + timedelta(days=14), price_cents=20000)  # day 15: not
        _visit(s, clinic, s.get(Client, b_id), NOW + timedelta(days=3), status="expired",
               created_at=sent_at + timedelta(days=2), price_cents=20000)  # a lapsed hold: not
        _visit(s, clinic, s.get(Client, c_id), NOW + timedelta(days=3), status="confirmed",
               created_at=sent_at + timedelta(days=1), price_cents=20000)  # failed message: not
        _visit(s, clinic, s.get(Client, a_id), NOW - timedelta(days=3), status="completed",
               created_at=sent_at - timedelta(days=10), price_cents=20000)  # before the message: not
        s.commit()
    r = ca.fetch_campaign(_owner(clinic), campaign_id, engine=clinic.engine).results
    assert (r.sent, r.delivered, r.failed, r.queued, r.waiting) == (2, 1, 1, 0, 0)
    assert r.skipped == ((NO_CONSENT, 1),)
    assert (r.bookings, r.booked_cents) == (1, 35000)
    listed = {i.id: i for i in ca.fetch_campaigns(_owner(clinic), engine=clinic.engine)}
    assert listed[campaign_id].results == r
    assert d  # Dee: in the segment (SMS consent), skipped on email


def test_segments_return_the_right_clients(clinic):
    with tenant_session(clinic.org_id, clinic.engine) as s:
        lapsed = _client(s, clinic, "Lapsed")
        _visit(s, clinic, lapsed, NOW - timedelta(days=200))
        recent = _client(s, clinic, "Recent")
        _visit(s, clinic, recent, NOW - timedelta(days=200))
        _visit(s, clinic, recent, NOW - timedelta(days=60))
        booked = _client(s, clinic, "Booked")
        _visit(s, clinic, booked, NOW - timedelta(days=200))
        _visit(s, clinic, booked, NOW + timedelta(days=5), status="confirmed")
        facial_only = _client(s, clinic, "Facial")
        _visit(s, clinic, facial_only, NOW - timedelta(days=200), service="facial")
        cancelled = _client(s, clinic, "Cancelled")
        _visit(s, clinic, cancelled, NOW - timedelta(days=200), status="cancelled")
        merged = _client(s, clinic, "Merged")
        _visit(s, clinic, merged, NOW - timedelta(days=200))
        merged.merged_into_id = lapsed.id
        new_one = _client(s, clinic, "NewOne")
        _visit(s, clinic, new_one, NOW - timedelta(days=40), service="facial")
        new_recent = _client(s, clinic, "NewRecent")
        _visit(s, clinic, new_recent, NOW - timedelta(days=10), service="facial")
        new_booked = _client(s, clinic, "NewBooked")
        _visit(s, clinic, new_booked, NOW - timedelta(days=40), service="facial")
        _visit(s, clinic, new_booked, NOW + timedelta(days=2), service="facial", status="confirmed")
        no_consent = _client(s, clinic, "NoConsent", consent_email=False, consent_sms=False)
        s.commit()

        def names(key, **params):
            return {c.first_name for c in segment_clients(s, key, params, NOW)}

        assert names("lapsed_neuromodulator", months=4) == {"Lapsed"}
        assert names("lapsed_neuromodulator", months=1) == {"Lapsed", "Recent"}
        # exactly one completed visit (Lapsed, Booked, Facial, NewOne, NewRecent, NewBooked), >= 30 days ago,
        # nothing ahead
        assert names("new_no_second_visit", days=30) == {"Lapsed", "Facial", "NewOne"}
        assert names("new_no_second_visit", days=5) == {"Lapsed", "Facial", "NewOne", "NewRecent"}
        everyone = names("all_consenting")
        assert "NoConsent" not in everyone and "Merged" not in everyone and "NewOne" in everyone
        assert no_consent.id is not None


def test_validation_errors_write_nothing(clinic):
    bad = CampaignInput(" ", "nope", {}, "fax", "", "", "")
    with pytest.raises(ValidationFailed) as exc:
        ca.do_save_campaign(_owner(clinic), None, bad, clock=FixedClock(NOW), engine=clinic.engine)
    assert set(exc.value.fields) == {"name", "segment", "channel"}
    broken = CampaignInput("X", "lapsed_neuromodulator", {"months": "0"}, "both", "Hi {{ client.frist_name }}",
                           "{% for %}", "")
    with pytest.raises(ValidationFailed) as exc:
        ca.do_save_campaign(_owner(clinic), None, broken, clock=FixedClock(NOW), engine=clinic.engine)
    f = exc.value.fields
    assert f["param_months"] == "Enter a whole number from 1 to 36"
    assert "frist_name" in f["subject"] and "on line 1" in f["body"] and f["sms_body"] == "Write the text message"
    with tenant_session(clinic.org_id, clinic.engine) as s:
        assert s.exec(select(Campaign)).all() == []
    campaign_id = _draft(clinic)
    for day, wall, message in (("2026-07-15", "11:59", "Choose a time in the future"),
                               ("15/07/2026", "12:00", "Enter a date and a time")):
        with pytest.raises(ValidationFailed) as exc:
            ca.do_schedule_campaign(_owner(clinic), campaign_id, day, wall, None, clock=FixedClock(NOW),
                                    engine=clinic.engine)
        assert exc.value.fields == {"when": message}
    when = ca.do_schedule_campaign(_owner(clinic), campaign_id, "2026-07-15", "12:01", None, clock=FixedClock(NOW),
                                   engine=clinic.engine)
    assert when == NOW + timedelta(minutes=1)  # 12:01 in New York
    ca.do_cancel_campaign(_owner(clinic), campaign_id, clock=FixedClock(NOW), engine=clinic.engine)
    assert ca.do_campaign_tick(clock=FixedClock(NOW + timedelta(hours=1)), engine=clinic.engine).started == 0
    with pytest.raises(NotFound):
        ca.do_cancel_campaign(_owner(clinic), campaign_id, clock=FixedClock(NOW), engine=clinic.engine)
    desk = Actor(org_id=clinic.org_id, role="front_desk", label="Desk")
    with pytest.raises(NotFound):
        ca.fetch_campaigns(desk, engine=clinic.engine)


def test_preview_renders_for_a_segment_member(clinic):
    with tenant_session(clinic.org_id, clinic.engine) as s:
        _client(s, clinic, "Priya")
        s.commit()
    data = CampaignInput("P", "all_consenting", {}, "both", "For {{ client.first_name }}",
                         "Hello {{ client.first_name }}, unsubscribe: {{ links.unsubscribe }}", "Hi {{ client.first_name }}")
    p = ca.preview_campaign(_owner(clinic), data, clock=FixedClock(NOW), engine=clinic.engine)
    assert p.client_name == "Priya Test" and p.subject == "For Priya"
    assert p.body.startswith("Hello Priya, unsubscribe: http") and p.body.count("/u/") == 1
    assert p.sms == "Hi Priya Reply STOP to opt out."


def test_results_read_clearly_queued_is_its_own_figure_and_sent_needs_a_hand_over(clinic):
    from medspa.domain.messaging.campaign_results import Results, campaign_status_label

    with tenant_session(clinic.org_id, clinic.engine) as s:
        a = _client(s, clinic, "Ava", zone="America/New_York")
        b = _client(s, clinic, "Bea", zone="America/New_York")
        _client(s, clinic, "Pia", sms=False, zone="America/New_York")  # no mobile number
        s.commit()
        a_id = a.id
        assert b.id
    campaign_id = _draft(clinic, channel="both")
    ca.do_send_campaign_now(_owner(clinic), campaign_id, clock=FixedClock(NOW), engine=clinic.engine)
    info = ca.fetch_campaign(_owner(clinic), campaign_id, engine=clinic.engine)
    r = info.results
    # the campaign finished writing, but nothing was handed to a provider: queued, not sent
    assert (info.status, r.sent, r.delivered, r.queued, r.failed) == ("sent", 0, 0, 5, 0)
    assert r.skipped == (("no mobile number", 1),)
    assert r.skipped_text == "no mobile number: 1"
    assert campaign_status_label(info.status, r) == "Queued"
    with tenant_session(clinic.org_id, clinic.engine) as s:
        for m in s.exec(select(OutboxMessage).where(OutboxMessage.campaign_id == campaign_id)):
            m.status, m.sent_at = ("delivered" if m.client_id == a_id else "sent"), NOW
        # a recipient skipped before the reason named its channel reads in the channel's words
        s.exec(select(CampaignRecipient).where(CampaignRecipient.campaign_id == campaign_id,
                                               CampaignRecipient.status == "skipped")).one().skip_reason = "no address"
        s.commit()
    r = ca.fetch_campaign(_owner(clinic), campaign_id, engine=clinic.engine).results
    assert (r.sent, r.delivered, r.queued) == (5, 2, 0)
    assert r.sent_text == "5 sent, 2 of them confirmed delivered"
    assert r.skipped == (("no mobile number", 1),)
    assert campaign_status_label("sent", r) == "Sent"
    assert campaign_status_label("sending", Results(waiting=2)) == "Sending"
    assert campaign_status_label("sent", Results(failed=1)) == "Sent"
    assert Results(sent=3).sent_text == "3 sent"


def test_stop_sending_skips_who_waits_and_keeps_what_is_queued(clinic):
    with tenant_session(clinic.org_id, clinic.engine) as s:
        ny = _client(s, clinic, "Nyla", sms=False, zone="America/New_York")  # 12:00: queued now
        syd = _client(s, clinic, "Sydney", sms=False, zone="Australia/Sydney")  # 02:00: waits for 08:00
        s.commit()
        ny_id, syd_id = ny.id, syd.id
    campaign_id = _draft(clinic, channel="email")
    assert ca.do_send_campaign_now(_owner(clinic), campaign_id, clock=FixedClock(NOW), engine=clinic.engine) == 1
    assert ca.do_cancel_campaign(_owner(clinic), campaign_id, clock=FixedClock(NOW + timedelta(minutes=5)),
                                 engine=clinic.engine) == 1
    rec = _recipients(clinic, campaign_id)
    assert (rec[(syd_id, "email")].status, rec[(syd_id, "email")].skip_reason) == ("skipped", "campaign stopped")
    assert rec[(ny_id, "email")].status == "queued"
    assert ca.do_campaign_tick(clock=FixedClock(NOW + timedelta(hours=7)), engine=clinic.engine).queued == 0
    assert [m.client_id for m in _messages(clinic, campaign_id)] == [ny_id]  # the queued one stays
    info = ca.fetch_campaign(_owner(clinic), campaign_id, engine=clinic.engine)
    assert (info.status, info.results.waiting, info.results.skipped) == ("cancelled", 0, (("campaign stopped", 1),))
    with pytest.raises(NotFound):  # stopped once
        ca.do_cancel_campaign(_owner(clinic), campaign_id, clock=FixedClock(NOW), engine=clinic.engine)
    sent_id = _draft(clinic, channel="email", segment="all_consenting")
    with tenant_session(clinic.org_id, clinic.engine) as s:
        s.get(Client, syd_id).time_zone = "America/New_York"
        s.commit()
    ca.do_send_campaign_now(_owner(clinic), sent_id, clock=FixedClock(NOW), engine=clinic.engine)
    assert ca.fetch_campaign(_owner(clinic), sent_id, engine=clinic.engine).status == "sent"
    with pytest.raises(NotFound):  # a sent campaign has nothing to stop
        ca.do_cancel_campaign(_owner(clinic), sent_id, clock=FixedClock(NOW), engine=clinic.engine)


def test_one_message_per_address_and_channel_the_first_eligible_client_wins(clinic):
    with tenant_session(clinic.org_id, clinic.engine) as s:
        no_sms = _client(s, clinic, "Ana", consent_sms=False, zone="America/New_York", phone="+14155550111")
        first = _client(s, clinic, "Bea", zone="America/New_York", phone="+14155550111")
        second = _client(s, clinic, "Bel", zone="America/New_York", phone="+14155550111")
        other = _client(s, clinic, "Cy", zone="America/New_York", phone="+14155550112")
        s.commit()
        ids = [c.id for c in (no_sms, first, second, other)]
    campaign_id = _draft(clinic)
    ca.do_send_campaign_now(_owner(clinic), campaign_id, clock=FixedClock(NOW), engine=clinic.engine)
    sent = sorted((m.channel, m.to_address, m.client_id) for m in _messages(clinic, campaign_id))
    assert [m for m in sent if m[0] == "sms"] == [("sms", "+14155550111", ids[1]), ("sms", "+14155550112", ids[3])]
    assert len([m for m in sent if m[0] == "email"]) == 4  # different emails: each gets one
    rec = _recipients(clinic, campaign_id)
    assert rec[(ids[0], "sms")].skip_reason == NO_CONSENT
    assert (rec[(ids[2], "sms")].status, rec[(ids[2], "sms")].skip_reason) == \
        ("skipped", "same address as another recipient")
