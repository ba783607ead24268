"""`medspa check`: the money invariant (domain/payments/invariant.py) in every clinic, run as
the app role (row-level security on, one tenant transaction per clinic)."""

from __future__ import annotations


def money_check(settings, db, *, clinic: str = ""):
    """payments.actions.fetch_money_violations on the database `db` (an ops.database.Database):
    one ClinicViolations per clinic checked."""
    from medspa.db import get_engine
    from medspa.domain.payments.actions import fetch_money_violations
    from medspa.ops.database import require_schema

    require_schema(settings, db)
    engine = get_engine(db.settings(settings))
    try:
        return fetch_money_violations(clinic=clinic, engine=engine)
    finally:
        engine.dispose()
