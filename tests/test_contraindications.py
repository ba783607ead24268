"""Contraindications (clinical/contraindications.py) on real PostgreSQL: every rule kind, the
6-month isotretinoin boundary with an injected clock, category defaults on new services,
overrides with reasons kept at booking and at charting, flags on calendar blocks and day
lists (detail for provider/owner, generic words for the desk), audit rows."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlmodel import select

from medspa.clock import FixedClock
from medspa.domain.clients.service import ClientInput, find_or_create_client
from medspa.domain.clinical.actions import do_sign_chart
from medspa.domain.clinical.contraindications import (GENERIC, KINDS, MATCHED_SECTIONS, Rule, booking_flags,
                                                      default_rules, match, months_before, service_rules, set_service_rules,
                                                      validate_rules, visit_flags)
from medspa.domain.clinical.health_record import HealthFlagged
from medspa.domain.clinical.medical_history import SECTIONS, current_history, empty_value
from medspa.domain.clinical.history_actions import do_book_checked, do_update_history, fetch_booking_check
from medspa.domain.clinical.service import LineInput
from medspa.domain.errors import ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.identity.service import create_user
from medspa.domain.scheduling.calendar import calendar_day, calendar_week
from medspa.domain.scheduling.daylist import arrivals, my_day
from medspa.domain.scheduling.models import Appointment
from medspa.domain.scheduling.service import hold_slot
from tests.consent_support import sign_required_consents
from tests.conftest import utc

NY = ZoneInfo("America/New_York")
NOW = utc(2026, 7, 1, 12)
VISIT_DAY = date(2026, 7, 1)
EMPTY = {"allergies": [], "medications": [], "conditions": [], "fitzpatrick": {"type": ""},
         "pregnancy": {"pregnant": False, "breastfeeding": False}}


def _at(hour: int, day: date = VISIT_DAY) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=NY).astimezone(timezone.utc)


def _client(clinic, first: str = "Ivy", history: dict | None = None) -> int:
    with clinic.session() as s:
        c = find_or_create_client(s, clinic.system, ClientInput(first, "Stone", f"{first}-{uuid.uuid4().hex[:8]}@example.com",
                                                                "+12125550160"))
        s.commit()
    if history:
        do_update_history(clinic.staff_actor("provider"), c.id, history, clock=FixedClock(NOW), engine=clinic.engine)
    return c.id


def _person(clinic, role: str) -> Actor:
    with clinic.session() as s:
        user = create_user(s, clinic.system, email=f"{role}-{uuid.uuid4().hex[:8]}@example.com",
                           password="long-enough-password", role=role, display_name=f"Test {role}")
        s.commit()
        return Actor(org_id=clinic.org_id, role=role, user_id=user.id, label=f"Test {role}",
                     staff_id=clinic.provider_ids[0] if role == "provider" else None)


def _visit(clinic, client_id: int, service: str = "botox", hour: int = 14) -> int:
    with clinic.session() as s:
        appt = hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id, service_id=clinic.services[service],
                         start_at=_at(hour), now=NOW, client_id=client_id, confirm=True)
        s.commit()
        return appt.id


def _audit(clinic, action: str) -> list:
    with clinic.session() as s:
        return s.execute(text("select actor_role, client_id, detail from audit_event where action = :a order by id"),
                         {"a": action}).all()


# ---------------------------------------------------------------------------- the rules


def test_each_rule_kind_matches_case_insensitively():
    history = {**EMPTY,
               "allergies": [{"agent": "LIDOCAINE with epinephrine", "reaction": "hives"}],
               "conditions": [{"name": "Myasthenia  Gravis"}],
               "fitzpatrick": {"type": "V"},
               "pregnancy": {"pregnant": True, "breastfeeding": True}}
    rules = [Rule("pregnancy"), Rule("breastfeeding"), Rule("allergy", "lidocaine"), Rule("allergy", "albumin"),
             Rule("condition", "myasthenia gravis"), Rule("fitzpatrick", "V-VI"), Rule("fitzpatrick", "I-II")]
    flags = match(rules, history, VISIT_DAY)
    assert [(f.code, f.detail) for f in flags] == [
        ("pregnancy", "Pregnant"), ("breastfeeding", "Breastfeeding"),
        ("allergy", "Allergy: LIDOCAINE with epinephrine (hives)"), ("condition", "Condition: Myasthenia  Gravis"),
        ("fitzpatrick", "Skin type V (service: V-VI)")]
    assert all(f.generic == GENERIC for f in flags)
    assert match(rules, EMPTY, VISIT_DAY) == []


def test_isotretinoin_six_months_boundary():
    rule = [Rule("medication", "isotretinoin", 6)]

    def flagged(stopped: str, day: date = VISIT_DAY) -> bool:
        meds = [{"name": "Isotretinoin (Accutane)", "dose": "20 mg", "stopped_on": stopped}]
        return bool(match(rule, {**EMPTY, "medications": meds}, day))

    assert months_before(VISIT_DAY, 6) == date(2026, 1, 1)
    assert flagged("")  # still taking
    assert flagged("2026-01-01")  # exactly six months before the visit: within
    assert not flagged("2025-12-31")  # a day more: not
    assert flagged("2026-06-30")
    assert flagged("2026-08-01")  # stops after the visit: taking at the visit
    assert months_before(date(2026, 8, 31), 6) == date(2026, 2, 28)
    assert flagged("2026-02-28", date(2026, 8, 31)) and not flagged("2026-02-27", date(2026, 8, 31))
    # months 0: only while taking
    only_taking = [Rule("medication", "isotretinoin", 0)]
    assert match(only_taking, {**EMPTY, "medications": [{"name": "isotretinoin", "dose": "", "stopped_on": ""}]},
                 VISIT_DAY)
    assert not match(only_taking, {**EMPTY, "medications": [{"name": "isotretinoin", "dose": "",
                                                             "stopped_on": "2026-06-30"}]}, VISIT_DAY)


def test_booking_flags_use_the_visits_local_date_and_the_injected_clock(clinic):
    """11 PM in New York on Dec 31 is Jan 1 UTC: the window counts from the local date."""
    cid = _client(clinic, history={"medications": [{"name": "isotretinoin", "dose": "", "stopped_on": "2026-06-30"}]})
    with clinic.session() as s:
        late = datetime(2026, 12, 31, 23, tzinfo=NY)
        assert booking_flags(s, cid, clinic.services["laser"], late, time_zone="America/New_York")
        assert not booking_flags(s, cid, clinic.services["laser"], late, time_zone="UTC")
        assert booking_flags(s, cid, clinic.services["botox"], late) == []  # no isotretinoin rule


def test_rules_validation_and_category_defaults(clinic):
    assert validate_rules([Rule("allergy", "  Lidocaine "), Rule("allergy", "lidocaine"), Rule("fitzpatrick", "v-vi"),
                           Rule("pregnancy", "ignored", 3)]) == [
        Rule("allergy", "lidocaine"), Rule("fitzpatrick", "V-VI"), Rule("pregnancy")]
    with pytest.raises(ValidationFailed) as bad:
        validate_rules([Rule("tattoo", "x"), Rule("allergy", ""), Rule("fitzpatrick", "VI-II"),
                        Rule("medication", "isotretinoin", 500)])
    assert bad.value.fields == {"rules.0.kind": "Choose what it is", "rules.1.term": "Name it (at most 80 characters)",
                                "rules.2.term": "A skin type range such as V-VI",
                                "rules.3.months": "Months from 0 (only while taking) to 120"}
    with clinic.session() as s:  # the factory's services got their category's defaults
        rules = service_rules(s, list(clinic.services.values()))
        assert rules[clinic.services["botox"]] == default_rules("Neuromodulators")
        assert Rule("medication", "isotretinoin", 6) in rules[clinic.services["laser"]]
        assert clinic.services["facial"] not in rules  # HydraFacial: none built in
        from medspa.domain.catalog.models import Service
        svc = s.get(Service, clinic.services["facial"])
        set_service_rules(s, svc, [Rule("allergy", "salicylic acid")])
        s.commit()
        assert service_rules(s, [svc.id])[svc.id] == [Rule("allergy", "salicylic acid")]


# ---------------------------------------------------------------------------- booking


def test_a_flagged_booking_needs_a_reason_that_is_kept(clinic):
    cid = _client(clinic, history={"pregnancy": {"pregnant": True, "breastfeeding": False}})
    desk = clinic.staff_actor("front_desk")
    kwargs = dict(location_id=clinic.location_id, service_id=clinic.services["botox"], provider_id=None,
                  start_at=_at(14), client_id=cid, new_client=None, clock=FixedClock(NOW), engine=clinic.engine)
    check = fetch_booking_check(desk, client_id=cid, service_id=clinic.services["botox"],
                                location_id=clinic.location_id, start_at=_at(14), clock=FixedClock(NOW),
                                engine=clinic.engine)
    assert check.flags == (GENERIC,)  # the desk never reads "Pregnant"
    with pytest.raises(HealthFlagged) as refused:
        do_book_checked(desk, **kwargs)
    assert refused.value.flags == [GENERIC] and "health_reason" in refused.value.fields
    with pytest.raises(HealthFlagged):
        do_book_checked(desk, override_reason="   ", **kwargs)
    with clinic.session() as s:
        assert s.execute(text("select count(*) from appointment")).scalar() == 0  # nothing half-written
    appt_id = do_book_checked(desk, override_reason="Client says she had the baby; provider to confirm", **kwargs)
    with clinic.session() as s:
        row = s.execute(text("select client_id, appointment_id, stage, reason, flags, by_label, created_at "
                             "from health_override")).one()
    assert (row.client_id, row.appointment_id, row.stage, row.by_label, row.created_at) == (
        cid, appt_id, "booking", "test front_desk", NOW)
    assert row.reason == "Client says she had the baby; provider to confirm"
    assert row.flags == [{"code": "pregnancy", "detail": "Pregnant"}]
    audit = _audit(clinic, "health.override")
    assert [(a.actor_role, a.client_id, a.detail["stage"], a.detail["flags"]) for a in audit] == [
        ("front_desk", cid, "booking", ["pregnancy"])]
    provider_check = fetch_booking_check(clinic.staff_actor("provider"), client_id=cid,
                                         service_id=clinic.services["botox"], location_id=clinic.location_id,
                                         start_at=_at(15), clock=FixedClock(NOW), engine=clinic.engine)
    assert provider_check.flags == ("Pregnant",)


def test_an_unflagged_booking_needs_no_reason(clinic):
    cid = _client(clinic, history={"pregnancy": {"pregnant": True, "breastfeeding": False}})
    appt_id = do_book_checked(clinic.staff_actor("front_desk"), location_id=clinic.location_id,
                              service_id=clinic.services["facial"], provider_id=None, start_at=_at(14),
                              client_id=cid, new_client=None, clock=FixedClock(NOW), engine=clinic.engine)
    assert appt_id
    with clinic.session() as s:
        assert s.execute(text("select count(*) from health_override")).scalar() == 0


def test_fetch_booking_check_refuses_roles_that_do_not_book(clinic):
    from medspa.domain.errors import NotFound

    cid = _client(clinic)
    for actor in (clinic.staff_actor("lab"), Actor.client(clinic.org_id, cid), clinic.public):
        with pytest.raises(NotFound):
            fetch_booking_check(actor, client_id=cid, service_id=clinic.services["botox"],
                                location_id=clinic.location_id, start_at=_at(14), clock=FixedClock(NOW),
                                engine=clinic.engine)


# ---------------------------------------------------------------------------- chart


def test_signing_a_flagged_chart_needs_the_providers_reason(clinic):
    cid = _client(clinic, history={"allergies": [{"agent": "Albumin", "reaction": "anaphylaxis"}]})
    appt = _visit(clinic, cid)
    sign_required_consents(clinic, appt)  # the consent gate is not what this test is about
    nurse = _person(clinic, "provider")
    line = [LineInput("Botox", "C3709C3", "20", "glabella")]
    with pytest.raises(HealthFlagged) as refused:
        do_sign_chart(nurse, appt, line, "", clock=FixedClock(NOW), engine=clinic.engine)
    assert refused.value.flags == ["Allergy: Albumin (anaphylaxis)"]
    with clinic.session() as s:  # all or nothing: not even the draft was saved
        assert s.execute(text("select count(*) from treatment_note")).scalar() == 0
    chart = do_sign_chart(nurse, appt, line, "", override_reason="Albumin-free product used (Xeomin)",
                          clock=FixedClock(NOW), engine=clinic.engine)
    assert chart.status == "signed"
    with clinic.session() as s:
        row = s.execute(text("select stage, reason, flags, by_user_id from health_override")).one()
    assert (row.stage, row.reason, row.by_user_id) == ("chart", "Albumin-free product used (Xeomin)", nurse.user_id)
    assert row.flags == [{"code": "allergy", "detail": "Allergy: Albumin (anaphylaxis)"}]


def test_an_unflagged_chart_signs_without_a_reason(clinic):
    appt = _visit(clinic, _client(clinic))
    sign_required_consents(clinic, appt)
    chart = do_sign_chart(clinic.staff_actor("provider", clinic.provider_ids[0]), appt, [LineInput("Botox", "C3", "20", "glabella")], "",
                          clock=FixedClock(NOW), engine=clinic.engine)
    assert chart.status == "signed"


# ---------------------------------------------------------------------------- calendar and day lists


def test_calendar_blocks_carry_the_flag_detail_for_providers_generic_for_the_desk(clinic):
    flagged = _client(clinic, "Pam", {"pregnancy": {"pregnant": True, "breastfeeding": False}})
    fine = _client(clinic, "Fay")
    a1, a2 = _visit(clinic, flagged, hour=10), _visit(clinic, fine, hour=11)
    nurse, desk = _person(clinic, "provider"), _person(clinic, "front_desk")
    with clinic.session() as s:
        assert set(visit_flags(s, [s.get(Appointment, a1), s.get(Appointment, a2)])) == {a1}
        for actor, want in ((nurse, "Pregnant · Breastfeeding"[:8]), (desk, GENERIC),
                            (clinic.staff_actor("manager"), GENERIC)):  # the lab reads no calendar
            day = calendar_day(s, actor, location_id=clinic.location_id, day=VISIT_DAY, now=NOW)
            flags = {b.appointment_id: b.health_flag for b in day.blocks if b.kind == "appointment"}
            assert flags == {a1: want, a2: ""}
        s.commit()
    audit = _audit(clinic, "history.flags.read")  # only the provider saw the detail
    assert [(a.actor_role, a.client_id, a.detail["where"]) for a in audit] == [("provider", flagged, "calendar")]


def test_day_lists_show_allergy_and_contraindication_in_red(clinic):
    cid = _client(clinic, "Ana", {"allergies": [{"agent": "albumin", "reaction": ""}],
                                  "conditions": [{"name": "Myasthenia gravis"}]})
    _visit(clinic, cid, hour=14)
    nurse, desk = _person(clinic, "provider"), _person(clinic, "front_desk")
    with clinic.session() as s:
        mine = my_day(s, nurse, now=NOW)
        alerts = [(a.kind, a.text, a.tone) for a in mine.visits[0].visit.alerts][:2]
        assert alerts == [("allergy", "Allergy: albumin", "red"),
                          ("contraindication", "Condition: Myasthenia gravis", "red")]
        front = arrivals(s, desk, location_id=clinic.location_id, now=NOW)
        alerts = [(a.kind, a.text, a.tone) for a in front.rows[0].visit.alerts]
        assert alerts[0] == ("contraindication", GENERIC, "red")
        assert not any(a[0] == "allergy" or "albumin" in a[1] for a in alerts)
        s.commit()
    audit = _audit(clinic, "history.flags.read")
    assert [(a.actor_role, a.client_id, a.detail["where"]) for a in audit] == [("provider", cid, "day list")]


def test_the_settings_editor_replaces_a_services_rules_audited_and_owner_manager_only(clinic):
    from medspa.domain.clinical.rule_actions import do_set_service_rules, fetch_service_rules
    from medspa.domain.errors import NotFound

    botox = clinic.services["botox"]
    manager = clinic.staff_actor("manager")
    assert fetch_service_rules(manager, botox, engine=clinic.engine) == default_rules("Neuromodulators")
    new = do_set_service_rules(manager, botox, [Rule("pregnancy"), Rule("allergy", "Albumin")],
                               clock=FixedClock(NOW), engine=clinic.engine)
    assert new == [Rule("pregnancy"), Rule("allergy", "albumin")]
    row = _audit(clinic, "service.contraindications")[0]
    assert row.detail["new"] == ["Pregnancy", "Allergy: albumin"] and "Breastfeeding" in row.detail["old"]
    with pytest.raises(ValidationFailed):
        do_set_service_rules(manager, botox, [Rule("fitzpatrick", "VII")], engine=clinic.engine)
    assert fetch_service_rules(clinic.staff_actor("owner"), botox, engine=clinic.engine) == new
    for role in ("provider", "front_desk", "lab"):
        with pytest.raises(NotFound):
            fetch_service_rules(clinic.staff_actor(role), botox, engine=clinic.engine)
        with pytest.raises(NotFound):
            do_set_service_rules(clinic.staff_actor(role), botox, [], engine=clinic.engine)


def test_chart_flags_for_the_chart_page_provider_only_with_the_overrides(clinic):
    from medspa.domain.clinical.history_actions import fetch_chart_flags
    from medspa.domain.errors import NotFound

    cid = _client(clinic, history={"pregnancy": {"pregnant": True, "breastfeeding": False}})
    appt = do_book_checked(clinic.staff_actor("front_desk"), location_id=clinic.location_id,
                           service_id=clinic.services["botox"], provider_id=None, start_at=_at(14), client_id=cid,
                           new_client=None, override_reason="Cleared by her OB", clock=FixedClock(NOW),
                           engine=clinic.engine)
    nurse = _person(clinic, "provider")
    got = fetch_chart_flags(nurse, appt, clock=FixedClock(NOW), engine=clinic.engine)
    assert got.flags == ("Pregnant",)
    assert re.fullmatch(r"Booking · test front_desk · .+ [AP]M E[SD]T: Cleared by her OB", got.overrides[0])
    assert [(a.actor_role, a.detail["where"]) for a in _audit(clinic, "history.flags.read")] == [("provider", "chart")]
    for role in ("front_desk", "manager", "lab"):
        with pytest.raises(NotFound):
            fetch_chart_flags(clinic.staff_actor(role), appt, clock=FixedClock(NOW), engine=clinic.engine)
    with pytest.raises(NotFound):
        fetch_chart_flags(nurse, 10**12, clock=FixedClock(NOW), engine=clinic.engine)


def test_the_calendar_panel_names_the_flag_detail_for_providers_generic_for_the_desk(clinic):
    """Trial finding: the visit panel never said what the health flag was (a tablet has no hover)."""
    from medspa.domain.scheduling.detail import appointment_detail

    flagged = _client(clinic, "Pia", {"pregnancy": {"pregnant": True, "breastfeeding": False}})
    a1, a2 = _visit(clinic, flagged, hour=10), _visit(clinic, _client(clinic, "Flo"), hour=11)
    nurse, desk = _person(clinic, "provider"), _person(clinic, "front_desk")
    with clinic.session() as s:
        assert appointment_detail(s, nurse, a1, now=NOW).health_flags == ["Pregnant"]
        assert appointment_detail(s, desk, a1, now=NOW).health_flags == [GENERIC]
        assert appointment_detail(s, clinic.staff_actor("manager"), a1, now=NOW).health_flags == [GENERIC]
        assert appointment_detail(s, nurse, a2, now=NOW).health_flags == []
        s.commit()
    audit = _audit(clinic, "history.flags.read")  # the provider's detail read is audited, once
    assert [(a.actor_role, a.client_id, a.detail["where"]) for a in audit] == [("provider", flagged, "panel")]


def test_week_chips_carry_the_flag_and_what_paperwork_is_missing(clinic):
    """The week view marks what the day's blocks mark (issue 17 leftover): the flag in the
    reader's words, and the forms and consents still missing (nothing once all is in)."""
    flagged = _client(clinic, "Pam", {"pregnancy": {"pregnant": True, "breastfeeding": False}})
    fine = _client(clinic, "Fay")
    a1, a2 = _visit(clinic, flagged, hour=10), _visit(clinic, fine, hour=11)
    nurse, desk = _person(clinic, "provider"), _person(clinic, "front_desk")

    def week(actor) -> dict[int, tuple[str, str]]:
        with clinic.session() as s:
            out = calendar_week(s, actor, location_id=clinic.location_id, day=VISIT_DAY, now=NOW)
            s.commit()
        return {e.appointment_id: (e.health_flag, e.paperwork_due) for e in out.entries}

    assert week(desk) == {a1: (GENERIC, "Forms 0/2 · Consents 0/1"), a2: ("", "Forms 0/2 · Consents 0/1")}
    assert week(nurse)[a1][0] == "Pregnant"
    sign_required_consents(clinic, a2)
    assert week(desk)[a2] == ("", "Forms 0/2")


