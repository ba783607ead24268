"""Demo intake forms (issue 17): some of the visits of today and tomorrow have their forms done
("Forms done" on the calendar), the others none yet ("Forms 0/2"), so the calendar, the day
lists and the portal show both. Rows are written directly (the seed is not a user); answers are
valid for the built-in templates (form_templates.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from medspa.domain.catalog.models import Service
from medspa.domain.clinical.form_models import FormResponse
from medspa.domain.clinical.form_templates import MEDICAL_HISTORY, TEMPLATES, service_forms
from medspa.domain.scheduling.models import Appointment

ANSWERS: dict[str, dict[str, str]] = {
    MEDICAL_HISTORY: {"allergies_any": "no", "medications_any": "yes", "medications": "Vitamin D, 1000 IU",
                      "pregnant": "no", "breastfeeding": "no", "fitzpatrick": "III", "sun_exposure": "moderate",
                      "smoking": "no", "goals": "Look fresher for the summer"},
    "neuromodulator": {"areas": "Forehead and frown lines", "previous_toxin": "yes", "neuromuscular": "no",
                       "blood_thinners": "no"},
    "filler": {"areas": "Lips", "previous_filler": "no", "cold_sores": "no", "dental": "no", "blood_thinners": "no"},
    "laser": {"area": "Underarms", "tan": "none", "photosensitive": "no", "isotretinoin_recent": "no",
              "tattoos": "no"},
    "peel": {"concern": "pigmentation", "retinoids": "no", "isotretinoin_recent": "no", "waxing": "no",
             "cold_sores": "no"},
}


def seed_forms(session: Session, org_id: int, now: datetime) -> int:
    """Submit every form of two visits in three among the confirmed visits starting in the next
    48 hours (by the client, in the portal, a day before). Returns the responses written."""
    rows = session.exec(select(Appointment, Service.category).join(Service, Service.id == Appointment.service_id)
                        .where(Appointment.org_id == org_id, Appointment.client_id.is_not(None),
                               Appointment.status.in_(("confirmed", "checked_in")),
                               Appointment.start_at >= now - timedelta(hours=12),
                               Appointment.start_at < now + timedelta(hours=48))
                        .order_by(Appointment.start_at, Appointment.id)).all()
    written = 0
    for index, (appt, category) in enumerate(rows):
        if index % 3 == 2:
            continue  # this one still waits for its forms
        for key in (MEDICAL_HISTORY,) + service_forms(category):
            session.add(FormResponse(org_id=org_id, client_id=appt.client_id, appointment_id=appt.id,
                                     template_key=key, template_version=TEMPLATES[key].version, version=1,
                                     answers=dict(ANSWERS[key]), source="portal",
                                     submitted_at=min(now, appt.start_at) - timedelta(days=1),
                                     submitted_by_label="client portal"))
            written += 1
    session.flush()
    return written
