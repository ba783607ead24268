"""The demo's medical histories (issue 17): some clients with a recorded history, so the
contraindication flags show on the calendar, the day lists and the book dialog of `make run`:

- the client of the next upcoming neuromodulator visit is pregnant;
- the client of the next upcoming peel, laser, IPL or microneedling visit stopped isotretinoin
  three months ago (inside the 6-month window);
- the client of the next filler visit is allergic to lidocaine;
- a few dozen other clients have ordinary histories (skin type, a latex allergy, goals).

Histories are recorded as from the intake form (source "intake form"), dated a week before now.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlmodel import Session, select

from medspa.domain.catalog.models import Service
from medspa.domain.clinical.contraindications import apply_default_rules
from medspa.domain.clinical.medical_history import record_history
from medspa.domain.scheduling.models import Appointment, AppointmentStatus

RESURFACING = ("Chemical peels", "Laser hair removal", "IPL photofacial", "Microneedling")
GOALS = ("Softer frown lines", "Even skin tone before the summer", "Less redness", "Smoother texture",
         "Fewer dark spots", "Fuller lips, natural look")


def _next_visit(session: Session, categories: tuple[str, ...], now: datetime, taken: set[int]) -> Appointment | None:
    rows = session.exec(select(Appointment).join(Service, Service.id == Appointment.service_id)
                        .where(Service.category.in_(categories), Appointment.start_at >= now,
                               Appointment.status == AppointmentStatus.CONFIRMED, Appointment.client_id.is_not(None))
                        .order_by(Appointment.start_at, Appointment.id).limit(20)).all()
    return next((a for a in rows if a.client_id not in taken), None)


def seed_health(session: Session, now: datetime, *, seed: int = 17) -> int:
    """Record the demo's histories (see the module docstring) in the caller's transaction;
    every service without contraindications gets its category's defaults. Returns how many
    clients got a history. `now`: aware UTC, the seed's clock."""
    for service in session.exec(select(Service)).all():
        apply_default_rules(session, service)
    at = now - timedelta(days=7)
    done: set[int] = set()

    def note(client_id: int, changes: dict) -> None:
        record_history(session, client_id, changes, by_user_id=None, by_label="Intake form", source="intake form",
                       now=at)
        done.add(client_id)

    flagged = (
        (("Neuromodulators",), {"pregnancy": {"pregnant": True, "breastfeeding": False},
                                "goals": {"text": "Softer frown lines"}}),
        (RESURFACING, {"medications": [{"name": "Isotretinoin", "dose": "20 mg daily",
                                        "stopped_on": (now - timedelta(days=90)).date().isoformat()}],
                       "fitzpatrick": {"type": "III"}}),
        (("Dermal fillers",), {"allergies": [{"agent": "Lidocaine", "reaction": "hives"}]}),
    )
    for categories, changes in flagged:
        visit = _next_visit(session, categories, now, done)
        if visit is not None:
            note(visit.client_id, changes)
    rng = random.Random(seed)
    others = session.exec(select(Appointment.client_id).where(Appointment.client_id.is_not(None))
                          .distinct().order_by(Appointment.client_id).limit(200)).all()
    for client_id in rng.sample(list(others), min(40, len(others))):
        if client_id in done:
            continue
        changes: dict = {"fitzpatrick": {"type": rng.choice(("I", "II", "III", "III", "IV"))},
                         "goals": {"text": rng.choice(GOALS)},
                         "lifestyle": {"sun_exposure": rng.choice(("low", "moderate", "high")),
                                       "smoking": rng.random() < 0.1}}
        if rng.random() < 0.2:
            changes["allergies"] = [{"agent": "Latex", "reaction": "rash"}]
        if rng.random() < 0.15:
            changes["conditions"] = [{"name": rng.choice(("Asthma", "Hypothyroidism", "Rosacea"))}]
        note(client_id, changes)
    session.flush()
    return len(done)
