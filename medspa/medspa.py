"""The Reflex app module (rxconfig: app_name="medspa" -> medspa/medspa.py).

Page registry: every UI area lives in `medspa/features/<area>/page.py` and exposes
`register(app)`. To add an area, add ONE import and ONE entry to `_PAGE_MODULES` below.

Nothing here may connect to a database or start a task at import time: prod imports this
module in a supervisor process and then forks the web workers. Per-worker resources
(engines, LISTEN connections) go into lifespan tasks:
`app.register_lifespan_task(...)`, typically from a feature's `register(app)`. Background
jobs are not per worker: they run on the job queue (medspa/jobs, `medspa worker` or the one
in-process worker of `medspa serve`'s parent).
"""

from __future__ import annotations

import reflex as rx

from medspa import live, state_manager
from medspa.api.app import api, database_lifespan, with_security_headers
from medspa.api.cors import PublicApiCors
from medspa.features.home import page as home_page

from medspa.features.booking import page as booking_page
from medspa.features.calendar import page as calendar_page
from medspa.features.auth import page as auth_page
from medspa.features.portal import page as portal_page
from medspa.features.manage import page as manage_page
from medspa.features.audit import page as audit_page
from medspa.features.account import page as account_page
from medspa.features.staff import page as staff_page
from medspa.features.charting import page as charting_page
from medspa.features.dashboard import page as dashboard_page
from medspa.features.today import page as today_page
from medspa.features.waitlist import page as waitlist_page
from medspa.features.outbox import page as outbox_page
from medspa.features.settings import page as settings_page
from medspa.features.setup import page as setup_page
from medspa.features.clients import page as clients_page
from medspa.features.client_import import page as client_import_page
from medspa.features.forms import tablet as forms_tablet_page
from medspa.features.consent import tablet as consent_tablet_page
from medspa.features.lab import page as lab_page
from medspa.features.inventory import page as inventory_page
from medspa.features.recall import page as recall_page
from medspa.features.reviews import page as reviews_page
from medspa.features.campaigns import page as campaigns_page
from medspa.features.texts import page as texts_page

_PAGE_MODULES = (
    home_page,
    booking_page,
    calendar_page,
    auth_page,
    audit_page,
    portal_page,
    manage_page,
    account_page,
    staff_page,
    charting_page,
    reviews_page,
    dashboard_page,
    outbox_page,
    settings_page,
    setup_page,
    clients_page,
    client_import_page,
    today_page,
    waitlist_page,
    forms_tablet_page,
    consent_tablet_page,
    lab_page,
    inventory_page,
    recall_page,
    campaigns_page,
    texts_page,
)

class MedspaApp(rx.App):
    """rx.App whose ASGI app is wrapped in PublicApiCors (medspa/api/cors.py): Reflex puts its
    own same-origin CORS layer outermost, which would refuse a clinic website's preflight to the
    public booking API before any route ran."""

    def __call__(self):
        return PublicApiCors(super().__call__())

    def _setup_state(self) -> None:
        """Reflex's state set-up, with its Redis state manager swapped for one that survives a
        Redis restart (medspa/state_manager.py, reflex-dev/reflex#3505)."""
        super()._setup_state()
        if self._state_manager is not None:
            self._state_manager = state_manager.resilient(self._state_manager)


# api first (Reflex mounts its own app, frontend included, inside it), then the headers around all
app = MedspaApp(api_transformer=[api, with_security_headers])
app.register_lifespan_task(database_lifespan)
app.register_lifespan_task(live.lifespan)  # the per-worker LISTEN loop of live calendars

for _module in _PAGE_MODULES:
    _module.register(app)
