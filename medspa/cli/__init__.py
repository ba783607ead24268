"""The `medspa` command line (typer).

    medspa serve       database (embedded unless DATABASE_URL) + migrations + demo data, then
                       `reflex run --env prod` on one port as a child process group
    medspa db upgrade  apply migrations
    medspa db stop     stop the embedded PostgreSQL in VAR_DIR/pg
    medspa seed        load the demo clinic (--scale large: the large synthetic clinic)
    medspa clinic create  a new clinic and its owner's invitation link
    medspa demo-code   the current sign-in code of a demo account
    medspa outbox      the newest outbox messages
    medspa worker      a job worker process (several may run; serve runs one in-process)
    medspa check       the money invariant in every clinic (exit 1 with the violations)
    medspa backup FILE one archive: pg_dump of the database, media folder, manifest
    medspa restore FILE  that archive into an empty database and media folder, then verified

Every command that touches the embedded database takes `--var-dir`. Commands only parse
options, call `medspa.ops` (or domain actions) and print; heavy imports (reflex, alembic,
sqlalchemy) stay inside the operations so that `medspa --help` and start-up stay fast.
"""

from __future__ import annotations

import typer

from medspa.cli.backup import backup, restore
from medspa.cli.checks import check
from medspa.cli.clinic import clinic_app
from medspa.cli.database import db_stop, db_upgrade, seed
from medspa.cli.demo import demo_code, outbox
from medspa.cli.launcher import serve
from medspa.cli.worker import worker

app = typer.Typer(
    help="medspa: practice system for medical spas.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database commands.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(clinic_app, name="clinic")

app.command()(serve)
db_app.command("upgrade")(db_upgrade)
db_app.command("stop")(db_stop)
app.command()(seed)
app.command("demo-code")(demo_code)
app.command("outbox")(outbox)
app.command("worker")(worker)
app.command("check")(check)
app.command("backup")(backup)
app.command("restore")(restore)

__all__ = ["app"]
