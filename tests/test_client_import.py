"""Issue 14 part 4, importing clients from the old system: encodings and separators, names kept
byte-exact, dates in the order the user picks (a contradicting file refused with its lines),
phones read with the clinic's country, duplicates inside the file and against the clinic's
clients listed and never merged silently, a summary that accounts for every row, all or
nothing, audited."""

from __future__ import annotations

import codecs
import io
from datetime import date

import pytest
from sqlalchemy import func
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.audit.models import AuditEvent
from medspa.domain.clients import import_service
from medspa.domain.clients.import_actions import do_import_clients, do_review_import, fetch_import_preview
from medspa.domain.clients.importing import DateOrderConflict, guess_mapping, parse_birth_date
from medspa.domain.clients.models import Client
from medspa.domain.clients.service import ClientInput, create_client
from medspa.domain.errors import ValidationFailed
from medspa.domain.identity.actor import PermissionDenied
from medspa.domain.practice.models import Organization
from tests.conftest import utc
from tests.factories import build_clinic
from tests.test_handler_matrix import world  # noqa: F401  (fixture)
from tests.test_handlers import app_settings  # noqa: F401  (fixture)

CLOCK = FixedClock(utc(2026, 7, 1, 16))
TODAY = date(2026, 7, 1)
UK_FILE = ("Prénom;Nom;E-mail;Mobile;Date of birth;SMS opt-in\r\n"
           "Zoë;O'Brien-Núñez;zoe@example.co.uk;07911 123456;25/12/1990;yes\r\n"
           "Siân;Ní Bhriain;sian@example.co.uk;+44 7911 223344;03/04/1985;no\r\n"
           "José;García;jose@example.co.uk;07911 222333;1979-02-28;\r\n")


@pytest.fixture
def uk(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine, time_zone="Europe/London")
    with owner_engine.begin() as conn:
        conn.execute(Organization.__table__.update().where(Organization.id == clinic.org_id).values(country="GB"))
    return clinic


def clients(clinic) -> dict[str, Client]:
    with clinic.session() as s:
        return {c.email: c for c in s.exec(select(Client))}


def mapping_of(text: str, sep: str = ";") -> dict[str, int]:
    return guess_mapping(text.splitlines()[0].split(sep))


def test_a_utf8_bom_semicolon_file_keeps_names_byte_exact_and_reads_local_phones(uk):
    data = codecs.BOM_UTF8 + UK_FILE.encode()
    manager = uk.staff_actor("manager")
    preview = fetch_import_preview(manager, data, "clients.csv")
    assert (preview.encoding, preview.separator, preview.row_count) == ("UTF-8 (with byte-order mark)", "semicolon", 3)
    assert preview.headers[0] == "Prénom" and preview.first_rows[0][1] == "O'Brien-Núñez"
    assert preview.mapping == {"first_name": 0, "last_name": 1, "email": 2, "phone": 3, "date_of_birth": 4,
                               "sms_marketing_consent": 5}
    summary = do_import_clients(manager, data, "clients.csv", preview.mapping, "dmy", clock=CLOCK, engine=uk.engine)
    assert [line for line, _ in summary.created] == [2, 3, 4] and summary.merged == summary.skipped == []
    got = clients(uk)
    zoe = got["zoe@example.co.uk"]
    assert (zoe.first_name, zoe.last_name) == ("Zoë", "O'Brien-Núñez")
    assert zoe.first_name.encode() == "Zoë".encode()  # composed as typed, not decomposed
    assert (zoe.phone_e164, zoe.date_of_birth, zoe.sms_marketing_consent) == ("+447911123456", date(1990, 12, 25), True)
    assert got["sian@example.co.uk"].date_of_birth == date(1985, 4, 3)  # day first, as chosen
    assert got["jose@example.co.uk"].date_of_birth == date(1979, 2, 28)  # ISO always
    with uk.session() as s:
        audit = s.exec(select(AuditEvent).where(AuditEvent.action == "client.import")).one()
        assert (audit.detail["rows"], audit.detail["created"], audit.detail["skipped"]) == (3, 3, 0)
        assert s.exec(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "client.create", AuditEvent.detail["source"].astext == "import")).one() == 3


