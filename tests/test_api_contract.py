"""The JSON API keeps the promises of its OpenAPI document (schemathesis against the real app).

Every operation of /api/v1/openapi.json is called with requests schemathesis generates from
the document itself: against the real app (security headers and body limit included) on the
test database, with a seeded clinic. Kinds of cases per operation: valid requests for the
seeded clinic (ids drawn at random, so mostly 404), the same for any clinic slug (404),
invalid requests (negative mode), requests whose location, service and dates are the
clinic's real ones, and for POST bookings generated bodies aimed at a real slot (so the
routes do their work: 200, 201, 402). Each response must be no server error, have a status the document lists
for that operation, the content type it declares and a body that matches its schema.

A second test runs schemathesis' coverage phase: boundary values and every undeclared method.

Bounded: EXAMPLES cases per kind and operation, derandomized (the same cases every run), no
deadline; about 20 seconds on two cores (~430 + ~290 requests). A one-off run with 200
examples per kind (3404 requests) found nothing more.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from medspa.api import v1
from medspa.api.app import api, with_security_headers
from medspa.clock import FixedClock
from medspa.domain.payments.gateway import TestPaymentGateway
from tests.conftest import utc
from tests.factories import build_clinic

EXAMPLES = 25
pytestmark = pytest.mark.contract
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@dataclass
class Tally:
    """Cases run per operation label, and the statuses they got."""

    cases: dict[str, int]
    statuses: dict[str, dict[int, int]]

    def add(self, label: str, status: int) -> None:
        self.cases[label] = self.cases.get(label, 0) + 1
        seen = self.statuses.setdefault(label, {})
        seen[status] = seen.get(status, 0) + 1


@pytest.fixture(scope="module")
def contract(engine, owner_engine, db_urls):
    """(schema, clinic): the app's OpenAPI loaded by schemathesis, the app bound to the test database."""
    from medspa.api import app as api_app
    from medspa.settings import Settings

    patch = pytest.MonkeyPatch()
    patch.setattr(api_app, "get_settings", lambda: Settings(database_url=db_urls[0]))  # /health asks it
    clock = FixedClock(utc(2026, 7, 1, 12))
    api.dependency_overrides[v1.get_db_engine] = lambda: engine
    api.dependency_overrides[v1.get_clock] = lambda: clock
    api.dependency_overrides[v1.get_gateway] = lambda: TestPaymentGateway(engine, clock.now)
    clinic = build_clinic(engine, owner_engine, providers=2)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", with_security_headers(api))
    yield schema, clinic
    api.dependency_overrides.clear()
    patch.undo()


CARDS = ("4242424242424242", "4000000000000002", "4000002500003155")  # paid, declined, needs 3-D Secure


def _real_booking(clinic):
    """Turn a generated booking body into one for the seeded clinic's real location and service at a
    15-minute step of 15 July 2026; every other case also gets a valid client and a test card (paid,
    declined or 3-D Secure), so the booking action runs to its 201, 402 and 409 answers."""

    def apply(case):
        if not isinstance(case.body, dict):
            return case
        pick = zlib.crc32(repr(case.body).encode())  # not hash(): the same pick every run
        minute = 15 * (pick % 28)
        body = {**case.body, "location_id": clinic.location_id, "service_id": clinic.services["botox"],
                "start": f"2026-07-15T{9 + minute // 60:02d}:{minute % 60:02d}:00-04:00"}
        if pick % 2:
            body["client"] = {"first_name": "Ava", "last_name": "Lee", "email": f"ava{pick % 7}@example.com",
                              "phone": "+12125550142"}
            body["payment"] = {"card_number": CARDS[pick % 3], "exp_month": 12, "exp_year": 2030, "cvc": "123"}
        case.body = body
        return case

    return apply


def _strategies(operation, clinic) -> list:
    """The kinds of cases of one operation (see the module docstring)."""
    names = {p.name for p in operation.iter_parameters()}
    path = {"clinic": clinic.slug} if "clinic" in names else None
    real = {k: v for k, v in (("location_id", clinic.location_id), ("service_id", clinic.services["botox"]),
                              ("start_date", "2026-07-15"), ("end_date", "2026-07-16")) if k in names}
    kinds = [operation.as_strategy(path_parameters=path),
             operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=path)]
    if path:  # any clinic slug: unknown ones are 404
        kinds.append(operation.as_strategy())
    if real:
        kinds.append(operation.as_strategy(path_parameters=path, query=real))
    if operation.method.upper() == "POST":
        kinds.append(operation.as_strategy(path_parameters=path).map(_real_booking(clinic)))
    return kinds


def test_every_operation_keeps_its_documented_contract(contract):
    schema, clinic = contract
    tally = Tally({}, {})
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 7
    for operation in operations:
        for strategy in _strategies(operation, clinic):
            @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(case=strategy)
            def run(case):
                response = case.call()
                tally.add(operation.label, response.status_code)
                case.validate_response(response, checks=CHECKS)

            try:
                run()
            except Unsatisfiable:  # nothing to make invalid (no parameters, or only free-form strings)
                continue
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collected: every operation's failures in one report
                failures.append(f"{operation.label}: {exc}")
    print(f"\nschemathesis: {len(operations)} operations, {sum(tally.cases.values())} cases: {tally.statuses}")
    assert not failures, "\n\n".join(failures)


def test_boundary_values_and_undeclared_methods_keep_the_contract(contract):
    """Schemathesis' coverage phase: each operation's boundary and just-invalid values (ids 1 and
    2**53 - 1, empty and missing fields...) and every method the path does not declare, which
    must be a 405 with an Allow header (OPTIONS included, unless it is a CORS preflight)."""
    schema, clinic = contract
    tally = Tally({}, {})
    failures: list[str] = []
    for operation in [result.ok() for result in schema.get_all_operations()]:
        cases = schema.iter_coverage_cases(operation, generation_modes=list(GenerationMode),
                                           generation_config=schema.config.generation_for(operation=operation))
        for case in cases:
            if "clinic" in (case.path_parameters or {}):
                case.path_parameters = {**case.path_parameters, "clinic": clinic.slug}
            response = case.call()
            tally.add(operation.label, response.status_code)
            try:
                case.validate_response(response, checks=[*CHECKS, unsupported_method])
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collected, as above
                failures.append(f"{operation.label} {response.request.method}: {exc}")
    print(f"\ncoverage phase: {sum(tally.cases.values())} cases: {tally.statuses}")
    assert sum(tally.cases.values()) > 100
    assert not failures, "\n\n".join(failures)
