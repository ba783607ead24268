"""Contraindications: what a service may not be done with, matched against the client's
medical history (issue 17, section 1).

Each service declares its rules (service_contraindication rows; a new service gets the
built-in defaults of its category, CATEGORY_DEFAULTS, and the owner edits them on the service
form). Rule kinds:

    pregnancy      the client is pregnant
    breastfeeding  the client is breastfeeding
    medication     a medication whose name contains `term`, still taken (stopped_on "") or
                   stopped on or after the visit's local date minus `months` months
                   (isotretinoin, 6: stopped 2026-03-10 flags a visit up to 2026-09-10)
    allergy        an allergy whose agent contains `term` ("lidocaine")
    condition      a condition whose name contains `term`
    fitzpatrick    the client's skin type within `term`, a range "V-VI" (or one type "VI")

Names match case-insensitively, ignoring extra spaces. `visit_flags` is batched (the calendar
and day lists: three queries whatever the number of visits); `booking_flags` checks one
booking. A Flag's `detail` is health information: only history.read roles may see it
(`flag_words`); everyone else gets GENERIC.
"""

from __future__ import annotations

from calendar import monthrange
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from medspa.domain.audit.service import record
from medspa.domain.catalog.models import Service
from medspa.domain.clinical.health_models import ServiceContraindication
from medspa.domain.clinical.medical_history import FITZPATRICK_TYPES, current_histories
from medspa.domain.errors import ValidationFailed
from medspa.domain.identity.actor import Actor

KINDS = ("pregnancy", "breastfeeding", "medication", "allergy", "condition", "fitzpatrick")
KIND_LABELS = {"pregnancy": "Pregnancy", "breastfeeding": "Breastfeeding", "medication": "Medication",
               "allergy": "Allergy", "condition": "Condition", "fitzpatrick": "Skin type"}
GENERIC = "Health flag: a provider must review"
MATCHED_SECTIONS = ("allergies", "medications", "conditions", "fitzpatrick", "pregnancy")
"""The medical history sections `match` reads."""
MAX_RULES = 30

_PREGNANCY = [("pregnancy", "", 0), ("breastfeeding", "", 0)]
_RESURFACING = [("medication", "isotretinoin", 6), ("pregnancy", "", 0)]
CATEGORY_DEFAULTS: dict[str, list[tuple[str, str, int]]] = {
    "Neuromodulators": _PREGNANCY + [("allergy", "albumin", 0), ("allergy", "botulinum toxin", 0),
                                     ("condition", "myasthenia gravis", 0)],
    "Dermal fillers": _PREGNANCY + [("allergy", "lidocaine", 0), ("allergy", "hyaluronic acid", 0)],
    "Laser hair removal": _RESURFACING + [("fitzpatrick", "V-VI", 0)],
    "IPL photofacial": _RESURFACING + [("fitzpatrick", "V-VI", 0)],
    "Chemical peels": _RESURFACING,
    "Microneedling": _RESURFACING,
}
"""The built-in rules per service category: (kind, term, months). Migration 0042 holds a
frozen copy for the services that existed before it."""


@dataclass(frozen=True)
class Flag:
    """One match: code (the rule kind), detail in words for history.read roles ("Pregnant",
    "Allergy: lidocaine (hives)", "Isotretinoin, stopped 2026-03-10 (within 6 months)"),
    generic (GENERIC: what everyone else sees)."""

    code: str
    detail: str
    generic: str = GENERIC


@dataclass(frozen=True)
class Rule:
    """A contraindication as the editor and the matcher see it."""

    kind: str
    term: str = ""
    months: int = 0

    @property
    def label(self) -> str:
        """"Medication: isotretinoin (within 6 months)", "Pregnancy", "Skin type V-VI"."""
        if self.kind == "fitzpatrick":
            return f"Skin type {self.term}"
        if self.kind == "medication":
            within = f" (within {self.months} months)" if self.months else " (while taking)"
            return f"Medication: {self.term}{within}"
        return f"{KIND_LABELS[self.kind]}: {self.term}" if self.term else KIND_LABELS[self.kind]


def _norm(text: Any) -> str:
    return " ".join(str(text or "").casefold().split())


def fitzpatrick_range(term: str) -> tuple[int, int] | None:
    """"V-VI" -> (4, 5) (indexes into FITZPATRICK_TYPES), "VI" -> (5, 5); None when not a range."""
    parts = [p.strip().upper() for p in (term or "").replace("–", "-").split("-")]
    if not 1 <= len(parts) <= 2 or any(p not in FITZPATRICK_TYPES for p in parts):
        return None
    lo, hi = FITZPATRICK_TYPES.index(parts[0]), FITZPATRICK_TYPES.index(parts[-1])
    return (lo, hi) if lo <= hi else None


