"""How the calendar names things: status labels, category colours, resource labels, client names."""

from __future__ import annotations

from medspa.domain.clients.models import Client
from medspa.domain.scheduling.models import AppointmentStatus

STATUS_LABELS = {
    AppointmentStatus.HELD: "Held",
    AppointmentStatus.CONFIRMED: "Confirmed",
    AppointmentStatus.CHECKED_IN: "Checked in",
    AppointmentStatus.COMPLETED: "Completed",
    AppointmentStatus.CANCELLED: "Cancelled",
    AppointmentStatus.NO_SHOW: "No-show",
    AppointmentStatus.EXPIRED: "Expired",
}
# a Radix colour name per service category (the UI turns it into CSS variables)
CATEGORY_COLOURS = {
    "Neuromodulators": "violet",
    "Dermal fillers": "plum",
    "Laser hair removal": "orange",
    "IPL photofacial": "amber",
    "Microneedling": "crimson",
    "Chemical peels": "jade",
    "HydraFacial": "cyan",
    "Body contouring": "indigo",
    "Consultations": "blue",
}
_FALLBACK_COLOURS = ("teal", "iris", "grass", "brown", "sky", "pink")


# resource types with a fixed label; other types are title-cased (see resource_type_label)
RESOURCE_TYPE_LABELS = {
    "ipl_bbl": "IPL / BBL",
    "treatment_room": "Treatment room",
}
RESOURCE_KIND_LABELS = {"room": "Room", "device": "Device"}
_ACRONYMS = frozenset({"ipl", "bbl", "rf", "led", "hifu", "co2"})


def resource_type_name(resource_type: str | None) -> str:
    """A resource type as the settings name it, specific and readable: "ipl_bbl" -> "IPL BBL",
    "laser_alexandrite" -> "Laser alexandrite", "treatment_room" -> "Treatment room"."""
    words = [w for w in (resource_type or "").strip().lower().replace("-", "_").split("_") if w]
    named = [w.upper() if w in _ACRONYMS else w for w in words]
    return " ".join(named)[:1].upper() + " ".join(named)[1:] if named else ""


def resource_type_label(resource_type: str) -> str:
    """A human label of a resource type: ipl_bbl -> "IPL / BBL", laser_gentlemax -> "Laser",
    treatment_room -> "Treatment room", rf_microneedling -> "RF Microneedling"."""
    key = (resource_type or "").strip().lower()
    if not key:
        return ""
    if key in RESOURCE_TYPE_LABELS:
        return RESOURCE_TYPE_LABELS[key]
    if key == "laser" or key.startswith("laser_"):
        return "Laser"
    words = [w for w in key.replace("-", "_").split("_") if w]
    return " ".join(w.upper() if w in _ACRONYMS else w.capitalize() for w in words)


def resource_subtitle(kind: str, name: str, resource_type: str) -> str:
    """The column subtitle of a room or device: "Room · Treatment room", "Device · Laser"; just
    the kind when the type label would only repeat the name ("Facial Room" of type facial_room)."""
    kind_label = RESOURCE_KIND_LABELS.get(kind, kind.replace("_", " ").capitalize())
    type_label = resource_type_label(resource_type)
    if type_label.lower() in ("", (name or "").strip().lower(), kind_label.lower()):
        return kind_label
    return f"{kind_label} · {type_label}"


def category_colour(category: str) -> str:
    """The palette colour of a service category (stable for unknown categories too)."""
    if category in CATEGORY_COLOURS:
        return CATEGORY_COLOURS[category]
    return _FALLBACK_COLOURS[sum(category.encode()) % len(_FALLBACK_COLOURS)]


HELD_ONLINE = "Held online"
WAITING_FOR_CARD = "Waiting for card"
"""A held visit whose booking waits for its card on file to be saved (issue 16)."""


def client_name(client: Client | None) -> str:
    """"First Last" of the client, or "Walk-in" for an appointment without one."""
    if client is None:
        return "Walk-in"
    return f"{client.first_name} {client.last_name}".strip()


def visit_who(status: str, source: str, client: Client | None) -> str:
    """Who an appointment is for, as the staff calendar and its panel name it: "Held online"
    while a client on the booking page still holds the time (status held, source online),
    whether or not their details are in yet; else client_name ("First Last" or "Walk-in")."""
    if status == AppointmentStatus.HELD and source == "online":
        return HELD_ONLINE
    return client_name(client)
