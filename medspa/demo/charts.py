"""Demo charts (issue 18): the demo's completed visits of the last 15 months carry a signed chart
note, most signed within hours of the visit, some the next days, a few late and a handful still
unsigned, so the dashboard's "Charting" card (analytics/timeliness.py) shows a clinic that charts.

Bulk rows like the rest of the demo's history (a year of visits through the services would take
minutes); notes only, no treatment lines, so no lot is touched. The signed-note trigger refuses
changes to a signed note, not its insertion."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import insert, text
from sqlmodel import Session

from medspa.domain.clinical.models import NoteStatus, TreatmentNote

NOTES = ("Treatment as planned. Tolerated well; aftercare reviewed.",
         "Areas treated as discussed. No immediate reaction. Follow-up in two weeks.",
         "Client comfortable throughout. Mild erythema, expected to settle within hours.",
         "Plan reviewed with the client; treated as charted. Aftercare sheet given.")


def _delay(rng: random.Random) -> timedelta | None:
    """How long after the visit's end its chart was signed (None: not yet signed)."""
    roll = rng.random()
    if roll < 0.78:
        return timedelta(minutes=rng.randint(5, 20 * 60))  # same day
    if roll < 0.91:
        return timedelta(hours=rng.uniform(24, 70))
    if roll < 0.97:
        return timedelta(days=rng.uniform(3, 12))
    return None


def seed_charts(session: Session, org_id: int, now: datetime, *, seed: int = 18) -> int:
    """A signed chart note for most completed visits that ended in the 15 months before `now`
    (aware UTC); returns the notes written. Deterministic for a `seed`."""
    rng = random.Random(seed)
    visits = session.execute(text("""
        select a.id, a.client_id, a.provider_id, a.end_at, s.display_name
          from appointment a join staff_member s on s.id = a.provider_id
         where a.status = 'completed' and a.client_id is not null and a.end_at < :now
           and a.end_at >= :since
           and not exists (select 1 from treatment_note n where n.appointment_id = a.id)
         order by a.id"""), {"now": now, "since": now - timedelta(days=460)}).all()
    rows = []
    for appointment_id, client_id, provider_id, end_at, provider_name in visits:
        delay = _delay(rng)
        if delay is None or end_at + delay > now:
            continue  # still to be charted
        signed_at = end_at + delay
        rows.append({"org_id": org_id, "appointment_id": appointment_id, "client_id": client_id,
                     "provider_id": provider_id, "author_label": provider_name, "version": 1,
                     "status": NoteStatus.SIGNED.value, "note": rng.choice(NOTES), "created_at": end_at,
                     "updated_at": signed_at, "signed_at": signed_at, "signed_by_label": provider_name})
    for i in range(0, len(rows), 2000):
        session.execute(insert(TreatmentNote.__table__), rows[i:i + 2000])
    return len(rows)


__all__ = ["seed_charts"]
