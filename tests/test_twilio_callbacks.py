"""Twilio's status callbacks (issue 10, step 4) through the real route, POST
/api/v1/webhooks/twilio/status, on the real PostgreSQL: X-Twilio-Signature checked (Twilio's
documented example, 403 for a bad one with nothing changed), sent -> delivered / failed (with
Twilio's error, the number marked for 30005, the fallback email), replays and late callbacks
changing nothing, a callback overtaking the send step, and one clinic's callback never
touching another clinic's message."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from medspa.api import webhooks as webhook_api
from medspa.domain.messaging.actions import DeliveryOutcome, do_deliver_message
from medspa.domain.messaging.failures import TemporaryFailure
from medspa.domain.messaging.twilio import STATUS_CALLBACK_PATH, expected_signature, send_sms, signature_valid
from medspa.settings import Settings
from tests.factories import build_clinic
from tests.fake_twilio import AUTH_TOKEN, callback, sign
from tests.sms_support import (BASE_URL, CLOCK, add_sms, fake_twilio, messages, row, sms,  # noqa: F401
                               sms_and_mail, smtp_box, suppressions)
from tests.test_sms_delivery import ANA, book

DOCS_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
DOCS_PARAMS = [("CallSid", "CA1234567890ABCDE"), ("Caller", "+12349013030"), ("Digits", "1234"),
               ("From", "+12349013030"), ("To", "+18005551212")]


def test_the_signature_is_twilios_documented_example():
    """https://www.twilio.com/docs/usage/webhooks/webhooks-security: auth token 12345."""
    assert expected_signature("12345", DOCS_URL, DOCS_PARAMS) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    assert signature_valid("12345", DOCS_URL, list(reversed(DOCS_PARAMS)), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
    # Twilio's libraries accept the URL with the scheme's default port as well
    assert signature_valid("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", DOCS_PARAMS,
                           "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
    tampered = [(k, "9999" if k == "Digits" else v) for k, v in DOCS_PARAMS]
    assert not signature_valid("12345", DOCS_URL, tampered, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
    assert not signature_valid("12345", DOCS_URL.replace("bar=2", "bar=3"), DOCS_PARAMS, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
    assert not signature_valid("54321", DOCS_URL, DOCS_PARAMS, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
    assert not signature_valid("12345", DOCS_URL, DOCS_PARAMS, None)
    assert not signature_valid("", DOCS_URL, DOCS_PARAMS, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")


def test_the_route_is_on_the_app(engine, sms):
    """The app's own FastAPI answers the path (an unsigned POST: 403, not 404 / 405)."""
    from medspa.api.app import api

    settings, _ = sms
    api.dependency_overrides[webhook_api.webhook_settings] = lambda: settings
    api.dependency_overrides[webhook_api.webhook_engine] = lambda: engine
    try:
        answer = TestClient(api).post(f"{STATUS_CALLBACK_PATH}?org=1&message=1", content="MessageSid=SM1",
                                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    finally:
        api.dependency_overrides.clear()
    assert (answer.status_code, answer.json()) == (403, {"received": False, "error": "invalid signature"})


def client_for(engine, settings: Settings) -> TestClient:
    app = FastAPI()
    app.include_router(webhook_api.router)
    app.dependency_overrides[webhook_api.webhook_settings] = lambda: settings
    app.dependency_overrides[webhook_api.webhook_engine] = lambda: engine
    app.dependency_overrides[webhook_api.webhook_clock] = lambda: CLOCK
    return TestClient(app)


def post(http: TestClient, org_id: int, message_id: int, fields: list[tuple[str, str]], *,
         signature: str | None = "sign", token: str = AUTH_TOKEN, signed_query: str | None = None,
         attempt: int | None = 1):
    """POST a status callback to the URL Twilio was given for delivery attempt `attempt` (None:
    an older URL that names no attempt); signed over `signed_query` (default: the URL's own
    query) with `token`, or with the literal `signature`."""
    query = f"org={org_id}&message={message_id}" + (f"&attempt={attempt}" if attempt is not None else "")
    if signature == "sign":
        signature = sign(token, f"{BASE_URL}{STATUS_CALLBACK_PATH}?{signed_query or query}", fields)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return http.post(f"{STATUS_CALLBACK_PATH}?{query}", content=urlencode(fields), headers=headers)


def sent_sms(clinic, settings, to: str = ANA, **kw) -> tuple[int, str]:
    """An SMS delivered to the fake Twilio: (message id, Message SID)."""
    message_id = add_sms(clinic, to, **kw)
    assert do_deliver_message(message_id, clinic.org_id, settings=settings, clock=CLOCK,
                              engine=clinic.engine) == DeliveryOutcome.SENT
    return message_id, row(clinic, message_id).provider_id


def test_delivered_then_replayed_then_a_late_sent_change_nothing_twice(engine, owner_engine, sms):
    settings, fake = sms
    clinic = build_clinic(engine, owner_engine)
    message_id, sid = sent_sms(clinic, settings)
    assert sid == fake.sids[0]
    http = client_for(engine, settings)
    answer = post(http, clinic.org_id, message_id, callback(sid, "delivered"))
    assert (answer.status_code, answer.json()) == (200, {"received": True, "result": "delivered"})
    delivered = row(clinic, message_id)
    assert (delivered.status, delivered.delivered_at, delivered.sent_at) == ("delivered", CLOCK.now(), CLOCK.now())
    for status in ("delivered", "sent", "queued", "failed"):  # a replay, late and out-of-order callbacks
        answer = post(http, clinic.org_id, message_id, callback(sid, status, error_code=30008 if status == "failed"
                                                                else None))
        assert answer.status_code == 200 and answer.json()["result"] in ("unchanged", "ignored")
    after = row(clinic, message_id)
    assert (after.status, after.delivered_at, after.failure_reason) == ("delivered", CLOCK.now(), None)
    assert suppressions(clinic) == [] and messages(clinic, fallback_for_id=message_id) == []


def test_sent_callback_before_delivered_keeps_the_order(engine, owner_engine, sms):
    settings, _ = sms
    clinic = build_clinic(engine, owner_engine)
    message_id, sid = sent_sms(clinic, settings)
    http = client_for(engine, settings)
    assert post(http, clinic.org_id, message_id, callback(sid, "sent")).json()["result"] == "unchanged"
    assert post(http, clinic.org_id, message_id, callback(sid, "delivered")).json()["result"] == "delivered"
    assert row(clinic, message_id).status == "delivered"


def test_an_undelivered_callback_fails_it_marks_the_number_and_falls_back_once(engine, owner_engine, sms_and_mail):
    settings, _, _ = sms_and_mail
    clinic = build_clinic(engine, owner_engine)
    appt = book(clinic)
    twin = next(m for m in messages(clinic, appointment_id=appt.id) if m.channel == "sms")
    # an SMS without an email twin (the confirmation's email would make a fallback redundant)
    text_message = row(clinic, add_sms(clinic, ANA, client_id=twin.client_id, appointment_id=appt.id,
                                       key=f"remind-sms-{appt.id}", kind="reminder", settings=settings))
    assert do_deliver_message(text_message.id, clinic.org_id, settings=settings, clock=CLOCK,
                              engine=engine) == DeliveryOutcome.SENT
    sid = row(clinic, text_message.id).provider_id
    http = client_for(engine, settings)
    fields = callback(sid, "undelivered", error_code=30005)
    assert post(http, clinic.org_id, text_message.id, fields).json() == {"received": True, "result": "failed"}
    failed = row(clinic, text_message.id)
    assert (failed.status, failed.failure_reason) == ("failed", "Twilio 30005: Unknown destination handset")
    assert failed.delivered_at is None and failed.sent_at == CLOCK.now()
    assert suppressions(clinic) == [("sms", ANA, "Twilio 30005: Unknown destination handset", text_message.id)]
    (fallback,) = messages(clinic, fallback_for_id=text_message.id)
    assert (fallback.channel, fallback.to_address, fallback.body) == ("email", "ana@example.com", text_message.body)
    # replayed: nothing changes, no second fallback
    assert post(http, clinic.org_id, text_message.id, fields).json()["result"] == "unchanged"
    assert len(messages(clinic, fallback_for_id=text_message.id)) == 1 and len(suppressions(clinic)) == 1


def test_a_failed_callback_about_the_handset_does_not_mark_the_number(engine, owner_engine, sms):
    settings, _ = sms
    clinic = build_clinic(engine, owner_engine)
    message_id, sid = sent_sms(clinic, settings)
    fields = callback(sid, "failed", error_code=30003) + [("ErrorMessage", "Unreachable destination handset")]
    assert post(client_for(engine, settings), clinic.org_id, message_id, fields).json()["result"] == "failed"
    assert row(clinic, message_id).failure_reason == "Twilio 30003: Unreachable destination handset"
    assert suppressions(clinic) == []


@pytest.mark.parametrize("how", ["wrong token", "missing", "another query", "garbage"])
def test_a_bad_signature_is_403_and_changes_nothing(engine, owner_engine, sms, how):
    settings, _ = sms
    clinic = build_clinic(engine, owner_engine)
    message_id, sid = sent_sms(clinic, settings)
    http = client_for(engine, settings)
    fields = callback(sid, "delivered")
    kwargs = {"wrong token": {"token": "0" * 32}, "missing": {"signature": None},
              "another query": {"signed_query": f"org={clinic.org_id}&message={message_id + 1}&attempt=1"},
              "garbage": {"signature": "bm90IGEgc2lnbmF0dXJl"}}[how]
    answer = post(http, clinic.org_id, message_id, fields, **kwargs)
    assert (answer.status_code, answer.json()) == (403, {"received": False, "error": "invalid signature"})
    assert (row(clinic, message_id).status, row(clinic, message_id).delivered_at) == ("sent", None)


def test_an_unknown_sid_is_200_ignored(engine, owner_engine, sms):
    settings, _ = sms
    clinic = build_clinic(engine, owner_engine)
    message_id, _ = sent_sms(clinic, settings)
    answer = post(client_for(engine, settings), clinic.org_id, message_id, callback("SM" + "0" * 32, "delivered"))
    assert (answer.status_code, answer.json()["result"]) == (200, "ignored")
    assert row(clinic, message_id).status == "sent"


def test_without_twilio_the_route_answers_503(engine, owner_engine):
    settings = Settings(twilio_account_sid="", twilio_auth_token="", public_base_url=BASE_URL)
    answer = post(client_for(engine, settings), 1, 1, callback("SM1", "delivered"))
    assert answer.status_code == 503


def test_one_clinics_callback_never_touches_another_clinics_message(engine, owner_engine, sms):
    settings, _ = sms
    mine, theirs = build_clinic(engine, owner_engine), build_clinic(engine, owner_engine)
    their_message, their_sid = sent_sms(theirs, settings)
    http = client_for(engine, settings)
    # a genuine callback URL of `mine` (signed) naming the other clinic's SID and message id
    for message_id in (their_message, 0):
        answer = post(http, mine.org_id, message_id, callback(their_sid, "undelivered", error_code=30005))
        assert (answer.status_code, answer.json()["result"]) == (200, "ignored")
    untouched = row(theirs, their_message)
    assert (untouched.status, untouched.failure_reason) == ("sent", None)
    assert suppressions(theirs) == [] and suppressions(mine) == []


def test_a_callback_that_overtakes_the_send_step_is_kept(engine, owner_engine, sms):
    """Twilio's "delivered" arrives before the send step recorded the SID: the message id of the
    URL finds the SMS, which adopts the SID; the send step's record keeps `delivered`."""
    settings, _ = sms
    clinic = build_clinic(engine, owner_engine)
    message_id = add_sms(clinic, ANA)
    http = client_for(engine, settings)

    def send_then_callback(s, text):
        sid = send_sms(s, text)
        assert row(clinic, message_id).status == "sending"
        assert post(http, clinic.org_id, message_id, callback(sid, "delivered")).json()["result"] == "delivered"
        return sid

    assert do_deliver_message(message_id, clinic.org_id, settings=settings, clock=CLOCK, engine=engine,
                              text=send_then_callback) == DeliveryOutcome.SENT
    kept = row(clinic, message_id)
    assert (kept.status, kept.delivered_at, kept.attempts) == ("delivered", CLOCK.now(), 1)


def test_a_timed_out_send_that_twilio_accepted_is_settled_by_its_callback(engine, owner_engine, sms):
    """The answer is lost (a timeout) but Twilio accepted and calls back: the callback settles
    the SMS, the retry finds nothing to claim and the text goes out once."""
    settings, fake = sms
    clinic = build_clinic(engine, owner_engine)
    message_id = add_sms(clinic, ANA)
    http = client_for(engine, settings)

    def accepted_then_lost(s, text):
        sid = send_sms(s, text)
        post(http, clinic.org_id, message_id, callback(sid, "sent"))
        raise TemporaryFailure("ReadTimeout: The read operation timed out")

    with pytest.raises(TemporaryFailure):
        do_deliver_message(message_id, clinic.org_id, settings=settings, clock=CLOCK, engine=engine,
                           text=accepted_then_lost)
    settled = row(clinic, message_id)
    assert (settled.status, settled.provider_id) == ("sent", fake.sids[0])
    assert do_deliver_message(message_id, clinic.org_id, settings=settings, clock=CLOCK,
                              engine=engine) == DeliveryOutcome.SKIPPED
    assert len(fake.requests) == 1


# ------------------------------------------------------------------ each callback bound to its attempt


def _owner(clinic):
    from medspa.domain.identity.actor import Actor

    return Actor(org_id=clinic.org_id, role="owner", user_id=None, label="test owner", ip="203.0.113.7")


def _failed_then_resent(clinic, settings, http, *, code: int):
    """An SMS sent (attempt 1, SID 1), failed by Twilio's callback, then resent from /outbox."""
    from medspa.domain.messaging.outbox_actions import do_resend_message

    message_id, sid = sent_sms(clinic, settings)
    assert post(http, clinic.org_id, message_id, callback(sid, "undelivered", error_code=code)).json()["result"] \
        == "failed"
    done = do_resend_message(_owner(clinic), message_id, clock=CLOCK, settings=settings, engine=clinic.engine)
    assert done.status == "queued" and len(done.job_ids) == 1
    return message_id, sid


def test_a_resent_sms_is_not_captured_by_its_first_attempts_late_sent_callback(engine, owner_engine, sms):
    """Twilio's late "sent" of the first attempt arrives after the resend: it changes nothing, the
    resend still reaches Twilio, and the resend's callback URL names attempt 2."""
    settings, fake = sms
    clinic = build_clinic(engine, owner_engine)
    http = client_for(engine, settings)
    message_id, sid = _failed_then_resent(clinic, settings, http, code=30003)
    late = post(http, clinic.org_id, message_id, callback(sid, "sent"), attempt=1)
    assert (late.status_code, late.json()["result"], row(clinic, message_id).status) == (200, "ignored", "queued")
    assert do_deliver_message(message_id, clinic.org_id, settings=settings, clock=CLOCK,
                              engine=engine) == DeliveryOutcome.SENT
    assert len(fake.requests) == 2
    assert fake.requests[1].form["StatusCallback"].endswith(f"?org={clinic.org_id}&message={message_id}&attempt=2")
    resent = row(clinic, message_id)
    assert (resent.status, resent.provider_id, resent.attempts) == ("sent", fake.sids[1], 2)


def test_a_replayed_failed_callback_neither_fails_a_resent_sms_nor_marks_the_number_again(engine, owner_engine, sms):
    """The same signed 30005 "undelivered" of attempt 1, replayed after the resend (which lifted the
    mark) and again after the resend went out: nothing changes, the number stays unmarked."""
    settings, fake = sms
    clinic = build_clinic(engine, owner_engine)
    http = client_for(engine, settings)
    message_id, sid = _failed_then_resent(clinic, settings, http, code=30005)
    assert suppressions(clinic) == []
    replayed = callback(sid, "undelivered", error_code=30005)
    assert post(http, clinic.org_id, message_id, replayed, attempt=1).json()["result"] == "ignored"
    waiting = row(clinic, message_id)
    assert (waiting.status, waiting.failure_reason, suppressions(clinic)) == ("queued", None, [])
    assert do_deliver_message(message_id, clinic.org_id, settings=settings, clock=CLOCK,
                              engine=engine) == DeliveryOutcome.SENT
    for attempt in (1, 2):  # attempt 2 names the current attempt, but not its SID
        assert post(http, clinic.org_id, message_id, replayed, attempt=attempt).json()["result"] == "ignored"
    assert (row(clinic, message_id).status, suppressions(clinic)) == ("sent", [])
    assert post(http, clinic.org_id, message_id, callback(fake.sids[1], "delivered"), attempt=2).json()["result"] \
        == "delivered"


def test_a_resend_clears_the_previous_attempts_sid_and_times_and_its_audit_row_keeps_the_sid(
        engine, owner_engine, sms):
    from sqlmodel import select

    from medspa.domain.audit.models import AuditEvent

    settings, _ = sms
    clinic = build_clinic(engine, owner_engine)
    http = client_for(engine, settings)
    message_id, sid = _failed_then_resent(clinic, settings, http, code=30003)
    resent = row(clinic, message_id)
    assert (resent.provider_id, resent.sent_at, resent.delivered_at, resent.failure_reason, resent.attempts) == (
        None, None, None, None, 1)
    with clinic.session() as s:
        (event,) = s.exec(select(AuditEvent).where(AuditEvent.action == "outbox.message.resend")).all()
    assert (event.detail["previous_provider_id"], event.detail["previous_status"]) == (sid, "failed")


def test_the_resends_own_callback_settles_a_timed_out_send_and_the_retry_sends_nothing(engine, owner_engine, sms):
    """After a resend, the second attempt's POST is accepted but its answer times out; Twilio's
    callback for attempt 2 settles the SMS, so the job's retry finds nothing to claim: one text
    for the resend (two POSTs in all)."""
    settings, fake = sms
    clinic = build_clinic(engine, owner_engine)
    http = client_for(engine, settings)
    message_id, _ = _failed_then_resent(clinic, settings, http, code=30003)
    answers = []

    def accepted_then_lost(s, text):
        sid = send_sms(s, text)
        answers.append(post(http, clinic.org_id, message_id, callback(sid, "sent"), attempt=2).json()["result"])
        raise TemporaryFailure("ReadTimeout: The read operation timed out")

    with pytest.raises(TemporaryFailure):
        do_deliver_message(message_id, clinic.org_id, settings=settings, clock=CLOCK, engine=engine,
                           text=accepted_then_lost)
    retry = do_deliver_message(message_id, clinic.org_id, settings=settings, clock=CLOCK, engine=engine)
    assert (answers, retry, len(fake.requests)) == (["sent"], DeliveryOutcome.SKIPPED, 2)
    assert (row(clinic, message_id).status, row(clinic, message_id).provider_id) == ("sent", fake.sids[1])


def test_a_callback_url_without_an_attempt_is_matched_by_its_sid_only(engine, owner_engine, sms):
    """SMS sent before attempts were named in the URL: their callbacks still settle them by SID,
    and never by the message id alone."""
    settings, _ = sms
    clinic = build_clinic(engine, owner_engine)
    http = client_for(engine, settings)
    message_id, sid = sent_sms(clinic, settings)
    assert post(http, clinic.org_id, message_id, callback("SM" + "9" * 32, "delivered"),
                attempt=None).json()["result"] == "ignored"
    assert post(http, clinic.org_id, message_id, callback(sid, "delivered"), attempt=None).json()["result"] \
        == "delivered"


@pytest.mark.parametrize("query", ["org=99999999999999999999999&message=1&attempt=1", "org=-1&message=1&attempt=1",
                                   "org=0&message=1&attempt=1", "org=1.5&message=1&attempt=1",
                                   "org=%201&message=1&attempt=1", "org={org}&message=9223372036854775808&attempt=1",
                                   "org={org}&message=1&attempt=99999999999999999999"])
def test_a_signed_callback_with_ids_outside_bigint_is_200_ignored(engine, owner_engine, sms, query):
    """A validly signed URL naming an org, message or attempt that is no id (too large, negative,
    zero, not digits): 200 "ignored", never a 500."""
    settings, _ = sms
    clinic = build_clinic(engine, owner_engine)
    query = query.format(org=clinic.org_id)
    fields = callback("SM" + "1" * 32, "delivered")
    signature = sign(AUTH_TOKEN, f"{BASE_URL}{STATUS_CALLBACK_PATH}?{query}", fields)
    answer = client_for(engine, settings).post(
        f"{STATUS_CALLBACK_PATH}?{query}", content=urlencode(fields),
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
    assert (answer.status_code, answer.json()) == (200, {"received": True, "result": "ignored"})


@pytest.mark.parametrize("chunked", [False, True])
def test_a_callback_body_over_64_kb_is_413_before_it_is_parsed_or_hashed(engine, sms, monkeypatch, chunked):
    settings, _ = sms
    seen = []
    monkeypatch.setattr(webhook_api, "do_apply_twilio_status", lambda *a, **k: seen.append(a) or "ignored")
    http = client_for(engine, settings)
    body = b"a=" + b"b" * (64 * 1024)
    content = iter([body[:40_000], body[40_000:]]) if chunked else body
    answer = http.post(f"{STATUS_CALLBACK_PATH}?org=1&message=1&attempt=1", content=content,
                       headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"})
    assert (answer.status_code, answer.json(), seen) == (413, {"received": False, "error": "body too large"}, [])
    small = http.post(f"{STATUS_CALLBACK_PATH}?org=1&message=1&attempt=1", content=b"a=" + b"b" * 60_000,
                      headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"})
    assert small.status_code == 200 and len(seen) == 1
