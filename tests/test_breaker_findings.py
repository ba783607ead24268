"""Breaker findings (session of 2026-12-06): each test fails on main at the time of writing
and names what it expects instead."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.clients.import_actions import do_import_clients
from medspa.domain.clients.merge_actions import do_merge_clients, do_undo_merge
from medspa.domain.clients.models import Client
from medspa.domain.clients.service import ClientInput, create_client, find_or_create_client
from medspa.domain.messaging.models import OutboxMessage
from medspa.domain.payments.gateway import CardDetails, TestPaymentGateway
from medspa.domain.payments.models import Payment
from medspa.domain.portal import service as portal
from medspa.domain.portal.actions import do_cancel_own_visit
from medspa.domain.practice.models import Location
from medspa.domain.scheduling.booking import OnlineBooking, book_online
from medspa.domain.scheduling.models import Appointment
from tests.conftest import utc
from tests.factories import build_clinic
from tests.test_portal import last_code, request, verify

NY = ZoneInfo("America/New_York")
NOW = utc(2026, 7, 1, 12)
CARD = CardDetails("4242424242424242", 12, 2030, "123")


def ny(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=NY).astimezone(timezone.utc)


def _book(clinic, first: str, email: str, phone: str, start: datetime, clock=None):
    clock = clock or FixedClock(NOW)
    return book_online(clinic.engine, clinic.public, OnlineBooking(
        location_id=clinic.location_id, service_id=clinic.services["botox"], start_at=start,
        client=ClientInput(first, "Wong", email, phone), card=CARD),
        TestPaymentGateway(clinic.engine, clock.now), clock)


def _merged_pair(clinic):
    """Mia (mia@) survives; M. Wong (m.wong@, one visit) is merged into her. Mia already has an
    email, so the hidden record keeps m.wong@ (merge.py: only a filled email moves)."""
    _book(clinic, "Mia", "mia@example.com", "+12125550150", ny(date(2026, 7, 15), 10))
    second = _book(clinic, "M.", "m.wong@work.example", "+12125550177", ny(date(2026, 7, 16), 11))
    with clinic.session() as s:
        mia = s.exec(select(Client.id).where(Client.email == "mia@example.com")).one()
    do_merge_clients(clinic.staff_actor("manager"), mia, second.client_id, clock=FixedClock(NOW), engine=clinic.engine)
    return mia, second.client_id, second.id


def test_import_row_with_a_merged_records_email_fills_the_live_client_not_the_hidden_one(engine, owner_engine):
    """importing: the duplicate index holds hidden (merged) records, so a row with the hidden
    record's email is 'merged' into the hidden record: its fields change on a record nobody
    sees, and the summary says 'merged into #<hidden id>'. It should go to the live record
    (live_client_id), as find_or_create_client does."""
    clinic = build_clinic(engine, owner_engine)
    mia, hidden, _ = _merged_pair(clinic)
    data = b"first_name,last_name,email,date_of_birth\r\nM.,Wong,m.wong@work.example,1990-03-04\r\n"
    summary = do_import_clients(clinic.staff_actor("manager"), data, "c.csv",
                                {"first_name": 0, "last_name": 1, "email": 2, "date_of_birth": 3}, "mdy",
                                clock=FixedClock(NOW), engine=engine)
    assert summary.merged == [(2, mia)], summary
    with clinic.session() as s:
        assert s.get(Client, mia).date_of_birth == date(1990, 3, 4)


def test_portal_sign_in_with_a_merged_records_email_reaches_the_clients_visits(engine, owner_engine):
    """portal: _client_by_email does not skip hidden records, so the client who booked as
    m.wong@ signs in to the hidden record and sees none of the visits (they moved to the
    survivor). Expected: signing in with that email reaches the live record and its visits
    (or at least the visit that client booked)."""
    clinic = build_clinic(engine, owner_engine)
    mia, hidden, visit = _merged_pair(clinic)
    request(clinic, "m.wong@work.example", NOW)
    signed = verify(clinic, "m.wong@work.example", last_code(clinic, "m.wong@work.example"), NOW)
    assert signed is not None
    assert signed.actor.client_id == mia, f"signed in to hidden record #{hidden}, not the live #{mia}"
    with clinic.session() as s:
        view = portal.portal_overview(s, signed.actor, now=NOW)
    assert len(view.upcoming) == 2


def test_undoing_a_merge_whose_survivor_was_merged_again_leaves_the_record_empty(engine, owner_engine):
    """merge A into B, then B into C, then undo A->B: undo moves only rows 'still on the
    survivor' B, but they are all on C now, so A reappears in the list with none of its visits
    or payments, and the merge is marked undone. Expected: refuse (undo B->C first) or move
    A's rows back from wherever the chain took them."""
    clinic = build_clinic(engine, owner_engine)
    a = _book(clinic, "Ann", "ann@example.com", "+12125550101", ny(date(2026, 7, 15), 10))
    b = _book(clinic, "Anne", "anne@example.com", "+12125550102", ny(date(2026, 7, 16), 10))
    c = _book(clinic, "Annie", "annie@example.com", "+12125550103", ny(date(2026, 7, 17), 10))
    manager, clock = clinic.staff_actor("manager"), FixedClock(NOW)
    first = do_merge_clients(manager, b.client_id, a.client_id, clock=clock, engine=engine)
    do_merge_clients(manager, c.client_id, b.client_id, clock=clock, engine=engine)
    try:
        do_undo_merge(manager, first.merge_id, clock=clock, engine=engine)
    except Exception as exc:  # a refusal is an acceptable answer
        assert type(exc).__name__ == "ValidationFailed", exc
        return
    with clinic.session() as s:
        shown = s.get(Client, a.client_id).merged_into_id is None
        owner_of_visit = s.get(Appointment, a.id).client_id
    assert not shown or owner_of_visit == a.client_id, (
        f"Ann #{a.client_id} shows again but her visit stays on #{owner_of_visit}")


