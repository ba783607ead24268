"""The client list and profile (issue 14 section 1): search by accentless name, phone in
national format (US and GB clinics), email, date of birth, booking display code; the newest
and today's views, keyset paging, tenant isolation, audit rows and the trigram plan."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import event, select, text, update

from medspa.domain.audit.models import AuditEvent
from medspa.domain.clients.actions import do_list_clients, do_read_client_profile
from medspa.domain.clients.search import parse_typed_date
from medspa.domain.clients.service import ClientInput, create_client
from medspa.domain.errors import NotFound
from medspa.domain.identity.actor import PermissionDenied
from medspa.domain.phones import national_phone, phone_search
from medspa.domain.practice.models import Organization
from medspa.domain.scheduling.references import format_display_code
from medspa.domain.scheduling.service import hold_slot
from tests.factories import build_clinic

NOW = datetime(2030, 1, 15, 12, 0, tzinfo=timezone.utc)  # 7:00 in New York


def set_country(owner_engine, org_id: int, country: str) -> None:
    with owner_engine.begin() as conn:
        conn.execute(update(Organization).where(Organization.id == org_id).values(country=country))


def add(clinic, first, last, *, email="", phone="", dob=None, region="US") -> int:
    with clinic.session() as s:
        c = create_client(s, clinic.system, ClientInput(first, last, email, phone, dob), region=region)
        s.commit()
        return c.id


def book(clinic, client_id: int, start_at: datetime) -> str:
    with clinic.session() as s:
        appt = hold_slot(s, clinic.system, location_id=clinic.location_id, service_id=clinic.services["botox"],
                         start_at=start_at, now=NOW, client_id=client_id, source="staff", confirm=True)
        s.commit()
        return appt.display_code


def names(clinic, query, *, role="front_desk", view="newest", **kw):
    page = do_list_clients(clinic.staff_actor(role), query=query, view=view, now=NOW, engine=clinic.engine, **kw)
    return [r.name for r in page.rows]


@pytest.fixture
def us(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    set_country(owner_engine, clinic.org_id, "US")
    clinic.maria = add(clinic, "María", "Núñez", email="maria.nunez@example.com", phone="(212) 555-0123",
                       dob=date(1988, 3, 7))
    clinic.zoe = add(clinic, "Zoë", "O'Brien-Smith", email="zoe@example.org", phone="+44 7911 123456")
    clinic.bob = add(clinic, "Bob", "Jones", phone="646 555 0199")
    return clinic


def test_name_accent_and_case_insensitive(us):
    assert names(us, "nunez") == ["María Núñez"]
    assert names(us, "NÚÑEZ") == ["María Núñez"]
    assert names(us, "maria nu") == ["María Núñez"]
    assert names(us, "nu maria") == ["María Núñez"]  # every word, in any order
    assert names(us, "zoe o'brien") == ["Zoë O'Brien-Smith"]
    assert names(us, "brien-sm") == ["Zoë O'Brien-Smith"]
    assert names(us, "xq") == []


def test_two_characters_search_one_does_not(us):
    assert names(us, "jo") == ["Bob Jones"]
    page = do_list_clients(us.staff_actor(), query="j", now=NOW, engine=us.engine)
    assert page.searched is False and len(page.rows) == 3  # the unfiltered view


def test_like_wildcards_are_literal(us):
    assert names(us, "%%") == [] and names(us, "__") == []


def test_us_phone_in_any_format(us):
    for typed in ("(212) 555-0123", "212-555-0123", "2125550123", "1 212 555 0123", "+1 212 555 0123",
                  "212.555.01", "555 0123"):
        assert names(us, typed) == ["María Núñez"], typed
    assert names(us, "+44 7911 123456") == ["Zoë O'Brien-Smith"]
    rows = do_list_clients(us.staff_actor(), query="nunez", now=NOW, engine=us.engine).rows
    assert rows[0].phone == "(212) 555-0123"  # national format for the clinic's own country
    zoe = do_list_clients(us.staff_actor(), query="zoe", now=NOW, engine=us.engine).rows[0]
    assert zoe.phone == "+44 7911 123456"


def test_gb_clinic_reads_national_numbers(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine, time_zone="Europe/London")
    set_country(owner_engine, clinic.org_id, "GB")
    add(clinic, "Siân", "Ellis", phone="07911 123456", region="GB")
    add(clinic, "Tom", "Hale", phone="020 7946 0958", region="GB")
    for typed in ("07911 123456", "07911123456", "+44 7911 123456", "7911 123456", "7911 123",
                  "07911 12"):
        assert names(clinic, typed) == ["Siân Ellis"], typed
    assert names(clinic, "020 7946 0958") == ["Tom Hale"]
    rows = do_list_clients(clinic.staff_actor(), query="sian", now=NOW, engine=engine).rows
    assert rows[0].name == "Siân Ellis" and rows[0].phone == "07911 123456"


def test_phone_helpers():
    assert phone_search("07911 12", "GB") == (None, "791112")
    assert phone_search("(212) 555-0123", "US") == ("+12125550123", "2125550123")
    assert phone_search("+44 77", "US") == (None, "+4477")
    assert phone_search("maria", "US") == (None, None)
    assert national_phone("+442079460958", "GB") == "020 7946 0958"
    assert national_phone("+442079460958", "US") == "+44 20 7946 0958"


def test_email(us):
    assert names(us, "nunez@ex") == ["María Núñez"]
    assert names(us, "ZOE@EXAMPLE.ORG") == ["Zoë O'Brien-Smith"]
    assert names(us, "example") == ["Zoë O'Brien-Smith", "María Núñez"]


def test_date_of_birth_iso_and_local_order(us, engine, owner_engine):
    assert names(us, "1988-03-07") == ["María Núñez"]
    assert names(us, "03/07/1988") == ["María Núñez"]  # US: month first
    assert names(us, "3/7/1988") == ["María Núñez"]
    assert names(us, "07/03/1988") == []
    assert parse_typed_date("07/03/1988", "GB") == date(1988, 3, 7)  # day first
    assert parse_typed_date("07.03.1988", "DE") == date(1988, 3, 7)
    assert parse_typed_date("31/02/1988", "GB") is None
    assert parse_typed_date("1988-3-7", "US") == date(1988, 3, 7)
    gb = build_clinic(engine, owner_engine, time_zone="Europe/London")
    set_country(owner_engine, gb.org_id, "GB")
    add(gb, "Ada", "Lovelace", dob=date(1988, 3, 7))
    assert names(gb, "07/03/1988") == ["Ada Lovelace"]
    assert names(gb, "03/07/1988") == []


def test_booking_display_code(us):
    code = book(us, us.bob, datetime(2030, 1, 16, 15, 0, tzinfo=timezone.utc))
    assert names(us, code) == ["Bob Jones"]
    assert names(us, format_display_code(code).lower()) == ["Bob Jones"]


def test_tenant_isolation(us, engine, owner_engine):
    other = build_clinic(engine, owner_engine)
    add(other, "María", "Núñez", phone="(212) 555-0123", email="other@example.com")
    assert names(us, "nunez") == ["María Núñez"]
    assert names(other, "nunez") == ["María Núñez"]
    assert names(other, "212 555 0123") == ["María Núñez"]
    assert len(do_list_clients(other.staff_actor(), now=NOW, engine=engine).rows) == 1
    with pytest.raises(NotFound):
        do_read_client_profile(other.staff_actor(), us.maria, now=NOW, engine=engine)


def test_newest_pages_by_keyset(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    ids = [add(clinic, f"Client{i:02d}", "Pager") for i in range(23)]
    seen: list[int] = []
    cursor = ""
    pages = 0
    while True:
        page = do_list_clients(clinic.staff_actor(), view="newest", cursor=cursor, limit=10, now=NOW, engine=engine)
        seen += [r.id for r in page.rows]
        pages += 1
        cursor = page.next_cursor
        if not cursor:
            break
    assert pages == 3 and seen == sorted(ids, reverse=True)
    # a search pages the same way; a malformed cursor is the first page
    page = do_list_clients(clinic.staff_actor(), query="pager", limit=20, now=NOW, engine=engine)
    rest = do_list_clients(clinic.staff_actor(), query="pager", limit=20, cursor=page.next_cursor, now=NOW,
                           engine=engine)
    assert len(page.rows) == 20 and len(rest.rows) == 3 and rest.next_cursor == ""
    junk = do_list_clients(clinic.staff_actor(), cursor="!!not-a-cursor", limit=5, now=NOW, engine=engine)
    assert [r.id for r in junk.rows] == seen[:5]


def test_today_view_in_the_location_time_zone(us, engine):
    book(us, us.maria, datetime(2030, 1, 15, 15, 0, tzinfo=timezone.utc))  # 10:00 New York, today
    book(us, us.bob, datetime(2030, 1, 16, 14, 0, tzinfo=timezone.utc))  # tomorrow in New York
    page = do_list_clients(us.staff_actor(), view="today", now=NOW, engine=engine)
    assert [r.name for r in page.rows] == ["María Núñez"]
    assert page.rows[0].visit == "10:00 AM · Botox"
    assert names(us, "bob", view="today") == []
    assert names(us, "maria", view="today") == ["María Núñez"]


def test_audit_rows_and_permissions(us, engine):
    page = do_list_clients(us.staff_actor("provider"), query="nunez", now=NOW, engine=engine)
    with us.session() as s:
        row = s.exec(select(AuditEvent).where(AuditEvent.action == "client.list")
                     .order_by(AuditEvent.id.desc())).first()[0]
        assert row.detail["client_ids"] == [r.id for r in page.rows] == [us.maria]
        assert "nunez" not in str(row.detail)
    with pytest.raises(PermissionDenied):
        do_list_clients(us.staff_actor("lab"), now=NOW, engine=engine)
    with pytest.raises(NotFound):
        do_read_client_profile(us.staff_actor("lab"), us.maria, now=NOW, engine=engine)


def test_profile_visits_ledger_and_audit(us, engine):
    code = book(us, us.maria, datetime(2030, 1, 16, 15, 0, tzinfo=timezone.utc))
    desk = do_read_client_profile(us.staff_actor("front_desk"), us.maria, now=NOW, engine=engine)
    assert desk.name == "María Núñez" and desk.phone == "(212) 555-0123" and desk.date_of_birth == "1988-03-07"
    assert [(v.code, v.status, v.service, v.provider, v.price) for v in desk.upcoming] == [
        (format_display_code(code), "confirmed", "Botox", "Provider 1", "$350.00")]
    assert desk.upcoming[0].when == "Wed, Jan 16, 2030, 10:00 AM"
    assert desk.past == [] and desk.net_paid == "$0.00"
    assert desk.clinical is False and desk.photos is False
    owner = do_read_client_profile(us.staff_actor("owner"), us.maria, now=NOW, engine=engine)
    assert owner.clinical is True and owner.photos is True
    later = do_read_client_profile(us.staff_actor("owner"), us.maria, now=datetime(2030, 2, 1, tzinfo=timezone.utc),
                                   engine=engine)
    assert later.upcoming == [] and [v.code for v in later.past] == [format_display_code(code)]
    with us.session() as s:
        reads = s.exec(select(AuditEvent).where(AuditEvent.action == "client.read",
                                                AuditEvent.client_id == us.maria)).all()
        assert len(reads) == 3
    with pytest.raises(NotFound):
        do_read_client_profile(us.staff_actor(), 10**12, now=NOW, engine=engine)


def test_search_plan_uses_the_trigram_index(engine, owner_engine):
    """On 20,000 clients the name lookup of medspa_client_search (its query for a word of 3+
    characters, as the function runs it: clinic and pattern bound) is a trigram index scan, and the
    page read joins the few ids by primary key: no whole-clinic scan."""
    clinic = build_clinic(engine, owner_engine)
    with clinic.session() as s:
        s.execute(text("""insert into client (org_id, first_name, last_name, email, phone_e164, email_marketing_consent,
                                sms_marketing_consent, created_at)
            select :org, 'Client' || g, 'Surname' || (g % 997), 'c' || g || '@example.com',
                   '+1212' || lpad(g::text, 7, '0'), false, false, now()
            from generate_series(1, 20000) g"""), {"org": clinic.org_id})
        s.commit()
    add(clinic, "María", "Núñez")
    # vacuum, not only analyze: it also merges the trigram index's pending list (GIN fastupdate),
    # which the planner prices as scanned in full; earlier tests' clients left it long in CI and
    # the lookup looked cheaper as a seq scan. Autovacuum does this in production.
    with owner_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("vacuum (analyze) client, client_search"))
    with owner_engine.connect() as conn:
        conn.execute(text("select set_config('app.org_id', :org, false)"), {"org": str(clinic.org_id)})
        conn.execute(text("""prepare name_lookup(bigint, text) as select s.client_id from client_search s
            where s.org_id = $1 and s.search_name like $2"""))
        plan = "\n".join(r[0] for r in conn.execute(text(
            f"explain execute name_lookup({int(clinic.org_id)}, '%nunez%')")).all())
        conn.execute(text("deallocate name_lookup"))
        conn.execute(text("select set_config('app.org_id', '', false)"))
        conn.rollback()
    assert "ix_client_search_name_trgm" in plan, plan
    statements: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "medspa_client_search" in statement:
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        assert names(clinic, "nunez") == ["María Núñez"]
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    statement, parameters = statements[-1]
    with clinic.session() as s:
        page_plan = "\n".join(r[0] for r in s.connection().exec_driver_sql("explain " + statement, parameters).all())
    assert "Seq Scan on client " not in page_plan and "ix_client_org_id" not in page_plan, page_plan


def test_client_search_table_is_closed_to_the_app(us, engine):
    """The app role reads client_search only through medspa_client_search, which answers
    for the clinic set on the transaction and nothing without one."""
    from sqlalchemy.exc import ProgrammingError

    with us.session() as s:
        with pytest.raises(ProgrammingError):
            s.execute(text("select count(*) from client_search")).all()
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from medspa_client_search(array['nunez'], '', '', '')")).scalar() == 0
    with us.session() as s:
        assert s.execute(text("select * from medspa_client_search(array['nunez'], '', '', '')")).scalars().all() == [
            us.maria]


def test_apostrophes_are_dropped_on_both_sides(us):
    """medspa_fold (migration 0033) and the typed words drop ' and ’, as duplicates.fold_name."""
    curly = add(us, "Ciarán", "O\u2019Neill")
    assert names(us, "obrien") == ["Zoë O'Brien-Smith"]
    assert names(us, "zoe o\u2019brien") == ["Zoë O'Brien-Smith"]
    assert names(us, "oneill") == names(us, "o'neill") == names(us, "O\u2019NEILL") == ["Ciarán O\u2019Neill"]
    assert curly
    assert names(us, "''") == []  # nothing but apostrophes: no name word (and no email of two quotes)


