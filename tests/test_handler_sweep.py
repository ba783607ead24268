"""Every public event handler with no session, a forbidden role and hostile arguments (no
exception escapes; with no session or as lab nothing is written); the JSON API answers
hostile requests with a 4xx and a reason; the audit rows of desk actions and reads. First
written as a breaker pass after the domain-actions refactor."""

from __future__ import annotations

import inspect
import traceback

import pytest
from sqlalchemy import text

import medspa.medspa  # noqa: F401  (registers every state class)
from reflex.state import State
from tests.test_handler_matrix import World, world, new_visit, staff_state  # noqa: F401  (fixture)
from tests.test_handlers import NOW, app_settings, call, run, state_for  # noqa: F401  (fixture)


def _walk(cls):
    yield cls
    # get_substates() is a set of classes (ordered by id): sorted, every xdist worker collects
    # the same parametrization in the same order
    for sub in sorted(cls.get_substates(), key=lambda c: (c.__module__, c.__qualname__)):
        yield from _walk(sub)


def public_handlers():
    out = []
    for cls in _walk(State):
        if not cls.__module__.startswith("medspa"):
            continue
        for name, h in cls.event_handlers.items():
            if name.startswith("_") or name == "setvar":
                continue
            if h.fn.__qualname__.split(".")[0] != cls.__name__:
                continue
            out.append((cls, name))
    return out


# sorted: substates come from a set (ordered by object ids), so the order differs per process
# and pytest-xdist's workers must collect the same list
HANDLERS = sorted(public_handlers(), key=lambda ch: (ch[0].get_full_name(), ch[1]))
HOSTILE = [None, -1, 0, 2**70, "1e9", "²", "x" * 100_000, {"a": 1}, [1], True, 1.5, "", "check_in",
           {"card_number": ["x"], "email": {"a": 1}, "code": 123456}]
TABLES = ("appointment", "client", "payment", "refund", "ledger_entry", "treatment_note", "treatment_line",
          "user_session", "user_account", "user_recovery_code", "outbox_message", "clinical_photo", "portal_code",
          "portal_session", "client_account", "occupancy", "policy_fee")


def _counts(owner_engine):
    out = {}
    with owner_engine.connect() as c:
        for t in TABLES:
            try:
                out[t] = c.execute(text(f"select count(*) from {t}")).scalar()
            except Exception:  # noqa: BLE001 - table names guessed; skip missing ones
                c.rollback()
    return out


def _arity(fn) -> int:
    params = list(inspect.signature(fn).parameters.values())[1:]
    return len([p for p in params if p.default is inspect.Parameter.empty])


@pytest.mark.parametrize(("cls", "name"), HANDLERS, ids=[f"{c.__name__}.{n}" for c, n in HANDLERS])
def test_handler_survives_hostile_args(world: World, app_settings, owner_engine, cls, name):  # noqa: F811
    """No exception escapes; with no session or as lab nothing is written."""
    h = cls.event_handlers[name]
    n = _arity(h.fn)
    failures = []
    for role in (None, "lab", "front_desk", "owner"):
        before = _counts(owner_engine) if role in (None, "lab") else None
        if role and name in ("sign_out", "sign_out_everywhere"):
            continue  # would revoke the shared world's sessions (their refusal is covered with role None)
        for value in (HOSTILE if n else [None]):
            args = [value] * n
            state = state_for(cls, world.tokens.get(role) if role else None)
            try:
                run(call(h, state, *args))
            except Exception as exc:  # noqa: BLE001
                tb = traceback.format_exception(exc)
                failures.append(f"{role}: {name}({str(value)[:20]!r}) -> {type(exc).__name__}: {exc}"[:300]
                                + " @ " + "".join(tb[-3:-1])[-400:])
        if before is not None:
            after = _counts(owner_engine)
            if after != before:
                failures.append(f"{role}: wrote rows {before} -> {after}")
    assert not failures, "\n".join(failures)


# ---------------------------------------------------------------- 2. the JSON API

from tests.test_api import CARD, START, client  # noqa: E402,F401  (fixture)

from tests.factories import build_clinic  # noqa: E402