def test_a_late_cancellation_keeps_the_deposit_the_confirmation_promised_to_refund(engine, owner_engine):
    """policy: the keep/refund rule is read from the location at cancel time. A client booked
    when the location refunded every cancellation ('Cancellations are refunded in full, however
    close to the visit.' in the confirmation); the clinic then switched to keep; the client
    cancels late and loses the deposit they were told they would get back. Expected: the rule
    the client booked under (or at least the more generous of the two) decides."""
    clinic = build_clinic(engine, owner_engine, late_keeps_deposit=False)
    clock = FixedClock(NOW)
    appt = _book(clinic, "Ana", "ana@example.com", "+12125550147", ny(date(2026, 7, 1), 15), clock)
    with clinic.session() as s:
        bodies = [m.body for m in s.exec(select(OutboxMessage).where(OutboxMessage.client_id == appt.client_id))]
    assert any("refunded in full, however close to the visit" in b for b in bodies), bodies
    with clinic.session() as s:  # the clinic switches the rule (settings' location form writes this field)
        s.get(Location, clinic.location_id).late_cancel_keeps_deposit = True
        s.commit()
    request(clinic, "ana@example.com", NOW)
    ana = verify(clinic, "ana@example.com", last_code(clinic, "ana@example.com"), NOW).actor
    message = do_cancel_own_visit(ana, appt.id, gateway=TestPaymentGateway(engine, clock.now), clock=clock,
                                  engine=engine)
    with clinic.session() as s:
        status = s.exec(select(Payment.status).where(Payment.appointment_id == appt.id)).one()
    assert status == "refunded", message