def test_no_search_text_or_cursor_raises(us):
    """NUL and lone surrogates are dropped from the text; a forged cursor is the first page."""
    import base64
    import json

    assert names(us, "nu\x00nez") == ["María Núñez"]
    assert names(us, "nunez\ud800") == ["María Núñez"]
    assert names(us, "\udfff\x00") == names(us, "")  # nothing left: the unfiltered view

    def enc(values) -> str:
        return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")

    first = names(us, "")
    for view, values in (("newest", ["2030-01-01T00:00:00", 1]), ("newest", ["x", 1]),
                         ("newest", ["2030-01-01T00:00:00+00:00", -(2**63) - 1]), ("newest", [1, 2]),
                         ("newest", ["2030-01-01T00:00:00+00:00", 1.5]), ("today", ["Lee", "Ann", False]),
                         ("today", ["Lee", "\ud800", 1]), ("today", [None, "Ann", 1]), ("today", {"a": 1})):
        assert names(us, "", view=view, cursor=enc(values)) == names(us, "", view=view), (view, values)
    assert names(us, "", cursor="\x00\ud800") == first


def test_the_profile_shows_what_the_client_paid_not_the_clinics_card_fee(engine, owner_engine):
    """A new user saw "Paid to date $72.52" for a $75 deposit: the gateway's fee is the clinic's
    cost, not the client's money, and stays off the client's ledger."""
    from medspa.clock import FixedClock
    from medspa.domain.payments.gateway import CardDetails, TestPaymentGateway
    from medspa.domain.payments.models import LedgerEntry
    from medspa.domain.scheduling.booking import OnlineBooking, book_online

    clinic = build_clinic(engine, owner_engine)
    clock = FixedClock(NOW)
    appt = book_online(engine, clinic.public, OnlineBooking(
        location_id=clinic.location_id, service_id=clinic.services["botox"],
        start_at=datetime(2030, 1, 16, 15, 0, tzinfo=timezone.utc),
        client=ClientInput("Ana", "Paid", "ana.paid@example.com", "+12125550177"),
        card=CardDetails("4242424242424242", 12, 2031, "123")), TestPaymentGateway(engine, clock.now), clock)
    with clinic.session() as s:
        kinds = sorted(e.entry_type for e in s.execute(select(LedgerEntry).where(
            LedgerEntry.client_id == appt.client_id)).scalars())
    assert "processing_fee" in kinds  # the clinic's books have it
    profile = do_read_client_profile(clinic.staff_actor("owner"), appt.client_id, now=NOW, engine=engine)
    assert profile.net_paid == "$50.00"
    assert [(line.kind, line.amount) for line in profile.ledger] == [("Deposit paid", "$50.00")]


