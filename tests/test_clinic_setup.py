"""A real clinic moves in (issue 13, part 1): the one-time set-up link, creating a clinic (every
bad field named, nothing half-written), the owner's invitation and staff invitations (single
use, expiring, resend and revoke, audited)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from medspa.db import tenant_session
from medspa.domain.audit.models import AuditEvent
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actions import (
    InvitationInvalid,
    WeakPassword,
    do_accept_invitation,
    do_invite_staff,
    do_resend_invitation,
    do_revoke_invitation,
    fetch_invitation,
    fetch_invitations,
)
from medspa.domain.identity.actor import Actor, PermissionDenied
from medspa.domain.identity.models import Invitation, UserAccount
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.practice.actions import (
    ClinicForm,
    SetupLinkInvalid,
    do_create_clinic,
    do_create_clinic_as_operator,
    do_issue_setup_token,
    fetch_setup_open,
)
from medspa.domain.practice.models import Location, Organization, StaffMember
from tests.conftest import utc
from tests.factories import build_clinic

T0 = utc(2026, 9, 1, 15, 0, 0)
BASE = "https://spa.example"
PW = "quiet orchard lantern"


def _form(**over: str) -> ClinicForm:
    slug = over.pop("slug", f"c-{uuid.uuid4().hex[:10]}")
    fields = dict(name="Glow Aesthetics", slug=slug, country="gb", currency="gbp", location_name="Chelsea",
                  time_zone="Europe/London", owner_name="Ada Glow", owner_email=f"Ada.{slug}@Example.com",
                  address="12 King's Road, London", phone="020 7946 0958")
    fields.update(over)
    return ClinicForm(**fields)


def _token_of(link: str) -> str:
    return link.split("token=", 1)[1]


def _orgs(owner_engine, slug: str) -> int:
    with owner_engine.connect() as conn:
        return conn.execute(text("select count(*) from organization where slug = :s"), {"s": slug}).scalar_one()


def _audit(engine, org_id: int) -> list[str]:
    with tenant_session(org_id, engine) as s:
        return [e.action for e in s.exec(select(AuditEvent).order_by(AuditEvent.id))]


@pytest.fixture
def new_clinic(engine, owner_engine):
    token = do_issue_setup_token(owner_engine=owner_engine, replace_open=False, now=T0)
    form = _form()
    return do_create_clinic(token, form, base_url=BASE, now=T0, engine=engine), form


def test_set_up_link_is_required_and_single_use(engine, owner_engine):
    token = do_issue_setup_token(owner_engine=owner_engine, now=T0)
    assert fetch_setup_open(token, now=T0, engine=engine) is True
    assert fetch_setup_open("guessed-" + token[8:], now=T0, engine=engine) is False
    form = _form()
    with pytest.raises(SetupLinkInvalid):
        do_create_clinic("", form, base_url=BASE, now=T0, engine=engine)
    with pytest.raises(SetupLinkInvalid):
        do_create_clinic(token[:-1] + ("A" if token[-1] != "A" else "B"), form, base_url=BASE, now=T0, engine=engine)
    assert _orgs(owner_engine, form.slug) == 0

    made = do_create_clinic(token, form, base_url=BASE, now=T0, engine=engine)
    assert made.slug == form.slug and made.invite_link.startswith(f"{BASE}/invite?token=")
    assert fetch_setup_open(token, now=T0, engine=engine) is False
    with pytest.raises(SetupLinkInvalid):  # spent: a second clinic needs a new link
        do_create_clinic(token, _form(), base_url=BASE, now=T0, engine=engine)
    with owner_engine.connect() as conn:
        row = conn.execute(text("select used_at, clinic_id from setup_token where token_hash = encode("
                                "sha256(convert_to(:t, 'UTF8')), 'hex')"), {"t": token}).one()
    assert row == (T0, made.org_id)


def test_set_up_link_expires_and_a_new_one_replaces_the_old(engine, owner_engine):
    old = do_issue_setup_token(owner_engine=owner_engine, now=T0)
    new = do_issue_setup_token(owner_engine=owner_engine, now=T0 + timedelta(minutes=1))
    assert fetch_setup_open(old, now=T0 + timedelta(minutes=1), engine=engine) is False
    assert fetch_setup_open(new, now=T0 + timedelta(hours=24), engine=engine) is True
    assert fetch_setup_open(new, now=T0 + timedelta(hours=24, minutes=1), engine=engine) is False
    with pytest.raises(SetupLinkInvalid):
        do_create_clinic(new, _form(), base_url=BASE, now=T0 + timedelta(hours=25), engine=engine)


def test_the_app_role_cannot_read_set_up_tokens(engine):
    with engine.connect() as conn, pytest.raises(Exception, match="permission denied"):
        conn.execute(text("select token_hash from setup_token"))


def test_every_bad_field_has_its_message_and_nothing_is_written(engine, owner_engine):
    token = do_issue_setup_token(owner_engine=owner_engine, replace_open=False, now=T0)
    bad = ClinicForm(name=" ", slug="Bad Slug!", country="XX", currency="EURO", location_name="",
                     time_zone="Mars/Olympus", owner_name="", owner_email="not-an-email", phone="12")
    with pytest.raises(ValidationFailed) as err:
        do_create_clinic(token, bad, base_url=BASE, now=T0, engine=engine)
    assert err.value.fields == {
        "name": "Enter the clinic's name",
        "location_name": "Enter the location's name",
        "slug": "Use 1 to 63 lower-case letters, digits and dashes (not at the start or end)",
        "country": "Choose a country",
        "currency": "Choose a currency (ISO code like USD or EUR)",
        "time_zone": "Choose a time zone from the list (like America/Chicago)",
        "phone": "Enter a phone number like (212) 555-0123 or +44 20 7946 0958",  # no country to read it by
        "owner_email": "Enter an email address like name@example.com",
        "owner_name": "Enter the person's name",
    }
    taken = _form()
    do_create_clinic_as_operator(taken, owner_engine=owner_engine, base_url=BASE, now=T0, engine=engine)
    for form, field, message in (
            (_form(slug=taken.slug), "slug", "Another clinic already uses this URL name"),
            (_form(slug="api"), "slug", "This name is reserved; choose another"),
            (_form(phone="+44 12"), "phone", "This phone number is not valid")):
        with pytest.raises(ValidationFailed) as err:
            do_create_clinic(token, form, base_url=BASE, now=T0, engine=engine)
        assert err.value.fields == {field: message}
    # the refused forms wrote nothing and left the link usable
    assert fetch_setup_open(token, now=T0, engine=engine) is True
    with owner_engine.connect() as conn:
        assert conn.execute(text("select count(*) from organization where slug in ('api', 'bad slug!')")).scalar() == 0


def test_a_created_clinic_has_its_location_invitation_email_and_audit(engine, new_clinic):
    made, form = new_clinic
    with tenant_session(made.org_id, engine) as s:
        org = s.get(Organization, made.org_id)
        assert (org.name, org.country, org.currency) == ("Glow Aesthetics", "GB", "GBP")
        loc = s.get(Location, made.location_id)
        assert (loc.name, loc.time_zone, loc.phone, loc.address) == (
            "Chelsea", "Europe/London", "+442079460958", "12 King's Road, London")
        inv = s.exec(select(Invitation)).one()
        assert (inv.email, inv.role, inv.display_name, inv.invited_by) == (form.owner_email.lower(), "owner",
                                                                           "Ada Glow", None)
        assert inv.expires_at == T0 + timedelta(days=7) and len(inv.token_hash) == 64
        assert _token_of(made.invite_link) not in inv.token_hash  # only the hash is stored
        mail = s.exec(select(OutboxMessage)).one()
        assert (mail.kind, mail.to_address) == ("staff_invitation", form.owner_email.lower())
        assert made.invite_link in mail.body and "as owner" in mail.body
    assert _audit(engine, made.org_id) == ["clinic.create", "location.create", "invitation.create"]


def test_the_owner_accepts_once_and_must_set_up_two_factor(engine, new_clinic):
    made, form = new_clinic
    token = _token_of(made.invite_link)
    view = fetch_invitation(token, now=T0, engine=engine)
    assert (view.clinic_name, view.role_label, view.name) == ("Glow Aesthetics", "Owner", "Ada Glow")
    with pytest.raises(WeakPassword) as weak:
        do_accept_invitation(token, "short", now=T0, engine=engine)
    assert weak.value.fields == {"password": "Use at least 12 characters (a few unrelated words work well)"}
    with tenant_session(made.org_id, engine) as s:
        assert s.exec(select(UserAccount)).all() == []  # nothing written; the link still works
    result = do_accept_invitation(token, PW, now=T0 + timedelta(minutes=5), engine=engine)
    assert result.status == "enrolment_required" and result.signed_in is None and result.challenge
    with tenant_session(made.org_id, engine) as s:
        user = s.exec(select(UserAccount)).one()
        staff = s.get(StaffMember, user.staff_id)
        assert (user.email, user.role, user.display_name) == (form.owner_email.lower(), "owner", "Ada Glow")
        assert (staff.role, staff.is_bookable) == ("owner", False)
    for when in (T0, T0 + timedelta(days=30)):
        with pytest.raises(InvitationInvalid) as used:
            do_accept_invitation(token, PW + " again", now=when, engine=engine)
        assert used.value.reason == "used"
    assert "invitation.accept" in _audit(engine, made.org_id)


def test_staff_invitations_expire_resend_revoke_and_are_audited(engine, new_clinic):
    made, _ = new_clinic
    do_accept_invitation(_token_of(made.invite_link), PW, now=T0, engine=engine)
    with tenant_session(made.org_id, engine) as s:
        owner_user = s.exec(select(UserAccount)).one()
    owner = Actor(org_id=made.org_id, role="owner", user_id=owner_user.id, label="Ada Glow")
    desk_email = f"desk-{made.slug}@example.com"
    link = do_invite_staff(owner, desk_email, "Dee Desk", "front_desk", "Coordinator", base_url=BASE, now=T0,
                           engine=engine)
    with pytest.raises(ValidationFailed) as twice:
        do_invite_staff(owner, desk_email.upper(), "Dee", "front_desk", base_url=BASE, now=T0, engine=engine)
    assert twice.value.fields == {"email": "This address is already invited: resend that invitation instead"}
    with pytest.raises(ValidationFailed) as has_account:
        do_invite_staff(owner, owner_user.email, "Ada", "manager", base_url=BASE, now=T0, engine=engine)
    assert has_account.value.fields == {"email": "This address already has a staff account"}
    with pytest.raises(ValidationFailed) as bad:
        do_invite_staff(owner, "x@", "", "client", base_url=BASE, now=T0, engine=engine)
    assert set(bad.value.fields) == {"email", "name", "role"}
    with pytest.raises(PermissionDenied):
        do_invite_staff(Actor(org_id=made.org_id, role="manager"), "m@example.com", "M", "owner", base_url=BASE,
                        now=T0, engine=engine)

    # expired after 7 days; a resend gives a new link and the old one stops working
    later = T0 + timedelta(days=7)
    with pytest.raises(InvitationInvalid) as expired:
        do_accept_invitation(_token_of(link), PW, now=later, engine=engine)
    assert expired.value.reason == "expired"
    [row] = fetch_invitations(owner, now=later, engine=engine)
    assert (row.email, row.role, row.title, row.expired) == (desk_email, "front_desk", "Coordinator", True)
    fresh = do_resend_invitation(owner, row.invitation_id, base_url=BASE, now=later, engine=engine)
    assert fresh != link
    with pytest.raises(InvitationInvalid):
        fetch_invitation(_token_of(link), now=later, engine=engine)
    result = do_accept_invitation(_token_of(fresh), PW, now=later + timedelta(hours=1), engine=engine)
    assert result.status == "signed_in" and result.signed_in.actor.role == "front_desk"  # no 2FA needed by role
    assert fetch_invitations(owner, now=later, engine=engine) == []
    with pytest.raises(NotFound):  # accepted: nothing to resend
        do_resend_invitation(owner, row.invitation_id, base_url=BASE, now=later, engine=engine)

    # a revoked link cannot be used
    lab_link = do_invite_staff(owner, f"lab-{made.slug}@example.com", "Lou Lab", "lab", base_url=BASE, now=later,
                               engine=engine)
    [lab] = fetch_invitations(owner, now=later, engine=engine)
    do_revoke_invitation(owner, lab.invitation_id, now=later, engine=engine)
    with pytest.raises(InvitationInvalid) as revoked:
        do_accept_invitation(_token_of(lab_link), PW, now=later, engine=engine)
    assert revoked.value.reason == "revoked"
    with pytest.raises(InvitationInvalid) as unknown:
        fetch_invitation("nonsense", now=later, engine=engine)
    assert unknown.value.reason == "unknown"

    with tenant_session(made.org_id, engine) as s:
        desk = s.exec(select(UserAccount).where(UserAccount.email == desk_email)).one()
        assert (desk.role, s.get(StaffMember, desk.staff_id).title) == ("front_desk", "Coordinator")
        audit = s.exec(select(AuditEvent.action, AuditEvent.actor_label).order_by(AuditEvent.id)).all()
    actions = [a for a, _ in audit if not a.startswith("auth.")]  # the sign-ins after accepting have their own
    assert actions[actions.index("invitation.accept") + 1:] == [
        "invitation.create", "invitation.resend", "staff.create", "user.create", "invitation.accept",
        "invitation.create", "invitation.revoke"]
    assert ("invitation.create", "Ada Glow") in audit


def test_clinic_create_command_prints_the_owner_invitation(db_urls, monkeypatch):
    from typer.testing import CliRunner

    from medspa import cli
    from medspa.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", db_urls[0])
    monkeypatch.setenv("DATABASE_OWNER_URL", db_urls[1])
    monkeypatch.setenv("PUBLIC_BASE_URL", BASE)
    get_settings.cache_clear()
    slug = f"cli-{uuid.uuid4().hex[:8]}"
    args = ["clinic", "create", "--name", "Cli Spa", "--slug", slug, "--country", "US", "--currency", "USD",
            "--location", "Downtown", "--time-zone", "America/Chicago", "--owner-email", f"o@{slug}.example",
            "--owner-name", "Olive Owner"]
    try:
        done = CliRunner().invoke(cli.app, args)
        assert done.exit_code == 0, done.output
        assert f"Clinic '{slug}' created: booking page {BASE}/book/{slug}" in done.output
        assert f"Owner's invitation (single use, 7 days): {BASE}/invite?token=" in done.output
        refused = CliRunner().invoke(cli.app, [a if a != "America/Chicago" else "Nowhere/Land" for a in args])
        assert refused.exit_code == 2
        assert refused.output.strip().splitlines()[-1] == (
            "medspa: --slug: Another clinic already uses this URL name; --time-zone: Choose a time zone from the "
            "list (like America/Chicago)")
    finally:
        get_settings.cache_clear()


def test_serve_prints_a_set_up_link_only_without_the_demo_clinic(monkeypatch, capsys):
    from medspa.cli import launcher
    from medspa.ops.database import Database
    from medspa.settings import Settings

    db = Database("postgresql://app@/x", "postgresql://owner@/x", var_dir=__import__("pathlib").Path("/nonexistent"))
    monkeypatch.setattr(launcher.ops_db, "migrate", lambda db: 0.0)
    monkeypatch.setattr(launcher.ops_db, "dispose_engines", lambda settings, db: None)
    monkeypatch.setattr(launcher.ops_seed, "seed_demo_if_empty", lambda settings, db, say: True)
    monkeypatch.setattr(launcher.ops_setup, "setup_link_if_empty",
                        lambda settings, db: "http://localhost:3000/setup?token=abc")
    demo = Settings(port=3000, public_base_url="", demo_seed=True)
    assert launcher._prepare_database(demo, db) == (True, None)  # as before: the demo clinic, no link
    launcher._banner(demo, db, True, 1.0, None)
    out = capsys.readouterr().out
    assert "/book/demo" in out and "/setup" not in out and "demo logins:" in out

    bare = Settings(port=3000, public_base_url="", demo_seed=False)
    seeded, link = launcher._prepare_database(bare, db)
    assert (seeded, link) == (False, "http://localhost:3000/setup?token=abc")
    launcher._banner(bare, db, False, 1.0, link)
    out = capsys.readouterr().out
    assert "Create yours with this one-time link" in out and "    http://localhost:3000/setup?token=abc" in out
    assert "/book/demo" not in out


def test_the_set_up_checklist_follows_what_the_clinic_has_done(engine, owner_engine, new_clinic):
    """Issue 13: the owner's "Getting started" steps are read from what exists: a new clinic
    has none done; the test clinic (services with providers, hours, no rooms needed by most
    services) has its services and hours done, and its first online booking ticks the last."""
    from medspa.domain.practice.actions import fetch_setup_checklist
    from tests.test_abuse_limits import GOOD, at, request
    from medspa.clock import FixedClock
    from medspa.domain.payments.gateway import TestPaymentGateway
    from medspa.domain.scheduling.actions.online import do_book_online

    made, _ = new_clinic
    owner = Actor(org_id=made.org_id, role="owner", label="owner")
    steps = fetch_setup_checklist(owner, engine=engine)
    # the team first: providers must exist before services name them and before they get hours
    assert [(s.key, s.done) for s in steps] == [("team", False), ("services", False), ("hours", False),
                                                ("rooms", False), ("location", True), ("share", False)]
    assert steps[-1].href.startswith("/book/") and steps[2].href == "/settings?tab=hours"
    assert steps[0].href == "/staff"
    with pytest.raises(PermissionDenied):
        fetch_setup_checklist(Actor(org_id=made.org_id, role="front_desk", label="desk"), engine=engine)

    clinic = build_clinic(engine, owner_engine)
    done = {s.key: s.done for s in fetch_setup_checklist(clinic.staff_actor("owner"), engine=engine)}
    assert (done["services"], done["hours"], done["share"]) == (True, True, False)
    clock = FixedClock(utc(2026, 7, 1, 12))
    do_book_online(Actor.public(clinic.org_id, ip="203.0.113.5"), request(clinic, at(10), card=GOOD), clock=clock,
                   engine=engine, gateway=TestPaymentGateway(engine, clock.now))
    assert {s.key: s.done for s in fetch_setup_checklist(clinic.staff_actor("owner"), engine=engine)}["share"]
