"""The face map and the device/peel rows of a chart (issue 18) on real PostgreSQL: points
validate, persist and are copied by an amendment; the region table guesses areas; device and
peel rows validate per field with units, are read-only once signed (also in the database)
and copied on amend; the chart template comes from the service's category or its choice."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from medspa.domain.catalog.models import Service
from medspa.domain.clinical import face_map
from medspa.domain.clinical.device_models import TreatmentSetting
from medspa.domain.clinical.device_rows import SettingInput, default_template, parse_number, template_of
from medspa.domain.clinical.models import TreatmentLine
from medspa.domain.clinical.service import (TREATMENT_AREAS, LineInput, amend_chart, get_chart, save_chart,
                                            sign_chart, validate_lines)
from medspa.domain.errors import ValidationFailed
from medspa.domain.identity.actor import Actor
from tests.test_chart import _call, _person, _visit


@pytest.fixture
def nurse(clinic) -> Actor:
    return _person(clinic, "provider", "Nurse Amy")


def _pt(product: str, units: str, area: str, view: str, x: int, y: int) -> LineInput:
    return LineInput(product, "C3709C3", units, area, view, x, y)


# ---------------------------------------------------------------------------- the diagram


def test_area_guess_from_the_region_table():
    assert face_map.area_at("front", 500, 370) == "glabella"
    assert face_map.area_at("front", 500, 200) == "forehead"
    assert face_map.area_at("front", 260, 420) == "crow's feet"
    assert face_map.area_at("front", 740, 420) == "crow's feet"  # both sides
    # at and just below the eye's outer corner is crow's feet, not the tear trough (user trial)
    assert [face_map.area_at("front", x, y) for x, y in ((320, 450), (330, 430), (680, 450))] == ["crow's feet"] * 3
    assert face_map.area_at("front", 380, 470) == "tear troughs"
    assert face_map.area_at("front", 500, 740) == "lips"
    assert face_map.area_at("front", 300, 720) == "masseter"
    assert face_map.area_at("front", 20, 20) == "other"
    assert face_map.area_at("left", 560, 700) == "masseter"
    assert face_map.area_at("right", 440, 700) == "masseter"  # the mirror of the left view
    assert face_map.area_at("left", 420, 430) == "crow's feet"
    for view in ("front", "left", "right"):
        assert all(r[0] in TREATMENT_AREAS and 0 <= r[1] < r[3] <= 1000 and 0 <= r[2] < r[4] <= 1000
                   for r in face_map.regions(view))


def test_drawing_right_is_the_mirror_of_left():
    left, right = face_map.drawing("left"), face_map.drawing("right")
    assert len(left) == len(right)
    assert left[0]["d"].startswith("M600,90 ") and right[0]["d"].startswith("M400,90 ")
    ear_l = next(s for s in left if s["kind"] == "ellipse")
    ear_r = next(s for s in right if s["kind"] == "ellipse")
    assert (ear_l["cx"], ear_r["cx"]) == ("640", "360")
    with pytest.raises(ValueError):
        face_map.drawing("back")
    svg = face_map.svg_document("front", [face_map.Point(1, "front", 500, 370, "#7c3aed", "Botox")])
    assert svg.startswith("<svg") and 'cx="500" cy="370"' in svg


def test_product_colours_in_order_of_appearance():
    colours = face_map.product_colours(["Botox", "Juvéderm Voluma", "botox", "Dysport"])
    assert list(colours) == ["botox", "juvéderm voluma", "dysport"]
    assert colours["botox"] == face_map.PALETTE[0] and colours["dysport"] == face_map.PALETTE[2]


# ---------------------------------------------------------------------------- points on lines


def test_point_validation_messages():
    good = _pt("Botox", "4", "glabella", "front", 500, 370)
    cases = {
        LineInput("Botox", "C1", "4", "glabella", "front", 500, None):
            "A point needs its view and both coordinates: place it on the diagram again",
        LineInput("Botox", "C1", "4", "glabella", None, 10, 10):
            "A point needs its view and both coordinates: place it on the diagram again",
        LineInput("Botox", "C1", "4", "glabella", "back", 10, 10): "Place the point on the front, left or right view",
        LineInput("Botox", "C1", "4", "glabella", "front", 1001, 10): "The point is outside the diagram: place it again",
        LineInput("Botox", "C1", "4", "glabella", "front", -1, 10): "The point is outside the diagram: place it again",
        LineInput("Botox", "C1", "4", "glabella", "front", True, 10): "The point is outside the diagram: place it again",
        LineInput("Botox", "C1", "4", "glabella", "front", 10.5, 10): "The point is outside the diagram: place it again",
    }
    for line, message in cases.items():
        with pytest.raises(ValidationFailed) as exc:
            validate_lines([good, line], "", "Neuromodulators")
        assert exc.value.fields == {"lines.1.point": message}
    clean, _ = validate_lines([good, LineInput("Botox", "C1", "4", "glabella")], "", "Neuromodulators")
    assert [(c.view, c.x, c.y) for c in clean] == [("front", 500, 370), (None, None, None)]


def test_points_persist_and_are_copied_by_an_amendment(clinic, nurse):
    appt = _visit(clinic)
    lines = [_pt("Botox", "20", "glabella", "front", 500, 370),
             _pt("Botox", "8", "crow's feet", "left", 420, 430),
             LineInput("Botox", "C3709C3", "4", "forehead")]  # a line without a point stays possible
    _call(clinic, save_chart, nurse, appt, lines, "")
    chart = _call(clinic, get_chart, nurse, appt)
    assert [(ln.view, ln.x, ln.y, ln.treatment_area) for ln in chart.lines] == [
        ("front", 500, 370, "glabella"), ("left", 420, 430, "crow's feet"), (None, None, None, "forehead")]
    _call(clinic, sign_chart, nurse, appt)
    amended = _call(clinic, amend_chart, nurse, appt)
    assert amended.version == 2
    assert [(ln.view, ln.x, ln.y) for ln in amended.lines] == [("front", 500, 370), ("left", 420, 430),
                                                               (None, None, None)]
    with clinic.session() as s:
        rows = s.exec(select(TreatmentLine.note_id, TreatmentLine.view, TreatmentLine.x)
                      .order_by(TreatmentLine.note_id, TreatmentLine.position)).all()
    assert len({r[0] for r in rows}) == 2 and [r[1:] for r in rows][:2] == [r[1:] for r in rows][3:5]


# ---------------------------------------------------------------------------- device and peel rows

LASER = SettingInput("device", device="GentleMax", handpiece="18 mm", fluence="12.5", pulse_width="3",
                     spot_size="18", passes="2", cooling="DCD 30/20/10")
PEEL = SettingInput("peel", agent="Glycolic acid", concentration="30", layers="2", minutes="3")


def test_numbers_parse_with_units_in_messages():
    assert parse_number("fluence", "12.5") == 125
    assert parse_number("pulse_width", "0.25") == 25
    assert parse_number("passes", "") is None
    with pytest.raises(ValueError, match=r"^Between 0.1 and 300 J/cm²$"):
        parse_number("fluence", "301")
    with pytest.raises(ValueError, match=r"^Enter a number e.g. 3$"):
        parse_number("passes", "2.5")
    with pytest.raises(ValueError, match=r"^Enter a number with at most 1 decimal$"):
        parse_number("spot_size", "1.25")
    with pytest.raises(ValueError, match=r"^Between 0.1 and 100 %$"):
        parse_number("concentration", "0")


def test_device_and_peel_rows_validate_per_field(clinic, nurse):
    appt = _visit(clinic, service="laser")
    bad = [SettingInput("device", device="", fluence="abc", passes="0"),
           SettingInput("device", resource_id=10**12, spot_size="101"),
           SettingInput("peel", agent="", concentration="101", layers="x", minutes="61")]
    with pytest.raises(ValidationFailed) as exc:
        _call(clinic, save_chart, nurse, appt, [], "", settings=bad)
    assert exc.value.fields == {
        "settings.0.fluence": "Enter a number with at most 1 decimal",
        "settings.0.passes": "Between 1 and 20",
        "settings.0.device": "Choose or type the device",
        "settings.1.spot_size": "Between 0.1 and 100 mm",
        "settings.1.device": "Choose one of the clinic's devices, or type the device",
        "settings.2.concentration": "Between 0.1 and 100 %",
        "settings.2.layers": "Enter a number e.g. 3",
        "settings.2.minutes": "Between 1 and 60",
        "settings.2.agent": "Enter the peel agent, e.g. glycolic acid",
    }
    with clinic.session() as s:
        assert s.exec(select(TreatmentSetting)).all() == []


def test_rows_persist_signed_read_only_and_amend_copies(clinic, nurse):
    appt = _visit(clinic, service="laser")
    device_row = SettingInput("device", resource_id=clinic.device_ids[0], handpiece="18 mm", fluence="12.5",
                              pulse_width="3")
    chart = _call(clinic, save_chart, nurse, appt, [], "Underarms, skin type II.", settings=[device_row, PEEL])
    assert chart.template == "device" and chart.devices == [(clinic.device_ids[0], "GentleMax")]
    assert [(r.kind, r.device, r.resource_id, r.handpiece, r.fluence, r.pulse_width, r.agent, r.concentration,
             r.layers, r.minutes) for r in chart.settings] == [
        ("device", "GentleMax", clinic.device_ids[0], "18 mm", "12.5", "3", "", "", "", ""),
        ("peel", "", None, "", "", "", "Glycolic acid", "30", "2", "3")]
    # saving lines and note alone (settings=None) leaves the rows alone
    assert len(_call(clinic, save_chart, nurse, appt, [], "Underarms, skin type II.").settings) == 2
    signed = _call(clinic, sign_chart, nurse, appt)
    with clinic.session() as s:
        row_id = s.exec(select(TreatmentSetting.id)).first()
    for sql in ("update treatment_setting set fluence_tenths = 200 where id = :i",
                "delete from treatment_setting where id = :i",
                "insert into treatment_setting (org_id, note_id, position, kind, agent) "
                "select org_id, note_id, 9, 'peel', 'TCA' from treatment_setting where id = :i"):
        with clinic.session() as s, pytest.raises(DBAPIError, match="read-only"):
            s.execute(text(sql), {"i": row_id})
            s.flush()
    amended = _call(clinic, amend_chart, nurse, appt)
    assert amended.settings == signed.settings and amended.version == 2
    edited = _call(clinic, save_chart, nurse, appt, [], "x", settings=[LASER])
    assert [(r.device, r.resource_id, r.fluence, r.spot_size, r.passes, r.cooling) for r in edited.settings] == [
        ("GentleMax", None, "12.5", "18", "2", "DCD 30/20/10")]
    with clinic.session() as s:  # version 1 keeps its two rows
        counts = s.execute(text("select n.version, count(*) from treatment_setting t join treatment_note n "
                                "on n.id = t.note_id group by n.version order by 1")).all()
    assert [tuple(c) for c in counts] == [(1, 2), (2, 1)]


def test_template_from_category_or_the_service_choice(clinic, nurse):
    assert [default_template(c) for c in ("Neuromodulators", "Dermal fillers", "Laser hair removal",
                                          "IPL photofacial", "Chemical peels", "HydraFacial", "Consultations")] == [
        "injectable", "injectable", "device", "device", "peel", "general", "general"]
    assert template_of("peel", "Neuromodulators") == "peel" and template_of("bogus", "Chemical peels") == "peel"
    appt = _visit(clinic)  # botox: Neuromodulators
    assert _call(clinic, get_chart, nurse, appt).template == "injectable"
    with clinic.session() as s:
        svc = s.get(Service, clinic.services["botox"])
        svc.chart_template = "general"
        s.add(svc)
        s.commit()
    assert _call(clinic, get_chart, nurse, appt).template == "general"


# ---------------------------------------------------------------------------- print / PDF


def test_pdf_has_lines_totals_points_settings_and_signature(clinic, nurse):
    import io

    from pypdf import PdfReader

    from medspa.clock import FixedClock
    from medspa.domain.clinical.actions import fetch_chart_pdf
    from tests.test_chart import NOW, _audit

    appt = _visit(clinic)
    lines = [_pt("Botox", "20", "glabella", "front", 500, 370), _pt("Botox", "6", "crow's feet", "left", 420, 430),
             LineInput("Juvéderm Voluma", "VB123", "1", "cheeks", "right", 560, 560)]
    _call(clinic, save_chart, nurse, appt, lines, "Aftercare explained.", settings=[PEEL])
    _call(clinic, sign_chart, nurse, appt)
    before = len(_audit(clinic, "chart.read"))
    got = fetch_chart_pdf(nurse, appt, clock=FixedClock(NOW), engine=clinic.engine)
    assert got.filename == f"chart-{appt}-v1.pdf" and got.data.startswith(b"%PDF")
    words = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(got.data)).pages)
    for expected in ("Treatment chart: Ivy Stone", "Face map", "Front", "Left side", "Right side", "Botox",
                     "C3709C3", "20 units", "glabella", "crow's feet", "Totals: Botox 26 units; Juvéderm Voluma 1 unit",
                     "Agent: Glycolic acid", "Concentration (%): 30", "Minutes on skin: 3", "Aftercare explained.",
                     "Signed by Nurse Amy"):
        assert expected in words, expected
    reads = _audit(clinic, "chart.read")
    assert len(reads) == before + 1 and reads[-1].detail.get("pdf") is True and reads[-1].client_id is not None


def test_the_service_form_sets_and_checks_the_chart_template(engine, owner_engine):
    from medspa.domain.catalog.actions import do_create_service, do_update_service
    from medspa.domain.catalog.editing import ServiceInput
    from tests.factories import build_clinic

    clinic = build_clinic(engine, owner_engine)
    owner = clinic.staff_actor("owner")
    data = ServiceInput(category="HydraFacial", name="Glow peel", duration_minutes=45, price_cents=12500,
                        provider_ids=tuple(clinic.provider_ids))
    with pytest.raises(ValidationFailed) as err:
        do_create_service(owner, ServiceInput(**{**data.__dict__, "chart_template": "laser"}), engine=engine)
    assert err.value.fields == {"chart_template": "Choose a chart template from the list"}
    svc = do_create_service(owner, data, engine=engine)
    assert svc.chart_template is None and template_of(svc.chart_template, svc.category) == "general"
    svc = do_update_service(owner, svc.id, ServiceInput(**{**data.__dict__, "chart_template": "peel"}), engine=engine)
    assert template_of(svc.chart_template, svc.category) == "peel"
    with clinic.session() as s:
        detail = s.execute(text("select detail from audit_event where action = 'service.update' order by id desc"
                                " limit 1")).scalar_one()
    assert detail["changes"]["chart_template"] == [None, "peel"]


def test_totals_per_product_and_unit():
    totals = face_map.product_totals([("Botox", "units", 200), ("Voluma", "mL", 10), ("botox ", "units", 45),
                                      ("", "units", 50), ("Voluma", "mL", 5), ("Sculptra", "vials", 10)])
    assert [(t.product, t.label) for t in totals] == [("Botox", "24.5 units"), ("Voluma", "1.5 mL"),
                                                      ("Sculptra", "1 vial")]
