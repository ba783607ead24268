"""What every command shares: printing, failing with one line, the --var-dir option and the
database a command works on."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

import typer

from medspa.ops import OpsError
from medspa.ops.database import Database, open_database
from medspa.settings import Settings, get_settings

VAR_DIR_HELP = "Folder of the embedded database, media and caches (default: VAR_DIR, else var/ in the project folder)."


def var_dir_option() -> Optional[Path]:
    """The same `--var-dir` on every command that touches the embedded database."""
    return typer.Option(None, "--var-dir", help=VAR_DIR_HELP, file_okay=False)


def say(message: str = "", *, err: bool = False) -> None:
    """Print one line to stdout, or to stderr when `err`."""
    typer.echo(message, err=err)


def fail(message: str, code: int = 2) -> None:
    """Print `medspa: message` (one line, on stderr) and exit with `code`."""
    typer.secho(f"medspa: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def settings_for(var_dir: Optional[Path] = None, **updates: object) -> Settings:
    """The settings, with --var-dir and other command-line overrides applied."""
    if var_dir is not None:
        updates["var_dir"] = var_dir.resolve()
    return get_settings().model_copy(update={k: v for k, v in updates.items() if v is not None})


@contextmanager
def database(settings: Settings, *, create: bool) -> Iterator[Database]:
    """The command's database, stopped afterwards when this command started it. An
    operation's OpsError (and, with create=False, a database that is not there) becomes a
    one-line error and a non-zero exit."""
    db: Database | None = None
    try:
        db = open_database(settings, create=create, say=say)
        yield db
    except OpsError as exc:
        fail(str(exc))
    finally:
        if db is not None:
            db.close(say)
