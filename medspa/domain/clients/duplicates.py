"""Likely duplicate clients, in one place (issue 14 part 3): the same email, the same phone, or
the same date of birth and a similar name. Creating, editing and importing clients flag them;
nothing here merges anything.

A similar name: the folded names (`fold_name`: accents removed, case folded, punctuation and
spaces collapsed) are equal, or first and last are swapped, or the last names are equal and
the first names share their first letter (Kate / Katherine), or the full names are at least
85 % alike (difflib ratio: one typo in a short name).
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from difflib import SequenceMatcher
from typing import Iterable, Protocol

from sqlalchemy import func, or_
from sqlmodel import Session, select

from medspa.domain.clients.models import Client

SIMILAR_RATIO = 0.85
WEAK_REASONS = ("same phone",)
"""A match that names a household as often as a person (a family sharing one mobile): listed,
never acted on by default."""


def fold_name(name: str) -> str:
    """"  Núñez-O'Brien " -> "nunez obrien": accents removed (NFKD, combining marks dropped),
    case folded, apostrophes dropped, other punctuation and runs of spaces as one space."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    plain = plain.replace("'", "").replace("\u2019", "")
    return " ".join("".join(ch if ch.isalnum() else " " for ch in plain).split())


class _Named(Protocol):
    first_name: str
    last_name: str
    email: str | None
    date_of_birth: date | None


@dataclass(frozen=True)
class ClientKey:
    """What duplicate detection compares of one client: `ref` (a client id, or a file line),
    folded first and last names, lower-cased email, E.164 phone and date of birth."""

    ref: int
    first: str
    last: str
    email: str
    phone: str
    born: date | None
    label: str = ""  # the name as written, for people ("Bea Souza")

    @classmethod
    def of(cls, ref: int, client: _Named) -> "ClientKey":
        """The key of a Client row or a validated ClientInput (phone in `phone_e164` or `phone`)."""
        phone = getattr(client, "phone_e164", None) or getattr(client, "phone", "") or ""
        return cls(ref, fold_name(client.first_name), fold_name(client.last_name), (client.email or "").lower(),
                   phone, client.date_of_birth, f"{client.first_name} {client.last_name}".strip())


def similar_names(a: ClientKey, b: ClientKey) -> bool:
    """True when the two keys' names are alike (see the module docstring)."""
    if (a.first, a.last) == (b.first, b.last) or (a.first, a.last) == (b.last, b.first):
        return True
    if a.last and a.last == b.last and a.first[:1] and a.first[:1] == b.first[:1]:
        return True
    return SequenceMatcher(None, f"{a.first} {a.last}", f"{b.first} {b.last}").ratio() >= SIMILAR_RATIO


class DuplicateIndex:
    """Keys indexed by email, phone and date of birth, for `matches` in O(candidates)."""

    def __init__(self, keys: Iterable[ClientKey]):
        self._email: dict[str, list[ClientKey]] = defaultdict(list)
        self._phone: dict[str, list[ClientKey]] = defaultdict(list)
        self._born: dict[date, list[ClientKey]] = defaultdict(list)
        self._labels: dict[int, str] = {}
        for key in keys:
            self.add(key)

    def add(self, key: ClientKey) -> None:
        """Index one more key."""
        self._labels[key.ref] = key.label
        if key.email:
            self._email[key.email].append(key)
        if key.phone:
            self._phone[key.phone].append(key)
        if key.born:
            self._born[key.born].append(key)

    def label_of(self, ref: int) -> str:
        """The name as written of an indexed key ("" when unknown)."""
        return self._labels.get(ref, "")

    def matches(self, client: _Named, *, ignore: int | None = None) -> list[tuple[int, str]]:
        """[(ref, why)] of the indexed keys `client` likely duplicates, strongest reason first
        ("same email", "same phone and a similar name" or just "same phone", "same date of
        birth and a similar name"), each ref once. WEAK_REASONS name a household rather than
        a person.
        ignore: a ref to leave out (the client being edited)."""
        probe = ClientKey.of(-1, client)
        found: dict[int, str] = {}
        for key in self._email.get(probe.email, []) if probe.email else []:
            found.setdefault(key.ref, "same email")
        for key in self._phone.get(probe.phone, []) if probe.phone else []:  # a family may share one
            found.setdefault(key.ref, "same phone and a similar name" if similar_names(probe, key) else "same phone")
        for key in self._born.get(probe.born, []) if probe.born else []:
            if similar_names(probe, key):
                found.setdefault(key.ref, "same date of birth and a similar name")
        return [(ref, why) for ref, why in found.items() if ref != ignore]


def clinic_duplicate_index(session: Session) -> DuplicateIndex:
    """Every client of the session's clinic (row-level security scopes it), indexed. A record
    merged into another (hidden, it may keep its email) is indexed under the live record it
    was merged into, so a match on it leads to that record."""
    rows = session.exec(select(Client.id, Client.first_name, Client.last_name, Client.email, Client.phone_e164,
                               Client.date_of_birth, Client.merged_into_id)).all()
    merged_into = {r.id: r.merged_into_id for r in rows if r.merged_into_id is not None}
    names = {r.id: f"{r.first_name} {r.last_name}" for r in rows}

    def live(client_id: int) -> int:
        seen = set()
        while client_id in merged_into and client_id not in seen:
            seen.add(client_id)
            client_id = merged_into[client_id]
        return client_id

    return DuplicateIndex(ClientKey(live(r.id), fold_name(r.first_name), fold_name(r.last_name),
                                    (r.email or "").lower(), r.phone_e164 or "", r.date_of_birth,
                                    names.get(live(r.id), f"{r.first_name} {r.last_name}"))
                          for r in rows)


MAX_HINTS = 10


def likely_duplicates_of(session: Session, client: Client) -> list[tuple[int, str, str]]:
    """[(client id, why, "First Last")] of the session's clinic's other, unmerged clients that
    `client` likely duplicates (same email, same phone, or same date of birth and a similar
    name), strongest reason first, at most MAX_HINTS. Reads only the candidates (by email,
    phone or date of birth), never the whole clinic."""
    conds = []
    if client.email:
        conds.append(func.lower(Client.email) == client.email.lower())
    if client.phone_e164:
        conds.append(Client.phone_e164 == client.phone_e164)
    if client.date_of_birth:
        conds.append(Client.date_of_birth == client.date_of_birth)
    if not conds:
        return []
    rows = session.exec(select(Client).where(or_(*conds), Client.id != client.id, Client.merged_into_id.is_(None))
                        .order_by(Client.id).limit(200)).all()
    index = DuplicateIndex(ClientKey.of(r.id, r) for r in rows)
    return [(ref, why, index.label_of(ref)) for ref, why in index.matches(client, ignore=client.id)][:MAX_HINTS]