def validate_rules(rules: list[Rule]) -> list[Rule]:
    """The rules normalised (term trimmed, lower case but for skin types; duplicates dropped).
    Raises ValidationFailed keyed "rules.<i>.kind|term|months" or "rules"."""
    errors: dict[str, str] = {}
    out: list[Rule] = []
    if not isinstance(rules, list) or len(rules) > MAX_RULES:
        raise ValidationFailed({"rules": f"At most {MAX_RULES} contraindications"})
    for i, rule in enumerate(rules):
        kind, term, months = rule.kind, " ".join(str(rule.term or "").split()), rule.months
        if kind not in KINDS:
            errors[f"rules.{i}.kind"] = "Choose what it is"
            continue
        if kind in ("pregnancy", "breastfeeding"):
            term, months = "", 0
        elif kind == "fitzpatrick":
            span = fitzpatrick_range(term)
            if span is None:
                errors[f"rules.{i}.term"] = "A skin type range such as V-VI"
                continue
            term = FITZPATRICK_TYPES[span[0]] if span[0] == span[1] else \
                f"{FITZPATRICK_TYPES[span[0]]}-{FITZPATRICK_TYPES[span[1]]}"
            months = 0
        else:
            term = term.lower()
            if not term or len(term) > 80:
                errors[f"rules.{i}.term"] = "Name it (at most 80 characters)"
                continue
            if kind != "medication":
                months = 0
            elif not isinstance(months, int) or isinstance(months, bool) or not 0 <= months <= 120:
                errors[f"rules.{i}.months"] = "Months from 0 (only while taking) to 120"
                continue
        clean = Rule(kind, term, months)
        if clean not in out:
            out.append(clean)
    if errors:
        raise ValidationFailed(errors)
    return out


def default_rules(category: str) -> list[Rule]:
    """The built-in rules of a service category (none for an unknown one)."""
    return [Rule(*r) for r in CATEGORY_DEFAULTS.get(category, [])]


def service_rules(session: Session, service_ids: list[int]) -> dict[int, list[Rule]]:
    """service id -> its rules, in one query."""
    out: dict[int, list[Rule]] = defaultdict(list)
    ids = sorted({i for i in service_ids if i is not None})
    if ids:
        for service_id, kind, term, months in session.exec(  # columns: a week's ~20 services have ~60 rules
                select(ServiceContraindication.service_id, ServiceContraindication.kind, ServiceContraindication.term,
                       ServiceContraindication.months).where(ServiceContraindication.service_id.in_(ids))
                .order_by(ServiceContraindication.service_id, ServiceContraindication.id)):
            out[service_id].append(Rule(kind, term, months))
    return out


def set_service_rules(session: Session, service: Service, rules: list[Rule]) -> list[Rule]:
    """Replace the service's rules by `rules` (validated first: ValidationFailed changes
    nothing). No permission check: the catalog editor's service checks settings.write."""
    clean = validate_rules(rules)
    for row in session.exec(select(ServiceContraindication).where(ServiceContraindication.service_id == service.id)):
        session.delete(row)
    session.flush()
    for rule in clean:
        session.add(ServiceContraindication(org_id=service.org_id, service_id=service.id, kind=rule.kind,
                                            term=rule.term, months=rule.months))
    session.flush()
    return clean


def apply_default_rules(session: Session, service: Service) -> list[Rule]:
    """Give a service without rules its category's defaults (a service created in settings,
    the demo's menu). A service that has rules keeps them. Returns its rules."""
    have = service_rules(session, [service.id]).get(service.id)
    if have:
        return have
    return set_service_rules(session, service, default_rules(service.category))


def months_before(day: date, months: int) -> date:
    """The same day of the month `months` months earlier (the month's last day when shorter:
    Aug 31 minus 6 months -> Feb 28/29)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def match(rules: list[Rule], history: dict[str, Any], visit_day: date) -> list[Flag]:
    """The flags of one visit: each rule the history matches (see the module docstring);
    `visit_day`: the visit's local date (the medication window counts back from it)."""
    flags: list[Flag] = []
    preg = history.get("pregnancy") or {}
    for rule in rules:
        term = _norm(rule.term)
        if rule.kind == "pregnancy" and preg.get("pregnant"):
            flags.append(Flag("pregnancy", "Pregnant"))
        elif rule.kind == "breastfeeding" and preg.get("breastfeeding"):
            flags.append(Flag("breastfeeding", "Breastfeeding"))
        elif rule.kind == "allergy":
            for row in history.get("allergies") or []:
                if term and term in _norm(row.get("agent")):
                    reaction = f" ({row['reaction']})" if row.get("reaction") else ""
                    flags.append(Flag("allergy", f"Allergy: {row['agent']}{reaction}"))
        elif rule.kind == "condition":
            for row in history.get("conditions") or []:
                if term and term in _norm(row.get("name")):
                    flags.append(Flag("condition", f"Condition: {row['name']}"))
        elif rule.kind == "medication":
            since = months_before(visit_day, rule.months)
            for row in history.get("medications") or []:
                if not term or term not in _norm(row.get("name")):
                    continue
                stopped = row.get("stopped_on") or ""
                if not stopped:
                    flags.append(Flag("medication", f"Medication: {row['name']} (taking)"))
                elif date.fromisoformat(stopped) >= since and rule.months:
                    flags.append(Flag("medication", f"Medication: {row['name']}, stopped {stopped} "
                                                    f"(within {rule.months} months)"))
                elif date.fromisoformat(stopped) >= visit_day:
                    flags.append(Flag("medication", f"Medication: {row['name']} (taking until {stopped})"))
        elif rule.kind == "fitzpatrick":
            span, kind = fitzpatrick_range(rule.term), (history.get("fitzpatrick") or {}).get("type", "")
            if span and kind in FITZPATRICK_TYPES and span[0] <= FITZPATRICK_TYPES.index(kind) <= span[1]:
                flags.append(Flag("fitzpatrick", f"Skin type {kind} (service: {rule.term})"))
    seen, out = set(), []
    for flag in flags:
        if flag not in seen:
            seen.add(flag)
            out.append(flag)
    return out