def test_windows_1252_with_tabs_and_month_first_dates(engine, owner_engine):
    clinic = build_clinic(engine, owner_engine)
    text = "First Name\tLast Name\tEmail\tPhone\tDOB\r\nRenée\tD'Açores\trenee@example.com\t(212) 555-0123\t12/25/1990\r\n"
    data = text.encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # truly not UTF-8
    manager = clinic.staff_actor("manager")
    preview = fetch_import_preview(manager, data, "export.txt")
    assert (preview.encoding, preview.separator) == ("Windows-1252", "tab")
    summary = do_import_clients(manager, data, "export.txt", preview.mapping, "mdy", clock=CLOCK, engine=clinic.engine)
    assert len(summary.created) == 1
    renee = clients(clinic)["renee@example.com"]
    assert (renee.first_name, renee.last_name, renee.phone_e164, renee.date_of_birth) == (
        "Renée", "D'Açores", "+12125550123", date(1990, 12, 25))


def test_dates_that_contradict_the_chosen_order_refuse_the_file_with_their_lines(uk):
    data = UK_FILE.encode()
    mapping = mapping_of(UK_FILE)
    with pytest.raises(DateOrderConflict) as exc:  # 25/12/1990 is no month-first date
        do_import_clients(uk.staff_actor("manager"), data, "c.csv", mapping, "mdy", clock=CLOCK, engine=uk.engine)
    assert exc.value.lines == [2]
    assert "Line(s) 2 read as dates only in day/month order" in exc.value.fields["date_order"]
    assert clients(uk) == {}  # nothing written


@pytest.mark.parametrize(("value", "order", "expected"), [
    ("1990-12-25", "mdy", (date(1990, 12, 25), "", False)),
    ("03/04/1985", "dmy", (date(1985, 4, 3), "", False)),
    ("03/04/1985", "mdy", (date(1985, 3, 4), "", False)),
    ("3.4.1985", "dmy", (date(1985, 4, 3), "", False)),
    ("13/01/1990", "mdy", (None, "13/01/1990 is not a date in the order chosen", True)),
    ("31/02/1990", "dmy", (None, "31/02/1990 is not a date", False)),
    ("1/2/34", "dmy", (None, "1/2/34: write the year with 4 digits", False)),
    ("2027-01-01", "dmy", (None, "2027-01-01 is in the future", False)),
    ("1850-01-01", "dmy", (None, "1850-01-01 is before 1900", False)),
    ("next tuesday", "dmy", (None, "next tuesday is not a date (use 1990-12-25 or the order chosen)", False)),
    ("", "dmy", (None, "", False)),
])
def test_birth_dates(value, order, expected):
    assert parse_birth_date(value, order, TODAY) == expected


