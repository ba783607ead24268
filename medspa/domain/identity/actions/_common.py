"""What the identity actions share: entering a sign-in challenge's clinic, and keeping a
refused sign-in's record."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from medspa.domain.identity.lockout import LoginFailed
from medspa.domain.identity.tokens import enter_clinic, token_hash
from medspa.domain.work import Work


def enter_challenge(work: Work, challenge: str) -> int | None:
    """Scope `work` to the clinic of a sign-in challenge token; its org_id, or None when the
    challenge is unknown (callers answer InvalidCode or False)."""
    return enter_clinic(work.session, "challenge", token_hash(challenge or ""))


@contextmanager
def kept_on_failure(work: Work) -> Iterator[None]:
    """A refused sign-in keeps what it recorded (failure count, lock, audit rows): commit
    before a LoginFailed leaves the unit of work (which would roll it back)."""
    try:
        yield
    except LoginFailed:
        work.commit()
        raise