@pytest.fixture
def api_client(client):
    """tests/test_api.py's client (a server error raises there: the test fails either way)."""
    return client


def _body(clinic, **over):
    body = {"location_id": clinic.location_id, "service_id": clinic.services["botox"], "provider_id": None,
            "start": START, "client": {"first_name": "Mia", "last_name": "Wong", "email": "mia@example.com",
                                       "phone": "+1 212 555 0199"}, "payment": dict(CARD)}
    body.update(over)
    return body


def _bad_shape(r) -> str:
    """'' when r is a 4xx JSON answer with an "error" reason; else what is wrong."""
    try:
        js = r.json()
    except ValueError:
        return f"{r.status_code} not JSON: {r.text[:120]!r}"
    if not (400 <= r.status_code < 500) or not isinstance(js, dict) or "error" not in js:
        return f"{r.status_code} {str(js)[:200]}"
    return ""


def test_api_hostile_requests_answer_4xx_with_a_reason(api_client, engine, owner_engine, limits):
    limits(limit_booking_per_ip="", limit_booking_per_email="")  # ~40 requests from one client: shapes, not limits
    clinic, other = build_clinic(engine, owner_engine), build_clinic(engine, owner_engine)
    base, url = f"/api/v1/{clinic.slug}", f"/api/v1/{clinic.slug}/bookings"
    c = api_client
    av = {"location_id": clinic.location_id, "service_id": clinic.services["botox"], "start_date": "2026-07-15",
          "end_date": "2026-07-15"}
    cases = {
        "unknown clinic": c.get("/api/v1/no-such-clinic/locations"),
        "nul in slug": c.get("/api/v1/a%00b/locations"),
        "long slug": c.get("/api/v1/" + "a" * 5000 + "/locations"),
        "services huge id": c.get(f"{base}/services", params={"location_id": 2**70}),
        "services other loc": c.get(f"{base}/services", params={"location_id": other.location_id}),
        "providers other loc": c.get(f"{base}/providers", params={"location_id": other.location_id,
                                                                  "service_id": clinic.services["botox"]}),
        "providers other svc": c.get(f"{base}/providers", params={"location_id": clinic.location_id,
                                                                  "service_id": other.services["botox"]}),
        "avail other loc": c.get(f"{base}/availability", params={**av, "location_id": other.location_id}),
        "avail reversed": c.get(f"{base}/availability", params={**av, "start_date": "2026-07-20"}),
        "avail 1000 years": c.get(f"{base}/availability", params={**av, "start_date": "0001-01-01",
                                                                  "end_date": "9999-12-31"}),
        "avail other provider": c.get(f"{base}/availability", params={**av, "provider_id": other.provider_ids[0]}),
        "status long ref": c.get(f"{url}/" + "r" * 5000),
        "status nul ref": c.get(f"{url}/ab%00cd"),
        "not json": c.post(url, content=b"{not json", headers={"content-type": "application/json"}),
        "json list": c.post(url, json=[1, 2]),
        "json null": c.post(url, json=None),
        "string id": c.post(url, json=_body(clinic, location_id=str(clinic.location_id))),
        "bool id": c.post(url, json=_body(clinic, service_id=True)),
        "huge id": c.post(url, json=_body(clinic, location_id=2**70)),
        "float id": c.post(url, json=_body(clinic, location_id=1.5)),
        "other clinic location": c.post(url, json=_body(clinic, location_id=other.location_id)),
        "other clinic service": c.post(url, json=_body(clinic, service_id=other.services["botox"])),
        "other clinic provider": c.post(url, json=_body(clinic, provider_id=other.provider_ids[0])),
        "naive start": c.post(url, json=_body(clinic, start="2026-07-15T10:00:00")),
        "start year 9999": c.post(url, json=_body(clinic, start="9999-12-31T23:30:00-12:00")),
        "start year 1": c.post(url, json=_body(clinic, start="0001-01-01T00:00:00+14:00")),
        "start not iso": c.post(url, json=_body(clinic, start="tomorrow")),
        "start is int": c.post(url, json=_body(clinic, start=5)),
        "start off-grid": c.post(url, json=_body(clinic, start="2026-07-15T10:07:00-04:00")),
        "start in past": c.post(url, json=_body(clinic, start="2026-06-15T10:00:00-04:00")),
        "exp_month huge": c.post(url, json=_body(clinic, payment={**CARD, "exp_month": 2**70})),
        "exp_year huge": c.post(url, json=_body(clinic, payment={**CARD, "exp_year": 10**30})),
        "exp_month -1": c.post(url, json=_body(clinic, payment={**CARD, "exp_month": -1})),
        "card superscript": c.post(url, json=_body(clinic, payment={**CARD, "card_number": "4242424242424²42"})),
        "card huge": c.post(url, json=_body(clinic, payment={**CARD, "card_number": "4" * 100_000})),
        "payment empty": c.post(url, json=_body(clinic, payment={})),
        "pm bogus": c.post(url, json=_body(clinic, payment={"payment_method_id": "pm_" + "x" * 5000})),
        "client long": c.post(url, json=_body(clinic, client={"first_name": "A" * 100_000, "last_name": "B",
                                                               "email": "a@example.com", "phone": "+12125550199"})),
        "client nul": c.post(url, json=_body(clinic, client={"first_name": "A\x00", "last_name": "B\x00",
                                                              "email": "a\x00@example.com", "phone": "+12125550199"})),
        "client dict": c.post(url, json=_body(clinic, client={"first_name": {"a": 1}})),
        "client missing": c.post(url, json={k: v for k, v in _body(clinic).items() if k != "client"}),
        "phone letters": c.post(url, json=_body(clinic, client={"first_name": "A", "last_name": "B",
                                                                 "email": "ab@example.com", "phone": "²" * 12})),
    }
    ok = c.post(url, json=_body(clinic, start="2026-07-16T10:00:00-04:00"))
    assert ok.status_code == 201, ok.text
    taken = c.post(url, json=_body(clinic, start="2026-07-16T10:00:00-04:00",
                                   client={"first_name": "Zoe", "last_name": "Q", "email": "zoe@example.com",
                                           "phone": "+12125550198"}))
    assert taken.status_code == 409 and taken.json()["error"] == "slot_taken" and taken.json()["alternatives"]
    bad = {k: _bad_shape(r) for k, r in cases.items() if _bad_shape(r)}
    assert not bad, "\n".join(f"{k}: {v}" for k, v in bad.items())