def test_duplicates_in_the_file_and_in_the_clinic_are_listed_and_decided_never_silently_merged(uk):
    manager = uk.staff_actor("manager")
    with uk.session() as s:
        ana = create_client(s, manager, ClientInput("Ana", "Núñez", "ana@example.co.uk", ""), region="GB")
        bea = create_client(s, manager, ClientInput("Beatriz", "Souza", "", "07911 000111",
                                                    date_of_birth=date(1988, 5, 6)), region="GB")
        s.commit()
        ana_id, bea_id = ana.id, bea.id
    text = ("first_name,last_name,email,phone,date_of_birth\n"
            "ANA,Nunez,ana@example.co.uk,07911 000222,1991-01-02\n"     # 2: same email -> merge (fills phone, dob)
            "Bea,Souza,bea@example.co.uk,,06/05/1988\n"                 # 3: same dob + similar name -> skip
            "Carla,Reis,carla@example.co.uk,07911 000333,\n"            # 4: new
            "Karla,Reis,karla@example.co.uk,07911 000333,\n"            # 5: same phone as line 4 -> skip
            "Dora,Lima,not-an-email,,\n")                               # 6: invalid -> skipped with the reason
    data, mapping = text.encode(), mapping_of(text, ",")
    review = do_review_import(manager, data, "c.csv", mapping, "dmy", clock=CLOCK, engine=uk.engine)
    plan = {r.line: (r.action, r.client_id, r.reason, r.choosable) for r in review.lines}
    assert plan[2] == ("merge", ana_id, f"Likely Ana Núñez (client #{ana_id}): same email", ("merge", "skip"))
    assert plan[3] == ("skip", bea_id, f"Likely Beatriz Souza (client #{bea_id}): same date of birth and a similar name",
                       ("skip", "merge", "create"))
    assert plan[4] == ("create", None, "", ())
    assert plan[5] == ("skip", None, "Likely the same client as line 4: same phone and a similar name", ("skip", "create"))
    assert plan[6][0] == "skip" and plan[6][2] == "Email: Enter an email address like name@example.com"
    assert [r.name for r in review.lines] == ["ANA Nunez", "Bea Souza", "Carla Reis", "Karla Reis", "Dora Lima"]
    assert review.counts == {"merge": 1, "skip": 3, "create": 1}
    # the desk decides: line 3 is a different person after all, line 2 is skipped; an invalid choice is ignored
    summary = do_import_clients(manager, data, "c.csv", mapping, "dmy", {3: "create", 2: "skip", 6: "create"},
                                clock=CLOCK, engine=uk.engine)
    assert [line for line, _ in summary.created] == [3, 4]
    assert summary.merged == []
    assert [line for line, _ in summary.skipped] == [2, 5, 6]
    assert len(summary.created) + len(summary.merged) + len(summary.skipped) == 5  # every row accounted for
    got = clients(uk)
    assert got["ana@example.co.uk"].phone_e164 is None  # skipped: untouched
    # imported again with the defaults: line 2 merges into Ana, filling what she lacked, nothing overwritten
    # (Bea and Carla, created by the first run, are now matched by their email too)
    summary = do_import_clients(manager, data, "c.csv", mapping, "dmy", clock=CLOCK, engine=uk.engine)
    assert [line for line, _ in summary.merged] == [2, 3, 4] and summary.merged[0] == (2, ana_id)
    assert summary.created == [] and [line for line, _ in summary.skipped] == [5, 6]
    ana = clients(uk)["ana@example.co.uk"]
    assert (ana.first_name, ana.last_name, ana.phone_e164, ana.date_of_birth) == (
        "Ana", "Núñez", "+447911000222", date(1991, 1, 2))


def test_a_household_sharing_one_mobile_is_created_and_flagged_not_skipped(uk):
    """A mother and son with one family mobile: the same phone with a different name is listed
    for review but created by default (skipping it would drop a real client silently)."""
    manager = uk.staff_actor("manager")
    with uk.session() as s:
        mum = create_client(s, manager, ClientInput("Helen", "Carter", "", "07911 000999"), region="GB")
        s.commit()
        mum_id = mum.id
    text = "first_name,last_name,phone\nJack,Carter,07911 000999\nHelena,Carter,07911 000999\n"
    review = do_review_import(manager, text.encode(), "c.csv", mapping_of(text, ","), "dmy", clock=CLOCK,
                              engine=uk.engine)
    plan = {r.line: (r.action, r.reason, r.choosable) for r in review.lines}
    assert plan[2] == ("create", f"Likely Helen Carter (client #{mum_id}): same phone", ("skip", "merge", "create"))
    assert plan[3] == ("skip", f"Likely Helen Carter (client #{mum_id}): same phone and a similar name",
                       ("skip", "merge", "create"))


def test_an_xlsx_workbook_is_read_with_dates_and_numbers_as_typed(engine, owner_engine):
    from openpyxl import Workbook

    clinic = build_clinic(engine, owner_engine)
    book = Workbook()
    sheet = book.active
    sheet.append(["Name", "Email", "Mobile", "Birthday"])
    sheet.append(["Mary Jo O'Neil", "mj@example.com", 2125550199, date(1970, 1, 31)])
    out = io.BytesIO()
    book.save(out)
    manager = clinic.staff_actor("manager")
    preview = fetch_import_preview(manager, out.getvalue(), "Clients.XLSX")
    assert preview.encoding == "Excel workbook"
    assert preview.first_rows == [["Mary Jo O'Neil", "mj@example.com", "2125550199", "1970-01-31"]]
    assert preview.mapping == {"full_name": 0, "email": 1, "phone": 2, "date_of_birth": 3}
    do_import_clients(manager, out.getvalue(), "Clients.XLSX", preview.mapping, "mdy", clock=CLOCK,
                      engine=clinic.engine)
    mj = clients(clinic)["mj@example.com"]
    assert (mj.first_name, mj.last_name, mj.phone_e164, mj.date_of_birth) == (
        "Mary Jo", "O'Neil", "+12125550199", date(1970, 1, 31))


