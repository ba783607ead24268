"""medspa_client_search_page (migration 0060): the client list's "newest" search stops at the page.

Each lookup (name words, email, whole and partial phone) returns its first `limit` matches
after the keyset (created_at, id) descending, and nothing a clinic's medspa_client_search
would not return; clients.search orders, de-duplicates and cuts the union. Checked here: page
boundaries on clients added at the same instant, merged records hidden, one clinic never seeing
another's, accents and apostrophes, a name of two letters paged newest first, whole and partial
phones, a date of birth in the same union, and the function's limits and privileges.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from medspa.clock import FixedClock
from medspa.domain.clients.actions import do_list_clients
from medspa.domain.clients.merge_actions import do_merge_clients
from medspa.domain.practice.models import Organization
from tests.factories import build_clinic

NOW = datetime(2030, 1, 15, 12, 0, tzinfo=timezone.utc)
BASE = datetime(2029, 6, 1, 9, 0, tzinfo=timezone.utc)
PAGED = ("select client_id, created_at from medspa_client_search_page("
         "cast(:words as text[]), :email, :exact, :like, :after_at, :after_id, :limit)")
WHOLE = "select client_id, created_at from medspa_client_search(cast(:words as text[]), :email, :exact, :like)"


def us_clinic(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    with owner_engine.begin() as conn:
        conn.execute(Organization.__table__.update().where(Organization.id == clinic.org_id).values(country="US"))
    return clinic


def seed(clinic, rows) -> list[int]:
    """Insert clients (first, last, phone_e164, created_at, date_of_birth) as the app role; their ids."""
    ids = []
    with clinic.session() as s:
        for first, last, phone, created_at, born in rows:
            ids.append(s.execute(text("""insert into client (org_id, first_name, last_name, email, phone_e164,
                    date_of_birth, email_marketing_consent, sms_marketing_consent, created_at)
                values (:org, :first, :last, :email, :phone, :born, false, false, :at) returning id"""),
                {"org": clinic.org_id, "first": first, "last": last, "phone": phone or None, "born": born,
                 "email": f"{first}.{last}.{len(ids)}@mail.test".lower().replace("'", ""), "at": created_at}
                ).scalar())
        s.commit()
    return ids


def newest_first(clinic, ids) -> list[int]:
    """`ids` in the list's newest order: created_at, then id, descending."""
    with clinic.session() as s:
        rows = s.execute(text("select id, created_at from client where id = any(:ids)"), {"ids": list(ids)}).all()
    return [i for i, _ in sorted(rows, key=lambda r: (r.created_at, r.id), reverse=True)]


def walk(clinic, query, limit) -> tuple[list[int], int]:
    """Every id the search shows, page after page of `limit`, and how many pages."""
    seen: list[int] = []
    cursor, pages = "", 0
    while True:
        page = do_list_clients(clinic.staff_actor(), query=query, cursor=cursor, limit=limit, now=NOW,
                               engine=clinic.engine)
        seen += [r.id for r in page.rows]
        pages += 1
        cursor = page.next_cursor
        if not cursor or pages > 50:
            return seen, pages


def paged(s, words=(), email="", exact="", like="", after=None, limit=25) -> list[int]:
    rows = s.execute(text(PAGED), {"words": None if words is None else list(words), "email": email, "exact": exact, "like": like,
                                   "after_at": after[0] if after else None, "after_id": after[1] if after else None,
                                   "limit": limit}).all()
    return [r.client_id for r in rows]


def whole_page(s, words=(), email="", exact="", like="", after=None, limit=25) -> list[int]:
    """What medspa_client_search returns, in newest order, after the keyset, cut at `limit`."""
    rows = s.execute(text(WHOLE), {"words": list(words), "email": email, "exact": exact, "like": like}).all()
    rows = sorted(set(rows), key=lambda r: (r.created_at, r.client_id), reverse=True)
    if after:
        rows = [r for r in rows if (r.created_at, r.client_id) < after]
    return [r.client_id for r in rows[:limit]]


