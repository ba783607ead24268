"""Operations that are not use cases, for the `medspa` CLI (and the health route): the
embedded PostgreSQL and its URLs, migrations, the demo and large seeds, demo sign-in codes,
the outbox print-out, the database health check, and backup / restore (backup, restore,
pgtools).

Below the CLI and above `medspa.db`: these modules may open engines and run SQL; the CLI
parses options, calls them and prints. Errors meant for the person at the terminal are
`OpsError` with a one-line message.
"""

from __future__ import annotations


class OpsError(Exception):
    """A one-line reason an operation cannot go on (the CLI prints it and exits non-zero)."""