# ---------------------------------------------------------------------------- batched = per visit

_WORDS = st.sampled_from(["lidocaine", "Lidocaine  HCl", "albumin", "isotretinoin", "myasthenia gravis", "", "x"])
_DAYS = st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31))
_RULES = st.lists(st.builds(Rule, st.sampled_from(KINDS), st.one_of(_WORDS, st.sampled_from(["V-VI", "I", "II-IV"])),
                            st.sampled_from([0, 1, 6, 12])), max_size=6)
_HISTORY = st.fixed_dictionaries({
    "allergies": st.lists(st.fixed_dictionaries({"agent": _WORDS, "reaction": st.sampled_from(["", "hives"])}),
                          max_size=3),
    "medications": st.lists(st.fixed_dictionaries({"name": _WORDS, "dose": st.just(""), "stopped_on": st.one_of(
        st.just(""), _DAYS.map(date.isoformat))}), max_size=3),
    "conditions": st.lists(st.fixed_dictionaries({"name": _WORDS}), max_size=3),
    "fitzpatrick": st.fixed_dictionaries({"type": st.sampled_from(["", "I", "III", "V", "VI"])}),
    "previous_treatments": st.lists(st.fixed_dictionaries({"treatment": _WORDS, "when": st.just("")}), max_size=2),
    "pregnancy": st.fixed_dictionaries({"pregnant": st.booleans(), "breastfeeding": st.booleans()}),
    "lifestyle": st.fixed_dictionaries({"sun_exposure": st.sampled_from(["", "high"]), "smoking": st.booleans()}),
    "goals": st.fixed_dictionaries({"text": _WORDS}),
})


