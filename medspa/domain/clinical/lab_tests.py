"""The clinic's test catalog: patch tests and lab panels a provider can order (issue 17, 3).

Each clinic gets the built-in tests (BUILTIN_TESTS) the first time its catalog is used
(`ensure_builtin_tests`, idempotent: the unique name per clinic and ON CONFLICT DO NOTHING);
owners and managers (settings.write) add tests, change name, category and price, and retire
or bring back a test (active). Retired tests are not offered for new orders; past orders
keep the name and price they were ordered with. Every change audited ("lab_test.*").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Boolean, Column, Integer, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Field, Session, SQLModel, select

from medspa.domain.audit.service import record
from medspa.domain.textrules import refuse_control
from medspa.domain.base import org_fk, pk, tstamp
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.models import Organization

CATEGORIES = {"patch_test": "Patch test", "lab_panel": "Lab panel", "other": "Other"}
MAX_PRICE_CENTS = 10_000_00  # 10,000.00: a typo guard
BUILTIN_TESTS = (
    ("Lidocaine patch test", "patch_test", 0),
    ("Hyaluronic acid patch test", "patch_test", 0),
    ("Complete blood count (CBC)", "lab_panel", 4500),
    ("Comprehensive metabolic panel", "lab_panel", 6000),
    ("Thyroid panel", "lab_panel", 7500),
    ("hCG pregnancy test", "lab_panel", 2500),
)


class LabTest(SQLModel, table=True):
    """One test of the catalog. Unique name per clinic."""

    __tablename__ = "lab_test"
    __table_args__ = (UniqueConstraint("org_id", "name", name="uq_lab_test_name"),)
    id: int | None = pk()
    org_id: int = org_fk()
    name: str = Field(sa_column=Column(String(80), nullable=False))
    category: str = Field(sa_column=Column(String(20), nullable=False))
    price_cents: int = Field(sa_column=Column(Integer, nullable=False))
    active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    builtin: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    created_at: datetime = tstamp(nullable=False)


@dataclass(frozen=True)
class TestInfo:
    """A catalog entry as lists show it."""

    __test__ = False
    id: int
    name: str
    category: str
    category_label: str
    price_cents: int
    active: bool
    currency: str = "USD"


def _info(t: LabTest, currency: str = "USD") -> TestInfo:
    return TestInfo(t.id, t.name, t.category, CATEGORIES.get(t.category, t.category), t.price_cents, t.active,
                    currency)


def clinic_currency(session: Session, org_id: int) -> str:
    """The clinic's currency (ISO code) for prices of tests and orders."""
    org = session.get(Organization, org_id)
    return org.currency if org is not None else "USD"


def ensure_builtin_tests(session: Session, org_id: int, now: datetime) -> None:
    """Add the BUILTIN_TESTS the clinic has not got yet (by name); a no-op once done."""
    if session.exec(select(LabTest.id).where(LabTest.org_id == org_id).limit(1)).first() is not None:
        return
    rows = [{"org_id": org_id, "name": n, "category": c, "price_cents": p, "active": True, "builtin": True,
             "created_at": now} for n, c, p in BUILTIN_TESTS]
    session.execute(insert(LabTest).values(rows).on_conflict_do_nothing(constraint="uq_lab_test_name"))


def list_tests(session: Session, actor: Actor, now: datetime, *, active_only: bool = False) -> list[TestInfo]:
    """The catalog, by category then name. settings.write (the settings tab) or order.write
    (the order form: active tests only). Raises NotFound for anyone else."""
    if not (actor.can("settings.write") or actor.can("order.write")):
        raise NotFound("test")
    ensure_builtin_tests(session, actor.org_id, now)
    query = select(LabTest)
    if active_only or not actor.can("settings.write"):
        query = query.where(LabTest.active.is_(True))
    tests = session.exec(query.order_by(LabTest.category, LabTest.name)).all()
    currency = clinic_currency(session, actor.org_id)
    return [_info(t, currency) for t in tests]


def _clean(name: str, category: str, price_cents: int) -> tuple[str, str, int]:
    errors: dict[str, str] = {}
    name = " ".join(name.split()) if isinstance(name, str) else ""  # not text: as if empty
    if not name:
        errors["name"] = "Enter the test's name."
    elif len(name) > 80:
        errors["name"] = "Keep the name to 80 characters."
    refuse_control(name, "name", errors)
    if not isinstance(category, str) or category not in CATEGORIES:
        errors["category"] = "Choose patch test, lab panel or other."
    if not isinstance(price_cents, int) or isinstance(price_cents, bool) or not 0 <= price_cents <= MAX_PRICE_CENTS:
        errors["price"] = "Enter a price between 0 and 10,000."
    if errors:
        raise ValidationFailed(errors)
    return name, category, price_cents


def _name_taken(session: Session, name: str, but: int | None = None) -> bool:
    rows = session.exec(select(LabTest.id, LabTest.name)).all()
    return any(n.casefold() == name.casefold() and i != but for i, n in rows)


def save_test(session: Session, actor: Actor, test_id: int | None, name: str, category: str, price_cents: int,
              now: datetime) -> TestInfo:
    """Add a test (test_id None) or change one. settings.write. Raises NotFound (also when
    forbidden), ValidationFailed ({"name"}: not text, empty, too long, control characters,
    taken; {"category"}: not one of CATEGORIES; {"price"})."""
    if not actor.can("settings.write"):
        raise NotFound("test")
    ensure_builtin_tests(session, actor.org_id, now)
    name, category, price_cents = _clean(name, category, price_cents)
    if _name_taken(session, name, test_id):
        raise ValidationFailed({"name": "The catalog has a test of this name."})
    if test_id is None:
        test = LabTest(org_id=actor.org_id, name=name, category=category, price_cents=price_cents, created_at=now)
        session.add(test)
        session.flush()
        record(session, actor, "lab_test.create", "lab_test", test.id, at=now, name=name, category=category,
               price_cents=price_cents)
        return _info(test, clinic_currency(session, actor.org_id))
    test = session.get(LabTest, test_id) if isinstance(test_id, int) and test_id > 0 else None
    if test is None or test.org_id != actor.org_id:
        raise NotFound("test")
    before = {"name": test.name, "category": test.category, "price_cents": test.price_cents}
    test.name, test.category, test.price_cents = name, category, price_cents
    session.add(test)
    session.flush()
    record(session, actor, "lab_test.update", "lab_test", test.id, at=now, before=before,
           after={"name": name, "category": category, "price_cents": price_cents})
    return _info(test, clinic_currency(session, actor.org_id))


def set_test_active(session: Session, actor: Actor, test_id: int, active: bool, now: datetime) -> TestInfo:
    """Retire (active=False) or bring back a test. settings.write; audited. Raises NotFound."""
    if not actor.can("settings.write") or not isinstance(test_id, int) or test_id <= 0:
        raise NotFound("test")
    test = session.get(LabTest, test_id)
    if test is None or test.org_id != actor.org_id:
        raise NotFound("test")
    test.active = bool(active)
    session.add(test)
    session.flush()
    record(session, actor, "lab_test.update", "lab_test", test.id, at=now, active=test.active)
    return _info(test, clinic_currency(session, actor.org_id))


__all__ = ["BUILTIN_TESTS", "CATEGORIES", "LabTest", "TestInfo", "ensure_builtin_tests", "list_tests", "save_test",
           "set_test_active"]
