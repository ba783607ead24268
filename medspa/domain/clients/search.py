"""The client list (/clients): search as you type, the "newest" and "today's clients" views,
keyset paging. Reads only; the action (clients/actions.py) audits the list read.

What a search text matches (any of, from MIN_QUERY characters on):
- name: every word of the text inside the client's folded name, both folded by the
  database's medspa_fold (lower-cased, unaccented, apostrophes dropped: "nunez" finds "Núñez",
  "obrien" finds "O'Brien"; migration 0033); trigram index
  (migration 0031, table client_search, read through medspa_client_search);
- email (from 3 characters): the text inside the lower-cased email (trigram index);
- phone: the text read as a phone number of the clinic's country (phones.phone_search):
  a whole number by its E.164 (btree, migration 0060), a partial one by its digits inside
  the stored E.164;
- date of birth: ISO (1988-03-07) or the clinic's local order (dob_order: 03/07/1988 in the
  US, 07/03/1988 elsewhere), also with "-" or "." separators;
- booking display code: the client of the visit with that code (references.normalise_display_code).

Paging is by keyset (the last row's sort key, an opaque cursor), so page 200 costs what page
1 does: "newest" orders by (created_at, id) descending on ix_client_newest; "today" by
(last name, first name, id) in the database's collation. A "newest" search stops at the page
inside the database too (medspa_client_search_page, migration 0060: each name, email or phone
lookup returns only its first page after the cursor), so a common name or two letters cost
a page, not every match; the today view's search (by name) still reads every match of
medspa_client_search, then keeps the clients with a visit today.

A page is ONE statement (issue 20): the matching keys (a UNION of index lookups, the display
code's visit included), ordered and cut, then only those client rows with the columns the list
shows, and in the today view each row's first visit of the day. What the search needs to know
about the clinic before it can write that statement (its country, to read a phone number or a
date; its locations' zones, for "today") is kept per worker (ClinicFacts) and checked by the
same statement, which also reads them: if the clinic changed its country or a location's zone
since, the page is read again with the new facts (one more round trip, once per change and
worker). Nothing has to notify anything, and no answer is built on stale facts.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlalchemy import (BigInteger, Date, DateTime, Integer, String, Text, and_, any_, bindparam, cast, column, false,
                        func, literal_column, null, or_, select, true, tuple_, union)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlmodel import Session

from medspa.domain.catalog.models import Service
from medspa.domain.clients.models import Client
from medspa.domain.clients.service import region_of
from medspa.domain.phones import national_phone, phone_search
from medspa.domain.practice.models import Location, Organization
from medspa.domain.scheduling.models import Appointment, AppointmentStatus
from medspa.domain.scheduling.references import normalise_display_code
from medspa.domain.textrules import UNSTORABLE, strip_unstorable
from medspa.domain.timezones import format_clinic_clock, local_day_bounds

MIN_QUERY = 2
MAX_QUERY = 100
PAGE_SIZE = 25
VIEWS = ("newest", "today")
# visits that bring a client in today (not cancelled, not a lapsed or pending hold)
TODAY_STATUSES = (AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED,
                  AppointmentStatus.NO_SHOW)
# countries whose people write dates month first (03/07/1988 = 7 March); elsewhere day first
MONTH_FIRST = frozenset({"US", "PR", "GU", "VI", "AS", "MP", "UM", "PH", "FM", "MH", "PW"})
_DATE = re.compile(r"^(\d{1,4})[/.\-](\d{1,2})[/.\-](\d{1,4})$")
_BIGINT = 2**63


@dataclass(frozen=True)
class ClientRow:
    """One line of the list: id, "First Last", phone (national format for the clinic's own
    country), email, date of birth ISO ("" unknown), added ("Dec 6, 2026"), visit (today's first
    visit "10:30 AM · Botox" in the today view, else "")."""

    id: int
    name: str
    phone: str
    email: str
    date_of_birth: str
    added: str
    visit: str = ""


@dataclass(frozen=True)
class ClientPage:
    """A page of the list; next_cursor "" when it is the last page. `searched` is False when
    the text was too short to search (the view is shown unfiltered)."""

    rows: list[ClientRow]
    next_cursor: str
    view: str
    searched: bool


def dob_order(region: str) -> str:
    """"mdy" for the countries that write dates month first (MONTH_FIRST), else "dmy"."""
    return "mdy" if region.upper() in MONTH_FIRST else "dmy"


def parse_typed_date(text: str, region: str) -> date | None:
    """A date typed whole: ISO "1988-03-07" (always), or the clinic's order with /, - or .
    ("03/07/1988" in the US, "07/03/1988" in GB); a four-digit year only. None otherwise."""
    match = _DATE.match((text or "").strip())
    if not match:
        return None
    a, b, c = match.groups()
    try:
        if len(a) == 4:
            return date(int(a), int(b), int(c))
        if len(c) != 4:
            return None
        if dob_order(region) == "mdy":
            return date(int(c), int(a), int(b))
        return date(int(c), int(b), int(a))
    except ValueError:
        return None


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class _Terms:
    """What a search text means: the lookups of medspa_client_search (name words, email,
    phone), a date of birth, a booking display code."""

    words: tuple[str, ...] = ()
    email: str = ""
    phone_exact: str = ""
    phone_like: str = ""
    born: date | None = None
    code: str | None = None

    @property
    def by_function(self) -> bool:
        return bool(self.words or self.email or self.phone_exact or self.phone_like)


def _search_terms(query: str, region: str) -> _Terms:
    """The lookups a search text asks for (see the module docstring) in a clinic of `region`."""
    words: list[str] = []
    email = ""
    if any(ch.isalpha() for ch in query):
        # the longest word first: the function looks it up by index, then checks the others
        # apostrophes dropped as medspa_fold drops them in the names ("O'Brien" ~ "obrien")
        folded = (w.replace("'", "").replace("\u2019", "") for w in query.split())
        words = sorted((_like_escape(w) for w in folded if w), key=len, reverse=True)
        if len(query) >= 3:
            email = _like_escape(query.lower())
    exact, digits = phone_search(query, region)
    phone_like = ""
    if not exact and digits:
        phone_like = f"{digits}%" if digits.startswith("+") else f"%{digits}%"
    return _Terms(tuple(words), email, exact or "", phone_like, parse_typed_date(query, region),
                  normalise_display_code(query))


def _search_keys(by_function: bool, born: bool, code: bool, newest: bool, after: bool):
    """A SELECT of (id, created_at, last_name, first_name) of the clients a search's terms
    match (_Terms: by_function, born, code: which lookups it has; `newest`: the view;
    `after`: a cursor is given), its values bound by name (words, email, phone_exact,
    phone_like; born; code; in the newest view also limit, after_at, after_id): a UNION of
    index lookups, so the clinic's rows are never all read, and the page is ordered and cut
    on these keys before any client row is fetched.

    Name, email and phone are matched by medspa_client_search (migration 0031: a SECURITY
    DEFINER function over client_search, whose trigram indexes a LIKE under client's row
    level security could not use), date of birth and display code by their btree indexes
    (the display code's visit by uq_appointment_display_code, inside the same statement).
    In the `newest` view by medspa_client_search_page (migration 0060) instead: each lookup
    stops at the page (bound as limit, after the keyset after_at, after_id when `after`), so
    a common name or a name of two letters reads a page of rows, not all its matches; the
    caller still orders and cuts the union (it holds that page and more)."""
    parts = []
    if by_function:
        lookups = (bindparam("words", type_=ARRAY(Text)), bindparam("email", type_=Text),
                   bindparam("phone_exact", type_=Text), bindparam("phone_like", type_=Text))
        if newest:
            keyset = ((bindparam("after_at", type_=DateTime(timezone=True)), bindparam("after_id", type_=BigInteger))
                      if after else (cast(null(), DateTime(timezone=True)), cast(null(), BigInteger)))
            found = func.medspa_client_search_page(*lookups, *keyset, bindparam("limit", type_=Integer))
        else:
            found = func.medspa_client_search(*lookups)
        found = found.table_valued(
            column("client_id", BigInteger), column("created_at", DateTime(timezone=True)),
            column("last_name", Text), column("first_name", Text))
        parts.append(select(found.c.client_id.label("id"), found.c.created_at, found.c.last_name,
                            found.c.first_name).distinct())
    keys = (Client.id, Client.created_at, Client.last_name, Client.first_name)
    if born:
        parts.append(select(*keys).where(Client.date_of_birth == bindparam("born", type_=Date),
                                         Client.merged_into_id.is_(None)))
    if code:
        booked = select(Appointment.client_id).where(Appointment.display_code == bindparam("code", type_=String),
                                                     Appointment.client_id.is_not(None))
        parts.append(select(*keys).where(Client.id.in_(booked), Client.merged_into_id.is_(None)))
    return parts[0] if len(parts) == 1 else union(*parts)


def _encode(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _decode(cursor: str, shape: tuple[type, ...]) -> list | None:
    """The cursor's values when they have `shape` (str or int each: ints within bigint and
    not bool, strings PostgreSQL can hold), else None (a forged or stale cursor: the first page)."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError):
        return None
    if not isinstance(values, list) or len(values) != len(shape):
        return None
    for value, kind in zip(values, shape):
        if kind is int and not (type(value) is int and -_BIGINT <= value < _BIGINT):
            return None
        if kind is str and not (isinstance(value, str) and not UNSTORABLE.search(value)):
            return None
    return values


