"""What the "Book a client" dialog offers from a clicked cell (its state: book_dialog.py):
the services of the chosen provider, and the words when no start can be picked. The free
starts themselves come from scheduling.actions.desk.fetch_free_starts."""

from __future__ import annotations

import dataclasses

from medspa.domain.scheduling.actions.desk import BookingOptions
from medspa.features.choices import Option

ANY = "any"


@dataclasses.dataclass
class DeskOffer:
    """The location's bookable services (options, names by id), which of them each provider
    performs (provider id -> service ids, as option values), the day's title and the clicked
    cell's minute (elapsed since the local midnight)."""

    services: list[Option] = dataclasses.field(default_factory=list)
    names: dict[str, str] = dataclasses.field(default_factory=dict)
    performs: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    day_label: str = ""
    wanted: int = 0

    @classmethod
    def of(cls, options: BookingOptions, day_label: str, wanted: int) -> DeskOffer:
        """From fetch_booking_options' answer, the day's title and the clicked minute."""
        return cls([Option(str(v.id), v.label) for v in options.services], {str(v.id): v.name for v in options.services},
                   {str(pid): [str(i) for i in ids] for pid, ids in options.performs}, day_label, wanted)

    def services_of(self, provider: str) -> list[Option]:
        """The services `provider` (an option value) performs; all of them for ANY."""
        if provider == ANY:
            return list(self.services)
        mine = set(self.performs.get(provider, []))
        return [o for o in self.services if o.value in mine]

    def note(self, *, provider: str, provider_name: str, service: str, offered: bool, picked: bool,
             wanted_label: str) -> str:
        """Why no start is picked ("" when one is): the provider performs nothing here, no
        service chosen yet, none free that day, or the clicked time is not free."""
        if not self.services_of(provider):
            return f"{provider_name} performs no service here: choose another provider."
        if not service:
            return "Choose a service to see the free start times."
        name = self.names.get(service, "this service")
        if not offered:
            who = "No provider" if provider == ANY else provider_name
            return f"{who} has no free time for {name} on {self.day_label}."
        if not picked:
            with_whom = "" if provider == ANY else f" with {provider_name}"
            return f"{wanted_label} is not free for {name}{with_whom}: choose a start."
        return ""
