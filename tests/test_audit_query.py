"""The owner's audit search and CSV export (medspa/domain/audit/query.py) on real PostgreSQL."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import text
from sqlmodel import select

from medspa.domain.audit.models import AuditEvent
from medspa.domain.audit.query import (
    CSV_HEADER,
    audit_filter_options,
    csv_cell,
    export_audit_csv,
    search_audit,
)
from medspa.domain.audit.service import record
from medspa.domain.clients.service import ClientInput, find_or_create_client
from medspa.domain.errors import ValidationFailed
from medspa.domain.identity.actor import Actor, PermissionDenied
from medspa.domain.identity.service import create_user
from tests.conftest import utc
from tests.factories import build_clinic

NOW = utc(2031, 3, 3, 12, 0)


def _user(clinic, role: str, name: str) -> Actor:
    with clinic.session() as s:
        user = create_user(s, clinic.system, email=f"{role}-{uuid.uuid4().hex[:8]}@example.com",
                           password="long-enough-password", role=role, display_name=name)
        s.commit()
        return Actor(org_id=clinic.org_id, role=role, user_id=user.id, label=name, ip="203.0.113.7",
                     user_agent="pytest-agent")


def _client(clinic, first: str, last: str) -> int:
    with clinic.session() as s:
        c = find_or_create_client(s, clinic.system, ClientInput(first, last, f"{uuid.uuid4().hex[:8]}@example.com"),
                                  require_contact=False)
        s.commit()
        return c.id


def _event(clinic, actor: Actor, at: datetime, action: str = "client.read", client_id: int | None = None,
           object_id: str = "1") -> None:
    with clinic.session() as s:
        record(s, actor, action, "client", object_id, client_id=client_id, at=at)
        s.commit()


def _search(clinic, actor: Actor, **kw):
    kw.setdefault("time_zone", clinic.time_zone)
    with clinic.session() as s:
        page = search_audit(s, actor, now=NOW, **kw)
        s.commit()
        return page


def _export(clinic, actor: Actor, **kw) -> str:
    kw.setdefault("time_zone", clinic.time_zone)
    with clinic.session() as s:
        body = "".join(export_audit_csv(s, actor, now=NOW, **kw))
        s.commit()
        return body


@pytest.fixture
def owner_clinic(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    owner = _user(clinic, "owner", "Olivia Owner")
    desk = _user(clinic, "front_desk", "Dana Desk")
    return clinic, owner, desk


def test_filters_client_staff_dates_newest_first_with_client_names(owner_clinic):
    clinic, owner, desk = owner_clinic
    ana, ben = _client(clinic, "Ana", "Alves"), _client(clinic, "Ben", "Brook")
    _event(clinic, desk, utc(2030, 5, 1, 15), client_id=ana, object_id=str(ana))
    _event(clinic, desk, utc(2030, 5, 2, 15), client_id=ben, object_id=str(ben))
    _event(clinic, owner, utc(2030, 5, 3, 15), client_id=ana, object_id=str(ana))
    _event(clinic, owner, utc(2030, 5, 4, 15), action="settings.write")

    page = _search(clinic, owner, start=date(2030, 5, 1), end=date(2030, 5, 4))
    assert [r.occurred_at for r in page.rows] == [utc(2030, 5, d, 15) for d in (4, 3, 2, 1)]
    top = page.rows[1]
    assert (top.actor_label, top.actor_role, top.action, top.object, top.client_name) == (
        "Olivia Owner", "owner", "client.read", f"client {ana}", "Ana Alves")
    assert (top.ip, top.user_agent) == ("203.0.113.7", "pytest-agent")
    assert top.time == "2030-05-03T11:00:00-04:00" and top.time_label == "May 3, 2030 11:00:00 AM EDT"
    assert page.rows[0].client_name == "" and not page.has_more

    by_client = _search(clinic, owner, client_id=ana, start=date(2030, 5, 1), end=date(2030, 5, 31))
    assert [r.occurred_at.day for r in by_client.rows] == [3, 1]
    by_staff = _search(clinic, owner, actor_user_id=desk.user_id, start=date(2030, 5, 1), end=date(2030, 5, 31))
    assert [r.client_name for r in by_staff.rows] == ["Ben Brook", "Ana Alves"]
    both = _search(clinic, owner, client_id=ana, actor_user_id=desk.user_id)
    assert [r.occurred_at for r in both.rows] == [utc(2030, 5, 1, 15)]
    assert _search(clinic, owner, start=date(2030, 5, 5), end=date(2030, 5, 31)).rows == []
    with pytest.raises(ValidationFailed):
        _search(clinic, owner, start=date(2030, 5, 5), end=date(2030, 5, 1))
    with pytest.raises(ValidationFailed):
        _search(clinic, owner, time_zone="Mars/Olympus")


def test_pages_are_stable_although_every_search_is_audited(owner_clinic):
    clinic, owner, desk = owner_clinic
    for i in range(5):
        _event(clinic, desk, utc(2030, 6, 1, 10, i))
    first = _search(clinic, owner, actor_user_id=None, start=date(2030, 6, 1), end=date(2031, 12, 31), limit=2)
    # the search's own audit row is recorded after its query (and is newer than the range anyway)
    assert [r.occurred_at.minute for r in first.rows] == [4, 3] and first.has_more
    second = _search(clinic, owner, start=date(2030, 6, 1), end=date(2031, 12, 31), limit=2, offset=2,
                     before_id=first.before_id)
    third = _search(clinic, owner, start=date(2030, 6, 1), end=date(2031, 12, 31), limit=2, offset=4,
                    before_id=first.before_id)
    assert [r.occurred_at.minute for r in second.rows] == [2, 1] and second.has_more
    assert [r.occurred_at.minute for r in third.rows] == [0] and not third.has_more
    # without the pin the searches themselves (at NOW) are the newest rows
    fresh = _search(clinic, owner, start=date(2030, 6, 1), end=date(2031, 12, 31), limit=3)
    assert [r.action for r in fresh.rows] == ["audit.search"] * 3


@pytest.mark.parametrize(("zone", "day", "inside", "outside"), [
    # east of UTC: Tokyo (UTC+9) - 1 July starts at 30 June 15:00 UTC
    ("Asia/Tokyo", date(2030, 7, 1), [utc(2030, 6, 30, 15, 0), utc(2030, 7, 1, 14, 59, 59)],
     [utc(2030, 6, 30, 14, 59, 59), utc(2030, 7, 1, 15, 0)]),
    # west of UTC: Los Angeles (UTC-7 in summer) - 1 July starts at 07:00 UTC
    ("America/Los_Angeles", date(2030, 7, 1), [utc(2030, 7, 1, 7, 0), utc(2030, 7, 2, 6, 59, 59)],
     [utc(2030, 7, 1, 6, 59, 59), utc(2030, 7, 2, 7, 0)]),
    # the fall-back day in Los Angeles has 25 hours: 07:00 UTC to 08:00 UTC the next day
    ("America/Los_Angeles", date(2030, 11, 3), [utc(2030, 11, 3, 7, 0), utc(2030, 11, 4, 7, 59, 59)],
     [utc(2030, 11, 3, 6, 59, 59), utc(2030, 11, 4, 8, 0)]),
])
def test_days_are_cut_at_local_midnight(engine, owner_engine, zone, day, inside, outside):
    clinic = build_clinic(engine, owner_engine, time_zone=zone)
    owner = _user(clinic, "owner", "Olivia Owner")
    desk = _user(clinic, "front_desk", "Dana Desk")
    for at in inside + outside:
        _event(clinic, desk, at)
    page = _search(clinic, owner, actor_user_id=desk.user_id, start=day, end=day)
    assert sorted(r.occurred_at for r in page.rows) == sorted(inside)
    assert all(r.time.startswith(day.isoformat()) for r in page.rows)
    body = _export(clinic, owner, actor_user_id=desk.user_id, start=day, end=day)
    assert len(body.splitlines()) == 1 + len(inside)
    # open-ended ranges use the same cut
    assert {r.occurred_at for r in _search(clinic, owner, actor_user_id=desk.user_id, start=day).rows} == \
        set(inside) | {max(outside)}
    assert {r.occurred_at for r in _search(clinic, owner, actor_user_id=desk.user_id, end=day).rows} == \
        set(inside) | {min(outside)}


@pytest.mark.parametrize("role", ["manager", "front_desk", "provider", "lab", "client", "public", "system"])
def test_only_the_owner_may_read_the_trail(owner_clinic, role):
    clinic, owner, desk = owner_clinic
    other = Actor(org_id=clinic.org_id, role=role, user_id=desk.user_id, label="someone")
    with clinic.session() as s:
        with pytest.raises(PermissionDenied):
            search_audit(s, other, time_zone=clinic.time_zone)
        with pytest.raises(PermissionDenied):
            export_audit_csv(s, other, time_zone=clinic.time_zone)  # refused before any iteration
        with pytest.raises(PermissionDenied):
            audit_filter_options(s, other)
        assert s.exec(select(AuditEvent).where(AuditEvent.action.in_(["audit.search", "audit.export"]))).all() == []


def test_another_clinics_trail_is_invisible(owner_clinic, engine, owner_engine):
    clinic, owner, desk = owner_clinic
    other = build_clinic(engine, owner_engine)
    stranger = _user(other, "front_desk", "Sam Stranger")
    _event(other, stranger, utc(2030, 8, 1, 12))
    _event(clinic, desk, utc(2030, 8, 1, 12))
    page = _search(clinic, owner, start=date(2030, 8, 1), end=date(2030, 8, 1))
    assert [r.actor_label for r in page.rows] == ["Dana Desk"]
    # even when asking for the other clinic's staff member by id
    assert _search(clinic, owner, actor_user_id=stranger.user_id).rows == []
    opts = _options(clinic, owner)
    assert {label for _, label, _ in opts.staff} == {"Olivia Owner", "Dana Desk"}
    assert [(name, zone) for _, name, zone in opts.locations] == [("Main", "America/New_York")]


def _options(clinic, actor):
    with clinic.session() as s:
        return audit_filter_options(s, actor)


def test_csv_is_rfc4180_and_defuses_formulas(owner_clinic):
    clinic, owner, desk = owner_clinic
    ana = _client(clinic, "=HYPERLINK(\"http://evil\")", "Doe, \"Jr\"")
    nasty = Actor(org_id=clinic.org_id, role="front_desk", user_id=desk.user_id, label="+SUM(A1:A9)",
                  ip="-2+3", user_agent="@cmd|' /C calc'!A0\r\nsecond line")
    _event(clinic, nasty, utc(2030, 9, 1, 12), client_id=ana, object_id="=1+1\r\nsecond line")
    body = _export(clinic, owner, start=date(2030, 9, 1), end=date(2030, 9, 1))
    assert body.endswith("\r\n") and body.count("\r\n") == 3  # header, row (one CRLF inside quotes)
    rows = list(csv.reader(io.StringIO(body, newline="")))
    assert rows[0] == list(CSV_HEADER)
    row = dict(zip(rows[0], rows[1]))
    assert row["actor"] == "'+SUM(A1:A9)"
    assert row["ip"] == "'-2+3"
    assert row["user_agent"] == "'@cmd|' /C calc'!A0second line"  # the Actor records it without controls
    assert row["object_id"] == "'=1+1\r\nsecond line"
    assert row["client"] == "'=HYPERLINK(\"http://evil\") Doe, \"Jr\""
    assert row["time"] == "2030-09-01T08:00:00-04:00" and row["time_zone"] == "America/New_York"
    assert row["client_id"] == str(ana) and row["role"] == "front_desk" and row["action"] == "client.read"
    assert '"\'=HYPERLINK(""http://evil"") Doe, ""Jr"""' in body  # quotes doubled inside a quoted field
    for cell in ("=x", "+x", "-x", "@x", "\tx", "\rx"):
        assert csv_cell(cell) == "'" + cell
    assert csv_cell("plain") == "plain" and csv_cell(None) == "" and csv_cell(12) == "12"


