"""Breaker findings on issue 18 (charting, lots, signing, photos): each test FAILS on the
defect it names (see its docstring)."""

from __future__ import annotations

import time as clock_time
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, text

from medspa.domain.clinical.chart_review import review_queue
from medspa.domain.clinical.inventory import ProductInput, open_vial, receive_lot, save_product, set_product_active
from medspa.domain.clinical.prescriber_orders import client_orders, record_order
from medspa.domain.clinical.recall import lot_recall, recall_csv
from medspa.domain.clinical.service import (ChartLocked, LineInput, amend_chart, get_chart, save_chart,
                                            sign_chart)
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from tests.conftest import utc
from tests.test_signing import _call, _client_of, _licence, _org, _visit, clinic, people  # noqa: F401  (fixtures)

NOW = utc(2026, 7, 1, 16)  # noon in New York
NY = ZoneInfo("America/New_York")
BOTOX_LINE = LineInput("Botox", "C3709C3", "20", "glabella")
BOTOX = ProductInput("Botox", "Allergan", "neuromodulator", "units", "", "", "50")


# clinic, people (fixtures) and the helpers are test_signing's: one set for the signing tests


# ---------------------------------------------------------------------------- review queue


def test_review_queue_does_not_list_a_superseded_signed_version(clinic, people):
    """The review queue keeps a superseded (amended) signed version forever: cosign only reaches the current one."""
    rn, np = people
    appt = _visit(clinic, rn.staff_id)
    client = _client_of(clinic, appt)
    _call(clinic, record_order, np, client, scope="all", examined_on=date(2026, 6, 20), valid_until=None, note="",
          time_zone="America/New_York")
    _call(clinic, save_chart, rn, appt, [BOTOX_LINE], "")
    _call(clinic, sign_chart, rn, appt)
    _call(clinic, amend_chart, rn, appt)
    _call(clinic, save_chart, rn, appt, [BOTOX_LINE], "Corrected note.")
    _call(clinic, sign_chart, rn, appt, now=NOW + timedelta(hours=1))
    _org(clinic, medical_director_id=np.staff_id)
    from medspa.domain.clinical.chart_review import cosign_chart
    _call(clinic, cosign_chart, np, appt, "ok")
    # the visit's current version is co-signed: nothing is left to review for it
    assert [(i.appointment_id, i.version) for i in _call(clinic, review_queue, np)] == []


# ---------------------------------------------------------------------------- prescriber orders


def test_record_order_with_a_datetime_valid_until_is_a_validation_error(clinic, people):
    """record_order crashes (TypeError comparing datetime to date) when valid_until is a datetime."""
    rn, np = people
    appt = _visit(clinic, rn.staff_id)
    client = _client_of(clinic, appt)
    with pytest.raises(ValidationFailed):
        _call(clinic, record_order, np, client, scope="all", examined_on=date(2026, 6, 20),
              valid_until=datetime(2027, 1, 1, tzinfo=timezone.utc), note="", time_zone="America/New_York")


def test_record_order_with_a_datetime_exam_is_a_validation_error(clinic, people):
    """record_order crashes (TypeError comparing datetime to date) when examined_on is a datetime."""
    rn, np = people
    appt = _visit(clinic, rn.staff_id)
    client = _client_of(clinic, appt)
    with pytest.raises(ValidationFailed):
        _call(clinic, record_order, np, client, scope="all",
              examined_on=datetime(2026, 6, 20, 9, tzinfo=timezone.utc), valid_until=None, note="",
              time_zone="America/New_York")


@pytest.mark.parametrize("bad", [2**63, True])
def test_client_orders_hostile_client_id_is_not_found(clinic, people, bad):
    """client_orders passes an unchecked client_id to the database: a str/huge int/bool/list crashes or reads client 1."""
    rn, np = people
    with pytest.raises(NotFound):
        _call(clinic, client_orders, np, bad, "America/New_York")


