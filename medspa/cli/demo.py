"""`medspa demo-code` and `medspa outbox`: read-only look-ups for trying the app on a laptop."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from medspa.cli.common import database, fail, say, settings_for, var_dir_option
from medspa.ops import demo_codes
from medspa.ops import outbox as ops_outbox


def demo_code(
    email: str = typer.Argument(..., help="A demo login, e.g. owner@demo.clinic."),
    var_dir: Optional[Path] = var_dir_option(),
) -> None:
    """Print the current 6-digit sign-in code of a demo account (demo clinic only; the next
    code when the current one has less than 5 seconds left)."""
    from medspa.clock import app_clock

    settings = settings_for(var_dir)
    with database(settings, create=False) as db:
        try:
            code, left = demo_codes.demo_code_for(settings, db, email, now=app_clock().now())
        except ValueError as exc:
            fail(str(exc))
    say(code)
    say(f"(valid for about {left} more seconds; each code signs in once)", err=True)


def outbox(
    limit: int = typer.Option(10, "--limit", help="Messages per clinic, newest first."),
    clinic: str = typer.Option("", "--clinic", help="Only this clinic's slug (default: every clinic)."),
    var_dir: Optional[Path] = var_dir_option(),
) -> None:
    """Print the newest outbox messages with their delivery status (without SMTP_HOST nothing
    is mailed: "not sent: no mail server set up"): portal codes, password-reset links,
    confirmations and receipts."""
    settings = settings_for(var_dir)
    with database(settings, create=False) as db:
        clinics = ops_outbox.outbox_of(settings, db, clinic=clinic, limit=limit)
    if clinic and not clinics:
        fail(f"no clinic with the slug {clinic!r}")
    for box in clinics:
        say(f"== {box.name} ({box.slug}): {len(box.messages)} newest")
        for m in box.messages:
            say(f"-- {m.created_at:%Y-%m-%d %H:%M}Z {m.channel} {m.kind} to {m.to_address}"
                + (f" | {m.subject}" if m.subject else "") + (f" [{m.status}]" if m.status else ""))
            say("   " + m.body.replace("\n", "\n   "))