def test_an_xlsx_with_ten_clients_and_a_formatted_empty_cell_far_down_is_not_refused_as_too_many():
    """import_file.read_xlsx counts every sheet row (openpyxl yields the empty rows up to the
    last row that has only formatting) against MAX_ROWS before blank rows are dropped, so a
    workbook of 10 clients with a bold empty cell at row 30,000 is refused 'At most 20,000
    clients per file'. The CSV path drops blank lines before counting; Excel sheets with
    formatting far below the data are common."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from medspa.domain.clients.import_file import read_import_file

    book = Workbook()
    sheet = book.active
    sheet.append(["first_name", "last_name", "email"])
    for i in range(10):
        sheet.append([f"Ann{i}", "Lee", f"ann{i}@example.com"])
    sheet.cell(row=30_000, column=1).font = Font(bold=True)  # formatting only, no value
    out = io.BytesIO()
    book.save(out)
    assert len(read_import_file(out.getvalue(), "clients.xlsx").rows) == 10


def test_an_import_racing_a_booking_with_the_same_email_answers_with_a_message_not_an_integrity_error(
        engine, owner_engine, monkeypatch):
    """import_service: the import lock serialises imports, not bookings. A client booked online
    with a file row's email between the plan and the insert makes the whole import fail with a
    raw IntegrityError (uq_client_email) - every row rolled back, no message for the user.
    Expected: that row merged into the new client (or skipped with a reason), or a
    ValidationFailed telling the user to run the import again."""
    from sqlalchemy.exc import IntegrityError

    from medspa.domain.clients import import_service
    from medspa.domain.errors import ValidationFailed

    clinic = build_clinic(engine, owner_engine)
    real_review = import_service.review_import

    def review_then_a_booking_commits(*args, **kwargs):
        plans = real_review(*args, **kwargs)
        with clinic.session() as s:  # another connection: the online booking's find_or_create
            find_or_create_client(s, clinic.public, ClientInput("Zoe", "Race", "zoe@example.com", "+12125550199"))
            s.commit()
        return plans

    monkeypatch.setattr(import_service, "review_import", review_then_a_booking_commits)
    data = b"first_name,last_name,email\r\nZoe,Race,zoe@example.com\r\nBo,Li,bo@example.com\r\n"
    try:
        summary = do_import_clients(clinic.staff_actor("manager"), data, "c.csv",
                                    {"first_name": 0, "last_name": 1, "email": 2}, "mdy",
                                    clock=FixedClock(NOW), engine=engine)
    except ValidationFailed:
        return  # a message is an acceptable answer
    except IntegrityError as exc:
        raise AssertionError(f"raw IntegrityError reached the caller: {exc.orig}") from None
    assert len(summary.created) + len(summary.merged) == 2


def test_the_client_list_raises_nothing_for_a_search_text_with_a_nul_character(clinic):
    """search.list_clients promises 'Raises nothing for any text', but a query holding NUL
    (the search box's event sends any string) reaches psycopg: DataError 'PostgreSQL text
    fields cannot contain NUL (0x00) bytes'. Expected: an empty or ordinary result."""
    from medspa.domain.clients.search import list_clients

    with clinic.session() as s:
        create_client(s, clinic.staff_actor("manager"), ClientInput("Ann", "Lee", "ann@example.com", ""))
        s.commit()
    with clinic.session() as s:
        page = list_clients(s, org_id=clinic.org_id, now=NOW, query="Ann\x00Lee")
    assert page.searched


def test_a_forged_cursor_is_read_as_the_first_page_not_a_database_error(clinic):
    """search.list_clients: 'a malformed [cursor]: the first page', but a cursor whose id is
    out of bigint range or a bool, or (today view) whose name holds NUL, reaches PostgreSQL
    (NumericValueOutOfRange / UndefinedFunction bigint < boolean / DataError)."""
    import base64
    import json

    from medspa.domain.clients.search import list_clients

    def enc(values) -> str:
        return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")

    failures = []
    for view, values in (("newest", ["2026-01-01T00:00:00+00:00", 10**30]),
                         ("newest", ["2026-01-01T00:00:00+00:00", True]),
                         ("today", ["Lee", "Ann", 10**30]),
                         ("today", ["Lee\x00", "Ann", 1])):
        try:
            with clinic.session() as s:
                list_clients(s, org_id=clinic.org_id, now=NOW, view=view, cursor=enc(values))
        except Exception as exc:  # noqa: BLE001 - listed below
            failures.append((view, values, type(exc).__name__))
    assert failures == []


def test_the_block_form_refuses_a_superscript_digit_room_id_with_a_message():
    """features/settings/room_blocks.parse_block checks resource_id with str.isdigit(), which
    is True for '²', then int('²') raises ValueError out of the event handler. Expected:
    'Choose a room or device' like any other unreadable id."""
    from medspa.features.settings.room_blocks import parse_block

    form = {"resource_id": "²", "start_date": "2026-07-15", "start_time": "09:00", "end_date": "",
            "end_time": "12:30", "reason": "Laser service visit"}
    data, errors = parse_block(form, NY)
    assert data is None and "resource_id" in errors


def test_changing_the_currency_before_the_first_payment_charges_the_next_deposit_in_the_new_currency(
        engine, owner_engine):
    """practice/profile: 'Before the first payment it [the currency] may change (the prices'
    figures stay as typed)' - but Service.currency keeps the old code, and appointments and
    deposits take service.currency (scheduling/service.py). A clinic that set up its menu,
    then switched USD -> EUR on the Clinic tab, charges its next deposit in USD while the
    clinic reads EUR: the first payment then locks the clinic in a currency none of its
    payments are in. Expected: the deposit is charged in EUR (services follow the clinic)."""
    from medspa.domain.practice.profile import ClinicProfileInput
    from medspa.domain.practice.profile_actions import do_update_clinic

    clinic = build_clinic(engine, owner_engine)
    do_update_clinic(clinic.staff_actor("owner"), ClinicProfileInput("Test Clinic", "EUR", "DE", False),
                     engine=engine)
    appt = _book(clinic, "Ana", "ana@example.com", "+12125550147", ny(date(2026, 7, 15), 10))
    with clinic.session() as s:
        paid = s.exec(select(Payment.currency).where(Payment.appointment_id == appt.id)).one()
        booked = s.get(Appointment, appt.id).currency
    assert (booked, paid) == ("EUR", "EUR")


def test_review_names_the_files_own_line_after_a_blank_line_or_a_two_line_cell(engine, owner_engine):
    """import_file._table drops blank lines and then numbers rows as 'line n + 2', so after a
    blank line (or a quoted cell spanning two lines) every line the review and the summary
    name is off: the user looks up 'line 3' and finds the wrong client. Expected: the line the
    row starts on in the file (here Bo's bad email is on line 4, Cy's on line 7)."""
    from medspa.domain.clients.import_actions import do_review_import

    clinic = build_clinic(engine, owner_engine)
    data = (b"first_name,last_name,email,notes\r\n"
            b"Ann,Lee,ann@example.com,\r\n"
            b"\r\n"
            b"Bo,Li,not-an-email,\r\n"
            b'Di,Wu,di@example.com,"two\r\nlines"\r\n'
            b"Cy,Ng,also-bad,\r\n")
    review = do_review_import(clinic.staff_actor("manager"), data, "c.csv",
                              {"first_name": 0, "last_name": 1, "email": 2}, "mdy", clock=FixedClock(NOW),
                              engine=engine)
    skipped = {ln.name: ln.line for ln in review.lines if ln.action == "skip"}
    assert skipped == {"Bo Li": 4, "Cy Ng": 7}


def test_a_full_name_written_last_comma_first_is_not_stored_as_first_name_doe_comma():
    """importing._row_input splits a full-name cell at its last space, so 'Doe, Jane' (the
    usual 'Last, First' of client exports) becomes first name 'Doe,' and last name 'Jane': a
    client list full of swapped names with a stray comma. Expected: first 'Jane', last 'Doe'
    (or the row refused with a reason), never a name with the separator in it."""
    from medspa.domain.clients.duplicates import DuplicateIndex
    from medspa.domain.clients.import_file import read_import_file
    from medspa.domain.clients.importing import plan_import

    table = read_import_file(b'Client name,Email\r\n"Doe, Jane",jane@example.com\r\n', "c.csv")
    [plan] = plan_import(table, {"full_name": 0, "email": 1}, DuplicateIndex([]), order="mdy", region="US",
                         today=date(2026, 7, 1))
    assert plan.client is None or (plan.client.first_name, plan.client.last_name) == ("Jane", "Doe")


def test_searching_obrien_finds_o_apostrophe_brien_by_name(clinic):
    """search: medspa_fold keeps apostrophes ("o'brien"), so a desk that types "obrien" (or
    "OBrien") never finds Siobhan O'Brien by her name - only when her email happens to hold
    "obrien". duplicates.fold_name drops apostrophes for the same reason. Expected: found."""
    from medspa.domain.clients.search import list_clients

    with clinic.session() as s:
        create_client(s, clinic.staff_actor("manager"), ClientInput("Siobhan", "O'Brien", "sio@example.com", ""))
        s.commit()
    with clinic.session() as s:
        found = {q: [r.name for r in list_clients(s, org_id=clinic.org_id, now=NOW, query=q).rows]
                 for q in ("obrien", "Siobhan OBrien")}
    assert found == {"obrien": ["Siobhan O'Brien"], "Siobhan OBrien": ["Siobhan O'Brien"]}


# ---------------------------------------------------------------- issue 15: moves, manage link (breaker 2026-12-06)

def _late_paid_visit(engine, owner_engine, *, late_is_cancel: bool = False):
    """Ana's $50-deposit botox visit on Jul 15 at 10:00 New York, booked online, and `late_now`
    (5 hours before it: inside the 24-hour window)."""
    clinic = build_clinic(engine, owner_engine)
    if late_is_cancel:
        with clinic.session() as s:
            loc = s.get(Location, clinic.location_id)
            loc.late_reschedule_is_late_cancel = True
            s.add(loc)
            s.commit()
    appt = _book(clinic, "Ana", "ana@example.com", "+12125550147", ny(date(2026, 7, 15), 10))
    return clinic, appt, ny(date(2026, 7, 15), 10) - timedelta(hours=5)


def _manage_move(clinic, token: str, start: datetime, now: datetime):
    from medspa.domain.scheduling.actions import manage
    return manage.do_reschedule_by_token(clinic.public, token, start, clock=FixedClock(now), engine=clinic.engine,
                                         gateway=TestPaymentGateway(clinic.engine, FixedClock(now).now))


def test_the_visit_a_counted_late_move_makes_has_no_second_free_late_move(engine, owner_engine):
    """reschedule: a late move is free ONCE; the second counts as a late cancellation and makes
    a new visit. That new visit started with late_reschedules 0, so the third late move was
    free again (the terms said "you can move it once without a fee"). The count carries over."""
    from medspa.domain.scheduling.reschedule import reschedule_terms
    clinic, appt, late_now = _late_paid_visit(engine, owner_engine)
    day = date(2026, 7, 15)
    _manage_move(clinic, appt.booking_token, ny(day, 14), late_now)  # the free late move
    moved = _manage_move(clinic, appt.booking_token, ny(day, 15), late_now)  # counts as a late cancellation
    assert "counted as a late cancellation" in moved.message
    with clinic.session() as s:
        new = s.exec(select(Appointment).where(Appointment.booking_token == appt.booking_token)).one()
        assert new.id != appt.id
        terms = reschedule_terms(s, new, late_now)
    assert (terms.free_late_left, terms.counts_as_late_cancel) == (False, True), terms


def test_a_late_move_of_a_treatment_not_bookable_online_is_refused_with_a_reason_not_not_found(engine, owner_engine):
    """reschedule: a late move that counts as a late cancellation rebooks through hold_slot's
    online checks, which answer NotFound("service") for a treatment the clinic does not sell
    online: the manage page said the link was gone and the API answered 404 for a valid token.
    Expected: MoveRefused with a reason (the page shows it; the API answers 409), nothing changed."""
    from medspa.domain.catalog.models import Service
    from medspa.domain.scheduling.reschedule import MoveRefused
    clinic, appt, late_now = _late_paid_visit(engine, owner_engine, late_is_cancel=True)
    with clinic.session() as s:
        svc = s.get(Service, clinic.services["botox"])
        svc.online_bookable = False
        s.add(svc)
        s.commit()
    try:
        _manage_move(clinic, appt.booking_token, ny(date(2026, 7, 15), 14), late_now)
        raise AssertionError("moved")
    except MoveRefused as exc:
        assert "call the clinic" in exc.reason
    with clinic.session() as s:
        row = s.get(Appointment, appt.id)
        assert (row.status, row.start_at, row.booking_token) == ("confirmed", appt.start_at, appt.booking_token)


def test_the_manage_link_of_a_visit_whose_provider_left_offers_no_times_instead_of_not_found(engine, owner_engine):
    """manage: once the visit's provider is deactivated, the link's free days and a move raised
    NotFound("provider"): the page dropped the client back with "link no longer valid" and
    the API answered 404 for a valid token. Expected: no open day, and a move refused with a
    reason to call the clinic (MoveRefused: 409 in the API)."""
    from medspa.domain.practice.models import StaffMember
    from medspa.domain.scheduling.actions import manage
    from medspa.domain.scheduling.reschedule import MoveRefused
    clinic = build_clinic(engine, owner_engine)
    day = date(2026, 7, 15)
    appt = _book(clinic, "Ana", "ana@example.com", "+12125550147", ny(day, 10))
    with clinic.session() as s:
        for staff in s.exec(select(StaffMember)):
            staff.active = False
            s.add(staff)
        s.commit()
    days = manage.fetch_reschedule_days(clinic.public, appt.booking_token, day, day, clock=FixedClock(NOW),
                                        engine=engine)
    assert [d.open for d in days] == [False]
    assert manage.fetch_reschedule_slots(clinic.public, appt.booking_token, day, day, clock=FixedClock(NOW),
                                         engine=engine) == ()
    try:
        _manage_move(clinic, appt.booking_token, ny(day, 11), NOW)
        raise AssertionError("moved")
    except MoveRefused as exc:
        assert "call the clinic" in exc.reason


def test_a_checked_in_visit_does_not_move_to_a_later_day(engine, owner_engine):
    """reschedule: MOVABLE_STATUSES lets the desk move a checked-in visit (the client is here:
    another room, provider or a later start today). It also moved it a week ahead, still
    'checked in' with today's check-in time: a check-in on a day that has not come
    (change_status allows check-in only on or after the visit's local day), and the arrivals
    list that day shows the client 'waiting' for a week. Expected: refused with the reason;
    a move later the same day still works."""
    from medspa.domain.scheduling.actions.reschedule import do_move_visit
    from medspa.domain.scheduling.reschedule import MoveRefused
    from medspa.domain.scheduling.service import change_status, hold_slot
    clinic = build_clinic(engine, owner_engine)
    day = date(2026, 7, 15)
    now = ny(day, 9) + timedelta(minutes=50)
    with clinic.session() as s:
        appt = hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services["botox"],
                         start_at=ny(day, 10), now=NOW, confirm=True)
        change_status(s, clinic.staff_actor(), appt.id, "check_in", now=now)
        s.commit()
        appt_id = appt.id
    try:
        do_move_visit(clinic.staff_actor(), appt_id, start_at=ny(day + timedelta(days=7), 10), clock=FixedClock(now),
                      engine=engine)
        raise AssertionError("moved a checked-in visit a week ahead")
    except MoveRefused as exc:
        assert "today" in exc.reason
    do_move_visit(clinic.staff_actor(), appt_id, start_at=ny(day, 11), clock=FixedClock(now), engine=engine)
    with clinic.session() as s:
        row = s.get(Appointment, appt_id)
        assert (row.status, row.start_at) == ("checked_in", ny(day, 11))