@pytest.fixture
def crowd(engine, owner_engine):
    """32 clients, added four at a time at the same instant (ties across every page boundary):
    'Jo...' and 'Ann ...' names, half of them on one family phone."""
    clinic = us_clinic(engine, owner_engine)
    rows = []
    for i in range(32):
        at = BASE + timedelta(hours=i // 4)
        first = ("Joan", "Jody", "Anna", "Marjorie")[i % 4]
        phone = "+12125550123" if i % 2 else f"+1646555{i:04d}"
        rows.append((first, f"Stone{i:02d}", phone, at, None))
    clinic.ids = seed(clinic, rows)
    clinic.jo = [c for c, r in zip(clinic.ids, rows) if "jo" in r[0].lower()]
    clinic.family = [c for c, r in zip(clinic.ids, rows) if r[2] == "+12125550123"]
    return clinic


def test_two_letters_page_newest_first_across_ties(crowd):
    """'jo' (no trigram: the function walks the newest index) pages newest first; four clients
    share each instant, so the keyset's id breaks ties on every boundary."""
    for limit in (1, 3, 5, 7):
        seen, pages = walk(crowd, "jo", limit)
        assert seen == newest_first(crowd, crowd.jo), limit
        assert pages == -(-len(crowd.jo) // limit)


def test_each_lookup_is_the_first_page_of_medspa_client_search_after_the_keyset(crowd):
    with crowd.session() as s:
        ats = dict(s.execute(text("select id, created_at from client where id = any(:ids)"),
                             {"ids": crowd.ids}).all())
        cursors = [None] + [(ats[i], i) for i in newest_first(crowd, crowd.ids)[::3]]
        lookups = [dict(words=["jo"]), dict(words=["stone1", "jo"]), dict(words=["jody", "st"]),
                   dict(email="mail.test"), dict(email="joan."), dict(exact="+12125550123"),
                   dict(like="%5550%"), dict(like="+1646%")]
        for lookup in lookups:
            for after in cursors:
                for limit in (1, 4, 25):
                    got = paged(s, after=after, limit=limit, **lookup)
                    assert got == whole_page(s, after=after, limit=limit, **lookup), (lookup, after, limit)
        # all lookups at once: each one's page, together holding the union's page
        both = paged(s, words=["marjorie"], exact="+12125550123", limit=4)
        assert set(both) == (set(whole_page(s, words=["marjorie"], limit=4))
                             | set(whole_page(s, exact="+12125550123", limit=4)))


def test_whole_and_partial_phones_page(crowd):
    for query in ("(212) 555-0123", "212-555-0123", "+1 212 555 0123"):
        assert walk(crowd, query, 3)[0] == newest_first(crowd, crowd.family), query
    assert walk(crowd, "555", 6)[0] == newest_first(crowd, crowd.ids)  # every number holds 555
    assert walk(crowd, "555 0123", 4)[0] == newest_first(crowd, crowd.family)


def test_a_date_of_birth_and_the_function_in_one_union_page(engine, owner_engine):
    """A typed date is also read as partial phone digits (the function) and as a date of birth
    (client's index): the union pages as one list."""
    clinic = us_clinic(engine, owner_engine)
    born = date(1988, 3, 7)
    ids = seed(clinic, [(f"Bea{i}", "Born", None, BASE + timedelta(minutes=i // 2), born) for i in range(9)]
               + [("Phil", "Digits", "+13030719880", BASE, None), ("Other", "Day", None, BASE, date(1988, 7, 3))])
    # Phil's number holds the digits 03071988; "Other" was born on 3 July (read day first elsewhere)
    assert walk(clinic, "03/07/1988", 2)[0] == newest_first(clinic, ids[:10])
    assert walk(clinic, "0307198", 2)[0] == newest_first(clinic, [ids[9]])


def test_accents_and_apostrophes_page(engine, owner_engine):
    clinic = us_clinic(engine, owner_engine)
    nunez = seed(clinic, [("María", "Núñez", None, BASE + timedelta(days=i % 3), None) for i in range(7)])
    brien = seed(clinic, [("Zoë", "O'Brien", None, BASE, None), ("Seán", "O\u2019Brien", None, BASE, None),
                          ("Pat", "Obrien", None, BASE - timedelta(days=1), None)])
    assert walk(clinic, "nunez", 2)[0] == walk(clinic, "NÚÑEZ", 3)[0] == newest_first(clinic, nunez)
    assert walk(clinic, "maria nunez", 4)[0] == newest_first(clinic, nunez)
    for query in ("obrien", "o'brien", "O\u2019BRIEN", "zoe o'brien"):
        expected = brien[:1] if query.startswith("zoe") else newest_first(clinic, brien)
        assert walk(clinic, query, 1)[0] == expected, query


def test_merged_records_are_hidden_and_pages_stay_full(crowd):
    gone = crowd.jo[:3]
    for absorbed in gone:
        do_merge_clients(crowd.staff_actor("manager"), crowd.jo[-1], absorbed, clock=FixedClock(NOW),
                         engine=crowd.engine)
    kept = [c for c in crowd.jo if c not in gone]
    assert walk(crowd, "jo", 2)[0] == newest_first(crowd, kept)
    with crowd.session() as s:
        assert not set(paged(s, words=["jo"], limit=100)) & set(gone)


def test_one_clinic_never_sees_anothers(crowd, engine, owner_engine):
    other = us_clinic(engine, owner_engine)
    theirs = seed(other, [("Joan", f"Stone{i:02d}", "+12125550123", BASE + timedelta(hours=i // 4), None)
                          for i in range(9)])
    assert walk(other, "jo", 2)[0] == newest_first(other, theirs)
    assert walk(other, "(212) 555-0123", 4)[0] == newest_first(other, theirs)
    assert walk(crowd, "jo", 4)[0] == newest_first(crowd, crowd.jo)
    # a keyset from one clinic read in the other: still only the other's rows
    with crowd.session() as s:
        last = s.execute(text("select created_at, id from client where id = :i"), {"i": crowd.jo[0]}).one()
    with other.session() as s:
        assert set(paged(s, words=["jo"], after=tuple(last), limit=100)) <= set(theirs)
        assert set(paged(s, exact="+12125550123", limit=100)) == set(theirs)
    # no clinic on the transaction: nothing
    with engine.connect() as conn:
        assert conn.execute(text(PAGED), {"words": ["jo"], "email": "", "exact": "+12125550123", "like": "%555%",
                                          "after_at": None, "after_id": None, "limit": 100}).all() == []


def test_limits_and_privileges(crowd, engine):
    with crowd.session() as s:
        for limit in (None, 0, -5):
            assert paged(s, words=["jo"], limit=limit) == []
        assert paged(s, words=[], limit=25) == [] and paged(s, words=None, limit=25) == []
        assert len(paged(s, words=["jo"], limit=10**9)) == len(crowd.jo)  # capped at 1,000, more than here
        definer, config, public, app = s.execute(text("""
            select p.prosecdef, p.proconfig::text,
                   has_function_privilege('public', p.oid, 'execute'), has_function_privilege(p.oid, 'execute')
            from pg_proc p where p.proname = 'medspa_client_search_page'""")).one()
    assert definer and app and not public
    assert "search_path=public, pg_temp" in config and "plan_cache_mode=force_custom_plan" in config


def test_the_newest_search_asks_the_paged_function_and_today_the_whole_one(crowd):
    from sqlalchemy import event

    sent: list[str] = []

    def grab(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    event.listen(crowd.engine, "before_cursor_execute", grab)
    try:
        do_list_clients(crowd.staff_actor(), query="jo", now=NOW, engine=crowd.engine)
        newest = [st for st in sent if "medspa_client_search" in st]
        sent.clear()
        do_list_clients(crowd.staff_actor(), query="jo", view="today", now=NOW, engine=crowd.engine)
        today = [st for st in sent if "medspa_client_search" in st]
    finally:
        event.remove(crowd.engine, "before_cursor_execute", grab)
    assert len(newest) == 1 and "medspa_client_search_page(" in newest[0]
    assert len(today) == 1 and "medspa_client_search(" in today[0] and "medspa_client_search_page" not in today[0]
