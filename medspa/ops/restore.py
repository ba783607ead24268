"""`medspa restore FILE`: a backup archive (medspa.ops.backup) back into an empty database
and media folder, then checked against the archive's manifest.

Order: read and check the manifest; refuse a non-empty database or media folder unless
`force` (then the embedded database is recreated, an external one loses its schema public,
and the media folder is moved aside, never deleted); make sure the roles the dump names
exist (created when the connected role may, else a refusal naming them, before anything is
changed); pg_restore in one transaction, ownership, grants, row-level security and
triggers included; the media files; then count every table and compare with the manifest.

Why roles first and ownership kept (not --no-owner plus re-running the grants): the dump
names the roles in its grants and in policies such as `owner_lookup ... to medspa_owner`,
which --no-owner would not remove, and the grants are spread over twenty migrations. With
the roles in place the dump restores the exact privileges the source had.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any, Callable
from urllib.parse import urlparse

from medspa.ops import OpsError, pgtools
from medspa.ops.backup import DUMP, FORMAT, FORMAT_VERSION, MANIFEST, MEDIA_PREFIX, secret_key_fingerprint, \
    table_counts
from medspa.ops.database import Database
from medspa.settings import Settings

Say = Callable[[str], None]

# pg_restore leaves these out: a comment on an extension needs the extension's owner (the
# server's superuser), and the extension itself is created before (embedded) or kept
SKIP_ENTRIES = ("COMMENT - EXTENSION",)

RELATIONS_SQL = """
select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'S')
   and not exists (select 1 from pg_depend d where d.objid = c.oid and d.deptype = 'e')
"""


@dataclass(frozen=True)
class RestoreResult:
    """What a restore did: tables, rows, media files restored, seconds; `problems` are the
    differences from the manifest (none: an identical copy); `warnings` need a person."""

    tables: int
    rows: int
    files: int
    seconds: float
    problems: tuple[str, ...]
    warnings: tuple[str, ...]


def read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    """The archive's manifest; OpsError when it is not a medspa backup or too new."""
    try:
        member = tar.getmember(MANIFEST)
        manifest = json.loads(tar.extractfile(member).read())
    except (KeyError, AttributeError, ValueError) as exc:
        raise OpsError(f"not a medspa backup (no readable {MANIFEST})") from exc
    if manifest.get("format") != FORMAT:
        raise OpsError("not a medspa backup (unknown format)")
    if manifest.get("format_version", 0) > FORMAT_VERSION:
        raise OpsError(f"backup format {manifest['format_version']} is newer than this medspa reads "
                       f"({FORMAT_VERSION}): upgrade medspa first")
    return manifest


def _check_target(settings: Settings, db: Database, manifest: dict[str, Any], major: int) -> None:
    if manifest["pg_dump_major"] > major:
        raise OpsError(f"the backup was made by PostgreSQL {manifest['pg_dump_major']}'s pg_dump; this server "
                       f"is PostgreSQL {major}: restore into a server of version {manifest['pg_dump_major']} or newer")
    s3 = manifest["media"]["storage"] == "s3"
    if s3 and not settings.s3_bucket:
        raise OpsError("the backup's media are in S3 bucket "
                       f"{manifest['media']['s3']['bucket']}: set S3_BUCKET before restoring")
    if not s3 and settings.s3_bucket and manifest["media"]["files"]:
        raise OpsError("the backup holds a local media folder but S3_BUCKET is set: unset it to restore the "
                       "folder (copy the files to the bucket afterwards)")
    app_role, wanted = urlparse(db.app_url).username, manifest.get("app_role")
    if wanted and app_role and app_role != wanted:
        raise OpsError(f"the backup grants the app's rights to role {wanted}, but DATABASE_URL connects as "
                       f"{app_role}: connect as {wanted} (or restore where the app role is {wanted})")


def _missing_roles(conn, roles: list[dict]) -> list[dict]:
    """The manifest's roles that this server lacks; OpsError when the connected role cannot create them."""
    have = {r[0] for r in conn.execute("select rolname from pg_roles").fetchall()}
    missing = [r for r in roles if r["name"] not in have]
    if not missing:
        return []
    can = conn.execute("select rolsuper or rolcreaterole from pg_roles where rolname = current_user").fetchone()[0]
    if not can:
        names = ", ".join(r["name"] for r in missing)
        raise OpsError(f"roles missing on this server: {names}; create them first (CREATE ROLE name LOGIN "
                       "PASSWORD '...' NOSUPERUSER NOBYPASSRLS), as for a new installation")
    return missing


