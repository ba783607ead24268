"""`medspa check`: is the money invariant true? Exit 0 when every clinic passes, 1 with the
violations listed per clinic otherwise (2: the command itself failed)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from medspa.cli.common import database, fail, say, settings_for, var_dir_option
from medspa.ops import check as ops_check


def check(
    clinic: str = typer.Option("", "--clinic", help="Only this clinic's slug (default: every clinic)."),
    var_dir: Optional[Path] = var_dir_option(),
) -> None:
    """Check the money invariant: every succeeded charge is on the ledger of a live or
    completed visit, or refunded in full; no ledger line without its payment; no live
    occupancy without its appointment. Lists the violations per clinic; exit code 1 if any."""
    settings = settings_for(var_dir)
    with database(settings, create=False) as db:
        clinics = ops_check.money_check(settings, db, clinic=clinic)
    if clinic and not clinics:
        fail(f"no clinic with the slug {clinic!r}")
    broken = 0
    for box in clinics:
        if not box.violations:
            say(f"ok   {box.slug}: the money invariant holds")
            continue
        broken += len(box.violations)
        say(f"FAIL {box.slug}: {len(box.violations)} violation(s)")
        for v in box.violations:
            ids = ", ".join(f"{k} {i}" for k, i in (("payment", v.payment_id), ("appointment", v.appointment_id),
                                                      ("row", v.row_id)) if i is not None)
            say(f"     {v.kind}: {ids}: {v.detail}")
    say(f"{len(clinics)} clinic(s) checked, {broken} violation(s)")
    if broken:
        raise typer.Exit(1)
