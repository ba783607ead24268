"""Test helper: the visit's client signs (typed) every consent its service requires, so a
chart of that visit can be signed (the consent gate of domain/clinical/service.sign_chart)."""

from __future__ import annotations

from datetime import datetime, timezone

from medspa.domain.clinical.consent_signing import consents_to_sign, sign_consent
from medspa.domain.clinical.photos import MediaStore
from medspa.domain.identity.actor import Actor
from medspa.domain.scheduling.models import Appointment


class MemoryStore:
    """A MediaStore in memory (tests)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.files[key] = bytes(data)

    def get(self, key: str) -> bytes:
        return self.files[key]

    def delete(self, key: str) -> None:
        self.files.pop(key, None)


def sign_required_consents(clinic, appointment_id: int, *, now: datetime | None = None,
                           store: MediaStore | None = None) -> int:
    """The visit's client signs (typed, on a tablet) the visit's missing consents; returns how many."""
    now = now or datetime(2026, 7, 1, 12, tzinfo=timezone.utc)
    store = store or MemoryStore()
    actor = Actor(org_id=clinic.org_id, role="front_desk", label="test desk")
    with clinic.session() as s:
        client_id = s.get(Appointment, appointment_id).client_id
        todo = [c for c in consents_to_sign(s, actor, client_id, now, appointment_id=appointment_id) if c.required]
        for c in todo:
            sign_consent(s, actor, client_id, c.version_id, c.sha256, method="typed", typed_name="Test Client",
                         appointment_id=appointment_id, now=now, store=store)
        s.commit()
    return len(todo)