def _create_roles(conn, missing: list[dict], say: Say) -> None:
    from psycopg import sql

    for role in missing:
        attrs = ["LOGIN" if role["login"] else "NOLOGIN", "NOSUPERUSER",
                 "CREATEDB" if role["createdb"] else "NOCREATEDB", "BYPASSRLS" if role["bypassrls"] else "NOBYPASSRLS"]
        conn.execute(sql.SQL("create role {} " + " ".join(attrs)).format(sql.Identifier(role["name"])))
        say(f"created role {role['name']} ({' '.join(attrs)}; no password: set one with ALTER ROLE if it "
            "signs in over the network)")


def _empty_database(settings: Settings, db: Database, url: str, say: Say) -> None:
    """--force: the embedded database is dropped and created again; an external one loses its
    schema public with everything in it (the connected role must own it)."""
    from psycopg import sql

    name = pgtools.database_name(db.owner_url)
    if settings.uses_embedded_db:
        from medspa.embedded_db import bootstrap_database, start_server

        say(f"--force: dropping and recreating database {name}")
        bootstrap_database(start_server(db.var_dir), name, recreate=True)
        return
    import psycopg

    say(f"--force: dropping schema public of database {name}")
    with psycopg.connect(url, autocommit=True) as conn:
        owner = conn.execute("select pg_get_userbyid(datdba) from pg_database "
                             "where datname = current_database()").fetchone()[0]
        conn.execute("drop schema public cascade")
        conn.execute(sql.SQL("create schema public authorization {}").format(sql.Identifier(owner)))


def _media_busy(settings: Settings) -> bool:
    root = settings.media_root
    return not settings.s3_bucket and root.is_dir() and any(p.is_file() for p in root.rglob("*"))


def restore(settings: Settings, db: Database, path: Path, say: Say, *, force: bool = False,
            s3_client=None, now: datetime | None = None) -> RestoreResult:
    """Restore the archive at `path` into `db` and the media folder of `settings`.

    `force`: replace a database or media folder that is not empty (see the module
    docstring); `now` (aware UTC, default the real time) names the media folder moved aside. Returns the verification; OpsError before anything is changed when the
    archive, the server version, the roles or a non-empty target forbid it, or when
    pg_restore fails (its single transaction leaves the database as it was)."""
    import psycopg

    t0 = time.monotonic()
    path = path.resolve()
    if not path.is_file():
        raise OpsError(f"no backup file at {path}")
    url = pgtools.maintenance_url(settings, db)
    with tarfile.open(path, "r:") as tar:
        manifest = read_manifest(tar)
        with psycopg.connect(url, autocommit=True) as conn:
            pgtools.require_rls_bypass(conn)
            major = pgtools.server_major(conn)
            _check_target(settings, db, manifest, major)
            client = pgtools.client_for(settings, major)
            busy_db = conn.execute(RELATIONS_SQL).fetchone()[0] > 0
            busy_media = _media_busy(settings)
            if (busy_db or busy_media) and not force:
                what = " and ".join(w for w, busy in (("database", busy_db), (f"media folder {settings.media_root}",
                                                                              busy_media)) if busy)
                raise OpsError(f"the target {what} is not empty: restore into an empty one, or use --force "
                               "to replace it")
            missing = _missing_roles(conn, manifest["roles"])
        if busy_db:
            _empty_database(settings, db, url, say)
        if missing:
            with psycopg.connect(url, autocommit=True) as conn:
                _create_roles(conn, missing, say)
        if busy_media:
            aside = settings.media_root.with_name(
                f"{settings.media_root.name}.before-restore-{now or datetime.now(timezone.utc):%Y%m%d%H%M%S}")
            settings.media_root.rename(aside)
            say(f"--force: the media folder that was there is now {aside}")
        _restore_database(tar, manifest, client, url, settings, say)
        problems = _restore_media(tar, manifest, settings.media_root, say)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("set row_security = off")
        counts = table_counts(conn)
    problems += _compare_counts(manifest["database"]["tables"], counts)
    if manifest["media"]["storage"] == "s3":
        problems += _check_s3(settings.s3_bucket, manifest["media"]["s3"], s3_client, say)
    return RestoreResult(len(counts), sum(counts.values()), len(manifest["media"]["files"]),
                         time.monotonic() - t0, tuple(problems), tuple(_key_warnings(settings, manifest)))