def test_all_or_nothing_a_failure_midway_writes_no_client(uk, monkeypatch):
    calls = []
    real = import_service._create

    def failing(session, actor, plan, now):
        calls.append(plan.line)
        if len(calls) == 3:
            raise RuntimeError("the server died here")
        return real(session, actor, plan, now)

    monkeypatch.setattr(import_service, "_create", failing)
    with pytest.raises(RuntimeError):
        do_import_clients(uk.staff_actor("manager"), UK_FILE.encode(), "c.csv", mapping_of(UK_FILE), "dmy",
                          clock=CLOCK, engine=uk.engine)
    assert calls == [2, 3, 4] and clients(uk) == {}
    with uk.session() as s:
        assert s.exec(select(func.count()).select_from(AuditEvent).where(AuditEvent.action.like("client.%"))).one() == 0


@pytest.mark.parametrize(("data", "name", "message"), [
    (b"", "c.csv", "The file is empty"),
    (b"first_name,last_name\n", "c.csv", "The file has a header but no clients"),
    ("first_name,last_name\nA,B\n".encode("utf-16"), "c.csv", "This file is not a CSV text file"),
    (b"PK\x03\x04garbage", "c.xlsx", "This Excel file cannot be opened"),
    (b"x", "old.xls", "Old .xls workbooks are not read"),
    (b"first_name,last_name\nA,B,C\n", "c.csv", "Line 2 has more cells than the header has columns"),
])
def test_unreadable_files_get_a_reason(engine, owner_engine, data, name, message):
    clinic = build_clinic(engine, owner_engine)
    with pytest.raises(ValidationFailed) as exc:
        fetch_import_preview(clinic.staff_actor("manager"), data, name)
    assert exc.value.fields["file"].startswith(message)


def test_a_mapping_without_names_or_with_a_column_twice_is_refused(uk):
    manager = uk.staff_actor("manager")
    for mapping, message in (({"email": 2}, "Pick the columns with the first and last names (or a full name)"),
                             ({"first_name": 0, "last_name": 0}, "A column can fill one field only"),
                             ({"first_name": 0, "last_name": 9}, "Pick one of the file's columns")):
        with pytest.raises(ValidationFailed) as exc:
            do_review_import(manager, UK_FILE.encode(), "c.csv", mapping, "dmy", clock=CLOCK, engine=uk.engine)
        assert exc.value.fields == {"mapping": message}


def test_only_owners_and_managers_import(uk):
    for role in ("front_desk", "provider", "lab"):
        with pytest.raises(PermissionDenied):
            fetch_import_preview(uk.staff_actor(role), UK_FILE.encode(), "c.csv")
    assert fetch_import_preview(uk.staff_actor("owner"), UK_FILE.encode(), "c.csv").row_count == 3


