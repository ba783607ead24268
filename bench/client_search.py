"""The client list's searches on a 60,000-client clinic, each as a ratio to reading the page
of rows it returns.

Data: the demo clinic of bench/_common.py (var/bench, database medspa_bench) topped up once
with synthetic clients to CLIENTS (names with accents and apostrophes from a few dozen first
and last names, so a name search matches hundreds to thousands of rows; US mobiles; dates of
birth), then ANALYZEd; later runs reuse them.

For each search: the median time of clients.search.list_clients (one page of PAGE_SIZE rows,
as the app role inside the clinic: row-level security on) / the median time of reading those
same rows by primary key (`select * from client where id = any(:ids)`), measured in the same
run. The ratio says what the search costs beyond fetching what it shows: a search is two or
three round trips (the clinic's country; the display-code lookup when the text could be a
code; the page), so about 5-10 is the floor. A search that scanned the clinic's 60,000 rows
shows as a ratio in the hundreds (it did, before the searchable text moved to client_search:
see migration 0031); a 1-2 character name holds no trigram and reads the clinic's folded
names on purpose (ratio ~60 measured: still a few milliseconds). Nothing asserts a
wall-clock time: `python bench/client_search.py`.
"""

from __future__ import annotations

from _common import BENCH_NOW, bench_engines, best_of
from sqlalchemy import text

from medspa.db import tenant_session
from medspa.domain.clients.search import PAGE_SIZE, list_clients

CLIENTS = 60_000
FIRST = ["María", "José", "Zoë", "Siân", "Chloé", "Renée", "Ana", "Ben", "Liam", "Olivia", "Noah", "Emma", "Ava",
         "Mia", "Sofia", "Lucas", "Ethan", "Amélie", "Jürgen", "Søren", "Aoife", "Priya", "Kenji", "Fatima"]
LAST = ["Núñez", "García", "Müller", "O'Brien", "Smith", "Jones", "Brown", "Taylor", "Wilson", "Lefèvre", "Dubois",
        "Novák", "Kowalski", "Nguyen", "Patel", "Kim", "Rossi", "Silva", "Andersen", "Hughes", "Byrne-Walsh",
        "Okafor", "Haddad", "Ivanova", "Fernández", "Moreau", "Schäfer", "Lindqvist", "Costa", "Yamamoto"]


def top_up(engine, owner, org_id: int) -> int:
    """Add synthetic clients until the clinic has CLIENTS; returns the count."""
    with tenant_session(org_id, engine) as s:
        have = s.execute(text("select count(*) from client")).scalar()
        if have < CLIENTS:
            s.execute(text("""
                insert into client (org_id, first_name, last_name, email, phone_e164, date_of_birth,
                                    email_marketing_consent, sms_marketing_consent, created_at)
                select :org, (cast(:first as text[]))[1 + g % cardinality(cast(:first as text[]))],
                       (cast(:last as text[]))[1 + (g / 7) % cardinality(cast(:last as text[]))] || case when g % 3 = 0 then '' else '-' || (g % 89) end,
                       'client' || g || '@example.com', '+1646' || lpad((g * 7919 % 10000000)::text, 7, '0'),
                       date '1950-01-01' + (g * 37 % 20000), false, false,
                       :now - make_interval(mins => g)
                from generate_series(1, :n) g"""),
                {"org": org_id, "first": FIRST, "last": LAST, "n": CLIENTS - have, "now": BENCH_NOW})
            s.commit()
            with owner.connect() as conn:
                conn.execute(text("analyze client, client_search"))
                conn.commit()
        return s.execute(text("select count(*) from client")).scalar()


def main() -> None:
    engine, owner, org_id = bench_engines()
    total = top_up(engine, owner, org_id)
    with tenant_session(org_id, engine) as s:
        sample = s.execute(text("""select c.phone_e164, c.date_of_birth, a.display_code from client c
            join appointment a on a.client_id = c.id where c.phone_e164 like '+1%' order by a.id limit 1""")).one()
        national = f"({sample.phone_e164[2:5]}) {sample.phone_e164[5:8]}-{sample.phone_e164[8:]}"
        deep = ""
        for _ in range(40):  # a cursor 40 pages deep in "newest"
            deep = list_clients(s, org_id=org_id, now=BENCH_NOW, cursor=deep).next_cursor
    searches = [
        ("newest, page 1", {}),
        ("newest, page 41 (keyset)", {"cursor": deep}),
        ("today's clients", {"view": "today"}),
        ("name, 2 characters 'jo'", {"query": "jo"}),
        ("name, accentless 'nunez'", {"query": "nunez"}),
        ("name, two words 'maria nunez'", {"query": "maria nunez"}),
        ("name, rare 'lindqvist-8'", {"query": "lindqvist-8"}),
        ("email 'client4242@'", {"query": "client4242@"}),
        ("phone, national format", {"query": national}),
        ("phone, partial '646 79'", {"query": "646 79"}),
        ("date of birth, US order", {"query": sample.date_of_birth.strftime("%m/%d/%Y")}),
        ("booking display code", {"query": sample.display_code}),
    ]
    print(f"client search on {total:,} clients: median search time / median time to read the rows it returns "
          f"(page size {PAGE_SIZE})")
    for label, kwargs in searches:
        with tenant_session(org_id, engine) as s:
            page = list_clients(s, org_id=org_id, now=BENCH_NOW, **kwargs)
            ids = [r.id for r in page.rows] or [0]
            search = best_of(lambda: list_clients(s, org_id=org_id, now=BENCH_NOW, **kwargs))
            read = best_of(lambda: s.execute(text("select * from client where id = any(:ids)"), {"ids": ids}).all())
        print(f"  {label:34s} {len(page.rows):3d} rows   ratio {search / read:6.1f}")


if __name__ == "__main__":
    main()