# ---------------------------------------------------------------------------- hostile ids


@pytest.mark.parametrize("fn", [lot_recall, recall_csv])
def test_recall_with_a_huge_lot_id_is_not_found(clinic, fn):
    """lot_recall/recall_csv check lot_id > 0 but not < 2**63: a huge id crashes with a database error."""
    with pytest.raises(NotFound):
        _call(clinic, fn, clinic.staff_actor("owner"), 2**63)


def test_open_vial_with_a_huge_lot_id_is_not_found(clinic):
    """open_vial sends an unbounded lot_id to the database: 2**63 crashes instead of NotFound."""
    with pytest.raises(NotFound):
        _call(clinic, open_vial, clinic.staff_actor("owner"), 2**63, "2.5")


def test_get_chart_with_a_huge_appointment_id_is_not_found(clinic, people):
    """clinical/service._visit accepts any int: appointment_id 2**63 crashes instead of NotFound."""
    rn, np = people
    with pytest.raises(NotFound):
        _call(clinic, get_chart, rn, 2**63)


def test_timeline_with_a_list_angle_is_a_validation_error(clinic, people):
    """client_timeline tests `angle not in ANGLES` (a dict) on unchecked input: a list angle raises TypeError."""
    from medspa.domain.clinical.photo_timeline import client_timeline
    rn, np = people
    appt = _visit(clinic, rn.staff_id)
    client = _client_of(clinic, appt)
    with pytest.raises(ValidationFailed):
        _call(clinic, client_timeline, rn, client, angle=["front"])


def test_face_map_point_with_a_unicode_digit_gives_the_diagram_message(clinic, people):
    """clean_point: '²'.isdigit() is True but int('²') fails: the user sees Python's 'invalid literal' text."""
    from medspa.domain.clinical.service import clean_point
    with pytest.raises(ValueError) as exc:
        clean_point("front", "²", "10")
    assert "invalid literal" not in str(exc.value)


# ---------------------------------------------------------------------------- amendments and the catalog


def test_an_amendment_can_be_signed_after_the_product_is_archived(clinic, people):
    """Archiving a product (or withdrawing a lot) after the visit blocks signing any amendment of charts that used it."""
    rn, np = people
    owner = clinic.staff_actor("owner")
    provider = Actor(org_id=clinic.org_id, role="provider", staff_id=np.staff_id, label="Dr. Lee")
    appt = _visit(clinic, np.staff_id)
    botox = _call(clinic, save_product, owner, None, BOTOX)
    lot = _call(clinic, receive_lot, owner, botox, "C3709C3", "2026-11-30", "500")
    vial = _call(clinic, open_vial, provider, lot, "2.5", now=utc(2026, 7, 1, 13))
    line = LineInput("", "", "20", "glabella", product_id=botox, lot_id=lot, vial_id=vial.id)
    _call(clinic, save_chart, provider, appt, [line], "")
    _call(clinic, sign_chart, provider, appt)
    _call(clinic, set_product_active, owner, botox, False, now=NOW + timedelta(days=1))
    _call(clinic, amend_chart, provider, appt, now=NOW + timedelta(days=2))
    # only the note changes: the record of what was given must stay amendable
    _call(clinic, save_chart, provider, appt, [line], "Late entry: mild bruising.", now=NOW + timedelta(days=2))
    chart = _call(clinic, sign_chart, provider, appt, now=NOW + timedelta(days=2))
    assert chart.status == "signed"


# ---------------------------------------------------------------------------- the order rule


