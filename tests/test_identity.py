"""Staff sign-in, sessions, and the database guards: RLS isolation and the append-only audit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from medspa.db import tenant_session
from medspa.domain.identity.actions import actor_for_token, do_login, do_logout
from medspa.domain.identity.lockout import LoginFailed
from medspa.domain.identity.service import create_user
from tests.conftest import utc
from tests.factories import build_clinic

NOW = utc(2026, 7, 1, 12)


def _user(clinic, email, password="correct horse battery", role="front_desk"):
    with clinic.session() as s:
        create_user(s, clinic.system, email=email, password=password, role=role, display_name="Desk")
        s.commit()


def test_login_session_expiry_and_logout(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    email = f"desk-{clinic.slug}@example.com"
    _user(clinic, email)
    with pytest.raises(LoginFailed):
        do_login(email, "wrong", now=NOW, engine=engine)
    with pytest.raises(LoginFailed):
        do_login("nobody@example.com", "x", now=NOW, engine=engine)
    signed = do_login(email.upper(), "correct horse battery", now=NOW, session_hours=12, engine=engine)
    actor = actor_for_token(signed.token, now=NOW + timedelta(minutes=30), engine=engine)
    assert (actor.org_id, actor.role) == (clinic.org_id, "front_desk")
    assert actor_for_token(signed.token, now=NOW + timedelta(hours=3), engine=engine) is None  # idle 2 h
    again = do_login(email, "correct horse battery", now=NOW, engine=engine)
    assert actor_for_token(again.token, now=NOW + timedelta(hours=13), engine=engine) is None  # absolute 12 h
    do_logout(again.token, now=NOW, engine=engine)
    assert actor_for_token(again.token, now=NOW, engine=engine) is None
    assert actor_for_token("forged", now=NOW, engine=engine) is None
    with clinic.session() as s:
        actions = [a for (a,) in s.execute(text("select action from audit_event where action like 'auth.%' order by id"))]
    assert actions == ["auth.login_failed", "auth.login", "auth.login", "auth.logout"]


def test_password_hash_is_argon2id(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    _user(clinic, f"h-{clinic.slug}@example.com")
    with clinic.session() as s:
        digest = s.execute(text("select password_hash from user_account")).scalar()
    assert digest.startswith("$argon2id$")


def test_rls_unscoped_select_sees_only_current_clinic(engine, owner_engine):
    a = build_clinic(engine, owner_engine)
    b = build_clinic(engine, owner_engine)
    with tenant_session(a.org_id, engine) as s:
        orgs = {r for (r,) in s.execute(text("select distinct org_id from service"))}
        assert orgs == {a.org_id}
    with tenant_session(None, engine) as s:  # no clinic set: fail closed
        assert s.execute(text("select count(*) from service")).scalar() == 0
    with tenant_session(a.org_id, engine) as s, pytest.raises(DBAPIError):
        s.execute(text("insert into client (org_id, first_name, last_name, email_marketing_consent, "
                       "sms_marketing_consent, created_at) values (:o, 'x', 'y', false, false, now())"),
                  {"o": b.org_id})
    with Session(engine) as s:
        assert s.execute(text("select rolsuper or rolbypassrls from pg_roles where rolname = current_user")).scalar() is False


@pytest.mark.parametrize("statement", ["update audit_event set action = 'x'", "delete from audit_event",
                                       "truncate audit_event"])
def test_audit_is_append_only(engine, owner_engine, statement):
    clinic = build_clinic(engine, owner_engine)
    with clinic.session() as s, pytest.raises(DBAPIError):
        s.execute(text(statement))
    with Session(owner_engine) as s, pytest.raises(DBAPIError):  # even the schema owner is refused
        s.execute(text("select set_config('app.org_id', :o, true)"), {"o": str(clinic.org_id)})
        assert s.execute(text("select count(*) from audit_event")).scalar() > 0
        s.execute(text(statement))


def test_reading_a_client_record_is_audited_and_other_clinics_look_missing(engine, owner_engine):
    from medspa.domain.clients.service import ClientInput, find_or_create_client, get_client
    from medspa.domain.errors import NotFound
    from medspa.domain.identity.actor import Actor

    a = build_clinic(engine, owner_engine)
    b = build_clinic(engine, owner_engine)
    with a.session() as s:
        client = find_or_create_client(s, a.system, ClientInput("Zoe", "Park", "zoe@example.com", "+12125550123"))
        s.commit()
        desk = a.staff_actor("front_desk")
        assert get_client(s, desk, client.id).first_name == "Zoe"
        s.commit()
        reads = s.execute(text("select actor_role, client_id from audit_event where action = 'client.read'")).all()
        assert reads == [("front_desk", client.id)]
        with pytest.raises(NotFound):
            get_client(s, Actor(org_id=a.org_id, role="lab"), client.id)
    with b.session() as s, pytest.raises(NotFound):
        get_client(s, b.staff_actor("owner"), client.id)