def test_a_free_late_move_then_a_cancel_is_still_a_late_cancellation(engine, owner_engine):
    """policy: 5 hours before her visit Ana cannot cancel without losing the $50 deposit, but
    she could move it for free once (inside the window) to a day three weeks ahead and then
    cancel that, outside the window: the deposit came back in full, so the free late move
    turned every late cancellation into a refunded one. A visit moved inside the window stays
    late to cancel (the portal's and the panel's previews say so too)."""
    from medspa.domain.portal.service import preview_cancellation
    from medspa.domain.scheduling.actions import manage
    clinic, appt, late_now = _late_paid_visit(engine, owner_engine)
    far = ny(date(2026, 8, 5), 10)
    _manage_move(clinic, appt.booking_token, far, late_now)
    later = late_now + timedelta(minutes=5)
    with clinic.session() as s:
        preview = preview_cancellation(s, s.get(Appointment, appt.id), now=later)
    assert preview.late, preview
    from medspa.domain.scheduling.detail import appointment_detail
    with clinic.session() as s:
        panel = appointment_detail(s, clinic.staff_actor(), appt.id, now=later)
    assert (panel.cancel_late, panel.cancel_policy) == (
        True, "Moved inside the window by the client: the $50.00 deposit will be kept."), panel.cancel_policy
    manage.do_cancel_by_token(clinic.public, appt.booking_token, "illness", clock=FixedClock(later), engine=engine,
                              gateway=TestPaymentGateway(engine, FixedClock(later).now))
    with clinic.session() as s:
        row = s.get(Appointment, appt.id)
        assert (row.status, row.cancellation_late, row.cancellation_keeps_deposit) == ("cancelled", True, True)
        assert s.exec(select(Payment.status).where(Payment.appointment_id == appt.id)).all() == ["succeeded"]


