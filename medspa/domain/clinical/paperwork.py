"""A visit's paperwork as status words any staff member with calendar.read may see (issue 17):
its intake forms ("Forms 1/2", "Forms done": clinical/forms.py) and its consents ("Consents 0/1",
"Consents signed": clinical/consent.py). One place the calendar blocks and the day lists read
them from, batched: a handful of queries whatever the number of visits. Never answers, texts
or signatures, so there is nothing to audit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from medspa.domain.catalog.models import Service
from medspa.domain.clinical.consent import CONSENTS_SIGNED, visit_consents
from medspa.domain.clinical.forms import FORMS_DONE, NEEDS_FORMS, forms_label, visit_forms
from medspa.domain.scheduling.models import Appointment


@dataclass(frozen=True)
class Paperwork:
    """Status words of one visit: forms ("" none needed) and consents ("" none required)."""

    forms: str = ""
    consents: str = ""

    @property
    def due(self) -> str:
        """What is still missing, in the same words ("Forms 1/2 · Consents 0/1"), "" when all is in."""
        return " · ".join(w for w in (self.forms, self.consents) if w and w not in (FORMS_DONE, CONSENTS_SIGNED))


def visit_paperwork(session: Session, visits: list[Appointment], now: datetime) -> dict[int, Paperwork]:
    """appointment id -> Paperwork for each of `visits`. Visits that expect no paperwork (holds,
    cancelled, no-shows, no client: forms.NEEDS_FORMS) get empty words. `now`: aware UTC (the
    clinic's built-in consent texts are added on first use)."""
    due = [v for v in visits if v.id is not None and v.client_id is not None and v.status in NEEDS_FORMS]
    if not due:
        return {}
    services = list(session.exec(select(Service).where(Service.id.in_(sorted({v.service_id for v in due})))))
    forms = visit_forms(session, due, services=services)  # the services read once for both
    consents = visit_consents(session, due, now=now, services=services)
    out: dict[int, Paperwork] = {}
    same: dict[tuple[str, str], Paperwork] = {}  # a week's ~1,000 visits share a few (frozen) pairs of words
    for v in due:
        words = (forms_label(forms.get(v.id)), consents[v.id].label if v.id in consents else "")
        out[v.id] = same.get(words) or same.setdefault(words, Paperwork(*words))
    return out