def test_search_and_export_are_audited(owner_clinic):
    clinic, owner, desk = owner_clinic
    ana = _client(clinic, "Ana", "Alves")
    _search(clinic, owner, client_id=ana, actor_user_id=desk.user_id, start=date(2030, 1, 1), end=date(2030, 1, 31))
    _export(clinic, owner, client_id=ana)
    with clinic.session() as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.action.in_(["audit.search", "audit.export"]))
                        .order_by(AuditEvent.id)).all()
    assert [(e.action, e.actor_user_id, e.actor_role, e.occurred_at, e.ip) for e in events] == [
        ("audit.search", owner.user_id, "owner", NOW, "203.0.113.7"),
        ("audit.export", owner.user_id, "owner", NOW, "203.0.113.7"),
    ]
    assert events[0].detail == {"filter": {"client_id": ana, "actor_user_id": desk.user_id, "start": "2030-01-01",
                                           "end": "2030-01-31", "time_zone": "America/New_York"},
                                "offset": 0, "results": 0}
    assert events[1].detail == {"filter": {"client_id": ana, "actor_user_id": None, "start": None, "end": None,
                                           "time_zone": "America/New_York"}}
    assert all(e.client_id is None for e in events)
    # and the owner sees those rows in the trail itself
    page = _search(clinic, owner, actor_user_id=owner.user_id, start=date(2031, 3, 3), end=date(2031, 3, 3))
    assert [r.action for r in page.rows] == ["audit.export", "audit.search"]


