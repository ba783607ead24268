"""Demo orders and results: a few tests in every status, so /lab, the client profile's
"Tests and results" and the portal's Results tab show something on first run.

Made through the real services (domain/clinical/orders.py) as the demo nurse and the demo lab
user, so every step is stamped and audited like one made in the app."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text
from sqlmodel import Session, select

from medspa.domain.clinical.lab_tests import LabTest, ensure_builtin_tests
from medspa.domain.clinical.orders import mark_collected, place_order, record_result, review_result
from medspa.domain.identity.actor import Actor

THYROID = [{"name": "TSH", "value": "5.8", "unit": "mIU/L", "low": "0.4", "high": "4.0"},
           {"name": "Free T4", "value": "1.1", "unit": "ng/dL", "low": "0.8", "high": "1.8"}]
CMP = [{"name": "Glucose", "value": "92", "unit": "mg/dL", "low": "70", "high": "99"},
       {"name": "Creatinine", "value": "0.9", "unit": "mg/dL", "low": "0.6", "high": "1.1"},
       {"name": "ALT", "value": "24", "unit": "U/L", "low": "7", "high": "35"}]
# (test, how far it got, hours ago ordered, values, lab notes, review note)
PLAN = (
    ("Lidocaine patch test", "ordered", 20, [], "", ""),
    ("hCG pregnancy test", "ordered", 3, [], "", ""),
    ("Complete blood count (CBC)", "collected", 26, [], "", ""),
    ("Thyroid panel", "resulted", 72, THYROID, "", ""),
    ("Hyaluronic acid patch test", "resulted", 50, [], "No reaction at 48 hours.", ""),
    ("Comprehensive metabolic panel", "reviewed", 120, CMP, "",
     "All values in range. Nothing to do before your treatment."),
)


def seed_orders(session: Session, org_id: int, now: datetime, provider: Actor, lab: Actor) -> int:
    """Orders for the first clients with a completed visit, one per PLAN row; returns how many."""
    ensure_builtin_tests(session, org_id, now)
    tests = {t.name: t.id for t in session.exec(select(LabTest))}
    clients = list(session.execute(text(
        "select client_id from appointment where status = 'completed' and client_id is not null "
        "group by client_id order by min(start_at) desc limit :n"), {"n": len(PLAN)}).scalars())
    for client_id, (test, status, hours, values, notes, review) in zip(clients, PLAN):
        at = now - timedelta(hours=hours)
        order = place_order(session, provider, client_id, tests[test], at)
        if status == "ordered":
            continue
        mark_collected(session, lab, order.id, at + timedelta(hours=1))
        if status == "collected":
            continue
        record_result(session, lab, order.id, values, notes, at + timedelta(hours=20))
        if status == "reviewed":
            review_result(session, provider, order.id, review, at + timedelta(hours=30))
    return min(len(clients), len(PLAN))
