"""Texts clients send (issue 19, consent and opt-out) through the real route, POST
/api/v1/webhooks/twilio/inbound, on the real PostgreSQL: X-Twilio-Signature checked (a forged or
missing one writes nothing), STOP and its variants opt the number out of SMS only (email still
goes), START lifts the opt-out and nothing else, HELP is kept, other texts are flagged for the
desk and handled; routed by the receiving number (two clinics with their own numbers, the
deployment's shared number); Twilio 21610 at send marks the number, never the email; a resend
from the outbox cannot lift an opt-out."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import select

from medspa.api import webhooks as webhook_api
from medspa.domain.audit.models import AuditEvent
from medspa.domain.clients.models import Client
from medspa.domain.errors import NotFound
from medspa.domain.identity.actor import PermissionDenied
from medspa.domain.messaging.actions import DeliveryOutcome, do_deliver_message
from medspa.domain.messaging.engage_models import InboundMessage
from medspa.domain.messaging.inbound import keyword_of
from medspa.domain.messaging.inbound_actions import (do_mark_inbound_handled, fetch_client_texts,
                                                     fetch_flagged_count, fetch_flagged_texts)
from medspa.domain.messaging.models import ContactSuppression
from medspa.domain.messaging.outbox import NotResendable
from medspa.domain.messaging.outbox_actions import do_resend_message, fetch_outbox_message
from medspa.domain.messaging.twilio import INBOUND_PATH
from medspa.domain.practice.models import Location
from tests.factories import build_clinic
from tests.fake_twilio import AUTH_TOKEN, sign
from tests.sms_support import (BASE_URL, CLOCK, DEFAULT_FROM, add_sms, fake_twilio, messages, row,  # noqa: F401
                               sms, sms_and_mail, smtp_box)


def number() -> str:
    """A US mobile number no other test uses."""
    return "+1646" + "".join(str(secrets.randbelow(10)) for _ in range(7))


def http_for(engine, settings) -> TestClient:
    app = FastAPI()
    app.include_router(webhook_api.router)
    app.dependency_overrides[webhook_api.webhook_settings] = lambda: settings
    app.dependency_overrides[webhook_api.webhook_engine] = lambda: engine
    app.dependency_overrides[webhook_api.webhook_clock] = lambda: CLOCK
    return TestClient(app)


def text_in(http: TestClient, from_number: str, to: str, body: str, *, signature: str | None = "sign",
            sid: str | None = None):
    fields = [("AccountSid", "AC" + "7" * 32), ("Body", body), ("From", from_number),
              ("MessageSid", sid or "SM" + secrets.token_hex(16)), ("NumMedia", "0"), ("To", to)]
    if signature == "sign":
        signature = sign(AUTH_TOKEN, BASE_URL + INBOUND_PATH, fields)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return http.post(INBOUND_PATH, content=urlencode(fields), headers=headers)


def own_number(clinic, owner_engine, value: str | None = None) -> str:
    value = value or number()
    with owner_engine.begin() as conn:
        conn.execute(text("update organization set sms_from_number = :n where id = :id"),
                     {"n": value, "id": clinic.org_id})
    return value


def add_client(clinic, phone: str, first: str = "Ana", email: str | None = None, sms_consent: bool = True) -> int:
    with clinic.session() as s:
        c = Client(org_id=clinic.org_id, first_name=first, last_name="Silva", phone_e164=phone,
                   email=email or f"{first.lower()}.{secrets.token_hex(4)}@example.com",
                   sms_marketing_consent=sms_consent, email_marketing_consent=True)
        s.add(c)
        s.commit()
        return c.id


def inbound(clinic) -> list[InboundMessage]:
    with clinic.session() as s:
        return list(s.exec(select(InboundMessage).order_by(InboundMessage.id)))


def marks(clinic) -> list[tuple[str, str, str]]:
    with clinic.session() as s:
        return [(x.channel, x.address, x.kind) for x in s.exec(select(ContactSuppression).order_by(ContactSuppression.id))]


def client(clinic, client_id: int) -> Client:
    with clinic.session() as s:
        return s.get(Client, client_id)


def audit(clinic, action: str) -> list[AuditEvent]:
    with clinic.session() as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


@pytest.mark.parametrize("body,word", [
    ("STOP", "stop"), ("stop", "stop"), (" Stop. ", "stop"), ("STOPALL", "stop"), ("stop all", "stop"),
    ("Unsubscribe", "stop"), ("CANCEL", "stop"), ("end", "stop"), ("Quit!", "stop"), ("opt-out", "stop"),
    ("OPTOUT", "stop"), ("revoke", "stop"), ("START", "start"), ("unstop", "start"), ("Yes", "start"),
    ("HELP", "help"), ("info?", "help"), ("please stop texting me", ""), ("stopp", ""), ("", ""),
    ("Can I move my appointment?", ""), ("ＳＴＯＰ", "stop"), ("ｓｔａｒｔ", "start"), ("STOP\x00", "stop")])
def test_keywords_are_the_whole_message(body, word):
    assert keyword_of(body) == word


def test_stop_variants_opt_the_number_out_of_sms_only_and_start_lifts_it(engine, owner_engine, sms):
    settings, _ = sms
    clinic = build_clinic(engine, owner_engine)
    to, ana = own_number(clinic, owner_engine), number()
    ana_id = add_client(clinic, ana)
    http = http_for(engine, settings)
    answer = text_in(http, ana, to, " Stop! ")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/xml")
    assert answer.text == '<?xml version="1.0" encoding="UTF-8"?><Response/>'
    assert marks(clinic) == [("sms", ana, "opted_out")]
    after = client(clinic, ana_id)
    assert (after.sms_marketing_consent, after.sms_marketing_consent_source, after.sms_marketing_consent_at) == \
        (False, "sms keyword", CLOCK.now())
    assert after.email_marketing_consent is True  # email untouched
    (kept,) = inbound(clinic)
    assert (kept.client_id, kept.keyword, kept.flagged, kept.body) == (ana_id, "stop", False, " Stop! ")
    (opt_out,) = audit(clinic, "contact.opt_out")
    assert (opt_out.client_id, opt_out.detail["address"], opt_out.detail["consent_withdrawn"]) == (ana_id, ana, [ana_id])
    for variant in ("STOPALL", "unsubscribe", "Cancel", "END", "quit", "OPTOUT", "revoke"):
        assert text_in(http, ana, to, variant).status_code == 200
    assert marks(clinic) == [("sms", ana, "opted_out")]
    assert [m.keyword for m in inbound(clinic)] == ["stop"] * 8
    # START lifts the opt-out; it does not give marketing consent back
    assert text_in(http, ana, to, "start").status_code == 200
    assert marks(clinic) == []
    assert client(clinic, ana_id).sms_marketing_consent is False
    (opt_in,) = audit(clinic, "contact.opt_in")
    assert (opt_in.client_id, opt_in.detail["lifted"]) == (ana_id, True)
    # STOP / START are never flagged; only the "Cancel" is, for the desk (they may have meant the visit)
    assert [(m.body, m.flagged) for m in inbound(clinic) if m.flagged] == [("Cancel", True)]
    assert fetch_flagged_count(clinic.staff_actor(), engine=engine) == 1


def test_cancel_opts_out_and_waits_for_the_desk_with_a_note(engine, owner_engine, sms):
    # Twilio opts a number out on CANCEL; the client may have meant their visit, so the desk sees it too
    settings, _ = sms
    clinic = build_clinic(engine, owner_engine)
    to, ana = own_number(clinic, owner_engine), number()
    ana_id = add_client(clinic, ana)
    http = http_for(engine, settings)
    assert text_in(http, ana, to, "Cancel").status_code == 200
    assert text_in(http, ana, to, "STOP").status_code == 200
    assert marks(clinic) == [("sms", ana, "opted_out")]
    assert client(clinic, ana_id).sms_marketing_consent is False
    assert [(m.keyword, m.flagged) for m in inbound(clinic)] == [("stop", True), ("stop", False)]
    desk = clinic.staff_actor()
    (waiting,) = fetch_flagged_texts(desk, clock=CLOCK, engine=engine)
    assert (waiting.body, waiting.client_id, waiting.keyword) == ("Cancel", ana_id, "stop")
    assert "meant their visit" in waiting.note and "START" in waiting.note
    assert [t.note for t in fetch_client_texts(desk, ana_id, clock=CLOCK, engine=engine)] == [waiting.note, ""]
    assert do_mark_inbound_handled(desk, waiting.id, clock=CLOCK, engine=engine) is True
    assert fetch_flagged_count(desk, engine=engine) == 0
    assert marks(clinic) == [("sms", ana, "opted_out")]  # handling it does not lift the opt-out


def test_a_nul_in_a_signed_text_is_dropped_and_its_stop_applied(engine, owner_engine, sms):
    # PostgreSQL text cannot hold U+0000: it was a 500 that Twilio retried, and the STOP never applied
    settings, _ = sms
    clinic = build_clinic(engine, owner_engine)
    to, ana = own_number(clinic, owner_engine), number()
    ana_id = add_client(clinic, ana)
    http = http_for(engine, settings)
    assert text_in(http, ana + "\x00", to, "STOP\x00").status_code == 200
    assert marks(clinic) == [("sms", ana, "opted_out")]
    (kept,) = inbound(clinic)
    assert (kept.client_id, kept.from_address, kept.body, kept.keyword, kept.flagged) == \
        (ana_id, ana, "STOP", "stop", False)


def test_a_forged_or_missing_signature_writes_nothing(engine, owner_engine, sms):
    settings, _ = sms
    clinic = build_clinic(engine, owner_engine)
    to, ana = own_number(clinic, owner_engine), number()
    ana_id = add_client(clinic, ana)
    http = http_for(engine, settings)
    forged = sign("0" * 32, BASE_URL + INBOUND_PATH, [("Body", "STOP"), ("From", ana), ("To", to)])
    for signature in (forged, None, ""):
        answer = text_in(http, ana, to, "STOP", signature=signature)
        assert answer.status_code == 403
    # signed for other parameters (someone replays a signature over another number's STOP)
    fields = [("Body", "STOP"), ("From", number()), ("MessageSid", "SM1"), ("To", to)]
    good = sign(AUTH_TOKEN, BASE_URL + INBOUND_PATH, fields)
    tampered = urlencode([(k, ana if k == "From" else v) for k, v in fields])
    assert http.post(INBOUND_PATH, content=tampered, headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": good}).status_code == 403
    assert (marks(clinic), inbound(clinic), audit(clinic, "contact.opt_out")) == ([], [], [])
    assert client(clinic, ana_id).sms_marketing_consent is True


def test_start_never_lifts_an_undeliverable_mark_and_a_replay_adds_nothing(engine, owner_engine, sms):
    settings, _ = sms
    clinic = build_clinic(engine, owner_engine)
    to, ana = own_number(clinic, owner_engine), number()
    add_client(clinic, ana)
    with clinic.session() as s:
        s.add(ContactSuppression(org_id=clinic.org_id, channel="sms", address=ana, reason="Twilio 21614: landline",
                                 created_at=CLOCK.now(), kind="undeliverable"))
        s.commit()
    http = http_for(engine, settings)
    assert text_in(http, ana, to, "START", sid="SM" + "a" * 32).status_code == 200
    assert text_in(http, ana, to, "START", sid="SM" + "a" * 32).status_code == 200  # Twilio retried
    assert marks(clinic) == [("sms", ana, "undeliverable")]
    assert len(inbound(clinic)) == 1 and audit(clinic, "contact.opt_in")[0].detail["lifted"] is False


def test_texts_route_by_the_receiving_number(engine, owner_engine, sms):
    """Two clinics with numbers of their own (one on a location), and the deployment's shared
    number, which reaches only the clinics sharing it that know the sender."""
    settings, _ = sms
    first, second, third = (build_clinic(engine, owner_engine) for _ in range(3))
    first_number = own_number(first, owner_engine)
    second_number = number()
    with second.session() as s:
        loc = s.get(Location, second.location_id)
        loc.sms_from_number = second_number
        s.add(loc)
        s.commit()
    own_number(second, owner_engine, number())
    ana = number()
    ids = {c.org_id: add_client(c, ana) for c in (first, second, third)}
    http = http_for(engine, settings)
    text_in(http, ana, first_number, "STOP")
    assert (marks(first), marks(second), marks(third)) == ([("sms", ana, "opted_out")], [], [])
    text_in(http, ana, second_number, "Running 10 min late")
    assert [(m.client_id, m.flagged) for m in inbound(second)] == [(ids[second.org_id], True)]
    assert len(inbound(first)) == 1 and inbound(third) == []
    # the shared number: third has no number of its own and knows Ana; first and second send from theirs
    stranger = number()
    text_in(http, ana, DEFAULT_FROM, "Is parking free?")
    text_in(http, stranger, DEFAULT_FROM, "who is this")
    assert [(m.client_id, m.body, m.to_address) for m in inbound(third)] == \
        [(ids[third.org_id], "Is parking free?", DEFAULT_FROM)]
    assert len(inbound(first)) == 1 and len(inbound(second)) == 1
    # a number no clinic sends from reaches nobody (still 200: Twilio must not retry)
    assert text_in(http, ana, number(), "STOP").status_code == 200
    assert marks(second) == [] and marks(third) == []


def test_an_opted_out_number_gets_no_sms_while_email_still_goes(engine, owner_engine, sms_and_mail):
    settings, fake, box = sms_and_mail
    clinic = build_clinic(engine, owner_engine)
    to, ana = own_number(clinic, owner_engine), number()
    ana_id = add_client(clinic, ana, email="ana.optout@example.com")
    text_in(http_for(engine, settings), ana, to, "STOP")
    message_id = add_sms(clinic, ana, client_id=ana_id, kind="reminder", body="Glow: see you tomorrow",
                         settings=settings)
    assert do_deliver_message(message_id, clinic.org_id, settings=settings, clock=CLOCK,
                              engine=engine) == DeliveryOutcome.FAILED
    assert fake.requests == []  # Twilio never asked
    refused = row(clinic, message_id)
    assert refused.failure_reason.startswith("not sent: +1 646-") and "opted out (replied STOP)" in refused.failure_reason
    (fallback,) = messages(clinic, fallback_for_id=message_id)  # the reminder still reaches Ana by email
    assert fallback.channel == "email" and fallback.to_address == "ana.optout@example.com"
    assert do_deliver_message(fallback.id, clinic.org_id, settings=settings, clock=CLOCK,
                              engine=engine) == DeliveryOutcome.SENT
    assert box.rcpts == ["ana.optout@example.com"]
    # the outbox cannot resend over the opt-out, and says why
    owner = clinic.staff_actor("owner")
    detail = fetch_outbox_message(owner, message_id, settings=settings, engine=engine)
    assert detail.resendable is False and "texts START" in detail.resend_note
    with pytest.raises(NotResendable, match="A resend cannot lift an opt-out"):
        do_resend_message(owner, message_id, settings=settings, engine=engine)
    assert marks(clinic) == [("sms", ana, "opted_out")]


def test_twilio_21610_marks_the_number_opted_out_never_the_email(engine, owner_engine, sms):
    settings, fake = sms
    clinic = build_clinic(engine, owner_engine)
    ana = number()
    ana_id = add_client(clinic, ana, email="ana.21610@example.com")
    fake.answers.append((400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient"}))
    message_id = add_sms(clinic, ana, client_id=ana_id, kind="reminder", settings=settings)
    assert do_deliver_message(message_id, clinic.org_id, settings=settings, clock=CLOCK,
                              engine=engine) == DeliveryOutcome.FAILED
    assert marks(clinic) == [("sms", ana, "opted_out")]  # the number only, as 'opted_out'
    invalid = number()
    fake.answers.append((400, {"code": 21211, "message": "Invalid 'To' Phone Number"}))
    other = add_sms(clinic, invalid, kind="reminder", settings=settings)
    do_deliver_message(other, clinic.org_id, settings=settings, clock=CLOCK, engine=engine)
    assert marks(clinic) == [("sms", ana, "opted_out"), ("sms", invalid, "undeliverable")]


def test_a_flagged_text_shows_on_the_profile_and_is_handled(engine, owner_engine, sms):
    settings, _ = sms
    clinic = build_clinic(engine, owner_engine)
    to, ana = own_number(clinic, owner_engine), number()
    ana_id = add_client(clinic, ana)
    http = http_for(engine, settings)
    text_in(http, ana, to, "HELP")
    text_in(http, ana, to, "Can I bring my sister?")
    desk = clinic.staff_actor("front_desk")
    assert fetch_flagged_count(desk, engine=engine) == 1
    (flagged,) = fetch_flagged_texts(desk, clock=CLOCK, engine=engine)
    assert (flagged.client_id, flagged.client_name, flagged.body) == (ana_id, "Ana Silva", "Can I bring my sister?")
    texts = fetch_client_texts(desk, ana_id, clock=CLOCK, engine=engine)
    assert [(t.body, t.flagged, t.keyword) for t in texts] == [("Can I bring my sister?", True, ""),
                                                                ("HELP", False, "help")]
    reads = audit(clinic, "inbound.read")
    assert [r.client_id for r in reads] == [None, ana_id] and reads[0].detail["client_ids"] == [ana_id]
    assert do_mark_inbound_handled(desk, flagged.id, clock=CLOCK, engine=engine) is True
    assert do_mark_inbound_handled(desk, flagged.id, clock=CLOCK, engine=engine) is False
    handled = next(m for m in inbound(clinic) if m.id == flagged.id)
    assert (handled.flagged, handled.handled_at, handled.handled_by) == (False, CLOCK.now(), "test front_desk")
    (event,) = audit(clinic, "inbound.handle")
    assert event.client_id == ana_id
    assert fetch_flagged_count(desk, engine=engine) == 0
    with pytest.raises(PermissionDenied):
        fetch_client_texts(clinic.staff_actor("lab"), ana_id, engine=engine)
    with pytest.raises(NotFound):
        do_mark_inbound_handled(desk, 10**12, engine=engine)
