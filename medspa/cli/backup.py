"""`medspa backup FILE` and `medspa restore FILE` (progress on stderr, the result on stdout)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import typer

from medspa.cli.common import database, fail, say, settings_for, var_dir_option
from medspa.ops import OpsError


def _progress(message: str) -> None:
    say(message, err=True)


def backup(
    file: Path = typer.Argument(..., help="The archive to write (a tar: db.dump, media/, manifest.json).",
                                dir_okay=False),
    var_dir: Optional[Path] = var_dir_option(),
) -> None:
    """Back up the database (pg_dump custom format), the local media folder (or the S3 object
    listing) and a manifest of row counts and checksums into one file."""
    from medspa.ops import backup as ops_backup

    settings = settings_for(var_dir)
    with database(settings, create=False) as db:
        try:
            result = ops_backup.backup(settings, db, file, _progress, now=datetime.now(timezone.utc))
        except OpsError as exc:
            fail(str(exc))
    say(f"Backup {result.path}: {result.tables} tables, {result.rows:,} rows, {result.files} media files, "
        f"{result.bytes:,} bytes ({result.seconds:.1f} s)")
    key = result.manifest["secret_key"]
    say(f"Secret key fingerprint: {key['fingerprint'] or 'none yet'} ({key['source'] or 'no key'}).")
    say(key["note"])


def restore(
    file: Path = typer.Argument(..., help="A file written by `medspa backup`.", exists=True, dir_okay=False),
    force: bool = typer.Option(False, "--force", help="Replace a database / media folder that is not empty "
                                                      "(the old media folder is moved aside, not deleted)."),
    var_dir: Optional[Path] = var_dir_option(),
) -> None:
    """Restore a backup into an empty database and media folder, then check row counts and
    checksums against its manifest (exit 1 when they differ)."""
    from medspa.ops import restore as ops_restore

    settings = settings_for(var_dir)
    with database(settings, create=True) as db:
        try:
            result = ops_restore.restore(settings, db, file, _progress, force=force)
        except OpsError as exc:
            fail(str(exc))
    for warning in result.warnings:
        typer.secho(f"warning: {warning}", fg=typer.colors.YELLOW, err=True)
    if result.problems:
        for problem in result.problems:
            typer.secho(f"differs: {problem}", fg=typer.colors.RED, err=True)
        fail(f"restored, but {len(result.problems)} check(s) differ from the backup's manifest", code=1)
    say(f"Restored and verified: {result.tables} tables, {result.rows:,} rows, {result.files} media files "
        f"identical to the backup ({result.seconds:.1f} s)")
