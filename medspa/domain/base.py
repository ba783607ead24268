"""Shared column helpers for domain models."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Text, any_, bindparam, cast
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field


def utcnow() -> datetime:
    """Default for created_at columns (the DB row time, not a business rule)."""
    return datetime.now(timezone.utc)


def org_fk() -> int:
    """The `org_id` column every tenant table carries (indexed, FK to organization)."""
    return Field(
        sa_column=Column(BigInteger, ForeignKey("organization.id"), nullable=False, index=True)
    )


def fk(target: str, *, nullable: bool = False, index: bool = True, ondelete: str | None = None):
    """A bigint foreign key column to `target` ("table.id")."""
    return Field(
        default=None if nullable else ...,
        sa_column=Column(BigInteger, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index),
    )


def tstamp(*, nullable: bool = True, default_now: bool = False):
    """A timestamptz column (UTC instants)."""
    if default_now:
        return Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable))


def pk() -> int | None:
    """Bigint identity primary key."""
    return Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))


def is_row_id(value: object) -> bool:
    """True for a positive bigint row id (never a bool, a string or a float): the one check of
    ids that arrive from outside before they reach a query."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


def among(column, ids):
    """SQL condition: `column` is one of `ids` (row ids), as `column = ANY(:ids)` with the ids
    bound as ONE bigint array: the batched look-ups of a calendar week pass ~1,000 ids, which
    as an IN list cost a bind parameter each to render, send and parse (issue 20). The array
    travels as its text form ("{1,2,3}") cast to bigint[]: a Python list is dumped element by
    element (SQLAlchemy's ARRAY, then psycopg: ~1 ms per 1,000 ids, four look-ups a week), the
    text in ~0.1 ms. Raises ValueError/TypeError for an id that is not an integer."""
    literal = "{" + ",".join(str(int(i)) for i in sorted(set(ids))) + "}"
    return column == any_(cast(bindparam(None, literal, type_=Text), ARRAY(BigInteger)))
