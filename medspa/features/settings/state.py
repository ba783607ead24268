"""State of `/settings` (settings.write: owner and manager), the Services tab.

Every public handler is an entry point: it re-checks the session and the permission on the
server (StaffState._act), validates its arguments and calls one domain action
(catalog/actions.py), which checks settings.write again and audits the change. The form is
text (form.py parses it); a bad field gets its message next to it and nothing is saved.
"""

from __future__ import annotations

import dataclasses

import reflex as rx

from medspa.domain.catalog import actions
from medspa.domain.catalog.actions import ServiceRow, ServiceSettings
from medspa.domain.catalog.models import SERVICE_CATEGORIES
from medspa.domain.errors import ValidationFailed
from medspa.features.auth.state import Acted, StaffState
from medspa.features.settings.checklist import SettingsNavState
from medspa.features.settings.form import (
    FIELD_LIMIT, NOTICE_CHOICES, TEXT_FIELDS, blank_form, currency_symbol, form_of, money, notice_label, parse_form, type_label)

CHECK_FIELDS = "Check the fields marked in red"
GONE = "That service is not there any more"


@dataclasses.dataclass
class ServiceView:
    """One service row: `heading` is its category when it is the first of that category."""

    id: int = 0
    heading: str = ""
    name: str = ""
    description: str = ""
    duration: str = ""
    buffers: str = ""
    price: str = ""
    deposit: str = ""
    needs: str = ""
    providers: str = ""
    online: bool = True
    notice: str = ""
    active: bool = True
    booking: str = "Online"  # the badge: Online | Staff only | Not bookable yet (nobody performs it)
    booking_colour: str = "grass"


@dataclasses.dataclass
class Choice:
    """A select item or a checkbox: value (text) and label."""

    value: str = ""
    label: str = ""


def _view(row: ServiceRow, heading: str, names: dict[int, str], currency: str) -> ServiceView:
    buffers = [f"{row.buffer_before_minutes} min setup"] if row.buffer_before_minutes else []
    buffers += [f"{row.buffer_after_minutes} min cleanup"] if row.buffer_after_minutes else []
    needs = " · ".join(type_label(t) for t in (row.room_type, row.device_type) if t) or "—"
    people = [names.get(i, "former staff") for i in row.provider_ids]
    providers = ", ".join(people) if len(people) <= 2 else f"{people[0]} and {len(people) - 1} more"
    notice = f"{notice_label(row.min_notice_minutes)} notice" if row.min_notice_minutes else "No notice"
    if row.max_advance_days:
        notice += f" · up to {row.max_advance_days} days ahead"
    return ServiceView(row.id, heading, row.name, row.description, f"{row.duration_minutes} min", " · ".join(buffers),
                       money(row.price_cents, currency), money(row.deposit_cents, currency) if row.deposit_cents
                       else "None", needs, providers or "Nobody yet", row.online_bookable, notice, row.active,
                       *booking_badge(row))


def booking_badge(row: ServiceRow) -> tuple[str, str]:
    """(label, colour) of a service's booking badge, its true state: "Not bookable yet" while
    nobody performs it (online or not), else "Online" or "Staff only"."""
    if not row.provider_ids:
        return "Not bookable yet", "gray"
    return ("Online", "grass") if row.online_bookable else ("Staff only", "amber")


class SettingsState(StaffState):
    """What /settings shows: the services (archived ones on request) and the service form."""

    allowed: bool = False
    not_found: bool = False
    show_archived: bool = False
    currency: str = "USD"
    currency_symbol: str = "$"  # the price inputs' prefix
    services: list[ServiceView] = []
    archived_count: int = 0
    room_types: list[Choice] = []
    device_types: list[Choice] = []
    providers: list[Choice] = []
    categories: list[str] = []
    notice_choices: list[Choice] = []
    form_open: bool = False
    editing_id: int = 0  # 0: a new service
    form: dict[str, str] = {}
    online: bool = True
    chosen: list[str] = []  # provider ids (text) ticked in the form
    errors: dict[str, str] = {}
    message: str = ""
    error: str = ""
    saving: bool = False
    _rows: dict[int, ServiceRow] = {}

    def _refused(self, done: Acted):
        """Signed out: the redirect to /login; not allowed: "not found" and no data."""
        self.allowed, self.services, self._rows, self.form_open = False, [], {}, False
        self.not_found = done.redirect is None
        return done.redirect

    def _show(self, data: ServiceSettings, archived_count: int) -> None:
        opts = data.options
        names = dict(opts.providers)
        self.currency, self.currency_symbol = opts.currency, currency_symbol(opts.currency)
        self.room_types = [Choice(t, type_label(t)) for t in opts.room_types]
        self.device_types = [Choice(t, type_label(t)) for t in opts.device_types]
        self.providers = [Choice(str(i), n) for i, n in opts.providers]
        self._rows = {r.id: r for r in data.services}
        views, last = [], None
        for row in data.services:
            views.append(_view(row, row.category if row.category != last else "", names, opts.currency))
            last = row.category
        self.services = views
        self.archived_count = archived_count
        self.categories = sorted({r.category for r in data.services} | set(SERVICE_CATEGORIES))

    async def _reload(self) -> Acted:
        done = await self._act(actions.fetch_service_settings, include_archived=True)
        if done.ok:
            data: ServiceSettings = done.value
            archived = sum(1 for r in data.services if not r.active)
            if not self.show_archived:
                data = ServiceSettings(data.options, [r for r in data.services if r.active])
            self._show(data, archived)
        return done

    @rx.event
    async def load(self):
        self.not_found, self.message, self.error, self.form_open = False, "", "", False
        done = await self._reload()
        if not done.ok:
            return self._refused(done)
        self.allowed = True

    @rx.event
    async def toggle_archived(self, value: bool):
        self.show_archived = value is True
        done = await self._reload()
        if not done.ok:
            return self._refused(done)

    def _open(self, form: dict[str, str], online: bool, chosen: list[str], editing_id: int) -> None:
        minutes = int(form["min_notice_minutes"])
        choices = [Choice(str(m), label) for m, label in NOTICE_CHOICES]
        if all(c.value != str(minutes) for c in choices):
            choices.append(Choice(str(minutes), notice_label(minutes)))
        self.notice_choices = choices
        self.form, self.online, self.chosen, self.editing_id = form, online, chosen, editing_id
        self.errors, self.error, self.message, self.form_open = {}, "", "", True

    @rx.event
    async def new_service(self):
        if not self.allowed:
            return
        self._open(blank_form(), True, [c.value for c in self.providers], 0)

    @rx.event
    async def edit_service(self, service_id: int):
        row = self._rows.get(service_id) if isinstance(service_id, int) else None
        if not self.allowed or row is None:
            return
        self._open(form_of(row), row.online_bookable, [str(i) for i in row.provider_ids], row.id)

    @rx.event
    def close_form(self):
        self.form_open, self.errors = False, {}

    @rx.event
    def set_field(self, name: str, value: str):
        if name in TEXT_FIELDS and isinstance(value, str) and len(value) <= FIELD_LIMIT:
            self.form[name] = value
            self.errors.pop(name, None)

    @rx.event
    def set_online(self, value: bool):
        self.online = value is True

    @rx.event
    def toggle_provider(self, staff_id: str):
        if not isinstance(staff_id, str) or all(c.value != staff_id for c in self.providers):
            return
        self.chosen = [c for c in self.chosen if c != staff_id] if staff_id in self.chosen else \
            [*self.chosen, staff_id]
        self.errors.pop("provider_ids", None)

    @rx.event
    async def save(self):
        if not self.allowed or not self.form_open:
            return
        data, errors = parse_form(self.form, self.online, [int(c) for c in self.chosen if c.isdigit()])
        if data is None:
            self.errors, self.error = errors, CHECK_FIELDS
            return
        self.saving = True
        try:
            if self.editing_id:
                done = await self._act(actions.do_update_service, self.editing_id, data, denied=GONE)
            else:
                done = await self._act(actions.do_create_service, data)
        except ValidationFailed as exc:
            self.errors, self.error = dict(exc.fields), CHECK_FIELDS
            return
        finally:
            self.saving = False
        if done.redirect is not None:
            return self._refused(done)
        if done.error:
            self.error = done.error
            return
        self.form_open, self.errors, self.error = False, {}, ""
        self.message = f"{done.value.name} was {'saved' if self.editing_id else 'added'}"
        await self._reload()
        return SettingsNavState.refresh_steps

    @rx.event
    async def set_active(self, service_id: int, active: bool):
        if not self.allowed or not isinstance(service_id, int) or service_id not in self._rows \
                or not isinstance(active, bool):
            return
        done = await self._act(actions.do_set_service_active, service_id, active, denied=GONE)
        if done.redirect is not None:
            return self._refused(done)
        if done.error:
            self.error, self.message = done.error, ""
            return
        self.error = ""
        self.message = f"{done.value.name} was {'restored' if active else 'archived: it is no longer offered'}"
        await self._reload()
