"""The client list (/clients): search as you type, the "newest" and "today's clients" views,
keyset paging. Reads only; the action (clients/actions.py) audits the list read.

What a search text matches (any of, from MIN_QUERY characters on):
- name: every word of the text inside the client's folded name, both folded by the
  database's medspa_fold (lower-cased, unaccented, apostrophes dropped: "nunez" finds "Núñez",
  "obrien" finds "O'Brien"; migration 0033); trigram index
  (migration 0031, table client_search, read through medspa_client_search);
- email (from 3 characters): the text inside the lower-cased email (trigram index);
- phone: the text read as a phone number of the clinic's country (phones.phone_search):
  a whole number by its E.164, a partial one by its digits inside the stored E.164;
- date of birth: ISO (1988-03-07) or the clinic's local order (dob_order: 03/07/1988 in the
  US, 07/03/1988 elsewhere), also with "-" or "." separators;
- booking display code: the client of the visit with that code (references.normalise_display_code).

Paging is by keyset (the last row's sort key, an opaque cursor), so page 200 costs what page
1 does: "newest" orders by (created_at, id) descending on ix_client_newest; "today" by
(last name, first name, id) in the database's collation.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlalchemy import BigInteger, DateTime, Text, and_, column, func, literal, or_, select, tuple_, union
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session

from medspa.domain.clients.details import clinic_time_zone
from medspa.domain.clients.models import Client
from medspa.domain.clients.service import clinic_region
from medspa.domain.phones import national_phone, phone_search
from medspa.domain.practice.models import Location
from medspa.domain.scheduling.models import Appointment, AppointmentStatus
from medspa.domain.scheduling.references import normalise_display_code
from medspa.domain.textrules import UNSTORABLE, strip_unstorable
from medspa.domain.timezones import local_day_bounds

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


def _search_keys(session: Session, query: str, region: str):
    """A SELECT of (id, created_at, last_name, first_name) of the clients a search text
    matches (see the module docstring), or None when the text can match nothing: a UNION of
    index lookups, so the clinic's rows are never all read, and the page is ordered and cut
    on these keys before any client row is fetched.

    Name, email and phone are matched by medspa_client_search (migration 0031: a SECURITY
    DEFINER function over client_search, whose trigram indexes a LIKE under client's row
    level security could not use), date of birth and display code by their btree indexes."""
    parts = []
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
    if words or email or exact or phone_like:
        found = func.medspa_client_search(
            literal(words, ARRAY(Text)), literal(email), literal(exact or ""), literal(phone_like)).table_valued(
            column("client_id", BigInteger), column("created_at", DateTime(timezone=True)),
            column("last_name", Text), column("first_name", Text))
        parts.append(select(found.c.client_id.label("id"), found.c.created_at, found.c.last_name,
                            found.c.first_name).distinct())
    keys = (Client.id, Client.created_at, Client.last_name, Client.first_name)
    born = parse_typed_date(query, region)
    if born:
        parts.append(select(*keys).where(Client.date_of_birth == born, Client.merged_into_id.is_(None)))
    code = normalise_display_code(query)
    if code:
        ids = list(session.execute(select(Appointment.client_id).where(
            Appointment.display_code == code, Appointment.client_id.is_not(None))).scalars())
        if ids:
            parts.append(select(*keys).where(Client.id.in_(ids), Client.merged_into_id.is_(None)))
    if not parts:
        return None
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


def _today_visits(session: Session, now: datetime):
    """(the condition on appointment "a visit today", each location's own local day; None
    when the clinic has no location, {location id: time zone})."""
    parts = []
    zones: dict[int, str] = {}
    for loc in session.execute(select(Location.id, Location.time_zone)).all():
        zone = ZoneInfo(loc.time_zone)
        start, end = local_day_bounds(now.astimezone(zone).date(), zone)
        parts.append(and_(Appointment.location_id == loc.id, Appointment.start_at >= start, Appointment.start_at < end))
        zones[loc.id] = loc.time_zone
    if not parts:
        return None, zones
    return and_(Appointment.status.in_([s.value for s in TODAY_STATUSES]), or_(*parts)), zones


def list_clients(session: Session, *, org_id: int, now: datetime, query: str = "", view: str = "newest",
                 cursor: str = "", limit: int = PAGE_SIZE, with_contact: bool = True) -> ClientPage:
    """One page of the clinic's clients (the session's tenant). `query` is the search text
    (searched from MIN_QUERY characters, cut at MAX_QUERY); `view` one of VIEWS ("newest":
    most recently added first; "today": clients with a visit today in their location's time
    zone, by name); `cursor` the next_cursor of the previous page ("" or a malformed one: the
    first page); `now` aware UTC. Without `with_contact` rows carry no phone, email or date of
    birth. Raises nothing for any text."""
    view = view if view in VIEWS else "newest"
    region = clinic_region(session, org_id)
    text = " ".join(strip_unstorable(query).split())[:MAX_QUERY]
    searched = len(text) >= MIN_QUERY
    if searched:
        found = _search_keys(session, text, region)
        if found is None:
            return ClientPage([], "", view, True)
        hits = found.subquery("hits")
        key_id, created, last_name, first_name = hits.c.id, hits.c.created_at, hits.c.last_name, hits.c.first_name
    else:
        key_id, created, last_name, first_name = Client.id, Client.created_at, Client.last_name, Client.first_name
    page = select(key_id.label("id"))
    if not searched:  # a merged record is hidden (the search table drops it: migration 0032)
        page = page.where(Client.merged_into_id.is_(None))
    cursor = cursor if isinstance(cursor, str) else ""
    if view == "today":
        today, zones = _today_visits(session, now)
        if today is None:
            return ClientPage([], "", view, searched)
        page = page.where(key_id.in_(select(Appointment.client_id).where(today)))
        after = _decode(cursor, (str, str, int)) if cursor else None
        if after:
            page = page.where(tuple_(last_name, first_name, key_id)
                              > tuple_(literal(after[0]), literal(after[1]), literal(after[2])))
        page = page.order_by(last_name, first_name, key_id)
        order = (Client.last_name, Client.first_name, Client.id)
    else:
        after = _decode(cursor, (str, int)) if cursor else None
        if after:
            try:
                at = datetime.fromisoformat(after[0])
            except ValueError:
                at = None
            if at is not None and at.tzinfo is not None:
                page = page.where(tuple_(created, key_id) < tuple_(literal(at), literal(after[1])))
        page = page.order_by(created.desc(), key_id.desc())
        order = (Client.created_at.desc(), Client.id.desc())
    # the page's ids first (ordered and cut on the keys), then only those rows of client
    ids = page.limit(limit + 1).subquery("page")
    clients = list(session.execute(select(Client).join(ids, Client.id == ids.c.id).order_by(*order)).scalars())
    more = len(clients) > limit
    clients = clients[:limit]
    visits: dict[int, str] = {}
    if view == "today" and clients:
        visits = _visit_labels(session, [c.id for c in clients], today, zones)
    clinic_zone = ZoneInfo(clinic_time_zone(session))  # "Added" is the clinic's day
    rows = [ClientRow(c.id, f"{c.first_name} {c.last_name}",
                      national_phone(c.phone_e164, region) if (with_contact and c.phone_e164) else "",
                      (c.email or "") if with_contact else "",
                      c.date_of_birth.isoformat() if (with_contact and c.date_of_birth) else "",
                      format_date(c.created_at.astimezone(clinic_zone).date(), "medium", locale="en_US")
                      if c.created_at else "", visits.get(c.id, ""))
            for c in clients]
    next_cursor = ""
    if more and clients:
        last = clients[-1]
        next_cursor = (_encode([last.last_name, last.first_name, last.id]) if view == "today"
                       else _encode([last.created_at.isoformat(), last.id]))
    return ClientPage(rows, next_cursor, view, searched)


def _visit_labels(session: Session, client_ids: list[int], today, zones: dict[int, str]) -> dict[int, str]:
    from medspa.domain.catalog.models import Service
    from medspa.domain.timezones import format_clinic_clock

    rows = session.execute(
        select(Appointment.client_id, Appointment.start_at, Appointment.location_id, Service.name)
        .join(Service, Service.id == Appointment.service_id)
        .where(Appointment.client_id.in_(client_ids), today)
        .order_by(Appointment.client_id, Appointment.start_at)).all()
    labels: dict[int, str] = {}
    for client_id, start_at, location_id, service in rows:
        if client_id not in labels:
            labels[client_id] = f"{format_clinic_clock(start_at, zones[location_id])} · {service}"
    return labels