def test_a_nurse_cannot_sign_botox_charted_under_a_non_injectable_visit_without_an_order(clinic, people):
    """The order rule keys on the visit's service only: an RN signs a catalog Botox line under a HydraFacial visit with no order."""
    rn, np = people
    owner = clinic.staff_actor("owner")
    botox = _call(clinic, save_product, owner, None, BOTOX)
    lot = _call(clinic, receive_lot, owner, botox, "C3709C3", "2026-11-30", "500")
    vial = _call(clinic, open_vial, rn, lot, "2.5", now=utc(2026, 7, 1, 13))
    appt = _visit(clinic, rn.staff_id, hour=10, service="facial")
    line = LineInput("", "", "20", "glabella", product_id=botox, lot_id=lot, vial_id=vial.id)
    with pytest.raises(ChartLocked):
        _call(clinic, save_chart, rn, appt, [line], "")
        _call(clinic, sign_chart, rn, appt)


def test_a_nurse_cannot_sign_free_text_botox_under_a_non_injectable_visit_without_an_order(clinic, people):
    """A free-text 'Botox' line (lot number required: an injectable) is signed by an RN without any prescriber order."""
    rn, np = people
    appt = _visit(clinic, rn.staff_id, hour=10, service="facial")
    with pytest.raises(ChartLocked):
        _call(clinic, save_chart, rn, appt, [BOTOX_LINE], "")
        _call(clinic, sign_chart, rn, appt)


# ---------------------------------------------------------------------------- merges


def test_recall_names_the_visits_client_after_a_merge_is_undone(clinic, people):
    """A visit moved by a merge and signed before the undo: its lot_usage (and note) stay on the survivor, so recall names the wrong client."""
    from medspa.domain.clients.merge import merge_clients, undo_merge
    rn, np = people
    owner = clinic.staff_actor("owner")
    botox = _call(clinic, save_product, owner, None, BOTOX)
    lot = _call(clinic, receive_lot, owner, botox, "C3709C3", "2026-11-30", "500")
    vial = _call(clinic, open_vial, np, lot, "2.5", now=utc(2026, 7, 1, 13))
    survivor_visit = _visit(clinic, np.staff_id, hour=10)
    absorbed_visit = _visit(clinic, np.staff_id, hour=14)
    survivor, absorbed = _client_of(clinic, survivor_visit), _client_of(clinic, absorbed_visit)
    merge = _call(clinic, merge_clients, owner, survivor, absorbed)
    line = LineInput("", "", "20", "glabella", product_id=botox, lot_id=lot, vial_id=vial.id)
    _call(clinic, save_chart, np, absorbed_visit, [line], "")
    _call(clinic, sign_chart, np, absorbed_visit)
    _call(clinic, undo_merge, owner, merge.id)
    assert _client_of(clinic, absorbed_visit) == absorbed  # the visit went back
    recall = _call(clinic, lot_recall, owner, lot)
    assert [r.client_id for r in recall.rows] == [absorbed]


# ---------------------------------------------------------------------------- photos


def test_a_multi_picture_jpeg_from_a_phone_camera_is_accepted():
    """An MPO JPEG (Multi-Picture Format, as many Android/iPhone cameras write) opens as 'MPO' and is refused as not a JPEG."""
    import io

    from PIL import Image

    from medspa.domain.clinical.photos import process_image
    out = io.BytesIO()
    Image.new("RGB", (800, 600), "red").save(out, "MPO", save_all=True, append_images=[Image.new("RGB", (800, 600))])
    assert out.getvalue()[:2] == b"\xff\xd8"  # a JPEG file
    image = process_image(out.getvalue())
    assert (image.width, image.height, image.content_type) == (800, 600, "image/jpeg")


