"""Use cases of the client list and profile (/clients, /clients/{id}): one transaction each,
tenant-scoped (row-level security), audited in that same transaction.

- do_list_clients: a page of the list (search, views, paging): client.read; contact details
  (phone, email, date of birth) only with client.contact.read. Audited as "client.list"
  with the view, whether a search ran, and the ids of the clients shown (never the text
  typed: it may be a name or a phone number).
- do_read_client_profile: the profile, audited as "client.read" of that client (a PHI read;
  it shows in the client's "who accessed my record"). Missing, other clinic's and forbidden
  all raise NotFound.
`engine` is for tests (None: the app's engine); `now` defaults to the app clock.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine

from medspa.clock import Clock
from medspa.domain.audit.service import record
from medspa.domain.clients.profile import ClientProfile, client_profile
from medspa.domain.clients.search import PAGE_SIZE, ClientPage, list_clients
from medspa.domain.clients.duplicates import likely_duplicates_of
from medspa.domain.clients.models import Client
from medspa.domain.clients.service import ClientInput, clinic_region, get_client, validate_client_input
from medspa.domain.errors import NotFound, ValidationFailed
from medspa.domain.identity.actor import Actor
from medspa.domain.work import atomic, now_of


def do_list_clients(actor: Actor, *, query: str = "", view: str = "newest", cursor: str = "",
                    limit: int = PAGE_SIZE, clock: Clock | None = None, now: datetime | None = None,
                    engine: Engine | None = None) -> ClientPage:
    """One page of the client list (clients.search.list_clients). Raises PermissionDenied
    without client.read (lab, client, public)."""
    actor.require("client.read")
    at = now_of(clock, now)
    with atomic(actor.org_id, engine=engine) as work:
        page = list_clients(work.session, org_id=actor.org_id, now=at, query=query, view=view, cursor=cursor,
                            limit=max(1, min(limit, 100)), with_contact=actor.can("client.contact.read"))
        record(work.session, actor, "client.list", "client", "", at=at, view=page.view, searched=page.searched,
               page=bool(cursor), results=len(page.rows), client_ids=[r.id for r in page.rows])
        return page


def do_read_client_profile(actor: Actor, client_id: int, *, clock: Clock | None = None, now: datetime | None = None,
                           engine: Engine | None = None) -> ClientProfile:
    """The client's profile as this actor may see it (no chart or photo data without
    chart.read / photo.read). Audited as client.read. Raises NotFound."""
    at = now_of(clock, now)
    with atomic(actor.org_id, engine=engine) as work:
        client = get_client(work.session, actor, client_id)
        return client_profile(work.session, actor, client, now=at)


def fetch_likely_duplicates(actor: Actor, data: ClientInput, *, clock: Clock | None = None,
                            engine: Engine | None = None) -> list[tuple[int, str, str]]:
    """The clinic's clients a new client typed at the desk likely is already ([(id, "First
    Last", why)], clients.duplicates.likely_duplicates_of: same email, same phone, or same
    date of birth and a similar name). [] for input that does not validate (the booking then
    says why). Audited as client.duplicate_check with the ids shown. Raises PermissionDenied
    without client.read."""
    actor.require("client.read")
    at = now_of(clock)
    with atomic(actor.org_id, engine=engine) as work:
        try:
            clean = validate_client_input(data, region=clinic_region(work.session, actor.org_id),
                                          require_contact=False)
        except ValidationFailed:
            return []
        probe = Client(org_id=actor.org_id, first_name=clean.first_name, last_name=clean.last_name,
                       email=clean.email or None, phone_e164=clean.phone or None, date_of_birth=clean.date_of_birth)
        found = likely_duplicates_of(work.session, probe)
        if found:
            record(work.session, actor, "client.duplicate_check", "client", "", at=at,
                   client_ids=[i for i, _, _ in found])
        return [(i, name, why) for i, why, name in found]


IDENTITY_FIELDS = frozenset({"first_name", "last_name", "email", "phone_e164", "date_of_birth"})
"""The fields whose change may make a client look like another (duplicates.likely_duplicates_of)."""


def fetch_duplicates_of_client(actor: Actor, client_id: int, *, clock: Clock | None = None,
                               engine: Engine | None = None) -> list[tuple[int, str, str]]:
    """The clinic's other clients that client `client_id` likely is ([(id, "First Last",
    why)]), e.g. after an edit of their name, email, phone or date of birth. Audited as
    client.duplicate_check when any. Raises PermissionDenied without client.read, NotFound."""
    actor.require("client.read")
    at = now_of(clock)
    with atomic(actor.org_id, engine=engine) as work:
        client = work.session.get(Client, client_id)
        if client is None or client.merged_into_id is not None:
            raise NotFound("client")
        found = likely_duplicates_of(work.session, client)
        if found:
            record(work.session, actor, "client.duplicate_check", "client", client_id, client_id=client_id, at=at,
                   client_ids=[i for i, _, _ in found])
        return [(i, name, why) for i, why, name in found]
