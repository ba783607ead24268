"""Intake forms of a visit: which are needed, which are done, filling them, reading answers.

Which forms a visit needs (`needed_forms`): the "Medical history update" for every visit with
a client, plus the forms of its service's category (form_templates.service_forms). The history
update counts as done when the client submitted one for this visit, or for any visit within
HISTORY_VALID_DAYS before this visit's start (our choice: it is good for 12 months); a service
form is done when a response for this visit exists (its latest version counts).

Who does what:
- the client, signed in to the portal (portal.self.write), fills the forms of their own
  upcoming visits (source "portal") and sees their own latest answers again (audited
  "form.read");
- staff with form.fill (owner, manager, provider, front desk) hand a tablet to the client
  (source "tablet"): the form opens blank, nothing the client answered before is shown;
- staff with form.read (provider, owner) read the answers (`visit_answers`, audited
  "form.read"). Anyone with calendar.read sees only counts (`visit_forms`, "Forms 1/2").
Missing and forbidden look alike (NotFound). Services never commit.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, select

from medspa.domain.base import among, is_row_id
from medspa.domain.clients.live import lock_visit
from medspa.domain.audit.service import record
from medspa.domain.catalog.models import Service
from medspa.domain.clinical.form_answers import clean_answers, display_answer
from medspa.domain.clinical.form_models import FormResponse
from medspa.domain.clinical.form_templates import HISTORY_VALID_DAYS, MEDICAL_HISTORY, TEMPLATES, service_forms, template
from medspa.domain.clinical.intake_history import apply_intake_history
from medspa.domain.errors import NotFound
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.models import Location
from medspa.domain.scheduling.models import Appointment, AppointmentStatus
from medspa.domain.timezones import format_clinic_time

FILLABLE = (AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN)
"""Visits whose forms can still be filled (a hold is not a visit yet; a past one is over)."""
SOURCES = ("portal", "tablet")
NEEDS_FORMS = (AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED)
"""Visits that need forms: a hold, a lapsed hold, a cancelled visit or a no-show need none
(their FormStatus is empty, so no "Forms 0/2" on a cancelled block)."""


@dataclass(frozen=True)
class FormStatus:
    """A visit's forms: how many it needs, how many are done, and the titles still missing."""

    required: int = 0
    done: int = 0
    missing: tuple[str, ...] = ()
    missing_keys: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """"Forms 1/2", "Forms done", or "" when the visit needs none."""
        return forms_label(self)


FORMS_DONE = "Forms done"  # the status word of a visit whose forms are all in


def forms_label(status: FormStatus | None) -> str:
    """The status words staff see on the calendar block and day lists: "Forms 1/2" (done /
    needed), "Forms done", or "" (no client, nothing needed)."""
    if status is None or not status.required:
        return ""
    return FORMS_DONE if status.done >= status.required else f"Forms {status.done}/{status.required}"


@dataclass(frozen=True)
class DueForm:
    """A form of one of the client's upcoming visits as the portal lists it."""

    appointment_id: int
    template_key: str
    title: str
    visit_label: str  # "Botox · Wed, Jul 15, 2026, 10:00 AM"
    done: bool


@dataclass(frozen=True)
class FieldView:
    """One question as a page draws it: options as (value, label) pairs."""

    key: str
    label: str
    kind: str
    required: bool
    help: str
    options: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class FormView:
    """A form to fill: template, the visit it is for, the fields and the answers to start from
    (the client's own latest in the portal; always empty on the tablet)."""

    appointment_id: int
    template_key: str
    title: str
    intro: str
    visit_label: str
    fields: list[FieldView]
    answers: dict[str, str]
    version: int  # the latest submitted version (0: none yet)


@dataclass(frozen=True)
class AnsweredForm:
    """A submitted form as staff with form.read read it: (question, answer) pairs."""

    template_key: str
    title: str
    version: int
    submitted_label: str  # "Jul 1, 2026, 12:05 PM by the client in the portal"
    rows: list[tuple[str, str]]


# ---------------------------------------------------------------------------- needed and done


