"""The Reflex handlers of issue 18's products, lots and recall, called directly: the chart row's
product select picks the soonest-expiring lot and the only opened vial and saves the ids; the
Products panel and /recall re-check the role on the server (front desk: not found, a provider
may open vials but not manage the catalog, a manager sees no recall)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from reflex.istate.data import RouterData
from sqlmodel import select

from medspa.domain.clients.service import ClientInput, find_or_create_client
from medspa.domain.clinical.inventory import ProductInput, open_vial, receive_lot, save_product
from medspa.domain.clinical.models import TreatmentLine
from medspa.domain.clinical.service import LineInput, save_chart, sign_chart
from tests.test_inventory import _provider
from medspa.domain.identity.models import UserAccount, UserSession
from medspa.domain.identity.passwords import hash_password
from medspa.domain.identity.tokens import token_hash
from medspa.domain.scheduling.service import hold_slot
from medspa.features.charting.state import ChartState
from medspa.features.inventory.state import ProductsState
from medspa.features.recall.page import RecallState
from tests.consent_support import sign_required_consents
from tests.factories import build_clinic
from tests.test_handlers import NOW, app_settings, call, run, state_for  # noqa: F401  (fixture)

NY = ZoneInfo("America/New_York")


def _world(engine, owner_engine):
    """A clinic with a signed-in user per role, Botox (a lot, a vial opened at 9 AM) and a 2 PM
    visit whose consents are signed; a second visit charted and signed with the lot."""
    clinic = build_clinic(engine, owner_engine)
    tokens = {}
    with clinic.session() as s:
        for role in ("owner", "manager", "provider", "front_desk"):
            user = UserAccount(org_id=clinic.org_id, email=f"{role}-{clinic.slug}@example.com",
                               password_hash=hash_password("x" * 16), role=role, display_name=role)
            s.add(user)
            s.flush()
            tokens[role] = f"tok-{role}-{clinic.slug}"
            s.add(UserSession(org_id=clinic.org_id, user_id=user.id, token_hash=token_hash(tokens[role]),
                              created_at=NOW, last_seen_at=NOW, expires_at=NOW + timedelta(hours=12)))
        owner = clinic.staff_actor("owner")
        botox = save_product(s, owner, None, ProductInput("Botox", "Allergan", "neuromodulator", "units"), NOW)
        lot = receive_lot(s, owner, botox, "C3709C3", date(2026, 11, 30), "300", NOW)
        vial = open_vial(s, clinic.staff_actor("provider"), lot, "2.5", NOW - timedelta(hours=3)).id
        visits = []
        for hour, first in ((14, "Ivy"), (15, "Mia")):
            client = find_or_create_client(s, clinic.system, ClientInput(first, "Stone", f"{first}-{clinic.slug}@example.com",
                                                                          "+12125550160"))
            start = datetime.combine(date(2026, 7, 1), time(hour), tzinfo=NY).astimezone(timezone.utc)
            visits.append(hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id,
                                    service_id=clinic.services["botox"], start_at=start, now=NOW, client_id=client.id,
                                    confirm=True).id)
        s.commit()
    for v in visits:
        sign_required_consents(clinic, v)
    with clinic.session() as s:
        provider = _provider(clinic)  # the visit's provider signs (clinical/signing.py)
        save_chart(s, provider, visits[1], [LineInput("", "", "20", "glabella",
                                                      product_id=botox, lot_id=lot, vial_id=vial)], "", NOW)
        sign_chart(s, provider, visits[1], NOW)
        s.commit()
    return clinic, tokens, {"botox": botox, "lot": lot, "vial": vial, "visit": visits[0]}


def _chart(token: str, appointment_id: int) -> ChartState:
    state = state_for(ChartState, token)
    root = state
    while root.parent_state is not None:
        root = root.parent_state
    root.router = RouterData.from_router_data({"headers": dict(root.router.headers.raw_headers), "pathname":
                                               "/chart/[appointment_id]", "asPath": f"/chart/{appointment_id}"})
    return state


def test_the_row_picks_product_lot_and_vial_and_saves_the_ids(engine, owner_engine, app_settings):
    clinic, tokens, ids = _world(engine, owner_engine)
    state = _chart(tokens["provider"], ids["visit"])
    run(call(ChartState.load, state))
    assert [(o.value, o.label) for o in state.product_options] == [(str(ids["botox"]), "Botox")]
    assert state.rows[0].product_id == ""  # a catalog exists: the select, not free text
    run(call(ChartState.set_product, state, 0, str(ids["botox"])))
    row = state.rows[0]
    assert (row.product, row.unit, row.lot_id, row.vial_id, row.reconstituted) == (
        "Botox", "units", str(ids["lot"]), str(ids["vial"]), True)
    assert state.lot_options[str(ids["botox"])][0].label == "C3709C3 · exp Nov 30, 2026 · 280 left"
    run(call(ChartState.set_cell, state, 0, "units", "12"))
    run(call(ChartState.set_cell, state, 0, "treatment_area", "forehead"))
    run(call(ChartState.set_vial, state, 0, "999999"))  # not a listed vial: ignored
    assert state.rows[0].vial_id == str(ids["vial"])
    run(call(ChartState.save, state))
    assert state.notice == "Draft saved." and state.rows[0].lot_id == str(ids["lot"])
    with clinic.session() as s:
        line = s.exec(select(TreatmentLine).where(TreatmentLine.lot_id == ids["lot"], TreatmentLine.units_tenths == 120)
                      ).one()
    assert (line.product, line.lot_number, line.vial_id, line.unit) == ("Botox", "C3709C3", ids["vial"], "units")
    # "Other…": free text with its own unit
    run(call(ChartState.set_product, state, 0, "other"))
    run(call(ChartState.set_unit, state, 0, "mL"))
    assert (state.rows[0].product_id, state.rows[0].product, state.rows[0].lot_id, state.rows[0].unit) == (
        "other", "", "", "mL")


def test_products_panel_and_recall_check_the_role(engine, owner_engine, app_settings):
    _, tokens, ids = _world(engine, owner_engine)
    desk = state_for(ProductsState, tokens["front_desk"])
    run(call(ProductsState.load_products, desk))
    assert desk.status == "not_found" and desk.products == []
    nurse = state_for(ProductsState, tokens["provider"])
    run(call(ProductsState.load_products, nurse))
    assert (nurse.status, nurse.can_manage, nurse.can_open) == ("ready", False, True)
    assert nurse.products[0].lots[0].left == "280"
    run(call(ProductsState.new_product, nurse))
    assert nurse.product_open is False
    run(call(ProductsState.new_vial, nurse, ids["lot"]))
    assert nurse.vial_open is True
    run(call(ProductsState.open_vial, nurse, {"diluent": "4"}))
    assert nurse.notice.startswith("Vial opened: 4 mL · 25 u/mL")

    manager = state_for(RecallState, tokens["manager"])
    run(call(RecallState.load, manager))
    assert manager.status == "not_found" and manager.lots == []
    owner = state_for(RecallState, tokens["owner"])
    run(call(RecallState.load, owner))
    run(call(RecallState.pick, owner, str(ids["lot"])))
    assert [(r.name, r.quantity) for r in owner.rows] == [("Mia Stone", "20 units")]
    run(call(RecallState.pick, owner, "999999"))  # not listed: nothing changes
    assert owner.lot_id == str(ids["lot"])
