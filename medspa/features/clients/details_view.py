"""The profile's details card as frontend data (no Reflex import: state.py and edit.py share it)."""

from __future__ import annotations

import dataclasses

SOURCE_WORDS = {"desk": "at the desk", "import": "by import", "portal": "in the client portal",
                "online booking": "when booking online", "merge": "from a merged record",
                "sms keyword": "by texting STOP", "unsubscribe link": "by the email's unsubscribe link"}


@dataclasses.dataclass
class DetailsView:
    """What the profile's details card shows; contact False hides address, emergency contact
    and insurance (roles without client.contact.read). Consents as one line each ("Yes ·
    Mar 4, 2030, 9:15 AM · at the desk"); reminders in words ("Text only, 48 hours before")."""

    contact: bool = False
    address: str = ""
    time_zone: str = ""
    emergency: str = ""
    provider: str = ""
    insurance: str = ""
    email_consent: str = ""
    sms_consent: str = ""
    alerts: str = ""
    notes: str = ""
    edit_href: str = ""
    email_wording: str = ""  # the words agreed to, quoted ("" when none is recorded)
    sms_wording: str = ""
    reminders: str = ""


def _consent(line) -> str:
    parts = ["Yes" if line.given else "No"]
    if line.when:
        parts.append(line.when)
    if line.source:
        parts.append(SOURCE_WORDS.get(line.source, line.source))
    return " · ".join(parts)


def _wording(line) -> str:
    wording = getattr(line, "wording", "")
    return f"Agreed to: \u201c{wording}\u201d" if wording else ""


def details_view(d, client_id: int) -> DetailsView:
    """The card of a domain ClientDetails of client `client_id` (None: an empty card)."""
    if d is None:
        return DetailsView(edit_href=f"/clients/{client_id}/edit")
    emergency = " · ".join(x for x in (d.emergency_name, d.emergency_phone) if x)
    insurance = " · member ".join(x for x in (d.insurance_carrier, d.insurance_member_id) if x)
    zone = f"{d.time_zone} (usual location)" if d.zone_is_default else d.time_zone
    return DetailsView(d.contact, d.address, zone, emergency, d.preferred_provider, insurance,
                       _consent(d.email_consent), _consent(d.sms_consent), d.alerts, d.notes,
                       f"/clients/{client_id}/edit", _wording(d.email_consent), _wording(d.sms_consent),
                       reminders=d.reminders)
