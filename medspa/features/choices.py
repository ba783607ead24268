"""What the staff pages share to fill their selects."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass
class Option:
    """One choice of a select (a location, staff member, service or start time): the value sent
    back to the server and the label shown."""

    value: str = ""
    label: str = ""