def visit_forms(session: Session, visits: list[Appointment], *,
                services: list[Service] | None = None) -> dict[int, FormStatus]:
    """appointment id -> FormStatus for each of `visits`, in two queries whatever their
    number (services; this visits' responses and the clients' recent history updates; one when
    the caller passes the visits' `services`, already read). A visit without a client, or not in
    NEEDS_FORMS, gets FormStatus() (nothing needed; visits with nothing in yet share one
    status per service). No permission check and no audit: counts only (callers checked calendar.read)."""
    visits = [v for v in visits if v.id is not None]
    if not visits:
        return {}
    if services is not None:
        categories = {svc.id: svc.category for svc in services}
    else:
        categories = dict(session.exec(select(Service.id, Service.category)
                                       .where(Service.id.in_(sorted({v.service_id for v in visits})))).all())
    ids = {v.id for v in visits}
    clients = {v.client_id for v in visits if v.client_id is not None}
    lo = min(v.start_at for v in visits) - timedelta(days=HISTORY_VALID_DAYS)
    # one round trip: the visits' own responses, and the clients' history updates since `lo`
    wanted = among(FormResponse.appointment_id, ids)
    if clients:
        wanted = wanted | ((FormResponse.template_key == MEDICAL_HISTORY) & (FormResponse.submitted_at >= lo)
                           & among(FormResponse.client_id, clients))
    done_here: dict[int, set[str]] = defaultdict(set)
    histories: dict[int, list[datetime]] = defaultdict(list)
    for appointment_id, client_id, key, at in session.exec(
            select(FormResponse.appointment_id, FormResponse.client_id, FormResponse.template_key,
                   FormResponse.submitted_at).where(wanted)):
        if appointment_id in ids:
            done_here[appointment_id].add(key)
        if key == MEDICAL_HISTORY and client_id in clients and at >= lo:
            histories[client_id].append(at)
    out: dict[int, FormStatus] = {}
    needed: dict[int, tuple[str, ...]] = {}
    none_done: dict[int, FormStatus] = {}  # service id -> the status of a visit with nothing in yet
    nothing = FormStatus()
    for v in visits:
        if v.client_id is None or v.status not in NEEDS_FORMS:
            out[v.id] = nothing
            continue
        if v.service_id not in needed:  # a week names a few services for ~1,000 visits
            needed[v.service_id] = keys = (MEDICAL_HISTORY,) + service_forms(categories.get(v.service_id, ""))
            none_done[v.service_id] = FormStatus(len(keys), 0, tuple(TEMPLATES[k].title for k in keys), keys)
        keys = needed[v.service_id]
        here, submitted = done_here.get(v.id), histories.get(v.client_id)
        if not here and not submitted:  # most visits of a week: the same status (frozen) for each
            out[v.id] = none_done[v.service_id]
            continue
        since = v.start_at - timedelta(days=HISTORY_VALID_DAYS)
        recent = any(since <= at <= v.start_at for at in submitted or ())
        done = {k for k in keys if k in (here or ()) or (k == MEDICAL_HISTORY and recent)}
        missing = tuple(k for k in keys if k not in done)
        out[v.id] = FormStatus(len(keys), len(done), tuple(TEMPLATES[k].title for k in missing), missing)
    return out


def visit_form_status(session: Session, actor: Actor, appointment_id: int) -> FormStatus:
    """One visit's FormStatus for the calendar's visit panel (counts and missing titles only;
    calendar.read). Raises NotFound (no such visit, or the actor lacks calendar.read)."""
    if not actor.can("calendar.read") or actor.role == "client":
        raise NotFound("appointment")
    appt = session.get(Appointment, appointment_id) if isinstance(appointment_id, int) else None
    if appt is None:
        raise NotFound("appointment")
    return visit_forms(session, [appt])[appt.id]


def needed_forms(session: Session, appt: Appointment) -> tuple[str, ...]:
    """The template keys `appt` needs (medical history update first), done or not."""
    if appt.client_id is None:
        return ()
    service = session.get(Service, appt.service_id)
    return (MEDICAL_HISTORY,) + service_forms(service.category if service else "")


