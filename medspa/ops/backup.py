"""`medspa backup FILE`: one tar archive that `medspa restore` turns back into a working
clinic database and media folder.

Members, in this order:

    db.dump        pg_dump --format=custom of the whole database (schema, data, grants,
                   row-level security policies, triggers), taken in one exported snapshot
    media/<key>    every file of the local media folder (none when S3_BUCKET is set: the
                   bucket keeps its own versions; the manifest lists its objects instead)
    manifest.json  what restore checks: format version, created_at, app version, alembic
                   revision, server and pg_dump major version, row count per table (counted
                   in the dump's snapshot, so they match exactly), sha256 of db.dump and of
                   every media file, the S3 object listing, the roles the dump refers to,
                   and the fingerprint of the secret key (never the key itself)

The manifest goes last because only then are the figures known; restore finds it by name.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlparse

from medspa.ops import OpsError
from medspa.ops import pgtools
from medspa.ops.database import Database
from medspa.settings import Settings

Say = Callable[[str], None]

FORMAT = "medspa-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DUMP = "db.dump"
MEDIA_PREFIX = "media/"
KEY_NOTE = ("The backup does not contain the secret key (SECRET_KEY, else VAR_DIR/secret_key) that encrypts the "
            "staff's two-factor secrets: keep a copy of it apart from the backup (e.g. in a password manager). "
            "Restored without it, every two-factor set-up is lost and each staff member must enrol again.")

# roles the dump names (owners, grantees, policy roles), with what restore needs to recreate them
ROLES_SQL = """
with public_objects as (
  select c.oid, c.relowner as owner, c.relacl as acl from pg_class c
    join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public'
  union all
  select p.oid, p.proowner, p.proacl from pg_proc p
    join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'public'
), named as (
  select o.owner as role from public_objects o
    where not exists (select 1 from pg_depend d where d.objid = o.oid and d.deptype = 'e')
  union select (aclexplode(o.acl)).grantee from public_objects o
    where o.acl is not null and not exists (select 1 from pg_depend d where d.objid = o.oid and d.deptype = 'e')
  union select unnest(polroles) from pg_policy
  union select datdba from pg_database where datname = current_database()
)
select r.rolname, r.rolcanlogin, r.rolcreatedb, r.rolbypassrls
  from pg_roles r join named on named.role = r.oid
 where not r.rolsuper and r.rolname not like 'pg\\_%'
 order by r.rolname
"""


@dataclass(frozen=True)
class BackupResult:
    """What a backup wrote: the archive, its size in bytes, tables, rows, media files, seconds."""

    path: Path
    bytes: int
    tables: int
    rows: int
    files: int
    seconds: float
    manifest: dict[str, Any]


def secret_key_fingerprint(settings: Settings) -> tuple[str | None, str | None]:
    """(fingerprint, where) of the key that encrypts the TOTP secrets: a SHA-256 of the key
    (16 hex digits; it identifies the key, it cannot recover it) and "SECRET_KEY" or
    "VAR_DIR/secret_key"; (None, None) when neither is there. Never creates the key file."""
    secret, where = settings.secret_key, "SECRET_KEY"
    if not secret:
        path = settings.var_dir / "secret_key"
        secret, where = (path.read_text().strip(), "VAR_DIR/secret_key") if path.is_file() else ("", None)
    if not secret:
        return None, None
    return hashlib.sha256(b"medspa-key-id:" + secret.encode()).hexdigest()[:16], where


def table_counts(conn) -> dict[str, int]:
    """Row count of every table in schema public, by name (the connection must bypass RLS)."""
    from psycopg import sql

    names = [r[0] for r in conn.execute(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = 'public' and c.relkind = 'r' order by c.relname").fetchall()]
    return {name: conn.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(name))).fetchone()[0]
            for name in names}


def media_files(root: Path) -> list[Path]:
    """Files under the local media folder, sorted (leftover '.part-' files of a write cut
    short are not media)."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".part-"))


def s3_listing(bucket: str, client=None) -> dict[str, Any]:
    """The bucket's versioning status and every object (key, bytes, etag, last_modified)."""
    if client is None:
        import boto3

        client = boto3.client("s3")
    status = client.get_bucket_versioning(Bucket=bucket).get("Status", "Disabled")
    objects = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            objects.append({"key": obj["Key"], "bytes": obj["Size"], "etag": obj["ETag"].strip('"'),
                            "last_modified": obj["LastModified"].isoformat()})
    return {"bucket": bucket, "versioning": status, "objects": objects}


class _HashingReader:
    """A file object that hashes what tarfile reads from it."""

    def __init__(self, fh):
        self.fh, self.sha = fh, hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        data = self.fh.read(n)
        self.sha.update(data)
        return data


def _add_file(tar: tarfile.TarFile, name: str, path: Path) -> tuple[int, str]:
    """Add `path` as `name` (mode 0600); returns (bytes, sha256) of what went in."""
    info = tar.gettarinfo(str(path), arcname=name)
    info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
    with path.open("rb") as fh:
        reader = _HashingReader(fh)
        tar.addfile(info, reader)
    return info.size, reader.sha.hexdigest()


