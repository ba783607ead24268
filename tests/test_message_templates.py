"""Issue 19 §1: message templates. The sandbox refuses unsafe and huge templates; the service's
wording wins over the clinic's, which wins over the default; a saved template is what the next
confirmation says; an SMS names "appointment" unless the clinic allows the treatment; a
staff-booked visit's confirmation names the clinic's local time with its zone and its .ics
names the same instant; a bad template is a field error and nothing is saved; only
settings.write may change wording or settings; the preview and the message settings."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.audit.models import AuditEvent
from medspa.domain.clients.service import ClientInput
from medspa.domain.errors import ValidationFailed
from medspa.domain.identity.actor import PermissionDenied
from medspa.domain.messaging import template_actions as ta
from medspa.domain.messaging.attachments import attachments_of
from medspa.domain.messaging.engage_models import MessageTemplate
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.messaging.template_samples import sms_segments
from medspa.domain.messaging.templates import MAX_OUTPUT, MAX_SOURCE, TemplateInvalid, render_source, template_source
from medspa.domain.scheduling.desk import book_for_client
from tests.factories import build_clinic

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 7, 1, 12, tzinfo=timezone.utc)
CLOCK = FixedClock(NOW)
DAY = date(2026, 7, 15)


def at(h: int, tz: ZoneInfo = NY, m: int = 0) -> datetime:
    return datetime.combine(DAY, time(h, m), tzinfo=tz).astimezone(timezone.utc)


def owner(clinic):
    return clinic.staff_actor("owner")


def book(clinic, start: datetime, n: int = 1, service: str = "botox"):
    with clinic.session() as s:
        appt = book_for_client(s, clinic.staff_actor(), location_id=clinic.location_id,
                               service_id=clinic.services[service], start_at=start, now=NOW,
                               new_client=ClientInput("Ana", "Silva", f"ana{n}@example.com", f"+1212555{n:04d}"))
        s.commit()
        return appt.id


def sent(clinic, appt_id: int, kind: str = "booking_confirmation") -> dict[str, OutboxMessage]:
    with clinic.session() as s:
        rows = s.exec(select(OutboxMessage).where(OutboxMessage.appointment_id == appt_id,
                                                  OutboxMessage.kind == kind)).all()
    return {m.channel: m for m in rows}


def template_rows(clinic) -> list[MessageTemplate]:
    with clinic.session() as s:
        return list(s.exec(select(MessageTemplate)))


def audit(clinic, action: str) -> list[AuditEvent]:
    with clinic.session() as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


# ---------------------------------------------------------------------------------- the sandbox

@pytest.mark.parametrize("source, words", [
    ("{{ client.__class__.__mro__ }}", "unsafe"),
    ("{{ ''.__class__.__subclasses__() }}", "unsafe"),
    ("{{ client.first_name * 100000 }}", "repeating text"),
    ("{{ 9 ** 9999999 }}", "powers"),
    ("{% for i in range(1000000) %}x{% endfor %}", "Loops are not available"),
    ("{{ client.update({'first_name': 'x'}) }}", "'update()' is not available"),
])
def test_the_sandbox_refuses_unsafe_templates(source, words):
    with pytest.raises(TemplateInvalid) as exc:
        render_source(source, {"client": {"first_name": "Ana"}})
    assert words in exc.value.message


def test_the_sandbox_refuses_huge_templates_and_huge_output():
    with pytest.raises(TemplateInvalid) as exc:
        render_source("x" * (MAX_SOURCE + 1), {})
    assert exc.value.message == f"Keep it under {MAX_SOURCE:,} characters"
    nested = "{{ word }}" * 100  # no loops in messages: a long variable many times
    with pytest.raises(TemplateInvalid) as exc:
        render_source(nested, {"word": "abcde" * 100})  # 50,000 characters
    assert exc.value.message == f"The message would be over {MAX_OUTPUT:,} characters"
    assert render_source(nested, {"word": "a" * 100}) == "a" * 10_000  # the same with a shorter word is fine


def test_sms_segments_count_gsm_and_unicode():
    assert sms_segments("") == (0, 0)
    assert sms_segments("a" * 160) == (160, 1)
    assert sms_segments("a" * 161) == (161, 2)
    assert sms_segments("a" * 306) == (306, 2) and sms_segments("a" * 307) == (307, 3)
    assert sms_segments("€" * 80) == (80, 1) and sms_segments("€" * 81) == (81, 2)  # extended: two units each
    assert sms_segments("é" * 100) == (100, 1)  # é is in GSM-7
    assert sms_segments("💉" + "a" * 68) == (69, 1) and sms_segments("ü•" + "a" * 69) == (71, 2)  # UCS-2


# ---------------------------------------------------------------------------------- precedence

def test_a_services_wording_wins_over_the_clinics_which_wins_over_the_default(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    botox, facial = clinic.services["botox"], clinic.services["facial"]
    with clinic.session() as s:
        assert template_source(s, "post_care", "email", botox)[1] == ""  # default: no post-care text
        assert template_source(s, "reminder", "sms")[1].startswith("{{ clinic.name }}: reminder")
    ta.do_save_template(owner(clinic), "post_care", "email", "After your visit", "Clinic-wide care: ice it.",
                        engine=engine, clock=CLOCK)
    ta.do_save_template(owner(clinic), "post_care", "email", "After your Botox", "No lying down for 4 hours.",
                        botox, engine=engine, clock=CLOCK)
    with clinic.session() as s:
        assert template_source(s, "post_care", "email", botox) == ("After your Botox", "No lying down for 4 hours.")
        assert template_source(s, "post_care", "email", facial) == ("After your visit", "Clinic-wide care: ice it.")
        assert template_source(s, "post_care", "email") == ("After your visit", "Clinic-wide care: ice it.")
        assert template_source(s, "post_care", "sms", botox) == ("", "")  # the other channel keeps its default
    view = ta.fetch_template(owner(clinic), "post_care", "email", facial, engine=engine)
    assert (view.source, view.body) == ("clinic", "Clinic-wide care: ice it.")
    assert ta.fetch_template(owner(clinic), "post_care", "email", botox, engine=engine).source == "service"
    # resetting the service's wording brings back the clinic's, resetting that the default
    ta.do_reset_template(owner(clinic), "post_care", "email", botox, engine=engine, clock=CLOCK)
    with clinic.session() as s:
        assert template_source(s, "post_care", "email", botox)[1] == "Clinic-wide care: ice it."
    ta.do_reset_template(owner(clinic), "post_care", "email", engine=engine, clock=CLOCK)
    assert template_rows(clinic) == []
    assert [e.detail["service_id"] for e in audit(clinic, "message_template.reset")] == [botox, None]
    assert len(audit(clinic, "message_template.update")) == 2
    # a clinic-wide kind takes no service
    with pytest.raises(ValidationFailed) as exc:
        ta.do_save_template(owner(clinic), "booking_confirmation", "sms", "", "Hi", botox, engine=engine)
    assert "same for every service" in exc.value.fields["service"]


# ---------------------------------------------------------------------------------- what is sent

def test_a_saved_template_is_what_the_next_confirmation_says_with_its_invite(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    first = book(clinic, at(10), 1)
    ta.do_save_template(owner(clinic), "booking_confirmation", "email",
                        "See you {{ visit.date }}, {{ client.first_name }}!",
                        "Dear {{ client.first_name }}, {{ visit.treatment }} at {{ visit.when }}.\n"
                        "Ref {{ visit.reference }} · {{ links.manage }}", engine=engine, clock=CLOCK)
    second = book(clinic, at(11), 2)
    before, after = sent(clinic, first)["email"], sent(clinic, second)
    assert before.subject.startswith("Confirmed: Botox on Wed, Jul 15, 2026, 10:00 AM EDT")  # the default then
    email = after["email"]
    assert email.subject == "See you Wed, Jul 15, Ana!"
    assert email.body.startswith("Dear Ana, Botox at Wed, Jul 15, 2026, 11:00 AM EDT (America/New_York).\nRef ")
    assert "/manage/" in email.body
    assert after["sms"].body.startswith("Test Clinic: your appointment is confirmed for Wed, Jul 15, 2026, 11:00 AM")
    with clinic.session() as s:
        assert [a.filename for a in attachments_of(s, email.id)] == ["invite.ics"]
        assert attachments_of(s, after["sms"].id) == ()


def test_an_sms_hides_the_treatment_by_default_and_names_it_when_the_clinic_allows(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    hidden = sent(clinic, book(clinic, at(10), 1))
    assert "Botox" not in hidden["sms"].body and "your appointment is confirmed" in hidden["sms"].body
    assert "Your Botox with Provider 1 is confirmed" in hidden["email"].body  # emails name it by default
    page = ta.fetch_messages_page(owner(clinic), engine=engine)
    data = {**page.settings.__dict__, "treatment_in_sms": True, "treatment_in_email": False}
    ta.do_update_message_settings(owner(clinic), data, engine=engine, clock=CLOCK)
    shown = sent(clinic, book(clinic, at(11), 2))
    assert "your Botox is confirmed for Wed, Jul 15, 2026, 11:00 AM EDT" in shown["sms"].body
    assert "Botox" not in shown["email"].body and "Your appointment with Provider 1 is confirmed" in shown["email"].body
    (event,) = audit(clinic, "message_settings.update")
    assert event.detail["changed"] == {"treatment_in_sms": [False, True], "treatment_in_email": [True, False]}


def test_a_staff_booked_visit_names_the_clinics_time_and_the_ics_the_same_instant(engine, owner_engine):
    berlin = ZoneInfo("Europe/Berlin")
    clinic = build_clinic(engine, owner_engine, time_zone="Europe/Berlin")
    start = at(10, berlin)  # 08:00 UTC
    msgs = sent(clinic, book(clinic, start, 1))
    words = "Wed, Jul 15, 2026, 10:00 AM CEST (Europe/Berlin)"
    assert words in msgs["email"].body and words in msgs["sms"].body and words in msgs["email"].subject
    assert "8:00 AM" not in msgs["email"].body and "UTC" not in msgs["email"].body
    with clinic.session() as s:
        (invite,) = attachments_of(s, msgs["email"].id)
    (event,) = Calendar.from_ical(invite.content).walk("VEVENT")
    dtstart = event.decoded("DTSTART")
    assert dtstart.tzinfo is not None and dtstart == start == datetime(2026, 7, 15, 8, tzinfo=timezone.utc)
    assert dtstart.astimezone(berlin).strftime("%a, %b %-d, %Y, %-I:%M %p") == "Wed, Jul 15, 2026, 10:00 AM"


# ---------------------------------------------------------------------------------- checking

@pytest.mark.parametrize("field, subject, body, words", [
    ("body", "Hi", "Hi {{ visit.tretment }}", "tretment"),
    ("body", "Hi", "Hi {{ client.first_name ", "not complete or not closed on line 1"),  # owners' words
    ("body", "Hi", "{% if visit.treatment %}open", "not complete or not closed on line 1"),
    ("body", "Hi", "   ", "Enter the message"),
    ("subject", "Your {{ visit.when", "Hi", "on line 1"),
    ("subject", "", "Hi", "Enter a subject"),
    ("subject", "x" * 301, "Hi", "under 300"),
    ("body", "Hi", "{{ birthday.age }}", "birthday"),
    ("body", "Hi", "{{ client.first_name * 9999 }}", "repeating text"),
])
def test_a_bad_template_is_a_field_error_and_nothing_is_saved(engine, owner_engine, field, subject, body, words):
    clinic = build_clinic(engine, owner_engine)
    with pytest.raises(ValidationFailed) as exc:
        ta.do_save_template(owner(clinic), "booking_confirmation", "email", subject, body, engine=engine, clock=CLOCK)
    assert words in exc.value.fields[field]
    assert template_rows(clinic) == [] and audit(clinic, "message_template.update") == []


def test_a_text_has_no_subject_and_receipts_are_email_only(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    with pytest.raises(ValidationFailed) as exc:
        ta.do_save_template(owner(clinic), "booking_confirmation", "sms", "Subject", "Hi", engine=engine)
    assert exc.value.fields == {"subject": "A text message has no subject"}
    with pytest.raises(ValidationFailed) as exc:
        ta.do_save_template(owner(clinic), "checkout_receipt", "sms", "", "Paid", engine=engine)
    assert exc.value.fields == {"channel": "Checkout receipt is not sent by text"}
    assert template_rows(clinic) == []


def test_only_settings_write_changes_wording_and_settings(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    settings = ta.fetch_message_settings(owner(clinic), engine=engine).__dict__
    for role in ("front_desk", "provider", "lab"):
        actor = clinic.staff_actor(role)
        for call in (lambda: ta.do_save_template(actor, "booking_confirmation", "sms", "", "Hi", engine=engine),
                     lambda: ta.do_reset_template(actor, "booking_confirmation", "sms", engine=engine),
                     lambda: ta.preview_template(actor, "booking_confirmation", "sms", "", "Hi", engine=engine),
                     lambda: ta.fetch_messages_page(actor, engine=engine),
                     lambda: ta.do_update_message_settings(actor, {**settings, "reminder_hours": 48}, engine=engine)):
            with pytest.raises(PermissionDenied):
                call()
    assert template_rows(clinic) == []
    ta.do_save_template(clinic.staff_actor("manager"), "booking_confirmation", "sms", "", "Hi {{ client.first_name }}",
                        engine=engine, clock=CLOCK)
    (row,) = template_rows(clinic)
    assert (row.kind, row.channel, row.service_id, row.body, row.updated_by) == (
        "booking_confirmation", "sms", None, "Hi {{ client.first_name }}", "test manager")


# ---------------------------------------------------------------------------------- preview and settings

def test_the_preview_uses_the_next_visit_or_a_sample_and_counts_the_texts_segments(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    sample = ta.preview_template(owner(clinic), "booking_confirmation", "sms", "",
                                 "{{ clinic.name }}: see you {{ visit.when }}, {{ client.first_name }}",
                                 engine=engine, clock=CLOCK)
    assert sample.basis == "a sample visit" and sample.errors == {}
    assert sample.sms_body == "Test Clinic: see you Tue, Jun 30, 2026, 2:00 PM EDT (America/New_York), Jordan"
    assert (sample.sms_chars, sample.sms_segments) == (len(sample.sms_body), 1)
    # the email (not edited: its wording in force) names the treatment, as the clinic's setting says
    assert sample.email_subject == "Confirmed: Lip filler on Tue, Jun 30, 2026, 2:00 PM EDT (America/New_York)"
    book(clinic, at(10), 1)
    real = ta.preview_template(owner(clinic), "booking_confirmation", "sms", "", "x" * 150 + " {{ visit.treatment }}",
                               engine=engine, clock=CLOCK)
    assert real.basis == "Ana S.'s visit on Wed, Jul 15, 2026, 10:00 AM EDT (America/New_York)"
    assert real.sms_body == "x" * 150 + " appointment" and (real.sms_chars, real.sms_segments) == (162, 2)
    assert real.email_subject == "Confirmed: Botox on Wed, Jul 15, 2026, 10:00 AM EDT (America/New_York)"
    assert "Hi Ana," in real.email_body
    broken = ta.preview_template(owner(clinic), "booking_confirmation", "email", "{{ visit.when", "Hi",
                                 engine=engine, clock=CLOCK)
    assert "on line 1" in broken.errors["subject"] and broken.sms_body.startswith("Test Clinic: your appointment")
    assert template_rows(clinic) == []  # a preview saves nothing


def test_the_message_settings_are_checked_field_by_field(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    good = {"treatment_in_sms": False, "treatment_in_email": True, "reminder_hours": "48",
            "reminder_late_booking": "shorter", "reminder_short_hours": 3, "quiet_start": "20:30", "quiet_end": "9:00"}
    for bad, field, words in ((({"reminder_hours": "0"}), "reminder_hours", "from 1 to 168"),
                              ({"reminder_hours": "169"}, "reminder_hours", "from 1 to 168"),
                              ({"reminder_short_hours": "25"}, "reminder_short_hours", "from 1 to 24"),
                              ({"reminder_hours": "2", "reminder_short_hours": "2"}, "reminder_short_hours",
                               "fewer hours"),
                              ({"reminder_late_booking": "maybe"}, "reminder_late_booking", "Choose"),
                              ({"quiet_start": "25:00"}, "quiet_start", "like 21:00"),
                              ({"treatment_in_sms": "yes"}, "treatment_in_sms", "yes or no")):
        with pytest.raises(ValidationFailed) as exc:
            ta.do_update_message_settings(owner(clinic), {**good, **bad}, engine=engine, clock=CLOCK)
        assert words in exc.value.fields[field], (bad, exc.value.fields)
    assert ta.fetch_message_settings(owner(clinic), engine=engine).reminder_hours == 24  # nothing written
    saved = ta.do_update_message_settings(owner(clinic), good, engine=engine, clock=CLOCK)
    assert (saved.reminder_hours, saved.reminder_short_hours, saved.quiet_start, saved.quiet_end) == (48, 3, "20:30",
                                                                                                    "09:00")
    assert ta.fetch_message_settings(owner(clinic), engine=engine) == saved


def test_every_default_wording_renders_in_the_preview_and_passes_its_own_check(engine, owner_engine):
    from medspa.domain.messaging.template_samples import check_template
    from medspa.domain.messaging.templates import KINDS

    clinic = build_clinic(engine, owner_engine)
    book(clinic, at(10), 1)  # a real next visit for the preview
    for kind, spec in KINDS.items():
        for channel in spec.channels:
            subject, body = spec.default(channel)
            if body:
                assert check_template(kind, channel, subject, body) == {}, (kind, channel)
            pv = ta.preview_template(owner(clinic), kind, channel, subject, body, engine=engine, clock=CLOCK)
            assert pv.errors == {}, (kind, channel, pv.errors)
            shown = pv.email_body if channel == "email" else pv.sms_body
            assert bool(shown) == bool(body), (kind, channel)
            assert "{{" not in shown and "None" not in shown, (kind, channel, shown)
