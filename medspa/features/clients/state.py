"""States of `/clients` (the client list: search as you type, views, paging) and
`/clients/[client_id]` (the read-only profile). Thin: every handler re-checks the session
through StaffState._act and calls one domain action (clients/actions.py), which checks
client.read and writes the audit row. Roles without client.read (lab) get "not found"."""

from __future__ import annotations

import dataclasses

import reflex as rx

from medspa.domain.clients.actions import do_list_clients, do_read_client_profile
from medspa.domain.clients.profile import ClientProfile
from medspa.domain.clients.search import MAX_QUERY, VIEWS, ClientPage
from medspa.features.auth.state import StaffState
from medspa.features.clients.details_view import DetailsView, details_view
from medspa.web.inputs import parse_id

STATUS_LABELS = {"held": "Held", "confirmed": "Confirmed", "checked_in": "Checked in", "completed": "Completed",
                 "cancelled": "Cancelled", "no_show": "No-show", "expired": "Expired"}
STATUS_COLORS = {"held": "amber", "confirmed": "teal", "checked_in": "blue", "completed": "gray",
                 "cancelled": "red", "no_show": "orange", "expired": "gray"}


@dataclasses.dataclass
class ClientRowView:
    """One line of the list (contact fields "" for roles without client.contact.read)."""

    id: int = 0
    name: str = ""
    phone: str = ""
    email: str = ""
    date_of_birth: str = ""
    added: str = ""
    visit: str = ""
    href: str = ""


class ClientsState(StaffState):
    """What /clients shows: the search text, the view ("newest" or "today"), one page of rows."""

    allowed: bool = False
    not_found: bool = False
    query: str = ""
    view: str = "newest"
    rows: list[ClientRowView] = []
    page: int = 1
    has_next: bool = False
    searched: bool = False
    loading: bool = False
    _cursors: list[str] = []  # the cursor of each page shown so far ("" for the first)
    _next: str = ""

    def _show(self, page: ClientPage) -> None:
        self.rows = [ClientRowView(r.id, r.name, r.phone, r.email, r.date_of_birth, r.added, r.visit,
                                   f"/clients/{r.id}") for r in page.rows]
        self._next, self.has_next, self.searched = page.next_cursor, bool(page.next_cursor), page.searched

    async def _fetch(self, cursor: str):
        done = await self._act(do_list_clients, query=self.query, view=self.view, cursor=cursor)
        if done.redirect is not None:
            return done.redirect
        if done.error:
            self.allowed, self.not_found, self.rows = False, True, []
            return None
        self.allowed, self.not_found = True, False
        self._show(done.value)
        return None

    async def _first_page(self):
        self.page, self._cursors = 1, [""]
        return await self._fetch("")

    @rx.event
    async def load(self):
        """on_load: the newest clients (or ?view=today)."""
        view = (self.router.url.query_parameters or {}).get("view", "newest")
        self.view = view if view in VIEWS else "newest"
        self.query = ""
        return await self._first_page()

    @rx.event
    async def search(self, query: str):
        """The search box (debounced): searched from two characters, else the whole view."""
        self.query = query[:MAX_QUERY] if isinstance(query, str) else ""
        return await self._first_page()

    @rx.event
    async def set_view(self, view: str | list[str]):
        """The view tabs: "newest" or "today"."""
        if not isinstance(view, str) or view not in VIEWS:
            return
        self.view = view
        return await self._first_page()

    @rx.event
    async def next_page(self):
        """The page after this one (keyset: the cursor the last page returned)."""
        if not self._next:
            return
        self._cursors = [*self._cursors, self._next]
        self.page = len(self._cursors)
        return await self._fetch(self._next)

    @rx.event
    async def previous_page(self):
        """The page before this one."""
        if len(self._cursors) <= 1:
            return
        self._cursors = self._cursors[:-1]
        self.page = len(self._cursors)
        return await self._fetch(self._cursors[-1])


@dataclasses.dataclass
class VisitView:
    """A visit on the profile (chart and photos are empty for roles that may not read them)."""

    id: int = 0
    code: str = ""
    when: str = ""
    status: str = ""
    status_label: str = ""
    status_color: str = "gray"
    service: str = ""
    provider: str = ""
    price: str = ""
    location: str = ""
    chart: str = ""
    photos: int = 0
    chart_href: str = ""


@dataclasses.dataclass
class DuplicateView:
    """A likely duplicate of the profile's client: id, name, why, its profile link."""

    id: int = 0
    name: str = ""
    why: str = ""
    href: str = ""


