"""The practice area's use cases for a new clinic (one transaction each, domain/work.atomic):

- fetch_setup_open: is a set-up link still usable (the /setup page, anonymous);
- do_create_clinic: spend a set-up link and create the clinic with its owner's invitation;
- do_issue_setup_token: a new set-up link (the server's start on an empty database; the
  schema owner's engine: the app role cannot read setup_token);
- do_create_clinic_as_operator: `medspa clinic create` (issue a link and spend it at once).

Keyword-only: `now` or `clock` (default: the app clock), `engine` (tests pass theirs),
`base_url` for the invitation link. Errors: ValidationFailed (a message per bad field),
SetupLinkInvalid.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from medspa.clock import Clock
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.checklist import ChecklistStep, setup_checklist
from medspa.domain.practice.clinics import (
    ClinicForm,
    NewClinic,
    SetupLinkInvalid,
    countries,
    create_clinic,
    currencies,
    issue_setup_token,
    setup_token_open,
)
from medspa.domain.work import atomic, now_of

__all__ = ["ClinicForm", "NewClinic", "SetupLinkInvalid", "countries", "currencies", "do_create_clinic",
           "do_create_clinic_as_operator", "do_issue_setup_token", "fetch_setup_checklist", "fetch_setup_open"]


def fetch_setup_open(token: str, *, now: datetime | None = None, clock: Clock | None = None,
                     engine: Engine | None = None) -> bool:
    """True while `token` is an open set-up link (neither spent nor expired)."""
    now = now_of(clock, now)
    with atomic(None, engine=engine) as work:
        return setup_token_open(work.session, token, now=now)


def do_create_clinic(token: str, form: ClinicForm, *, base_url: str, label: str = "clinic set-up",
                     now: datetime | None = None, clock: Clock | None = None,
                     engine: Engine | None = None) -> NewClinic:
    """Spend the set-up link `token` and create the clinic of `form` (organization, first
    location, the owner's invitation, emailed when email is set up). All or nothing: raises
    ValidationFailed (a message for every bad field) or SetupLinkInvalid and writes nothing."""
    now = now_of(clock, now)
    with atomic(None, engine=engine) as work:
        return create_clinic(work.session, token, form, now=now, base_url=base_url, label=label)


def do_issue_setup_token(*, owner_engine: Engine, replace_open: bool = True, now: datetime | None = None,
                         clock: Clock | None = None) -> str:
    """A new set-up link token (24 hours; with `replace_open` earlier open ones stop
    working), with the schema owner's engine."""
    now = now_of(clock, now)
    with Session(owner_engine) as session:
        token = issue_setup_token(session, now=now, replace_open=replace_open)
        session.commit()
    return token


def do_create_clinic_as_operator(form: ClinicForm, *, owner_engine: Engine, base_url: str,
                                 now: datetime | None = None, clock: Clock | None = None,
                                 engine: Engine | None = None) -> NewClinic:
    """`medspa clinic create`: the operator (who holds the owner's database URL) creates a
    clinic: a set-up token issued and spent at once. Raises ValidationFailed."""
    now = now_of(clock, now)
    # a link of its own: the one a fresh server printed keeps working
    token = do_issue_setup_token(owner_engine=owner_engine, replace_open=False, now=now)
    return do_create_clinic(token, form, base_url=base_url, label="medspa clinic create", now=now, engine=engine)


def fetch_setup_checklist(actor: Actor, *, engine: Engine | None = None) -> list[ChecklistStep]:
    """The owner's set-up checklist of actor's clinic (practice.checklist.setup_checklist).
    Raises PermissionDenied without settings.write (owner, manager)."""
    actor.require("settings.write")
    with atomic(actor.org_id, engine=engine) as work:
        return setup_checklist(work.session, actor.org_id)