# ---------------------------------------------------------------- 1b. handlers on a primed state

from datetime import timedelta  # noqa: E402

from medspa.domain.scheduling.service import change_status, hold_slot  # noqa: E402
from medspa.features.audit.state import AuditState  # noqa: E402
from medspa.features.calendar.state import DetailState  # noqa: E402
from medspa.features.charting.state import ChartState, RowView  # noqa: E402
from medspa.features.portal.state import PortalState  # noqa: E402
from medspa.features.staff.state import StaffPageState  # noqa: E402
from tests.test_handler_matrix import TODAY, chart_state, ny, portal_state, status  # noqa: E402


def _audit_count(w, action: str, **detail) -> int:
    sql = "select count(*) from audit_event where action = :a"
    for k in detail:
        sql += f" and (detail->>'{k}' = :{k} or object_id = :{k})"
    with w.clinic.session() as s:
        return s.execute(text(sql), {"a": action, **{k: str(v) for k, v in detail.items()}}).scalar()


def test_staff_act_with_a_listed_user_and_an_unhashable_action(world, app_settings):  # noqa: F811
    state = staff_state(StaffPageState, world, "owner")
    run(call(StaffPageState.load, state))
    assert state.allowed and state.rows
    uid = state.rows[0].user_id
    for action in (["deactivate"], {"a": 1}):
        run(call(StaffPageState.act, state, uid, action))  # must not raise


def test_audit_filters_after_load_take_any_value(world, app_settings):  # noqa: F811
    state = staff_state(AuditState, world, "owner")
    run(call(AuditState.load, state))
    assert state.allowed
    for bad in (["all"], {"x": 1}, None, 2**70, "²", "x" * 10_000):
        for h in (AuditState.set_staff, AuditState.set_location, AuditState.set_start, AuditState.set_end,
                  AuditState.turn_page, AuditState.pick_client, AuditState.search_client):
            run(call(h, state, bad))
    assert state.allowed