def _restore_database(tar: tarfile.TarFile, manifest: dict[str, Any], client: pgtools.PgClient, url: str,
                      settings: Settings, say: Say) -> None:
    expected = manifest["database"]
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".medspa-restore-", dir=settings.var_dir) as tmp:
        dump = Path(tmp) / DUMP
        say(f"reading {DUMP} ({pgtools.human_bytes(expected['bytes'])})...")
        sha = _copy_member(tar, DUMP, dump)
        if sha != expected["sha256"]:
            raise OpsError(f"{DUMP} in the archive is damaged (sha256 differs from the manifest): nothing restored")
        pgtools.run_restore(client, url, dump, SKIP_ENTRIES, len(expected["tables"]), say)


def _copy_member(tar: tarfile.TarFile, name: str, target: Path) -> str:
    """Copy archive member `name` to `target` (mode 0600, written whole or not at all); its sha256."""
    try:
        source = tar.extractfile(tar.getmember(name))
    except KeyError as exc:
        raise OpsError(f"the archive has no {name}") from exc
    if source is None:
        raise OpsError(f"{name} in the archive is not a file")
    sha = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(1 << 20):
                sha.update(chunk)
                out.write(chunk)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return sha.hexdigest()


def _media_target(root: Path, rel: str) -> Path:
    """Where media file `rel` goes under `root`; OpsError for a name that would leave it."""
    pure = PurePosixPath(rel)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise OpsError(f"unsafe media path in the archive: {rel!r}")
    return root.joinpath(*pure.parts)


def _private_dirs(root: Path, folder: Path) -> None:
    for d in reversed([folder, *folder.parents]):
        if (d == root or d.is_relative_to(root)) and not d.is_dir():
            d.mkdir()
            d.chmod(0o700)


def _restore_media(tar: tarfile.TarFile, manifest: dict[str, Any], root: Path, say: Say) -> list[str]:
    """Write every media file of the manifest under `root` (folders 0700, files 0600); the
    files whose size or sha256 differ from the manifest."""
    files = manifest["media"]["files"]
    problems = []
    if files:
        root.mkdir(parents=True, exist_ok=True)
        root.chmod(0o700)
    for i, entry in enumerate(files, 1):
        target = _media_target(root, entry["path"])
        _private_dirs(root, target.parent)
        sha = _copy_member(tar, MEDIA_PREFIX + entry["path"], target)
        if sha != entry["sha256"] or target.stat().st_size != entry["bytes"]:
            problems.append(f"media file {entry['path']}: checksum differs from the manifest")
        if i == len(files) or i % 25 == 0:
            say(f"media {i}/{len(files)}")
    return problems


def _compare_counts(expected: dict[str, int], counts: dict[str, int]) -> list[str]:
    problems = [f"table {t}: {counts.get(t, 'missing')} rows, the backup had {n}"
                for t, n in sorted(expected.items()) if counts.get(t) != n]
    problems += [f"table {t}: not in the backup" for t in sorted(set(counts) - set(expected))]
    return problems


def _check_s3(bucket: str, listed: dict[str, Any], client, say: Say) -> list[str]:
    """The objects of the backup's listing that the bucket lacks or holds changed."""
    from medspa.ops.backup import s3_listing

    say(f"checking bucket {bucket} against the backup's listing...")
    now = {o["key"]: o for o in s3_listing(bucket, client)["objects"]}
    problems = []
    for obj in listed["objects"]:
        there = now.get(obj["key"])
        if there is None:
            problems.append(f"S3 object {obj['key']} is missing: restore it from the bucket's versions")
        elif there["etag"] != obj["etag"]:
            problems.append(f"S3 object {obj['key']} changed since the backup (etag {obj['etag']} -> {there['etag']})")
    return problems


def _key_warnings(settings: Settings, manifest: dict[str, Any]) -> list[str]:
    key = manifest["secret_key"]
    accounts = key.get("two_factor_accounts", 0)
    if not key.get("fingerprint") or not accounts:
        return []
    here, _ = secret_key_fingerprint(settings)
    if here == key["fingerprint"]:
        return []
    lost = (f"{accounts} staff two-factor set-ups are encrypted with the key of fingerprint {key['fingerprint']} "
            f"(from {key['source']}); ")
    if here is None:
        return [lost + "there is no key here yet: set SECRET_KEY (or copy the old VAR_DIR/secret_key) before "
                "starting the app, or those staff must enrol two-factor again"]
    return [lost + f"this installation's key is {here}: put the original key back, or those staff must enrol "
            "two-factor again"]