def test_search_uses_the_clinic_time_index(owner_clinic):
    """The newest-first scan is served by ix_audit_event_org_occurred (no sort of the whole trail)."""
    clinic, owner, desk = owner_clinic
    with clinic.session() as s:
        # a small test table lets the planner prefer anything; forbid the alternatives (a sequential
        # scan, an explicit sort) and the plan shows that the index alone delivers the order
        s.execute(text("set local enable_seqscan = off"))
        s.execute(text("set local enable_sort = off"))
        plan = "\n".join(r[0] for r in s.execute(text(
            "explain select id from audit_event where org_id = :o and occurred_at >= :lo and occurred_at < :hi "
            "order by occurred_at desc, id desc limit 201"),
            {"o": clinic.org_id, "lo": datetime(2030, 1, 1, tzinfo=timezone.utc),
             "hi": datetime(2030, 2, 1, tzinfo=timezone.utc)}))
    assert "Scan Backward using ix_audit_event_org_occurred" in plan and "Sort" not in plan, plan


def test_the_audit_actions_own_their_transaction_and_audit_a_refused_export(owner_clinic, engine):
    """medspa/domain/audit/actions.py: each read is one committed transaction with its audit
    row; an export over max_rows is refused (ExportTooLarge) and still audited; others than
    the owner are refused before any row is read."""
    from medspa.domain.audit import actions

    clinic, owner, desk = owner_clinic
    ana = _client(clinic, "Ana", "Alves")
    for minute in range(3):
        _event(clinic, desk, utc(2031, 3, 2, 10, minute), client_id=ana)
    opts = actions.fetch_audit_options(owner, engine=engine)
    assert [label for _, label, _ in opts.staff] == ["Dana Desk", "Olivia Owner"]
    page = actions.fetch_audit_page(owner, now=NOW, client_id=ana, actor_user_id=desk.user_id,
                                    time_zone=clinic.time_zone, engine=engine)
    assert len(page.rows) == 3 and page.rows[0].client_name == "Ana Alves"
    body, n = actions.fetch_audit_csv(owner, now=NOW, max_rows=10, client_id=ana, actor_user_id=desk.user_id, start=None,
                                      end=None, time_zone=clinic.time_zone, engine=engine)
    assert n == 3 and body.startswith("id,")
    with pytest.raises(actions.ExportTooLarge):
        actions.fetch_audit_csv(owner, now=NOW, max_rows=2, client_id=ana, actor_user_id=desk.user_id, start=None, end=None,
                                time_zone=clinic.time_zone, engine=engine)
    with clinic.session() as s:
        actions_seen = s.execute(text("select action from audit_event where actor_user_id = :u order by id"),
                                 {"u": owner.user_id}).scalars().all()
    assert actions_seen == ["audit.search", "audit.export", "audit.export"]
    assert [h.name for h in actions.fetch_client_hits(owner, "Alves", engine=engine)] == ["Ana Alves"]
    for call in (lambda: actions.fetch_audit_options(desk, engine=engine),
                 lambda: actions.fetch_client_hits(desk, "Alves", engine=engine)):
        with pytest.raises(PermissionDenied):
            call()