@dataclass(frozen=True)
class ClinicFacts:
    """What a search must know of its clinic before it is written: the region
    (clients.service.region_of its country) and its locations [(id, time zone)] by id."""

    region: str
    locations: tuple[tuple[int, str], ...]

    @property
    def time_zone(self) -> str:
        """The clinic's zone, as clients.details.clinic_time_zone: its first location's, else "UTC"."""
        return self.locations[0][1] if self.locations else "UTC"


class _FactsCache:
    """ClinicFacts per (engine, clinic) in this worker. Never trusted blindly: every page
    statement reads the facts again and list_clients compares them (see the module docstring)."""

    MAX = 4096

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._facts: dict[tuple, ClinicFacts] = {}

    def get(self, key: tuple) -> ClinicFacts | None:
        """The facts last seen for `key`, or None."""
        return self._facts.get(key)

    def put(self, key: tuple, facts: ClinicFacts) -> None:
        """Remember `facts` (the oldest half is forgotten when full)."""
        with self._lock:
            if len(self._facts) >= self.MAX:
                for old in list(self._facts)[: self.MAX // 2]:
                    self._facts.pop(old, None)
            self._facts[key] = facts

    def clear(self) -> None:
        """Forget everything (tests, benches)."""
        with self._lock:
            self._facts.clear()


CLINIC_FACTS = _FactsCache()


def _facts_columns():
    """A one-row subquery (country, locations) of the clinic bound as `org` (the session's):
    locations as text "id zone,id zone" by id (NULL: none), one plain column where arrays
    would cost a result conversion on every row of the page."""
    locations = select(func.string_agg(func.concat(Location.id, " ", Location.time_zone),
                                       aggregate_order_by(literal_column("','"), Location.id))).scalar_subquery()
    country = select(Organization.country).where(Organization.id == bindparam("org", type_=BigInteger)
                                                 ).scalar_subquery()
    return select(country.label("country"), locations.label("locations")).subquery("facts")


def _facts_of(row) -> ClinicFacts:
    pairs = (item.split(" ", 1) for item in row.locations.split(",")) if row.locations else ()
    return ClinicFacts(region_of(row.country), tuple((int(i), zone) for i, zone in pairs))


def _read_facts(session: Session, org_id: int) -> ClinicFacts:
    return _facts_of(session.connection().execute(select(_facts_columns()), {"org": org_id}).one())


def _today_visits(locations: int):
    """The condition on appointment "a visit today", each of the clinic's `locations` on its
    own local day (bound as loc_<i>, lo_<i>, hi_<i>; false when the clinic has none)."""
    if not locations:
        return false()
    # the statuses written into the statement: constants the planner sees, nothing to expand per run
    statuses = [literal_column(f"'{s.value}'") for s in TODAY_STATUSES]
    return and_(Appointment.status.in_(statuses), or_(*(
        and_(Appointment.location_id == bindparam(f"loc_{i}", type_=BigInteger),
             Appointment.start_at >= bindparam(f"lo_{i}", type_=DateTime(timezone=True)),
             Appointment.start_at < bindparam(f"hi_{i}", type_=DateTime(timezone=True)))
        for i in range(locations))))


@lru_cache(maxsize=512)
def _page_statement(view: str, terms: tuple[bool, bool, bool] | None, locations: int, after: bool):
    """The one statement of a page, built once per shape (each value bound by name: org,
    limit, the terms', the cursor's, today's bounds): a row of the clinic's facts (as read
    now) left-joined with the page's rows (id, first_name, last_name, phone_e164, email,
    date_of_birth, created_at; in the today view also visit_start, visit_location,
    visit_service: each client's first visit today) in the list's order, limit + 1 of them.
    `terms`: None unsearched, else (by_function, born, code) of _Terms, all False when the
    text can match nothing; `locations`: how many the clinic has (today view); `after`: a
    cursor is given."""
    shown = (Client.id, Client.first_name, Client.last_name, Client.phone_e164, Client.email, Client.date_of_birth,
             Client.created_at)
    if terms is None:  # straight from client: a merged record is hidden (the search table drops it: 0032)
        key_id, created, last_name, first_name = Client.id, Client.created_at, Client.last_name, Client.first_name
        page = select(*shown).where(Client.merged_into_id.is_(None))
    elif any(terms):
        hits = _search_keys(*terms, newest=view != "today", after=after).subquery("hits")
        key_id, created, last_name, first_name = hits.c.id, hits.c.created_at, hits.c.last_name, hits.c.first_name
        page = select(key_id.label("id"))
    else:  # the text can match nothing
        key_id, created, last_name, first_name = Client.id, Client.created_at, Client.last_name, Client.first_name
        page = select(*shown).where(false())
    today = view == "today"
    if today:
        visitors = select(Appointment.client_id).where(_today_visits(locations))
        if terms is None:  # as an array: its few hundred clients by primary key (a join read all 60,000)
            page = page.where(Client.id == any_(func.array(visitors.scalar_subquery())))
        else:
            page = page.where(key_id.in_(visitors))
        if after:
            page = page.where(tuple_(last_name, first_name, key_id) > tuple_(
                bindparam("after_last", type_=Text), bindparam("after_first", type_=Text),
                bindparam("after_id", type_=BigInteger)))
        page = page.order_by(last_name, first_name, key_id)
    else:
        if after:
            page = page.where(tuple_(created, key_id) < tuple_(bindparam("after_at", type_=DateTime(timezone=True)),
                                                               bindparam("after_id", type_=BigInteger)))
        page = page.order_by(created.desc(), key_id.desc())
    page = page.limit(bindparam("limit", type_=Integer))
    if terms and any(terms):  # the page's ids first (ordered and cut on the keys), then only those rows
        ids = page.subquery("page")
        page = select(*shown).join(ids, Client.id == ids.c.id)
    rows = page.subquery("shown")
    facts = _facts_columns()
    columns = [facts, rows]
    joined = facts.outerjoin(rows, true())
    if today:
        visit = (select(Appointment.start_at, Appointment.location_id, Service.name)
                 .join(Service, Service.id == Appointment.service_id)
                 .where(Appointment.client_id == rows.c.id, _today_visits(locations),
                        # the whole span of the locations' days: one range of ix_appointment_client
                        Appointment.start_at >= bindparam("day_lo", type_=DateTime(timezone=True)),
                        Appointment.start_at < bindparam("day_hi", type_=DateTime(timezone=True)))
                 .order_by(Appointment.start_at).limit(1).lateral("visit"))
        joined = joined.outerjoin(visit, true())
        columns += [visit.c.start_at.label("visit_start"), visit.c.location_id.label("visit_location"),
                    visit.c.name.label("visit_service")]
    order = ((rows.c.last_name, rows.c.first_name, rows.c.id) if today
             else (rows.c.created_at.desc(), rows.c.id.desc()))
    return select(*columns).select_from(joined).order_by(*order)


def _page_values(org_id: int, facts: ClinicFacts, terms: _Terms | None, view: str, after: list | None,
                 now: datetime, limit: int) -> dict:
    """The values _page_statement binds."""
    values: dict = {"org": org_id, "limit": limit + 1}
    if terms is not None:
        values.update(words=list(terms.words), email=terms.email, phone_exact=terms.phone_exact,
                      phone_like=terms.phone_like, born=terms.born, code=terms.code)
    if view == "today":
        for i, (location_id, time_zone) in enumerate(facts.locations):
            zone = ZoneInfo(time_zone)
            values[f"loc_{i}"] = location_id
            values[f"lo_{i}"], values[f"hi_{i}"] = local_day_bounds(now.astimezone(zone).date(), zone)
        days = range(len(facts.locations))
        values["day_lo"] = min((values[f"lo_{i}"] for i in days), default=now)
        values["day_hi"] = max((values[f"hi_{i}"] for i in days), default=now)
        if after:
            values.update(after_last=after[0], after_first=after[1], after_id=after[2])
    elif after:
        values.update(after_at=after[0], after_id=after[1])
    return values


def _cursor_after(view: str, cursor: str) -> list | None:
    """The keyset a cursor names ([last, first, id] today, [aware created_at, id] newest),
    None for the first page (no cursor, or a malformed one)."""
    if view == "today":
        return _decode(cursor, (str, str, int)) if cursor else None
    after = _decode(cursor, (str, int)) if cursor else None
    if not after:
        return None
    try:
        at = datetime.fromisoformat(after[0])
    except ValueError:
        return None
    return [at, after[1]] if at.tzinfo is not None else None


@lru_cache(maxsize=16384)
def _phone_shown(e164: str, region: str) -> str:
    return national_phone(e164, region)  # ~20 us a number (phonenumbers): 0.5 ms a page uncached


@lru_cache(maxsize=4096)
def _day_shown(day: date) -> str:
    return format_date(day, "medium", locale="en_US")  # ~13 us (Babel)


def list_clients(session: Session, *, org_id: int, now: datetime, query: str = "", view: str = "newest",
                 cursor: str = "", limit: int = PAGE_SIZE, with_contact: bool = True) -> ClientPage:
    """One page of the clinic's clients (the session's tenant). `query` is the search text
    (searched from MIN_QUERY characters, cut at MAX_QUERY); `view` one of VIEWS ("newest":
    most recently added first; "today": clients with a visit today in their location's time
    zone, by name); `cursor` the next_cursor of the previous page ("" or a malformed one: the
    first page); `now` aware UTC. Without `with_contact` rows carry no phone, email or date of
    birth. One statement when the clinic's facts are known to this worker (CLINIC_FACTS), two
    the first time, again when its country or a location's zone changed. Raises nothing for
    any text."""
    view = view if view in VIEWS else "newest"
    text = " ".join(strip_unstorable(query).split())[:MAX_QUERY]
    searched = len(text) >= MIN_QUERY
    after = _cursor_after(view, cursor if isinstance(cursor, str) else "")
    connection = session.connection()
    key = (connection.engine, org_id)
    facts = CLINIC_FACTS.get(key)
    if facts is None:
        facts = _read_facts(session, org_id)
        CLINIC_FACTS.put(key, facts)
    for _ in range(3):  # more than one change of the clinic's facts meanwhile: no longer worth chasing
        terms = _search_terms(text, facts.region) if searched else None
        shape = None if terms is None else (terms.by_function, bool(terms.born), bool(terms.code))
        statement = _page_statement(view, shape, len(facts.locations) if view == "today" else 0, bool(after))
        result = connection.execute(statement, _page_values(org_id, facts, terms, view, after, now, limit)).all()
        seen = _facts_of(result[0])
        if seen == facts:
            break
        facts = seen
        CLINIC_FACTS.put(key, facts)
    found = [r for r in result if r.id is not None]
    more = len(found) > limit
    found = found[:limit]
    region, clinic_zone = facts.region, ZoneInfo(facts.time_zone)  # "Added" is the clinic's day
    zones = dict(facts.locations)
    rows = []
    for r in found:
        visit = ""
        if view == "today" and r.visit_start is not None:
            visit = f"{format_clinic_clock(r.visit_start, zones[r.visit_location])} · {r.visit_service}"
        rows.append(ClientRow(r.id, f"{r.first_name} {r.last_name}",
                              _phone_shown(r.phone_e164, region) if (with_contact and r.phone_e164) else "",
                              (r.email or "") if with_contact else "",
                              r.date_of_birth.isoformat() if (with_contact and r.date_of_birth) else "",
                              _day_shown(r.created_at.astimezone(clinic_zone).date()) if r.created_at else "",
                              visit))
    next_cursor = ""
    if more and found:
        last = found[-1]
        next_cursor = (_encode([last.last_name, last.first_name, last.id]) if view == "today"
                       else _encode([last.created_at.isoformat(), last.id]))
    return ClientPage(rows, next_cursor, view, searched)
