"""A new clinic from the operator's side: the one-time set-up link `medspa serve` prints on an
empty database (no demo seed), and `medspa clinic create`."""

from __future__ import annotations

from medspa.ops.database import Database, count_organizations
from medspa.settings import Settings


def setup_link_if_empty(settings: Settings, db: Database) -> str | None:
    """On a database without any clinic: a new one-time set-up link
    `{base_url}/setup?token=...` (24 hours; earlier printed links stop working), else None."""
    if count_organizations(settings, db) > 0:
        return None
    from medspa.db import get_owner_engine
    from medspa.domain.practice.actions import do_issue_setup_token

    token = do_issue_setup_token(owner_engine=get_owner_engine(db.settings(settings)))
    return f"{settings.base_url}/setup?token={token}"


def create_clinic(settings: Settings, db: Database, form):  # noqa: ANN001, ANN201 - ClinicForm -> NewClinic
    """`medspa clinic create`: the clinic of `form` (a domain ClinicForm) with its owner's
    invitation; returns the domain NewClinic. Raises ValidationFailed (a message per field)."""
    from medspa.db import get_engine, get_owner_engine
    from medspa.domain.practice.actions import do_create_clinic_as_operator

    url_settings = db.settings(settings)
    engine, owner_engine = get_engine(url_settings), get_owner_engine(url_settings)
    try:
        return do_create_clinic_as_operator(form, owner_engine=owner_engine, base_url=settings.base_url,
                                            engine=engine)
    finally:
        engine.dispose()
        owner_engine.dispose()