def test_my_day_of_a_provider_without_a_staff_record_names_the_clinics_date_not_utcs(engine, owner_engine):
    """daylist: a provider account with no staff record gets an empty My day whose heading was
    the UTC date: at 10 PM in New York it already said tomorrow. Expected: the clinic's date."""
    from medspa.domain.identity.actor import Actor
    from medspa.domain.scheduling.actions.daylist import fetch_my_day
    clinic = build_clinic(engine, owner_engine)
    provider = Actor(org_id=clinic.org_id, role="provider", user_id=None, label="Dr. Nobody")
    evening = ny(date(2026, 6, 30), 22)  # 02:00 UTC on July 1
    mine = fetch_my_day(provider, clock=FixedClock(evening), engine=engine)
    assert (mine.bookable, mine.visits, mine.day_label) == (False, (), "Tuesday, June 30")


def test_a_clients_move_onto_their_own_other_visit_is_refused_in_words_for_the_client(engine, owner_engine):
    """manage: the link offers a time that overlaps the client's other visit (the grid leaves
    out only this visit) and the refusal read "The client has another visit at that time",
    the desk's words, shown to the client. Expected: addressed to them; nothing moves."""
    from medspa.domain.scheduling.reschedule import MoveRefused
    clinic = build_clinic(engine, owner_engine, providers=2)
    day = date(2026, 7, 15)
    first = _book(clinic, "Ana", "ana@example.com", "+12125550147", ny(day, 10))
    _book(clinic, "Ana", "ana@example.com", "+12125550147", ny(day, 14))
    try:
        _manage_move(clinic, first.booking_token, ny(day, 14), NOW)
        raise AssertionError("moved onto her own visit")
    except MoveRefused as exc:
        assert exc.reason == "You already have a visit at that time. Please pick another.", exc.reason
    with clinic.session() as s:
        assert s.get(Appointment, first.id).start_at == ny(day, 10)


def test_the_manage_link_does_not_offer_times_that_overlap_the_clients_other_visit(engine, owner_engine):
    """manage: the free times left out only this visit, so a time overlapping the client's
    other visit was offered and then refused. Expected: not offered."""
    from medspa.domain.scheduling.actions import manage
    clinic = build_clinic(engine, owner_engine, providers=2)
    day = date(2026, 7, 15)
    from medspa.domain.scheduling.service import hold_slot
    first = _book(clinic, "Ana", "ana@example.com", "+12125550147", ny(day, 10))
    other = next(p for p in clinic.provider_ids if p != first.provider_id)
    with clinic.session() as s:  # her other visit, with the other provider
        hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services["botox"],
                  start_at=ny(day, 14), now=NOW, provider_id=other, client_id=first.client_id, confirm=True)
        s.commit()
    starts = {t.start for t in manage.fetch_reschedule_slots(clinic.public, first.booking_token, day, day,
                                                             clock=FixedClock(NOW), engine=engine)}
    assert ny(day, 13) + timedelta(minutes=30) in starts and ny(day, 14) + timedelta(minutes=30) in starts
    assert not starts & {ny(day, 13) + timedelta(minutes=45), ny(day, 14), ny(day, 14) + timedelta(minutes=15)}