@dataclasses.dataclass
class MergeView:
    """A merge the profile names: its id, the other client (name, link), until when it can be
    undone ("Jul 31, 2026") and whether it still can be."""

    merge_id: int = 0
    name: str = ""
    href: str = ""
    until: str = ""
    undoable: bool = False


def _merge_view(note) -> MergeView:
    return MergeView(note.merge_id, note.other_name, f"/clients/{note.other_id}",
                     note.undo_until.strftime("%b %-d, %Y"), note.undoable)


@dataclasses.dataclass
class LedgerView:
    """A ledger line: date, kind, amount."""

    when: str = ""
    kind: str = ""
    amount: str = ""


@dataclasses.dataclass
class FeeView:
    """A late-cancel / no-show fee on the profile: date, visit code, the fee in words, unpaid."""

    when: str = ""
    code: str = ""
    line: str = ""
    needs_action: bool = False


def client_id_from_path(path: str) -> int:
    """/clients/123 -> 123; anything else -> 0."""
    parts = [p for p in (path or "").split("/") if p]
    if len(parts) == 2 and parts[0] == "clients":
        return parse_id(parts[1]) or 0
    return 0


def _visits(lines) -> list[VisitView]:
    return [VisitView(v.id, v.code, v.when, v.status, STATUS_LABELS.get(v.status, v.status),
                      STATUS_COLORS.get(v.status, "gray"), v.service, v.provider, v.price, v.location, v.chart,
                      v.photos, f"/chart/{v.id}") for v in lines]


class ClientProfileState(StaffState):
    """What /clients/<id> shows. status: loading, ready or not_found."""

    status: str = "loading"
    name: str = ""
    phone: str = ""
    email: str = ""
    date_of_birth: str = ""
    added: str = ""
    net_paid: str = ""
    upcoming: list[VisitView] = []
    past: list[VisitView] = []
    cancelled: list[VisitView] = []  # cancelled, time still ahead (finding 13)
    ledger: list[LedgerView] = []
    fees: list[FeeView] = []
    clinical: bool = False
    photos: bool = False
    duplicates: list[DuplicateView] = []
    merged_into: list[MergeView] = []  # [] or the one merge that hid this record
    merges: list[MergeView] = []
    details: DetailsView = DetailsView()
    card_on_file: str = ""  # "Visa ••4242 · expires 04/27" (issue 16)
    _client_id: int = 0

    def _forget(self, status: str) -> None:
        self.status = status
        self.name = self.phone = self.email = self.date_of_birth = self.added = self.net_paid = ""
        self.upcoming, self.past, self.ledger, self.clinical, self.photos = [], [], [], False, False
        self.fees, self.cancelled = [], []
        self.duplicates, self.merged_into, self.merges, self._client_id = [], [], [], 0
        self.details, self.card_on_file = DetailsView(), ""

    def _show(self, p: ClientProfile) -> None:
        self.status = "ready"
        self.name, self.phone, self.email, self.date_of_birth, self.added = (p.name, p.phone, p.email,
                                                                             p.date_of_birth, p.added)
        self.net_paid, self.clinical, self.photos = p.net_paid, p.clinical, p.photos
        self.card_on_file = p.card_on_file
        self.upcoming, self.past, self.cancelled = _visits(p.upcoming), _visits(p.past), _visits(p.cancelled)
        self.ledger = [LedgerView(e.when, e.kind, e.amount) for e in p.ledger]
        self.fees = [FeeView(f.when, f.code, f.line, f.needs_action) for f in p.fees]
        self._client_id = p.id
        self.duplicates = [DuplicateView(i, name, why, f"/clients/{i}") for i, why, name in p.duplicates]
        self.merged_into = [_merge_view(p.merged_into)] if p.merged_into else []
        self.merges = [_merge_view(m) for m in p.merges]
        self.details = details_view(p.details, p.id)

    @rx.event
    async def load(self):
        """on_load: the profile (each load is one audited client.read)."""
        self._forget("loading")
        client_id = client_id_from_path(self.router.url.path)
        if not client_id:
            if await self._staff_actor() is None:
                return self._to_login()
            self._forget("not_found")
            return
        done = await self._act(do_read_client_profile, client_id)
        if done.redirect is not None:
            return done.redirect
        if done.error:
            self._forget("not_found")
            return
        self._show(done.value)