def test_the_page_state_walks_the_steps_and_takes_only_what_it_offered(world, app_settings):  # noqa: F811
    """ClientImportState through upload -> map -> review -> import, with values the page never
    offers sent back on the way (a column that does not exist, a line not listed, an action not
    offered): each is ignored, nothing is written before Import, and a front desk gets "not found"."""
    import reflex as rx

    from medspa.features.client_import.state import ClientImportState as S
    from tests.test_handler_matrix import staff_state
    from tests.test_handlers import call, run

    clinic = world.clinic
    with clinic.session() as s:
        create_client(s, clinic.staff_actor("manager"), ClientInput("Bea", "Souza", "", "",
                                                                    date_of_birth=date(1988, 5, 6)))
        s.commit()
        before = len(s.exec(select(Client)).all())
    desk = staff_state(S, world, "front_desk")
    run(call(S.load, desk))
    assert (desk.allowed, desk.not_found) == (False, True)

    state = staff_state(S, world, "manager")
    run(call(S.load, state))
    assert (state.allowed, state.step) == (True, "upload")
    text = "first,last,dob\nZoë,Núñez,1990-12-25\nBea,Souza,1988-05-06\n"
    run(call(S.upload, state, [rx.UploadFile(file=io.BytesIO(text.encode()), path=None)]))
    assert (state.step, state.file_facts) == ("map", "UTF-8 · comma · 2 rows")
    assert {f.field: f.column for f in state.fields if f.column != "none"} == {
        "first_name": "0", "last_name": "1", "date_of_birth": "2"}
    run(call(S.set_column, state, "first_name", "7"))  # no such column: ignored
    run(call(S.set_date_order, state, "ymd"))  # not offered: ignored
    assert state.fields[0].column == "0" and state.date_order == "mdy"
    run(call(S.review, state))
    assert state.step == "review" and state.counts == "1 new · 0 merged into existing clients · 1 skipped"
    run(call(S.choose, state, 2, "create"))  # line 2 has nothing to decide
    run(call(S.choose, state, 3, "merge; drop table client"))
    assert state.counts == "1 new · 0 merged into existing clients · 1 skipped"
    with clinic.session() as s:
        assert len(s.exec(select(Client)).all()) == before  # nothing written before Import
    run(call(S.choose, state, 3, "create"))
    assert state.counts == "2 new · 0 merged into existing clients · 0 skipped"
    run(call(S.run_import, state))
    assert (state.step, state.summary) == ("done", "2 clients created, 0 merged into existing clients, 0 skipped.")
    with clinic.session() as s:
        assert len(s.exec(select(Client)).all()) == before + 2


def test_a_running_import_shows_its_progress(world, app_settings, monkeypatch):  # noqa: F811
    """The page hears how far a long import got while its one transaction runs (a progress bar),
    then the summary; nothing is visible before the commit."""
    import time as wall

    import reflex as rx

    from medspa.features.client_import import state as page_state
    from medspa.features.client_import.state import ClientImportState as S
    from tests.test_handler_matrix import staff_state
    from tests.test_handlers import call, run

    monkeypatch.setattr(import_service, "PROGRESS_EVERY", 50)
    monkeypatch.setattr(page_state, "PROGRESS_SECONDS", 0.02)
    real_update = page_state._Progress.update
    seen: list[tuple[int, int]] = []

    def slow_update(self, done, total):  # each report takes a moment: the page must poll in between
        seen.append((done, total))
        wall.sleep(0.05)
        real_update(self, done, total)

    monkeypatch.setattr(page_state._Progress, "update", slow_update)
    rows = "".join(f"Prog{i},Tester,prog{i}@example.com\n" for i in range(300))
    state = staff_state(S, world, "manager")
    run(call(S.load, state))
    run(call(S.upload, state, [rx.UploadFile(file=io.BytesIO(("first,last,email\n" + rows).encode()), path=None)]))
    run(call(S.review, state))
    assert state.counts == "300 new · 0 merged into existing clients · 0 skipped"
    events = run(call(S.run_import, state))
    assert seen == [(n, 300) for n in range(0, 300, 50)]
    assert len(events) >= 3  # the start, at least one progress update, the end
    assert (state.step, state.summary) == ("done", "300 clients created, 0 merged into existing clients, 0 skipped.")


def test_an_xlsx_that_unpacks_to_hundreds_of_megabytes_is_refused_before_reading(engine, owner_engine, monkeypatch):
    """A zip bomb dressed as a workbook (openpyxl would read its shared strings whole): the
    unpacked size is checked first. The bound is lowered here so the test file stays small."""
    import zipfile

    from medspa.domain.clients import import_file

    monkeypatch.setattr(import_file, "MAX_XLSX_UNPACKED", 1024 * 1024)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/sharedStrings.xml", "<sst>" + "a" * (2 * 1024 * 1024) + "</sst>")
    assert len(out.getvalue()) < 100_000  # small to upload, big to read
    clinic = build_clinic(engine, owner_engine)
    with pytest.raises(ValidationFailed) as exc:
        fetch_import_preview(clinic.staff_actor("manager"), out.getvalue(), "bomb.xlsx")
    assert exc.value.fields == {"file": "This Excel file unpacks to more than 1 MB: save it as CSV"}