def test_a_photo_taken_during_a_mistaken_merge_goes_back_with_its_visit(clinic, people, tmp_path):
    """Undoing a merge moves the visit back but a photo added to it meanwhile stays on the survivor's timeline (another person's PHI)."""
    from medspa.domain.clients.merge import merge_clients, undo_merge
    from medspa.domain.clinical.photo_timeline import client_timeline
    from medspa.domain.clinical.photos import LocalMediaStore, add_photo
    from tests.test_photos import jpeg
    rn, np = people
    owner = clinic.staff_actor("owner")
    store = LocalMediaStore(tmp_path / "media")
    survivor_visit = _visit(clinic, np.staff_id, hour=10)
    absorbed_visit = _visit(clinic, np.staff_id, hour=14)
    survivor, absorbed = _client_of(clinic, survivor_visit), _client_of(clinic, absorbed_visit)
    merge = _call(clinic, merge_clients, owner, survivor, absorbed)
    photo = _call(clinic, add_photo, np, absorbed_visit, jpeg(), "before", store=store)
    _call(clinic, undo_merge, owner, merge.id)
    assert _client_of(clinic, absorbed_visit) == absorbed
    assert photo.id not in [p.id for p in _call(clinic, client_timeline, np, survivor).photos]
    assert photo.id in [p.id for p in _call(clinic, client_timeline, np, absorbed).photos]


# ---------------------------------------------------------------------------- more hostile ids


def _hostile_calls(clinic, rn, np):
    from medspa.domain.clinical.chart_review import add_addendum, cosign_chart
    from medspa.domain.clinical.signing_admin import set_licence, set_signing_settings
    owner = clinic.staff_actor("owner")
    huge = 2**63
    return {
        "receive_lot.product": lambda: _call(clinic, receive_lot, owner, huge, "L2", "2026-12-01", "10"),
        "set_signing_settings.director_huge": lambda: _call(clinic, set_signing_settings, owner,
                                                            covering_may_sign=False, medical_director_id=huge),
        "set_signing_settings.director_bool": lambda: _call(clinic, set_signing_settings, owner,
                                                            covering_may_sign=False, medical_director_id=True),
        "set_licence.staff": lambda: _call(clinic, set_licence, owner, huge, "NP"),
        "record_order.client": lambda: _call(clinic, record_order, np, huge, scope="all",
                                             examined_on=date(2026, 6, 1), valid_until=None, note="",
                                             time_zone="America/New_York"),
        "add_addendum.appointment": lambda: _call(clinic, add_addendum, np, huge, "x"),
        "cosign_chart.appointment": lambda: _call(clinic, cosign_chart, np, huge, "x"),
    }


@pytest.mark.parametrize("name", ["receive_lot.product", "set_signing_settings.director_huge",
                                  "set_signing_settings.director_bool", "set_licence.staff", "record_order.client",
                                  "add_addendum.appointment", "cosign_chart.appointment"])
def test_issue18_entry_points_refuse_out_of_range_ids_cleanly(clinic, people, name):
    """Issue 18 entry points pass unbounded ints (and bools) to PostgreSQL: bigint out of range / boolean cast crashes."""
    rn, np = people
    _org(clinic, medical_director_id=np.staff_id)
    with pytest.raises((NotFound, ValidationFailed)):
        _hostile_calls(clinic, rn, np)[name]()


def test_cosign_refuses_a_chart_that_needs_no_review(clinic, people):
    """cosign_chart never checks prescriber_order_id: the director co-signs charts that rest on no order (docstring: 'no review needed' refused)."""
    from medspa.domain.clinical.chart_review import cosign_chart
    rn, np = people
    _licence(clinic, rn.staff_id, "PA")  # a second prescriber treats: no order, no review
    appt = _visit(clinic, rn.staff_id)
    _call(clinic, save_chart, rn, appt, [BOTOX_LINE], "")
    assert not _call(clinic, sign_chart, rn, appt).needs_cosign
    _org(clinic, medical_director_id=np.staff_id)
    with pytest.raises(ChartLocked):
        _call(clinic, cosign_chart, np, appt, "")


# ---------------------------------------------------------------------------- races


