"""Use cases of documents, the test catalog, orders and results: one transaction each.

Callers: the client profile's documents and orders cards (features/clients/records.py), the
lab worklist /lab (features/lab), the settings' test catalog (features/settings/lab_tests.py)
and the portal's Documents and Results tabs (features/portal/records.py). The services check
the permission (missing and forbidden: NotFound) and write the audit row in the transaction;
reads commit too (every look at a document or result is an audited read). Downloads return
the bytes for rx.download: the audit row is committed before a byte leaves.

Keyword-only extras: `clock` (default: the app clock), `engine` (tests pass theirs).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from medspa.clock import Clock
from medspa.domain.clinical import documents as docs
from medspa.domain.clinical import lab_tests, order_reads, orders
from medspa.domain.clinical.documents import DocumentInfo, OpenedFile
from medspa.domain.clinical.lab_tests import TestInfo
from medspa.domain.clinical.order_reads import OrderView, WorkItem
from medspa.domain.clinical.photos import MediaStore
from medspa.domain.identity.actor import Actor
from medspa.domain.work import atomic, now_of

__all__ = ["do_add_document", "do_collect", "do_order_test", "do_record_result", "do_review_result",
           "do_save_test", "do_set_test_active", "fetch_client_orders", "fetch_document_file", "fetch_documents",
           "fetch_my_results", "fetch_result_file", "fetch_results_to_review", "fetch_tests", "fetch_worklist"]


# ---------------------------------------------------------------------------- documents


def do_add_document(actor: Actor, data: bytes, title: str, kind: str, *, store: MediaStore,
                    clock: Clock | None = None, engine: Engine | None = None) -> DocumentInfo:
    """The portal client uploads a document (`data`: at most documents.MAX_BYTES; PDF, JPEG or
    PNG by content). Raises NotFound, ValidationFailed ({"file"}, {"title"}, {"kind"})."""
    with atomic(actor.org_id, engine=engine) as work:
        return docs.add_document(work.session, actor, data, title, kind, now_of(clock), store)


def fetch_documents(actor: Actor, client_id: int | None = None, *, clock: Clock | None = None,
                    engine: Engine | None = None) -> list[DocumentInfo]:
    """A client's documents (staff: document.read and `client_id`; a portal client: own).
    One audited "document.read". Raises NotFound."""
    with atomic(actor.org_id, engine=engine) as work:
        return docs.list_documents(work.session, actor, now_of(clock), client_id=client_id)


def fetch_document_file(actor: Actor, document_id: int, *, store: MediaStore, clock: Clock | None = None,
                        engine: Engine | None = None) -> OpenedFile:
    """One document's bytes for a download (audited). Raises NotFound."""
    with atomic(actor.org_id, engine=engine) as work:
        return docs.open_document(work.session, actor, document_id, now_of(clock), store)


# ---------------------------------------------------------------------------- catalog


def fetch_tests(actor: Actor, *, active_only: bool = False, clock: Clock | None = None,
                engine: Engine | None = None) -> list[TestInfo]:
    """The test catalog (settings.write: all; order.write: the active tests). Raises NotFound."""
    with atomic(actor.org_id, engine=engine) as work:
        return lab_tests.list_tests(work.session, actor, now_of(clock), active_only=active_only)


def do_save_test(actor: Actor, test_id: int | None, name: str, category: str, price_cents: int, *,
                 clock: Clock | None = None, engine: Engine | None = None) -> TestInfo:
    """Add (test_id None) or change a catalog test (price in cents). settings.write.
    Raises NotFound, ValidationFailed ({"name"}, {"category"}, {"price"})."""
    with atomic(actor.org_id, engine=engine) as work:
        return lab_tests.save_test(work.session, actor, test_id, name, category, price_cents, now_of(clock))