@pytest.mark.parametrize("units", ["²", "1e9", "-1", str(2**70), "1" * 80, "NaN", "inf", "0x10", "\x00"])
def test_chart_save_with_hostile_cells_is_a_field_message(world, app_settings, units):  # noqa: F811
    appt = new_visit(world)
    state = chart_state(world, "provider", appt)
    run(call(ChartState.load, state))
    assert state.status == "ready"
    run(call(ChartState.set_cell, state, 0, "product", "Botox\x00"))
    run(call(ChartState.set_cell, state, 0, "lot_number", "L\x00" + "9" * 78))
    run(call(ChartState.set_cell, state, 0, "units", units))
    run(call(ChartState.set_cell, state, 0, "treatment_area", "glabella"))
    run(call(ChartState.set_note, state, "n\x00" * 5000))
    run(call(ChartState.save, state))  # must not raise
    state.confirm_sign = True
    run(call(ChartState.sign, state))  # must not raise


def test_audit_rows_of_desk_actions(world, app_settings):  # noqa: F811
    w = world
    appt = new_visit(w)
    detail = staff_state(DetailState, w, "front_desk")
    before = _audit_count(w, "client.contact.read")
    run(call(DetailState.open, detail, appt))
    assert detail.panel_open
    reads = {a: _audit_count(w, a) for a in ("appointment.check_in", "checkout.complete", "payment.succeeded")}
    run(call(DetailState.step, detail, "check_in"))
    assert status(w, appt) == "checked_in"
    assert _audit_count(w, "appointment.check_in") == reads["appointment.check_in"] + 1, "check-in not audited"
    run(call(DetailState.checkout, detail, {"card_number": "4242 4242 4242 4242", "exp_month": "12",
                                            "exp_year": "2030", "cvc": "123"}))
    assert _audit_count(w, "checkout.complete") == reads["checkout.complete"] + 1, "checkout not audited"
    other = new_visit(w)
    c0 = _audit_count(w, "appointment.cancel")
    cancel = staff_state(DetailState, w, "front_desk")
    run(call(DetailState.open, cancel, other))
    cancel.confirm_cancel = True
    run(call(DetailState.cancel, cancel))
    assert status(w, other) == "cancelled" and _audit_count(w, "appointment.cancel") == c0 + 1
    del before


def test_audit_rows_of_reads(world, app_settings):  # noqa: F811
    w = world
    from medspa.features.calendar.book_dialog import BookDialogState
    s0 = _audit_count(w, "client.search")
    st = staff_state(BookDialogState, w, "front_desk")
    st.dialog_open = True
    run(call(BookDialogState.search, st, "Cleo"))
    assert st.hits and _audit_count(w, "client.search") == s0 + 1
    p0 = _audit_count(w, "portal.view")
    ps = portal_state(w, "client")
    run(call(PortalState.open_tab, ps, "visits"))
    assert _audit_count(w, "portal.view") == p0 + 1
    a0 = _audit_count(w, "portal.access_log.read")
    run(call(PortalState.open_tab, ps, "access"))
    assert ps.access_loaded and _audit_count(w, "portal.access_log.read") == a0 + 1
    appt = new_visit(w)
    c0 = _audit_count(w, "chart.read")
    cs = chart_state(w, "provider", appt)
    run(call(ChartState.load, cs))
    assert _audit_count(w, "chart.read") == c0 + 1
    from medspa.features.charting.photos import PhotosState
    ph0 = _audit_count(w, "photo.read")
    ps2 = staff_state(PhotosState, w, "provider")
    root = ps2
    while root.parent_state is not None:
        root = root.parent_state
    from reflex.istate.data import RouterData
    root.router = RouterData.from_router_data({"headers": dict(root.router.headers.raw_headers),
                                               "pathname": "/chart/[appointment_id]", "asPath": f"/chart/{appt}"})
    run(call(PhotosState.load, ps2))
    assert ps2.allowed and _audit_count(w, "photo.read") == ph0 + 1


