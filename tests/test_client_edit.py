"""New client and edit (issue 14 part 2): validation per field (a GB emergency phone in a London
clinic), names kept as typed, date of birth against the injected clock, the audit row's
{field: [old, new]}, consent time and source from the desk form, the portal and an import,
a preferred provider of another clinic refused, likely duplicates then "create anyway",
front desk may, lab may not; the profile's details card and the calendar block's alerts."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from medspa.clock import FixedClock
from medspa.domain.audit.models import AuditEvent
from medspa.domain.clients.actions import do_read_client_profile
from medspa.domain.clients.details import ClientForm
from medspa.domain.clients.edit_actions import do_create_client, do_open_client_form, do_update_client
from medspa.domain.clients.import_file import ImportTable
from medspa.domain.clients.import_service import import_clients
from medspa.domain.clients.models import Client
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor, PermissionDenied
from medspa.domain.portal.service import set_marketing_consent
from medspa.domain.practice.models import Organization
from medspa.domain.scheduling.calendar import appointment_detail, calendar_day
from medspa.domain.scheduling.service import hold_slot
from tests.factories import build_clinic

NOW = datetime(2030, 3, 4, 14, 15, tzinfo=timezone.utc)  # 9:15 AM in New York, 2:15 PM in London
CLOCK = FixedClock(NOW)


def form(**kw) -> ClientForm:
    base = dict(first_name="Siân", last_name="O'Connor-Núñez", phone="(212) 555-0142", email="sian@example.com")
    base.update(kw)
    return ClientForm(**base)


def create(clinic, role="front_desk", confirm=False, **kw):
    return do_create_client(clinic.staff_actor(role), form(**kw), confirm=confirm, clock=CLOCK, engine=clinic.engine)


def row(clinic, client_id: int) -> Client:
    with clinic.session() as s:
        return s.get(Client, client_id)


def audits(clinic, action: str) -> list[AuditEvent]:
    with clinic.session() as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).scalars())


def errors_of(call) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as exc:
        call()
    return exc.value.fields


@pytest.fixture
def london(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine, time_zone="Europe/London")
    with owner_engine.begin() as conn:
        conn.execute(update(Organization).where(Organization.id == clinic.org_id).values(country="GB"))
    return clinic


def test_front_desk_creates_with_every_field_kept_as_typed(clinic):
    out = create(clinic, date_of_birth="1990-04-23", address="12 Elm St\nApt 4\nBrooklyn, NY 11201",
                 time_zone="America/Chicago", emergency_name="Sam Lee (partner)", emergency_phone="212 555 0199",
                 preferred_provider_id=str(clinic.provider_ids[0]), insurance_carrier="Aetna",
                 insurance_member_id="W123 456", email_marketing_consent=True, alerts="VIP · prefers afternoons",
                 notes="Likes the window room.")
    assert out.client_id and out.duplicates == []
    c = row(clinic, out.client_id)
    assert (c.first_name, c.last_name) == ("Siân", "O'Connor-Núñez")
    assert (c.phone_e164, c.email, c.date_of_birth) == ("+12125550142", "sian@example.com", date(1990, 4, 23))
    assert c.address == "12 Elm St\nApt 4\nBrooklyn, NY 11201" and c.time_zone == "America/Chicago"
    assert (c.emergency_name, c.emergency_phone_e164) == ("Sam Lee (partner)", "+12125550199")
    assert c.preferred_provider_id == clinic.provider_ids[0]
    assert (c.insurance_carrier, c.insurance_member_id) == ("Aetna", "W123 456")
    assert (c.email_marketing_consent, c.email_marketing_consent_at, c.email_marketing_consent_source) == (
        True, NOW, "desk")
    assert (c.sms_marketing_consent, c.sms_marketing_consent_at, c.sms_marketing_consent_source) == (False, None, "")
    assert (c.alerts, c.notes) == ("VIP · prefers afternoons", "Likes the window room.")
    [created] = audits(clinic, "client.create")
    assert created.client_id == out.client_id and created.detail["source"] == "desk"


def test_lab_cannot_create_edit_or_open_the_form(clinic):
    lab = clinic.staff_actor("lab")
    with pytest.raises(PermissionDenied):
        do_create_client(lab, form(), clock=CLOCK, engine=clinic.engine)
    client_id = create(clinic).client_id
    with pytest.raises(PermissionDenied):
        do_update_client(lab, client_id, form(alerts="x"), clock=CLOCK, engine=clinic.engine)
    with pytest.raises(PermissionDenied):
        do_open_client_form(lab, client_id, engine=clinic.engine)
    assert row(clinic, client_id).alerts == ""


def test_each_bad_field_has_its_message_and_nothing_is_saved(clinic):
    fields = errors_of(lambda: create(
        clinic, first_name=" ", last_name="x" * 81, email="not-an-email", phone="12", date_of_birth="23/04/1990",
        time_zone="Mars/Olympus", emergency_phone="555", preferred_provider_id="9999999",
        insurance_member_id="9" * 61, alerts="a" * 81, notes="n" * 2001))
    assert fields == {
        "first_name": "Enter a first name", "last_name": "Use at most 80 characters",
        "email": "Enter an email address like name@example.com", "phone": fields["phone"],
        "date_of_birth": "Enter a date like 1990-04-23",
        "time_zone": "Choose a time zone from the list (like Europe/London)",
        "emergency_phone": fields["emergency_phone"], "preferred_provider_id": "Choose a provider of the clinic",
        "insurance_member_id": "Use at most 60 characters", "alerts": "Use at most 80 characters",
        "notes": "Use at most 2000 characters"}
    assert fields["phone"] and fields["emergency_phone"]
    with clinic.session() as s:
        assert s.exec(select(Client)).all() == []


def test_hostile_values_are_field_messages_not_crashes(clinic):
    fields = errors_of(lambda: create(clinic, first_name="Ana\x00", alerts="VIP\x07", address="a\x1bb",
                                      preferred_provider_id="１２", date_of_birth="２０２０-01-01",
                                      email_marketing_consent="yes"))
    assert set(fields) == {"first_name", "alerts", "address", "preferred_provider_id", "date_of_birth",
                           "email_marketing_consent"}
    assert errors_of(lambda: do_create_client(clinic.staff_actor(), {"first_name": "x"}, clock=CLOCK,
                                              engine=clinic.engine)) == {"general": "Fill in the form"}


def test_date_of_birth_against_the_clinic_clock_not_the_server_date(clinic):
    # 9:15 AM on Mar 4 in New York: Mar 4 is fine, Mar 5 is the future (whatever today really is)
    assert create(clinic, date_of_birth="2030-03-04").client_id
    fields = errors_of(lambda: create(clinic, email="b@example.com", phone="", date_of_birth="2030-03-05"))
    assert fields == {"date_of_birth": "Date of birth cannot be in the future"}
    assert errors_of(lambda: create(clinic, email="c@example.com", date_of_birth="1890-01-01")) == {
        "date_of_birth": "Check the year"}


def test_gb_clinic_reads_local_mobiles_for_client_and_emergency_contact(london):
    out = create(london, phone="07911 123456", email="", emergency_name="Tom", emergency_phone="020 7946 0018")
    c = row(london, out.client_id)
    assert (c.phone_e164, c.emergency_phone_e164) == ("+447911123456", "+442079460018")
    assert "emergency_phone" in errors_of(lambda: create(london, email="x@example.com", phone="",
                                                         emergency_name="Tom", emergency_phone="07911"))
    assert errors_of(lambda: create(london, email="y@example.com", phone="", emergency_phone="07400 123456")) == {
        "emergency_name": "Enter who to call"}
    profile = do_read_client_profile(london.staff_actor(), out.client_id, now=NOW, engine=london.engine)
    assert profile.details.emergency_phone == "020 7946 0018"
    assert profile.details.time_zone == "Europe/London" and profile.details.zone_is_default
    opened = do_open_client_form(london.staff_actor(), out.client_id, engine=london.engine).form
    assert (opened.phone, opened.emergency_phone) == ("07911 123456", "020 7946 0018")  # as the desk types them


def test_preferred_provider_of_another_clinic_is_refused(clinic, engine, owner_engine):
    other = build_clinic(engine, owner_engine)
    assert errors_of(lambda: create(clinic, preferred_provider_id=str(other.provider_ids[0]))) == {
        "preferred_provider_id": "Choose a provider of the clinic"}
    client_id = create(clinic).client_id
    assert errors_of(lambda: do_update_client(clinic.staff_actor(), client_id,
                                              form(preferred_provider_id=str(other.provider_ids[0])), clock=CLOCK,
                                              engine=clinic.engine)) == {
        "preferred_provider_id": "Choose a provider of the clinic"}
    # and another clinic's client is not found, for the form and the save
    with pytest.raises(NotFound):
        do_update_client(other.staff_actor(), client_id, form(), clock=CLOCK, engine=other.engine)
    with pytest.raises(NotFound):
        do_open_client_form(other.staff_actor(), client_id, engine=other.engine)


def test_update_audits_old_and_new_and_stamps_consent_from_the_desk(clinic):
    client_id = create(clinic, date_of_birth="1990-04-23").client_id
    later = FixedClock(NOW + timedelta(days=2))
    changes = do_update_client(clinic.staff_actor("provider"), client_id,
                               form(date_of_birth="1990-04-24", alerts="VIP", sms_marketing_consent=True,
                                    phone="212 555 0143"), clock=later, engine=clinic.engine)
    assert changes == {"phone_e164": ["+12125550142", "+12125550143"], "date_of_birth": ["1990-04-23", "1990-04-24"],
                       "alerts": ["", "VIP"], "sms_marketing_consent": [False, True]}
    [event] = audits(clinic, "client.update")
    assert event.client_id == client_id and event.detail["changes"] == changes and event.actor_role == "provider"
    c = row(clinic, client_id)
    assert (c.sms_marketing_consent, c.sms_marketing_consent_at, c.sms_marketing_consent_source) == (
        True, later.now(), "desk")
    # saving the same form again changes nothing and writes no audit row
    assert do_update_client(clinic.staff_actor(), client_id, form(date_of_birth="1990-04-24", alerts="VIP",
                                                                  sms_marketing_consent=True, phone="212 555 0143"),
                            clock=later, engine=clinic.engine) == {}
    assert len(audits(clinic, "client.update")) == 1


def test_update_refuses_an_email_of_another_client_field_by_field(clinic):
    create(clinic)
    other = create(clinic, first_name="Bo", last_name="Li", email="bo@example.com", phone="").client_id
    fields = errors_of(lambda: do_update_client(clinic.staff_actor(), other,
                                                form(first_name="Bo", last_name="Li", phone=""),
                                                clock=CLOCK, engine=clinic.engine))
    assert fields == {"email": "Siân O'Connor-Núñez already has this email"}
    assert row(clinic, other).email == "bo@example.com"


def test_portal_and_import_stamp_their_consent_source(clinic):
    client_id = create(clinic).client_id
    later = NOW + timedelta(hours=3)
    with clinic.session() as s:
        set_marketing_consent(s, Actor.client(clinic.org_id, client_id), email=True, sms=True, now=later)
        s.commit()
    c = row(clinic, client_id)
    assert (c.email_marketing_consent_at, c.email_marketing_consent_source) == (later, "portal")
    assert (c.sms_marketing_consent_at, c.sms_marketing_consent_source) == (later, "portal")
    table = ImportTable(["First", "Last", "Email", "SMS ok"], [["Ana", "Lima", "ana@example.com", "yes"]], "utf-8", ",")
    with clinic.session() as s:
        summary = import_clients(s, clinic.staff_actor("owner"), table, "old.csv",
                                 {"first_name": 0, "last_name": 1, "email": 2, "sms_marketing_consent": 3}, "dmy",
                                 None, later)
        s.commit()
    [(_line, ana)] = summary.created
    c = row(clinic, ana)
    assert (c.sms_marketing_consent, c.sms_marketing_consent_at, c.sms_marketing_consent_source) == (
        True, later, "import")


def test_likely_duplicate_flagged_then_created_anyway(clinic):
    first = create(clinic, date_of_birth="1990-04-23").client_id
    out = create(clinic, first_name="Sian", last_name="O'Connor-Nunez", email="other@example.com", phone="",
                 date_of_birth="1990-04-23")
    assert out.client_id == 0
    assert out.duplicates == [(first, "Siân O'Connor-Núñez", "same date of birth and a similar name")]
    assert [e.detail["client_ids"] for e in audits(clinic, "client.duplicate_check")] == [[first]]
    with clinic.session() as s:
        assert len(s.exec(select(Client)).all()) == 1
    again = create(clinic, confirm=True, first_name="Sian", last_name="O'Connor-Nunez", email="other@example.com",
                   phone="", date_of_birth="1990-04-23")
    assert again.client_id and again.client_id != first
    assert audits(clinic, "client.create")[-1].detail["confirmed_duplicate"] is True
    # the same email is one client: never created twice, even when confirmed
    assert errors_of(lambda: create(clinic, confirm=True, phone="")) == {
        "email": "Siân O'Connor-Núñez already has this email"}


def test_profile_shows_details_and_hides_contact_ones_without_contact_read(clinic):
    client_id = create(clinic, address="1 Main St", emergency_name="Sam", emergency_phone="212 555 0100",
                       preferred_provider_id=str(clinic.provider_ids[0]), insurance_carrier="Aetna",
                       insurance_member_id="W1", email_marketing_consent=True, alerts="VIP", notes="Note").client_id
    d = do_read_client_profile(clinic.staff_actor(), client_id, now=NOW, engine=clinic.engine).details
    assert (d.contact, d.address, d.emergency_name, d.emergency_phone) == (True, "1 Main St", "Sam", "(212) 555-0100")
    assert (d.preferred_provider, d.insurance_carrier, d.insurance_member_id) == ("Provider 1", "Aetna", "W1")
    assert (d.email_consent.given, d.email_consent.when, d.email_consent.source) == (
        True, "Mon, Mar 4, 2030, 9:15 AM", "desk")
    assert (d.alerts, d.notes) == ("VIP", "Note")
    no_contact = Actor(org_id=clinic.org_id, role="front_desk", label="t")
    object.__setattr__(no_contact, "can", lambda p: p != "client.contact.read")
    hidden = do_read_client_profile(no_contact, client_id, now=NOW, engine=clinic.engine).details
    assert (hidden.contact, hidden.address, hidden.emergency_phone, hidden.insurance_carrier) == (False, "", "", "")
    assert hidden.alerts == "VIP"


def test_calendar_block_carries_the_alerts_and_the_lab_reads_no_calendar(clinic):
    client_id = create(clinic, alerts="Prefers afternoons").client_id
    start = datetime(2030, 3, 5, 15, 0, tzinfo=timezone.utc)
    with clinic.session() as s:
        appt = hold_slot(s, clinic.system, location_id=clinic.location_id, service_id=clinic.services["botox"],
                         start_at=start, now=NOW, client_id=client_id, source="staff", confirm=True)
        s.commit()
    with clinic.session() as s:
        desk = calendar_day(s, clinic.staff_actor(), location_id=clinic.location_id, day=date(2030, 3, 5), now=NOW)
        with pytest.raises(PermissionDenied):  # the lab reads no calendar at all (issue 17: /lab only)
            calendar_day(s, clinic.staff_actor("lab"), location_id=clinic.location_id, day=date(2030, 3, 5),
                         now=NOW)
        # the appointment panel says them in words too (a new user found only a flag on the block)
        panel = appointment_detail(s, clinic.staff_actor(), appt.id, now=NOW)
    assert [b.alerts for b in desk.blocks if b.kind == "appointment"] == ["Prefers afternoons"]
    assert panel.client_alerts == "Prefers afternoons"


def test_open_form_gives_values_providers_and_usual_zone(clinic):
    client_id = create(clinic, phone="212 555 0142", time_zone="").client_id
    data = do_open_client_form(clinic.staff_actor(), client_id, engine=clinic.engine)
    assert data.form.first_name == "Siân" and data.form.phone == "(212) 555-0142"
    assert data.providers == [(clinic.provider_ids[0], "Provider 1")] and data.default_zone == "America/New_York"
    assert do_open_client_form(clinic.staff_actor(), None, engine=clinic.engine).form == ClientForm()
    with pytest.raises(NotFound):
        do_open_client_form(clinic.staff_actor(), "1; drop table client", engine=clinic.engine)


def test_an_alert_or_a_name_change_reaches_open_calendars(clinic, db_urls):
    """Migration 0036: first_name, last_name and alerts changes notify calendar_changed for every
    location of the clinic ("<org>:0"); a contact detail change does not."""
    import psycopg

    client_id = create(clinic).client_id
    with psycopg.connect(db_urls[0], autocommit=True) as listener:
        listener.execute("LISTEN calendar_changed")
        do_update_client(clinic.staff_actor(), client_id, form(email="new.mail@example.com"), clock=CLOCK,
                         engine=clinic.engine)
        assert [n.payload for n in listener.notifies(timeout=1, stop_after=1)] == []
        do_update_client(clinic.staff_actor(), client_id, form(email="new.mail@example.com", alerts="VIP"),
                         clock=CLOCK, engine=clinic.engine)
        assert [n.payload for n in listener.notifies(timeout=2, stop_after=1)] == [f"{clinic.org_id}:0"]


def test_each_consent_keeps_the_words_the_client_agreed_to(clinic):
    """One wording per channel, naming the clinic: offered by the desk form and the portal,
    stored with the consent given, shown on the profile; a withdrawal keeps the words it withdraws."""
    email_words = "Yes, send me offers and news from Test Clinic by email. I can unsubscribe at any time."
    sms_words = ("Yes, send me offers and news from Test Clinic by text message (msg & data rates may apply). "
                 "I can reply STOP at any time to stop them.")
    opened = do_open_client_form(clinic.staff_actor(), None, engine=clinic.engine)
    assert (opened.email_wording, opened.sms_wording) == (email_words, sms_words)
    client_id = create(clinic, email_marketing_consent=True).client_id
    c = row(clinic, client_id)
    assert (c.email_marketing_consent_wording, c.sms_marketing_consent_wording) == (email_words, "")
    do_update_client(clinic.staff_actor(), client_id, form(email_marketing_consent=True, sms_marketing_consent=True),
                     clock=CLOCK, engine=clinic.engine)
    assert row(clinic, client_id).sms_marketing_consent_wording == sms_words
    d = do_read_client_profile(clinic.staff_actor(), client_id, now=NOW, engine=clinic.engine).details
    assert (d.sms_consent.given, d.sms_consent.source, d.sms_consent.wording) == (True, "desk", sms_words)
    with clinic.session() as s:
        details = set_marketing_consent(s, Actor.client(clinic.org_id, client_id), email=False, sms=True, now=NOW)
        s.commit()
    assert (details.email_wording, details.sms_wording) == (email_words, sms_words)
    c = row(clinic, client_id)
    assert (c.email_marketing_consent, c.email_marketing_consent_source, c.email_marketing_consent_wording) == (
        False, "portal", email_words)