def test_a_merge_during_a_chart_signing_does_not_deadlock(clinic, people):
    """sign_chart locks the visit then takes the client's key-share (FK inserts) while a merge locks the client then updates the visit: deadlock."""
    import threading

    from sqlalchemy.exc import DBAPIError

    from medspa.domain.clients.merge import merge_clients
    rn, np = people
    owner = clinic.staff_actor("owner")
    keep = _visit(clinic, np.staff_id, hour=10)
    appt = _visit(clinic, np.staff_id, hour=14)
    survivor, absorbed = _client_of(clinic, keep), _client_of(clinic, appt)
    botox = _call(clinic, save_product, owner, None, BOTOX)
    lot = _call(clinic, receive_lot, owner, botox, "C3709C3", "2026-11-30", "500")
    vial = _call(clinic, open_vial, np, lot, "2.5", now=utc(2026, 7, 1, 13))
    line = LineInput("", "", "20", "glabella", product_id=botox, lot_id=lot, vial_id=vial.id)
    _call(clinic, save_chart, np, appt, [line], "")  # signing writes lot_usage rows naming the client
    errors: list[BaseException] = []
    merge_pid: list[int] = []

    def merge() -> None:
        try:
            with clinic.session() as m:
                merge_pid.append(m.execute(text("select pg_backend_pid()")).scalar())
                merge_clients(m, owner, survivor, absorbed, NOW)
                m.commit()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    def merge_is_waiting() -> bool:
        with clinic.engine.connect() as conn:
            return bool(merge_pid) and merge_pid[0] in set(conn.execute(text(
                "select pid from pg_stat_activity where wait_event_type = 'Lock'")).scalars())

    worker = threading.Thread(target=merge)
    with clinic.session() as s:
        # the merge starts just before the signing writes its lot_usage rows (they name the client:
        # a key-share lock on its row): it takes what it can and waits for the signing's locks
        def before(conn_, cursor, statement, params, context, executemany):
            if statement.startswith("INSERT INTO lot_usage") and not worker.is_alive() and not merge_pid:
                worker.start()
                deadline = clock_time.monotonic() + 10
                while clock_time.monotonic() < deadline and not merge_is_waiting():
                    clock_time.sleep(0.05)

        event.listen(s.connection(), "before_cursor_execute", before)
        try:
            sign_chart(s, np, appt, now=NOW)
            s.commit()
        except DBAPIError as exc:
            errors.append(exc)
            s.rollback()
    worker.join(30)
    assert merge_pid, "the merge never started"
    assert not errors, [type(e).__name__ + ": " + str(e)[:120] for e in errors]
    with clinic.session() as s:  # the merge came second: it moved the signed visit's ledger rows too
        assert s.execute(text("select distinct client_id from lot_usage where appointment_id = :a"),
                         {"a": appt}).scalars().all() == [survivor]


def test_a_merge_during_a_photo_upload_does_not_deadlock(clinic, people, tmp_path):
    """add_photo locks the visit, spends the decode/upload time, then inserts a row naming the client; a merge meanwhile deadlocks with it."""
    import threading
    import time as _time

    from medspa.domain.clients.merge import merge_clients
    from medspa.domain.clinical.photos import LocalMediaStore, add_photo
    from tests.test_photos import jpeg
    rn, np = people
    owner = clinic.staff_actor("owner")
    keep = _visit(clinic, np.staff_id, hour=10)
    appt = _visit(clinic, np.staff_id, hour=14)
    survivor, absorbed = _client_of(clinic, keep), _client_of(clinic, appt)
    uploading = threading.Event()

    class SlowStore(LocalMediaStore):
        def put(self, key, data, content_type):  # a slow S3 upload, after the visit row is locked
            uploading.set()
            _time.sleep(1.5)
            return super().put(key, data, content_type)

    errors: list[BaseException] = []

    def upload() -> None:
        try:
            _call(clinic, add_photo, np, appt, jpeg(), "before", store=SlowStore(tmp_path / "media"))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    worker = threading.Thread(target=upload)
    worker.start()
    assert uploading.wait(10)
    try:
        _call(clinic, merge_clients, owner, survivor, absorbed)
    except BaseException as exc:  # noqa: BLE001
        errors.append(exc)
    worker.join(30)
    assert not errors, [type(e).__name__ + ": " + str(e)[:120] for e in errors]