def test_hold_expiry_sweep_audits_and_survives(world, app_settings, engine):  # noqa: F811
    from medspa.clock import FixedClock
    from medspa.domain.scheduling.actions.online import do_expire_lapsed_holds
    w = world
    with w.clinic.session() as s:
        appt = hold_slot(s, w.clinic.public, location_id=w.clinic.location_id, service_id=w.clinic.services["botox"],
                         start_at=ny(TODAY + timedelta(days=9), 10), provider_id=w.clinic.provider_ids[1], now=NOW)
        s.commit()
        hid = appt.id
    r0 = _audit_count(w, "appointment.release")
    released = do_expire_lapsed_holds(clock=FixedClock(NOW + timedelta(hours=2)), engine=engine)
    assert (w.clinic.org_id, hid) in [(e.org_id, e.appointment_id) for e in released]
    assert status(w, hid) == "expired" and _audit_count(w, "appointment.release") == r0 + 1


def test_outbox_filters_after_load_take_any_value_and_name_bad_dates(world, app_settings):  # noqa: F811
    from medspa.features.outbox.detail import JobsState, MessageState
    from medspa.features.outbox.state import OutboxState

    state = staff_state(OutboxState, world, "owner")
    run(call(OutboxState.load, state))
    assert state.allowed and state.counts["all"] >= 1
    for bad in (["all"], {"x": 1}, None, 2**70, "²", "x" * 10_000, "bogus"):
        for h in (OutboxState.set_status, OutboxState.set_channel, OutboxState.set_query, OutboxState.set_location,
                  OutboxState.turn_page, MessageState.open_message, JobsState.open_tab, JobsState.open_job_message):
            run(call(h, state, bad))
        run(call(OutboxState.clear_filters, state))
    assert state.allowed and not state.not_found
    run(call(OutboxState.set_start, state, "2026-02-31"))
    assert state.field_errors == {"start": "Enter a date as YYYY-MM-DD"}
    run(call(OutboxState.set_start, state, "2026-07-02"))
    run(call(OutboxState.set_end, state, "2026-07-01"))
    assert state.field_errors == {"end": "The end date is before the start date"}
    run(call(OutboxState.set_end, state, ""))
    assert state.field_errors == {}


def test_outbox_open_and_resend_are_audited(world, app_settings):  # noqa: F811
    from medspa.features.outbox.detail import MessageState
    from medspa.features.outbox.state import OutboxState
    from tests.test_handler_matrix import _failed_message, _message_status

    w = world
    mid = _failed_message(w)
    listing = staff_state(OutboxState, w, "manager")
    run(call(OutboxState.set_status, listing, "failed"))
    assert mid in [r.id for r in listing.rows]
    row = next(r for r in listing.rows if r.id == mid)
    assert (row.badge, row.tone, row.reason) == ("Failed", "red", "550 no such user")
    r0, s0 = _audit_count(w, "outbox.message.read"), _audit_count(w, "outbox.message.resend")
    state = staff_state(MessageState, w, "manager")
    state._row_ids, state.rows = listing._row_ids, listing.rows
    run(call(MessageState.open_message, state, mid))
    assert state.view.id == mid and state.view.resendable and _audit_count(w, "outbox.message.read") == r0 + 1
    run(call(MessageState.resend, state))  # not confirmed yet: nothing happens
    assert _message_status(w, mid) == "failed"
    run(call(MessageState.ask_resend, state))
    assert state.confirming and "cleo-" in state.view.resend_note  # goes to the client's current address
    run(call(MessageState.resend, state))
    assert _message_status(w, mid) == "queued" and _audit_count(w, "outbox.message.resend") == s0 + 1
    assert state.view.status == "queued" and not state.view.resendable and state.notice.startswith("Queued again for")
    shown = next(r for r in state.rows if r.id == mid)
    assert (shown.status, shown.badge) == ("queued", "Not sent")  # the row shows its new status
    run(call(MessageState.ask_resend, state))
    assert not state.confirming  # a queued message has no resend
