"""/settings Clinic tab through its Reflex event handlers: only the owner loads it, a message
next to the bad field with nothing saved, the header's name follows a save, and the logo
upload checks its size on the server before the domain checks its content."""

from __future__ import annotations

import io

import pytest
from sqlmodel import Session

from medspa.domain.practice.models import Organization
from medspa.domain.practice.profile import LOGO_MAX_BYTES, LOGO_NOT_IMAGE, LOGO_TOO_LARGE
from medspa.features.settings.clinic import ClinicState
from tests.test_handler_matrix import STAFF_ROLES, World, staff_state, world  # noqa: F401  (fixture)
from tests.test_handlers import app_settings, call, run  # noqa: F401  (fixture)
from tests.test_photos import upload_file


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGBA", (80, 40), (20, 130, 120, 255)).save(out, "PNG")
    return out.getvalue()


def _org(w: World, owner_engine) -> Organization:
    with Session(owner_engine) as s:
        return s.get(Organization, w.clinic.org_id)


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_the_tab_loads_for_the_owner_only(world: World, app_settings, role):  # noqa: F811
    state = staff_state(ClinicState, world, role)
    run(call(ClinicState.load_clinic, state))
    assert state.clinic_ok is (role == "owner")
    run(call(ClinicState.set_clinic_field, state, "name", "Hijacked"))
    run(call(ClinicState.save_clinic, state))  # refused unless the owner: nothing loaded, nothing sent
    if role != "owner":
        assert state.clinic_form == {}


def test_owner_saves_and_bad_fields_get_messages(world: World, app_settings, owner_engine):  # noqa: F811
    state = staff_state(ClinicState, world, "owner")
    run(call(ClinicState.load_clinic, state))
    before = _org(world, owner_engine)
    assert state.clinic_form["name"] == before.name and len(state.currency_choices) > 100
    run(call(ClinicState.set_clinic_field, state, "name", ""))
    run(call(ClinicState.set_clinic_field, state, "country", "XX"))
    run(call(ClinicState.set_listed, state, True))
    run(call(ClinicState.save_clinic, state))
    assert set(state.clinic_errors) == {"name", "country"} and state.clinic_error.startswith("Nothing was saved")
    assert _org(world, owner_engine).listed is before.listed
    run(call(ClinicState.set_clinic_field, state, "name", "Lumen Skin Studio"))
    run(call(ClinicState.set_clinic_field, state, "country", "CA"))
    run(call(ClinicState.save_clinic, state))
    assert state.clinic_errors == {} and state.clinic_message == "Clinic details saved"
    assert state.org_name == "Lumen Skin Studio"  # the staff header follows
    org = _org(world, owner_engine)
    assert (org.name, org.country, org.listed) == ("Lumen Skin Studio", "CA", True)


def test_logo_upload_checks_size_then_content(world: World, app_settings, owner_engine):  # noqa: F811
    state = staff_state(ClinicState, world, "owner")
    run(call(ClinicState.load_clinic, state))
    run(call(ClinicState.upload_logo, state, [upload_file(b"x", name="big.png", size=LOGO_MAX_BYTES + 1)]))
    assert state.clinic_errors == {"logo": LOGO_TOO_LARGE}
    run(call(ClinicState.upload_logo, state, [upload_file(b"\x89PNG" + b"\0" * LOGO_MAX_BYTES, size=10)]))
    assert state.clinic_errors == {"logo": LOGO_TOO_LARGE}  # the declared size lied
    run(call(ClinicState.upload_logo, state, [upload_file(b"just text", name="logo.png")]))
    assert state.clinic_errors == {"logo": LOGO_NOT_IMAGE}
    assert _org(world, owner_engine).logo_version is None
    run(call(ClinicState.upload_logo, state, [upload_file(_png(), name="logo.png")]))
    version = _org(world, owner_engine).logo_version
    assert state.clinic_errors == {} and state.clinic_logo == f"/clinics/{world.clinic.slug}/logo?v={version}"
    assert state.org_logo == state.clinic_logo  # the staff header shows it at once
    run(call(ClinicState.remove_logo, state))
    assert state.clinic_logo == state.org_logo == "" and _org(world, owner_engine).logo_version is None
