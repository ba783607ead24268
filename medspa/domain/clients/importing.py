"""Importing a client list from the old system (issue 14 part 4): map columns, read every row,
find duplicates, then create or merge in ONE transaction.

Rules, in one place:
- Names are kept exactly as typed (accents, apostrophes, hyphens); only surrounding spaces go.
- Phones are read with the clinic's country (Organization.country) and stored E.164.
- Dates of birth: an ISO date (1990-12-25) is always accepted; otherwise d/m/yyyy or
  m/d/yyyy (separators / . -) in the order the user picks. A value that is a date only in the
  other order (25/12/1990 read month-first) contradicts the chosen order: the file is refused
  with those lines named (`DateOrderConflict`), never read two ways. Two-digit years are
  refused (1/2/34: which century?).
- Duplicates (`likely duplicate`: the same email, the same phone, or the same date of birth
  and a similar name, domain.clients.duplicates) inside the file and against the clinic's
  clients are listed for review, never merged silently: a row matching an existing client by
  email is merged into it (its empty fields filled; nothing overwritten) unless the user says
  skip; a phone shared with a different name (a family's mobile) is created, flagged; other
  likely duplicates are skipped unless the user says create or merge.
- Every row is accounted for: created, merged into #id, or skipped with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from medspa.domain.clients.duplicates import WEAK_REASONS, ClientKey, DuplicateIndex, fold_name
from medspa.domain.clients.import_file import ImportTable
from medspa.domain.clients.service import ClientInput, validate_client_input
from medspa.domain.errors import ValidationFailed

IMPORT_FIELDS: dict[str, str] = {
    "first_name": "First name",
    "last_name": "Last name",
    "full_name": "Full name (first and last in one column)",
    "email": "Email",
    "phone": "Mobile phone",
    "date_of_birth": "Date of birth",
    "email_marketing_consent": "Email marketing consent (yes/no)",
    "sms_marketing_consent": "SMS marketing consent (yes/no)",
}
"""The fields a column can fill, with their labels (the mapping form and the template)."""

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "first_name": ("firstname", "first", "givenname", "forename", "prenom", "vorname", "nombre"),
    "last_name": ("lastname", "last", "surname", "familyname", "nom", "nachname", "apellido", "apellidos"),
    "full_name": ("name", "fullname", "clientname", "patientname", "client", "patient"),
    "email": ("email", "emailaddress", "mail", "courriel"),
    "phone": ("phone", "mobile", "mobilephone", "cell", "cellphone", "telephone", "tel", "phonenumber", "handy"),
    "date_of_birth": ("dateofbirth", "dob", "birthdate", "birthday", "born", "geburtsdatum", "datedenaissance"),
    "email_marketing_consent": ("emailmarketingconsent", "emailconsent", "emailoptin", "acceptsemailmarketing"),
    "sms_marketing_consent": ("smsmarketingconsent", "smsconsent", "smsoptin", "textoptin", "acceptssmsmarketing"),
}
DATE_ORDERS = ("dmy", "mdy")
_YES = {"yes", "y", "true", "1", "x", "oui", "ja", "si", "sí"}
_NO = {"no", "n", "false", "0", "", "non", "nein"}
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_LOCAL = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})$")


def template_csv() -> str:
    """The downloadable template: the header row and one example client (UTF-8, comma)."""
    return ("first_name,last_name,email,phone,date_of_birth,email_marketing_consent,sms_marketing_consent\r\n"
            "Zoë,O'Brien-Núñez,zoe@example.com,(212) 555-0123,1990-12-25,yes,no\r\n")


def guess_mapping(headers: list[str]) -> dict[str, int]:
    """{field: column index} guessed from the header names (case, spaces and punctuation
    ignored; common names in English, French, German and Spanish). Each column maps to one
    field at most; a full-name column is guessed only when first and last are not there."""
    keys = [re.sub(r"[^a-z]", "", fold_name(h)) for h in headers]
    mapping: dict[str, int] = {}
    for name, synonyms in _SYNONYMS.items():
        for i, key in enumerate(keys):
            if key in synonyms and i not in mapping.values():
                mapping[name] = i
                break
    if "first_name" in mapping and "last_name" in mapping:
        mapping.pop("full_name", None)
    return mapping


def check_mapping(mapping: dict[str, int], headers: list[str]) -> dict[str, int]:
    """The mapping if usable: known fields, existing columns, no column twice, and names
    (first and last, or a full name). Raises ValidationFailed({"mapping": reason})."""
    unknown = set(mapping) - set(IMPORT_FIELDS)
    if unknown:
        raise ValidationFailed({"mapping": f"Unknown field {sorted(unknown)[0]}"})
    if any(not 0 <= i < len(headers) for i in mapping.values()):
        raise ValidationFailed({"mapping": "Pick one of the file's columns"})
    if len(set(mapping.values())) != len(mapping):
        raise ValidationFailed({"mapping": "A column can fill one field only"})
    if not ({"first_name", "last_name"} <= set(mapping) or "full_name" in mapping):
        raise ValidationFailed({"mapping": "Pick the columns with the first and last names (or a full name)"})
    return mapping


def split_full_name(value: str) -> tuple[str, str]:
    """(first, last) of a one-column name: "Last, First" (the usual order of client exports)
    at its comma, else "First Middle Last" at the last space; a single word is a last name
    with no first name (the row is then refused for its missing first name)."""
    value = value.strip()
    if "," in value:
        last, _, first = value.partition(",")
        return first.strip(), last.strip()
    first, _, last = value.rpartition(" ")
    return (first, last) if first else ("", last)


def parse_birth_date(value: str, order: str, today: date) -> tuple[date | None, str, bool]:
    """(date, error, contradicts) of a date-of-birth cell: ISO always, else d/m/yyyy or
    m/d/yyyy per `order` ("dmy" | "mdy"). contradicts: the value is a date only in the other
    order. error: "" or a message (not a date, a 2-digit year, in the future, before 1900).
    An empty cell is (None, "", False). today: the clinic's local date (injected)."""
    value = value.strip()
    if not value:
        return None, "", False
    iso = _ISO.match(value)
    local = _LOCAL.match(value)
    if iso:
        y, m, d = (int(g) for g in iso.groups())
    elif local:
        a, b, year = local.groups()
        if len(year) == 2:
            return None, f"{value}: write the year with 4 digits", False
        first, second, y = int(a), int(b), int(year)
        d, m = (first, second) if order == "dmy" else (second, first)
        if _valid(y, m, d) is None and _valid(y, d, m) is not None:
            return None, f"{value} is not a date in the order chosen", True
    else:
        return None, f"{value} is not a date (use 1990-12-25 or the order chosen)", False
    found = _valid(y, m, d)
    if found is None:
        return None, f"{value} is not a date", False
    if found > today:
        return None, f"{value} is in the future", False
    if found.year < 1900:
        return None, f"{value} is before 1900", False
    return found, "", False