def _visit_label(session: Session, appt: Appointment) -> str:
    service = session.get(Service, appt.service_id)
    location = session.get(Location, appt.location_id)
    when = format_clinic_time(appt.start_at, location.time_zone) if location else ""
    return f"{service.name if service else 'Visit'} · {when}"


def due_forms(session: Session, actor: Actor, *, now: datetime) -> list[DueForm]:
    """The signed-in client's forms for their upcoming visits (soonest visit first, missing
    before done within a visit). Lists titles only (no answers): not audited as a read of
    answers. Raises NotFound for anyone but a portal client."""
    client_id = _own_client(actor)
    visits = session.exec(select(Appointment).where(Appointment.client_id == client_id,
                                                    Appointment.status.in_(FILLABLE), Appointment.end_at > now)
                          .order_by(Appointment.start_at, Appointment.id)).all()
    status = visit_forms(session, list(visits))
    out: list[DueForm] = []
    for v in visits:
        label = _visit_label(session, v)
        missing = status[v.id].missing_keys
        for key in sorted(needed_forms(session, v), key=lambda k: (k not in missing, k != MEDICAL_HISTORY)):
            out.append(DueForm(v.id, key, TEMPLATES[key].title, label, key not in missing))
    return out


# ---------------------------------------------------------------------------- filling


def _own_client(actor: Actor, action: str = "portal.self.read") -> int:
    if actor.role != "client" or actor.client_id is None or not actor.can(action):
        raise NotFound("client")
    return actor.client_id


def _fillable(session: Session, actor: Actor, appointment_id: int, template_key: str, source: str,
              now: datetime) -> Appointment:
    """The visit whose form `template_key` `actor` may fill through `source`; NotFound else."""
    if source == "portal":
        client_id = _own_client(actor, "portal.self.write")
    elif source == "tablet" and actor.role != "client" and actor.can("form.fill"):
        client_id = None
    else:
        raise NotFound("form")
    appt = session.get(Appointment, appointment_id) if isinstance(appointment_id, int) else None
    if (appt is None or appt.client_id is None or appt.status not in FILLABLE
            or (client_id is not None and appt.client_id != client_id)
            or (source == "portal" and appt.end_at <= now)
            or template_key not in needed_forms(session, appt)):
        raise NotFound("form")
    return appt


def _latest(session: Session, appointment_id: int, template_key: str) -> FormResponse | None:
    return session.exec(select(FormResponse).where(FormResponse.appointment_id == appointment_id,
                                                   FormResponse.template_key == template_key)
                        .order_by(FormResponse.version.desc()).limit(1)).first()


def open_form(session: Session, actor: Actor, appointment_id: int, template_key: str, *, source: str,
              now: datetime) -> FormView:
    """The form to fill. In the portal it starts from the client's own latest answers for this
    visit (audited "form.read" when there are some); on the tablet it starts blank (no client
    data on it). Raises NotFound (not fillable by this actor, or not a form this visit needs)."""
    appt = _fillable(session, actor, appointment_id, template_key, source, now)
    tpl = TEMPLATES[template_key]
    latest = _latest(session, appt.id, template_key)
    answers: dict[str, str] = {}
    if latest is not None and source == "portal":
        answers = {k: str(v) for k, v in latest.answers.items()}
        record(session, actor, "form.read", "form_response", latest.id, client_id=appt.client_id, at=now,
               template=template_key, version=latest.version)
    fields = [FieldView(f.key, f.label, f.kind, f.required, f.help, list(f.options)) for f in tpl.fields]
    return FormView(appt.id, template_key, tpl.title, tpl.intro, _visit_label(session, appt), fields, answers,
                    latest.version if latest else 0)


