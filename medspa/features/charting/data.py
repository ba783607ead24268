"""The chart page's calls into the domain, one transaction each (run in a worker thread).

No Reflex here: the state awaits these with asyncio.to_thread and keeps what they return.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine

from medspa.db import tenant_session
from medspa.domain.clinical.service import Chart, LineInput, amend_chart, get_chart, save_chart, sign_chart
from medspa.domain.identity.actor import Actor


def load(engine: Engine, actor: Actor, appointment_id: int, now: datetime) -> Chart:
    with tenant_session(actor.org_id, engine) as s:
        chart = get_chart(s, actor, appointment_id, now)
        s.commit()  # the chart.read audit row
        return chart


def save(engine: Engine, actor: Actor, appointment_id: int, lines: list[LineInput], note: str,
         now: datetime) -> Chart:
    with tenant_session(actor.org_id, engine) as s:
        chart = save_chart(s, actor, appointment_id, lines, note, now)
        s.commit()
        return chart


def save_and_sign(engine: Engine, actor: Actor, appointment_id: int, lines: list[LineInput], note: str,
                  now: datetime) -> Chart:
    """What is on screen is what gets signed: save and sign in one transaction (all or nothing)."""
    with tenant_session(actor.org_id, engine) as s:
        save_chart(s, actor, appointment_id, lines, note, now)
        chart = sign_chart(s, actor, appointment_id, now)
        s.commit()
        return chart


def amend(engine: Engine, actor: Actor, appointment_id: int, now: datetime) -> Chart:
    with tenant_session(actor.org_id, engine) as s:
        chart = amend_chart(s, actor, appointment_id, now)
        s.commit()
        return chart