def test_added_is_the_clinics_day_not_utcs(engine, owner_engine):
    """A new user added a client at 10:20 PM on Saturday Dec 5 in New York and read "Client
    since Dec 6" (the UTC date)."""
    from medspa.domain.clients.models import Client

    clinic = build_clinic(engine, owner_engine)  # New York
    with clinic.session() as s:
        c = Client(org_id=clinic.org_id, first_name="Late", last_name="Evening",
                   created_at=datetime(2026, 12, 6, 3, 20, tzinfo=timezone.utc))
        s.add(c)
        s.commit()
        client_id = c.id
    profile = do_read_client_profile(clinic.staff_actor("owner"), client_id, now=NOW, engine=engine)
    assert profile.added == "Dec 5, 2026"
    page = do_list_clients(clinic.staff_actor("owner"), query="Evening", now=NOW, engine=engine)
    assert [r.added for r in page.rows] == ["Dec 5, 2026"]


def test_a_cancelled_future_visit_is_not_a_past_visit(us, engine):
    """Trial finding 13: a visit cancelled ahead of its date is listed under "Cancelled", not
    "Past visits"; once its time has passed it is history like any other."""
    from medspa.domain.scheduling.desk import cancel_visit
    from medspa.domain.scheduling.models import Appointment

    kept = book(us, us.maria, datetime(2030, 1, 16, 15, 0, tzinfo=timezone.utc))
    dropped = book(us, us.maria, datetime(2030, 1, 23, 15, 0, tzinfo=timezone.utc))
    with us.session() as s:
        appt = s.exec(select(Appointment).where(Appointment.display_code == dropped)).scalars().one()
        cancel_visit(s, us.staff_actor("front_desk"), appt.id, now=NOW)
        s.commit()
    desk = do_read_client_profile(us.staff_actor("front_desk"), us.maria, now=NOW, engine=engine)
    assert [v.code for v in desk.upcoming] == [format_display_code(kept)]
    assert [(v.code, v.status) for v in desk.cancelled] == [(format_display_code(dropped), "cancelled")]
    assert desk.past == []
    later = do_read_client_profile(us.staff_actor("front_desk"), us.maria,
                                   now=datetime(2030, 2, 1, tzinfo=timezone.utc), engine=engine)
    assert later.cancelled == [] and [v.code for v in later.past] == [format_display_code(dropped),
                                                                      format_display_code(kept)]