def submit_form(session: Session, actor: Actor, appointment_id: int, template_key: str, answers: dict, *,
                source: str, now: datetime) -> int:
    """Check and store the answers as a new version (1 the first time; the latest counts).
    Returns the version number. Audited "form.submit" (template and version, never answers).

    The visit is locked and read afresh first: the form row and the history change go to the
    client the visit belongs to when the lock is held (a merge moves visits to the survivor).

    Raises NotFound (see open_form), ValidationFailed (a message per field key; a list the
    medical history form would take past its cap: intake_history.apply_intake_history)."""
    if not is_row_id(appointment_id):
        raise NotFound("form")
    # One submission at a time per visit, and none during a merge of its client. Locks in the
    # merge's order, the client's row and then the visit's (else the two deadlock): the visit's
    # client, locked, then the visit, read fresh (populate_existing). A merge that committed
    # before moved the visit to the surviving client: lock that one instead, so the form and the
    # history go there (a portal client of the merged-away record no longer owns the visit:
    # NotFound). A merge that starts after waits for the client's lock and moves what is written here.
    lock_visit(session, appointment_id)
    appt = _fillable(session, actor, appointment_id, template_key, source, now)
    location = session.get(Location, appt.location_id)
    today = now.astimezone(ZoneInfo(location.time_zone if location else "UTC")).date()
    clean = clean_answers(TEMPLATES[template_key], answers, today=today)
    last = session.exec(select(func.max(FormResponse.version)).where(
        FormResponse.appointment_id == appt.id, FormResponse.template_key == template_key)).one() or 0
    row = FormResponse(org_id=actor.org_id, client_id=appt.client_id, appointment_id=appt.id,
                       template_key=template_key, template_version=TEMPLATES[template_key].version,
                       version=last + 1, answers=clean, source=source, submitted_at=now,
                       submitted_by_user_id=actor.user_id, submitted_by_label=actor.label[:120])
    session.add(row)
    session.flush()
    record(session, actor, "form.submit", "form_response", row.id, client_id=appt.client_id, at=now,
           template=template_key, version=row.version, source=source)
    if template_key == MEDICAL_HISTORY:  # the client's statement goes on the record (intake_history)
        apply_intake_history(session, actor, appt.client_id, clean, now)  # may refuse: nothing is kept
    return row.version


# ---------------------------------------------------------------------------- reading answers


def visit_answers(session: Session, actor: Actor, appointment_id: int, *, now: datetime) -> list[AnsweredForm]:
    """The latest submitted version of each form of a visit, as questions and answers
    (form.read: provider, owner; one "form.read" audit row with the client). Raises NotFound
    (no such visit, no client, or the actor lacks form.read)."""
    if not actor.can("form.read") or actor.role == "client":
        raise NotFound("form")
    appt = session.get(Appointment, appointment_id) if isinstance(appointment_id, int) else None
    if appt is None or appt.client_id is None:
        raise NotFound("form")
    rows = session.exec(select(FormResponse).where(FormResponse.appointment_id == appt.id)
                        .order_by(FormResponse.template_key, FormResponse.version.desc())).all()
    latest: dict[str, FormResponse] = {}
    for r in rows:
        latest.setdefault(r.template_key, r)
    location = session.get(Location, appt.location_id)
    zone = location.time_zone if location else "UTC"
    out = []
    for key in needed_forms(session, appt) + tuple(k for k in latest if k not in needed_forms(session, appt)):
        r, tpl = latest.get(key), template(key)
        if r is None or tpl is None:
            continue
        who = "the client in the portal" if r.source == "portal" else f"the client on a tablet ({r.submitted_by_label})"
        out.append(AnsweredForm(key, tpl.title, r.version, f"{format_clinic_time(r.submitted_at, zone)} by {who}",
                                [(f.label, display_answer(f, str(r.answers.get(f.key, "")))) for f in tpl.fields]))
    record(session, actor, "form.read", "appointment", appt.id, client_id=appt.client_id, at=now,
           forms=[a.template_key for a in out])
    return out


__all__ = ["AnsweredForm", "DueForm", "FieldView", "FormStatus", "FormView", "due_forms", "forms_label",
           "needed_forms", "open_form", "submit_form", "visit_answers", "visit_form_status", "visit_forms"]