def _database_facts(conn) -> dict[str, Any]:
    """Alembic revision, server version, roles and two-factor count, read in the snapshot."""
    revision = conn.execute("select version_num from alembic_version").fetchone()
    roles = [{"name": n, "login": lg, "createdb": cd, "bypassrls": b}
             for n, lg, cd, b in conn.execute(ROLES_SQL).fetchall()]
    two_factor = conn.execute("select count(*) from user_account where totp_secret_enc is not null").fetchone()[0]
    return {"alembic_revision": revision[0] if revision else None,
            "server_version": conn.execute("show server_version").fetchone()[0],
            "server_major": pgtools.server_major(conn), "roles": roles, "two_factor_accounts": two_factor}


def _app_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("medspa")
    except PackageNotFoundError:  # pragma: no cover - a checkout without pip install
        return "unknown"


def backup(settings: Settings, db: Database, path: Path, say: Say, *, now: datetime,
           s3_client=None) -> BackupResult:
    """Write the backup archive of `db` (and the media of `settings`) to `path`.

    `now`: the aware UTC instant recorded as created_at. Progress lines go to `say`. The
    archive is written to `path`.part and renamed when complete, so `path` is never half a
    backup. OpsError: no schema, a role that cannot read every clinic, a pg_dump whose major
    version differs from the server's, pg_dump's own failure."""
    import psycopg

    t0 = time.monotonic()
    path = path.resolve()
    if path.is_dir():
        raise OpsError(f"{path} is a folder: give the name of the backup file to write")
    path.parent.mkdir(parents=True, exist_ok=True)
    url = pgtools.maintenance_url(settings, db)
    with psycopg.connect(url, autocommit=True) as conn, tempfile.TemporaryDirectory(
            prefix=".medspa-backup-", dir=path.parent) as tmp:
        pgtools.require_rls_bypass(conn)
        if conn.execute("select to_regclass('public.alembic_version')").fetchone()[0] is None:
            raise OpsError("the database has no tables yet: nothing to back up")
        client = pgtools.client_for(settings, pgtools.server_major(conn))
        # one snapshot for the counts and the dump: the figures match the dump exactly
        conn.execute("begin isolation level repeatable read read only")
        conn.execute("set local row_security = off")  # an error, never silently fewer rows
        snapshot = conn.execute("select pg_export_snapshot()").fetchone()[0]
        say("counting rows...")
        counts = table_counts(conn)
        facts = _database_facts(conn) | {"app_role": urlparse(db.app_url).username}
        dump = Path(tmp) / DUMP
        pgtools.run_dump(client, url, dump, snapshot, say)
        conn.execute("commit")
        manifest = _write_archive(settings, path, dump, counts, facts, client, say, now, s3_client)
    size = path.stat().st_size
    say(f"backup written: {path} ({pgtools.human_bytes(size)})")
    return BackupResult(path, size, len(counts), sum(counts.values()), len(manifest["media"]["files"]),
                        time.monotonic() - t0, manifest)


def _write_archive(settings: Settings, path: Path, dump: Path, counts: dict[str, int], facts: dict[str, Any],
                   client: pgtools.PgClient, say: Say, now: datetime, s3_client) -> dict[str, Any]:
    part = path.with_name(path.name + ".part")
    try:
        with tarfile.open(part, "w", format=tarfile.PAX_FORMAT) as tar:
            dump_bytes, dump_sha = _add_file(tar, DUMP, dump)
            files = []
            root = settings.media_root
            found = [] if settings.s3_bucket else media_files(root)
            for i, file in enumerate(found, 1):
                rel = file.relative_to(root).as_posix()
                size, sha = _add_file(tar, MEDIA_PREFIX + rel, file)
                files.append({"path": rel, "bytes": size, "sha256": sha})
                if i == len(found) or i % 25 == 0:
                    say(f"media {i}/{len(found)}")
            s3 = None
            if settings.s3_bucket:
                say(f"listing bucket {settings.s3_bucket}...")
                s3 = s3_listing(settings.s3_bucket, s3_client)
                if s3["versioning"] != "Enabled":
                    say(f"warning: versioning is not enabled on bucket {settings.s3_bucket}: a deleted or "
                        "overwritten photo cannot be brought back (README, 'Backups')")
            manifest = _manifest(settings, now, counts, facts, client, dump_bytes, dump_sha, files, s3)
            data = json.dumps(manifest, indent=2, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode, info.mtime = len(data), 0o600, int(now.timestamp())
            tar.addfile(info, io.BytesIO(data))
        os.chmod(part, 0o600)  # clinical data: readable by this user only
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return manifest


def _manifest(settings: Settings, now: datetime, counts: dict[str, int], facts: dict[str, Any],
              client: pgtools.PgClient, dump_bytes: int, dump_sha: str, files: list[dict],
              s3: dict | None) -> dict[str, Any]:
    fingerprint, where = secret_key_fingerprint(settings)
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION, "created_at": now.isoformat(),
        "app_version": _app_version(), "alembic_revision": facts["alembic_revision"],
        "server_version": facts["server_version"], "server_major": facts["server_major"],
        "pg_dump_major": client.major,
        "database": {"file": DUMP, "bytes": dump_bytes, "sha256": dump_sha, "tables": counts},
        "roles": facts["roles"], "app_role": facts["app_role"],
        "media": {"storage": "s3" if s3 else "local", "files": files, "s3": s3},
        "secret_key": {"included": False, "fingerprint": fingerprint, "source": where,
                       "two_factor_accounts": facts["two_factor_accounts"], "note": KEY_NOTE},
    }