def do_set_test_active(actor: Actor, test_id: int, active: bool, *, clock: Clock | None = None,
                       engine: Engine | None = None) -> TestInfo:
    """Retire or bring back a catalog test. settings.write. Raises NotFound."""
    with atomic(actor.org_id, engine=engine) as work:
        return lab_tests.set_test_active(work.session, actor, test_id, active, now_of(clock))


# ---------------------------------------------------------------------------- orders


def do_order_test(actor: Actor, client_id: int, test_id: int, *, appointment_id: int | None = None,
                  note: str = "", clock: Clock | None = None, engine: Engine | None = None) -> int:
    """Order a catalog test for the client; returns the order id. order.write.
    Raises NotFound, ValidationFailed ({"test"}, {"visit"}, {"note"})."""
    with atomic(actor.org_id, engine=engine) as work:
        return int(orders.place_order(work.session, actor, client_id, test_id, now_of(clock),
                                      appointment_id=appointment_id, note=note).id)


def do_collect(actor: Actor, order_id: int, *, clock: Clock | None = None, engine: Engine | None = None) -> str:
    """ordered -> collected; returns the new status. order.result.write.
    Raises NotFound, ValidationFailed({"status"})."""
    with atomic(actor.org_id, engine=engine) as work:
        return orders.mark_collected(work.session, actor, order_id, now_of(clock)).status


def do_record_result(actor: Actor, order_id: int, values: Any, notes: str, *, file: bytes | None = None,
                     store: MediaStore | None = None, clock: Clock | None = None,
                     engine: Engine | None = None) -> str:
    """collected -> resulted with values (list of dicts of strings), notes and an optional file;
    returns the new status. order.result.write. Raises NotFound, ValidationFailed."""
    with atomic(actor.org_id, engine=engine) as work:
        return orders.record_result(work.session, actor, order_id, values, notes, now_of(clock), file=file,
                                    store=store).status


def do_review_result(actor: Actor, order_id: int, note: str, *, clock: Clock | None = None,
                     engine: Engine | None = None) -> str:
    """resulted -> reviewed with the provider's note (the client sees it); returns the status.
    order.write. Raises NotFound, ValidationFailed ({"status"}, {"note"})."""
    with atomic(actor.org_id, engine=engine) as work:
        return orders.review_result(work.session, actor, order_id, note, now_of(clock)).status


def fetch_worklist(actor: Actor, *, clock: Clock | None = None, engine: Engine | None = None) -> list[WorkItem]:
    """The lab worklist (audited). order.worklist.read. Raises NotFound."""
    with atomic(actor.org_id, engine=engine) as work:
        return order_reads.worklist(work.session, actor, now_of(clock))


def fetch_client_orders(actor: Actor, client_id: int, *, clock: Clock | None = None,
                        engine: Engine | None = None) -> list[OrderView]:
    """A client's orders and results for the profile (audited). result.read. Raises NotFound."""
    with atomic(actor.org_id, engine=engine) as work:
        return order_reads.client_orders(work.session, actor, client_id, now_of(clock))


def fetch_results_to_review(actor: Actor, *, clock: Clock | None = None,
                            engine: Engine | None = None) -> list[OrderView]:
    """Results waiting for a provider's review (audited). result.read. Raises NotFound."""
    with atomic(actor.org_id, engine=engine) as work:
        return order_reads.results_to_review(work.session, actor, now_of(clock))


def fetch_my_results(actor: Actor, *, clock: Clock | None = None, engine: Engine | None = None) -> list[OrderView]:
    """The portal client's reviewed results (audited). Raises NotFound."""
    with atomic(actor.org_id, engine=engine) as work:
        return order_reads.portal_results(work.session, actor, now_of(clock))


def fetch_result_file(actor: Actor, order_id: int, *, store: MediaStore, clock: Clock | None = None,
                      engine: Engine | None = None) -> OpenedFile:
    """An order's result file for a download (audited). Raises NotFound."""
    with atomic(actor.org_id, engine=engine) as work:
        return order_reads.open_result_file(work.session, actor, order_id, now_of(clock), store)
