"""Use cases of the intake forms, one transaction each (services: domain/clinical/forms.py).

Callers: the portal's Forms tab (a client actor from medspa.domain.portal.actions
.fetch_portal_actor), the staff tablet page and the calendar's visit panel (a staff actor from
StaffState._act). Each opens ONE tenant transaction with `atomic`, lets the service check the
permission and write the audit row in that transaction, and commits when it returns.
Keyword-only extras: `clock` (default: the app clock), `engine` (tests pass theirs).
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from medspa.clock import Clock
from medspa.domain.clinical.forms import (
    AnsweredForm,
    DueForm,
    FormStatus,
    FormView,
    due_forms,
    open_form,
    submit_form,
    visit_answers,
    visit_form_status,
)
from medspa.domain.identity.actor import Actor
from medspa.domain.work import atomic, now_of

__all__ = ["do_submit_form", "fetch_due_forms", "fetch_form", "fetch_visit_answers", "fetch_visit_forms"]


def fetch_due_forms(actor: Actor, *, clock: Clock | None = None, engine: Engine | None = None) -> list[DueForm]:
    """The portal client's forms for their upcoming visits (done or not). Raises NotFound for
    anyone but a signed-in portal client."""
    with atomic(actor.org_id, engine=engine) as work:
        return due_forms(work.session, actor, now=now_of(clock))


def fetch_form(actor: Actor, appointment_id: int, template_key: str, *, source: str,
               clock: Clock | None = None, engine: Engine | None = None) -> FormView:
    """A form to fill: source "portal" (the client, starting from their own latest answers,
    audited) or "tablet" (staff with form.fill, blank). Raises NotFound."""
    with atomic(actor.org_id, engine=engine) as work:
        return open_form(work.session, actor, appointment_id, template_key, source=source, now=now_of(clock))


def do_submit_form(actor: Actor, appointment_id: int, template_key: str, answers: dict, *, source: str,
                   clock: Clock | None = None, engine: Engine | None = None) -> int:
    """Store the answers as the form's next version (returns it). Raises NotFound,
    ValidationFailed (a message per field key; nothing stored)."""
    with atomic(actor.org_id, engine=engine) as work:
        return submit_form(work.session, actor, appointment_id, template_key, answers, source=source,
                           now=now_of(clock))


def fetch_visit_answers(actor: Actor, appointment_id: int, *, clock: Clock | None = None,
                        engine: Engine | None = None) -> list[AnsweredForm]:
    """The latest answers of each form of a visit (form.read: provider, owner; audited).
    Raises NotFound."""
    with atomic(actor.org_id, engine=engine) as work:
        return visit_answers(work.session, actor, appointment_id, now=now_of(clock))


def fetch_visit_forms(actor: Actor, appointment_id: int, *, engine: Engine | None = None) -> FormStatus:
    """A visit's form completion (counts and missing titles; calendar.read). Raises NotFound."""
    with atomic(actor.org_id, engine=engine) as work:
        return visit_form_status(work.session, actor, appointment_id)
