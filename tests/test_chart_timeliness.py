"""Chart timeliness (issue 18; domain/analytics/timeliness.py): the share of charts signed
within 24 h and 72 h of the visit's end, with an injected clock across both edges."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from medspa.domain.analytics.timeliness import chart_timeliness
from medspa.domain.clients.service import ClientInput, find_or_create_client
from medspa.domain.clinical.service import LineInput, amend_chart, save_chart, sign_chart
from medspa.domain.identity.actor import Actor, PermissionDenied
from medspa.domain.scheduling.service import hold_slot
from tests.conftest import utc
from tests.consent_support import sign_required_consents

NY = ZoneInfo("America/New_York")
BOOKED = utc(2026, 6, 20, 12)
BOTOX = LineInput("Botox", "C3709C3", "20", "glabella")


def _visit(clinic, day: date, hour: int, *, completed: bool = True) -> int:
    with clinic.session() as s:
        client = find_or_create_client(s, clinic.system, ClientInput(
            "Ivy", "Stone", f"ivy-{uuid.uuid4().hex[:8]}@example.com", "+12125550160"))
        start = datetime.combine(day, time(hour), tzinfo=NY).astimezone(timezone.utc)
        appt = hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services["botox"],
                         start_at=start, now=BOOKED, client_id=client.id, confirm=True)
        if completed:
            s.execute(text("update appointment set status = 'completed' where id = :a"), {"a": appt.id})
        s.commit()
    sign_required_consents(clinic, appt.id, now=BOOKED)
    return appt.id


def _sign(clinic, appt: int, at: datetime) -> None:
    nurse = clinic.staff_actor("provider", clinic.provider_ids[0])
    with clinic.session() as s:
        save_chart(s, nurse, appt, [BOTOX], "", at)
        sign_chart(s, nurse, appt, at)
        s.commit()


def _figures(clinic, now: datetime, **kw):
    with clinic.session() as s:
        t = chart_timeliness(s, clinic.staff_actor("owner"), start=date(2026, 7, 1), end=date(2026, 7, 1),
                             location_id=kw.get("location_id"), now=now)
        return t.visits, t.within_24, t.due_24, t.within_72, t.due_72, t.unsigned


def test_shares_signed_within_24_and_72_hours_across_the_edges(clinic):
    # visits of Jul 1 (EDT, 30 min): ends 13:30Z, 14:30Z, 15:30Z, 16:30Z
    a, b, c, d = (_visit(clinic, date(2026, 7, 1), h) for h in (9, 10, 11, 12))
    _visit(clinic, date(2026, 7, 1), 13, completed=False)  # not completed: not counted
    _visit(clinic, date(2026, 7, 2), 9)  # another day: not in the range
    _sign(clinic, a, utc(2026, 7, 2, 13, 29))  # 23 h 59 min after its end
    _sign(clinic, b, utc(2026, 7, 2, 14, 31))  # 24 h 1 min: late for 24 h, fine for 72 h
    # Jul 3 17:00Z: c and d unsigned, past 24 h (late), inside 72 h (left out of the 72 h share)
    assert _figures(clinic, utc(2026, 7, 3, 17)) == (4, 1, 4, 2, 2, 2)
    _sign(clinic, c, utc(2026, 7, 4, 15, 30))  # exactly 72 h: in time
    assert _figures(clinic, utc(2026, 7, 4, 16, 29)) == (4, 1, 4, 3, 3, 1)
    assert _figures(clinic, utc(2026, 7, 4, 16, 30)) == (4, 1, 4, 3, 4, 1)  # d's 72 h window just passed
    with clinic.session() as s:
        t = chart_timeliness(s, clinic.staff_actor("manager"), start=date(2026, 7, 1), end=date(2026, 7, 1),
                             location_id=None, now=utc(2026, 7, 5))
        assert (t.rate_24, t.rate_72) == (0.25, 0.75)
    # an amendment signed later does not move the first signature
    nurse = clinic.staff_actor("provider", clinic.provider_ids[0])
    with clinic.session() as s:
        amend_chart(s, nurse, a, utc(2026, 7, 6))
        save_chart(s, nurse, a, [BOTOX], "amended", utc(2026, 7, 6))
        sign_chart(s, nurse, a, utc(2026, 7, 6))
        s.commit()
    assert _figures(clinic, utc(2026, 7, 10)) == (4, 1, 4, 3, 4, 1)


@pytest.mark.parametrize("role", ["provider", "front_desk", "lab"])
def test_only_report_readers(clinic, role):
    with clinic.session() as s, pytest.raises(PermissionDenied):
        chart_timeliness(s, Actor(org_id=clinic.org_id, role=role), start=date(2026, 7, 1), end=date(2026, 7, 1),
                         location_id=None, now=utc(2026, 7, 5))


def test_nothing_to_measure_has_no_share(clinic):
    with clinic.session() as s:
        t = chart_timeliness(s, clinic.staff_actor("owner"), start=date(2026, 7, 1), end=date(2026, 7, 1),
                             location_id=None, now=utc(2026, 7, 5))
    assert (t.visits, t.rate_24, t.rate_72) == (0, None, None)