@settings(max_examples=300, deadline=None)
@given(rules=_RULES, history=_HISTORY, day=_DAYS)
def test_match_reads_only_the_matched_sections_and_an_empty_history_matches_nothing(rules, history, day):
    """visit_flags reads only MATCHED_SECTIONS and skips the clients with none recorded
    (issue 20): the same flags as the whole current history, none for an empty one."""
    assert match(rules, {s: history[s] for s in MATCHED_SECTIONS}, day) == match(rules, history, day)
    assert match(rules, {s: empty_value(s) for s in SECTIONS}, day) == []


def test_visit_flags_equal_match_per_visit_over_varied_histories(clinic):
    """The batched flags (sections read in one query, clients without a matched section
    skipped) equal `match` of each visit's whole current history, for clients with nothing,
    with only unmatched sections, and with matched ones."""
    histories = [None, {"goals": {"text": "glow"}}, {"lifestyle": {"sun_exposure": "high", "smoking": True}},
                 {"pregnancy": {"pregnant": True, "breastfeeding": False}},
                 {"allergies": [{"agent": "Lidocaine", "reaction": "hives"}], "goals": {"text": "less lines"}},
                 {"medications": [{"name": "Isotretinoin", "dose": "", "stopped_on": "2026-03-10"}]},
                 {"fitzpatrick": {"type": "VI"}}]
    clients = [_client(clinic, f"Vary{i}", h) for i, h in enumerate(histories)]
    ids = []
    with clinic.session() as s:
        for i, c in enumerate(clients):  # a day each: botox at 10, laser at 13 (a rule-less service at 15)
            for service, hour in (("botox", 10), ("laser", 13), ("facial", 15)):
                ids.append(hold_slot(s, clinic.staff_actor(), location_id=clinic.location_id,
                                     service_id=clinic.services[service], start_at=_at(hour, date(2026, 7, 2 + i)),
                                     now=NOW, client_id=c, confirm=True).id)
        s.commit()
    with clinic.session() as s:
        visits = list(s.exec(select(Appointment).where(Appointment.id.in_(ids))).all())
        batched = visit_flags(s, visits)
        rules = service_rules(s, [v.service_id for v in visits])
        expected = {v.id: match(rules.get(v.service_id, []), current_history(s, v.client_id),
                                v.start_at.astimezone(NY).date()) for v in visits}
    assert batched == {k: f for k, f in expected.items() if f}
    assert len(batched) >= 2  # some flagged, some not