def booking_flags(session: Session, client_id: int, service_id: int, at: datetime, *,
                  time_zone: str = "UTC") -> list[Flag]:
    """The flags of booking client `client_id` for `service_id` at `at` (aware; its local date
    in `time_zone` is the visit day). No permission check and no audit: callers decide who
    sees the detail (flag_words) and audit what they show."""
    rules = service_rules(session, [service_id]).get(service_id, [])
    if not rules:
        return []
    history = current_histories(session, [client_id])[client_id]
    return match(rules, history, at.astimezone(ZoneInfo(time_zone)).date())


def visit_flags(session: Session, visits: list) -> dict[int, list[Flag]]:
    """appointment id -> its flags (visits without any are left out), batched: `visits` are
    Appointment rows (client_id, service_id, start_at, location_id); three queries in all."""
    from medspa.domain.practice.models import Location

    visits = [v for v in visits if v.client_id is not None]
    if not visits:
        return {}
    rules = service_rules(session, [v.service_id for v in visits])
    visits = [v for v in visits if rules.get(v.service_id)]
    if not visits:
        return {}
    # a client with nothing recorded in the sections match reads has an all-empty history,
    # which matches no rule (test_contraindications): ~700 clients of a week, most with none
    histories = current_histories(session, [v.client_id for v in visits], sections=MATCHED_SECTIONS,
                                  recorded_only=True)
    visits = [v for v in visits if v.client_id in histories]
    if not visits:
        return {}
    zones = dict(session.exec(select(Location.id, Location.time_zone)
                              .where(Location.id.in_(sorted({v.location_id for v in visits})))).all())
    out: dict[int, list[Flag]] = {}
    for v in visits:
        day = v.start_at.astimezone(ZoneInfo(zones.get(v.location_id, "UTC"))).date()
        flags = match(rules[v.service_id], histories[v.client_id], day)
        if flags:
            out[v.id] = flags
    return out


def flag_words(flags: list[Flag], detailed: bool) -> str:
    """One line for a calendar block or a list: the details joined ("Pregnant · Allergy:
    lidocaine") for history.read roles, GENERIC for everyone else; "" without flags."""
    if not flags:
        return ""
    return " · ".join(f.detail for f in flags) if detailed else GENERIC


def flags_json(flags: list[Flag]) -> list[dict[str, str]]:
    """The flags as stored on an override row."""
    return [{"code": f.code, "detail": f.detail} for f in flags]


def audit_flag_reads(session: Session, actor: Actor, flagged: dict[int, int], now: datetime | None,
                     where: str) -> None:
    """One "history.flags.read" row per client whose flag detail a person (`actor` with a
    user id: the live pushes of an open calendar are not new reads) with history.read is
    shown (`flagged`: client id -> how many flags; `where`: "calendar", "day list", "booking",
    "chart"). Nothing for other roles: they see only GENERIC."""
    if not actor.can("history.read") or (actor.user_id is None and actor.role != "client"):
        return
    for client_id, count in sorted(flagged.items()):
        record(session, actor, "history.flags.read", "client", client_id, client_id=client_id, at=now,
               where=where, flags=count)


def shown_flags(flags: list[Flag], actor: Actor) -> list[str]:
    """What `actor` may see of the flags: each detail for history.read, else the generic line once."""
    if not flags:
        return []
    return [f.detail for f in flags] if actor.can("history.read") else [flags[0].generic]


def calendar_flags(session: Session, actor: Actor, visits: list, now: datetime | None, where: str) -> dict[int, str]:
    """appointment id -> its flags in the actor's words (flag_words) for staff with
    calendar.read (the calendar's blocks, the day lists; batched as visit_flags); detail shown
    is audited (audit_flag_reads). {} for anyone else."""
    if actor.role == "client" or not actor.can("calendar.read"):
        return {}
    flags = visit_flags(session, visits)
    detailed = actor.can("history.read")
    if detailed and flags:
        clients: dict[int, int] = defaultdict(int)
        for v in visits:
            if v.id in flags:
                clients[v.client_id] += len(flags[v.id])
        audit_flag_reads(session, actor, dict(clients), now, where)
    return {appt_id: flag_words(found, detailed) for appt_id, found in flags.items()}