def _valid(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _consent(value: str) -> bool | None:
    folded = value.strip().lower()
    return True if folded in _YES else False if folded in _NO else None


@dataclass
class RowPlan:
    """What one data row becomes. line: its line in the file (header = 1). action: "create",
    "merge" (into `target_id`) or "skip"; name: the row's name as written; reason: why skipped or why it is a likely duplicate
    ("" for a plain create); client: the validated input (None when the row is invalid);
    duplicate_of: existing client ids it likely duplicates; same_as_line: an earlier row of the
    file it likely duplicates; errors: {field: message} of an invalid row; choosable: the
    actions the user may pick for it."""

    line: int
    action: str
    client: ClientInput | None = None
    name: str = ""  # the row's name as written (also for an invalid row)
    reason: str = ""
    target_id: int | None = None
    duplicate_of: list[int] = field(default_factory=list)
    same_as_line: int | None = None
    errors: dict[str, str] = field(default_factory=dict)
    choosable: tuple[str, ...] = ()


class DateOrderConflict(ValidationFailed):
    """Dates in the file contradict the chosen order: `lines` (file line numbers) read as
    dates only the other way round. Nothing is imported."""

    def __init__(self, lines: list[int], order: str):
        shown = ", ".join(str(n) for n in lines[:10]) + (" ..." if len(lines) > 10 else "")
        other = "month/day" if order == "dmy" else "day/month"
        super().__init__({"date_order": f"Line(s) {shown} read as dates only in {other} order: check the order "
                                        "(the file is never read two ways)"})
        self.lines = lines


def _row_input(cells: list[str], mapping: dict[str, int], order: str, region: str,
               today: date) -> tuple[ClientInput | None, dict[str, str], bool]:
    """(validated input, {field: message}, date contradicts order) of one row."""
    def cell(name: str) -> str:
        return cells[mapping[name]] if name in mapping else ""

    first, last = cell("first_name"), cell("last_name")
    if "full_name" in mapping and not (first.strip() or last.strip()):
        first, last = split_full_name(cell("full_name"))
    errors: dict[str, str] = {}
    born, date_error, contradicts = parse_birth_date(cell("date_of_birth"), order, today)
    if date_error:
        errors["date_of_birth"] = date_error
    consents = {}
    for name in ("email_marketing_consent", "sms_marketing_consent"):
        consents[name] = _consent(cell(name))
        if consents[name] is None:
            errors[name] = f"{cell(name).strip()!r}: write yes or no"
    try:
        clean = validate_client_input(ClientInput(first, last, cell("email"), cell("phone"), None,
                                                  bool(consents["email_marketing_consent"]),
                                                  bool(consents["sms_marketing_consent"])),
                                      region=region, require_contact=False)
    except ValidationFailed as exc:
        errors = {**exc.fields, **errors}
        clean = None
    if errors:
        return None, errors, contradicts
    clean.date_of_birth = born
    return clean, {}, contradicts


def plan_import(table: ImportTable, mapping: dict[str, int], existing: DuplicateIndex, *, order: str,
                region: str, today: date, decisions: dict[int, str] | None = None) -> list[RowPlan]:
    """Every data row's plan, in file order. existing: the clinic's clients; order: "dmy" |
    "mdy"; region: ISO 3166 alpha-2 for phones; today: the clinic's local date; decisions:
    {line: "create" | "merge" | "skip"} the user chose for listed duplicates (a choice not in a
    row's `choosable` is ignored). Raises ValidationFailed (mapping, order) and
    DateOrderConflict."""
    if order not in DATE_ORDERS:
        raise ValidationFailed({"date_order": "Pick day/month/year or month/day/year"})
    mapping = check_mapping(mapping, table.headers)
    decisions = decisions or {}
    in_file = DuplicateIndex([])
    plans: list[RowPlan] = []
    conflicts: list[int] = []
    for n, cells in enumerate(table.rows):
        line = table.line_of(n)
        clean, errors, contradicts = _row_input(cells, mapping, order, region, today)
        if contradicts:
            conflicts.append(line)
        if clean is None:
            reason = "; ".join(f"{IMPORT_FIELDS.get(k, k.replace('_', ' '))}: {v}" for k, v in errors.items())
            plans.append(RowPlan(line, "skip", reason=reason, errors=errors, name=_raw_name(cells, mapping)))
            continue
        plan = _plan_valid(line, clean, existing, in_file, decisions.get(line))
        plan.name = f"{clean.first_name} {clean.last_name}"
        plans.append(plan)
        in_file.add(ClientKey.of(line, clean))
    if conflicts:
        raise DateOrderConflict(conflicts, order)
    return plans


def _raw_name(cells: list[str], mapping: dict[str, int]) -> str:
    parts = [cells[mapping[f]].strip() for f in ("first_name", "last_name", "full_name") if f in mapping]
    return " ".join(p for p in parts if p)[:160]


def _plan_valid(line: int, clean: ClientInput, existing: DuplicateIndex, in_file: DuplicateIndex,
                decision: str | None) -> RowPlan:
    earlier = in_file.matches(clean)
    found = existing.matches(clean)
    if earlier and earlier[0][1] in WEAK_REASONS and found and found[0][1] not in WEAK_REASONS:
        earlier = []  # a household's shared phone in the file, but this person is on file already
    if earlier:
        first, why = earlier[0]
        plan = RowPlan(line, "create" if why in WEAK_REASONS else "skip", clean,
                       reason=f"Likely the same client as line {first}: {why}", same_as_line=first,
                       choosable=("skip",) if why == "same email" else ("skip", "create"))
    elif not found:
        return RowPlan(line, "create", clean)
    else:
        target, why = found[0]
        by_email = why == "same email"
        plan = RowPlan(line, "merge" if by_email else "create" if why in WEAK_REASONS else "skip", clean,
                       target_id=target, reason=f"Likely {existing.label_of(target)} (client #{target}): {why}",
                       duplicate_of=[t for t, _ in found],
                       choosable=("merge", "skip") if by_email else ("skip", "merge", "create"))
    if decision in plan.choosable:
        plan.action = decision
    return plan
