"""Errors services raise; features and the API turn them into messages and status codes."""

from __future__ import annotations


class NotFound(Exception):
    """The object does not exist in this clinic (or the actor may not see it)."""


class ValidationFailed(Exception):
    """Bad input. `fields` maps field name -> user-facing message."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields
