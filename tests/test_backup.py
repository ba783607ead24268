"""Backups that restore (issue 12): the demo clinic backed up, restored into an empty database
and an empty media folder, and found identical: row counts of every table, media checksums,
grants, row-level security (fail closed for the app role) and the append-only audit trail.

Runs on an embedded server of its own var folder (two databases, dropped afterwards), also
in CI's external-server pass, whose server and roles are the operator's.
"""

from __future__ import annotations

import hashlib
import os
import tarfile
from datetime import date, datetime, timezone
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine

from medspa.db import to_sqlalchemy_url
from medspa.ops import OpsError
from medspa.ops import pgtools
from medspa.ops.backup import backup, secret_key_fingerprint
from medspa.ops.database import Database
from medspa.ops.restore import read_manifest, restore
from medspa.settings import PROJECT_ROOT, Settings

TODAY = date(2026, 10, 20)
NOW = datetime(2026, 10, 20, 18, 45, tzinfo=timezone.utc)
VAR = PROJECT_ROOT / "var" / "test"
KEY = "backup-test-secret-key-0123456789abcdef"
PHOTOS = {"org-1/photos/a1b2.jpg": b"\xff\xd8jpeg-1" * 500, "org-1/photos/a1b2-thumb.jpg": b"\xff\xd8t" * 90,
          "org-2/photos/c3d4.png": b"\x89PNG" + bytes(range(256)) * 40}

CATALOG = {  # what must come back exactly: RLS flags, policies, triggers, grants, owners
    "rls": "select relname, relrowsecurity, relforcerowsecurity from pg_class c join pg_namespace n "
           "on n.oid = c.relnamespace where n.nspname = 'public' and relkind = 'r' order by 1",
    "policies": "select tablename, policyname, roles::text, cmd, qual, with_check from pg_policies "
                "where schemaname = 'public' order by 1, 2",
    "triggers": "select tgrelid::regclass::text, tgname, tgenabled, pg_get_triggerdef(oid) from pg_trigger "
                "where not tgisinternal order by 1, 2",
    # an ACL of the owner's defaults only comes back as NULL (the same privileges): compare effective ACLs
    "grants": "select relname, coalesce(relacl, acldefault('r', relowner))::text, pg_get_userbyid(relowner) "
              "from pg_class c join pg_namespace n "
              "on n.oid = c.relnamespace where n.nspname = 'public' and relkind in ('r', 'S') order by 1",
    "functions": "select proname, pg_get_userbyid(proowner), proacl::text, prosecdef from pg_proc p "
                 "join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'public' "
                 "and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e') order by 1, 2",
}

def _sha_tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _superuser(db: Database) -> str:
    return pgtools.maintenance_url(Settings(database_url=""), db)


def _counts(db: Database) -> dict[str, int]:
    from medspa.ops.backup import table_counts

    with psycopg.connect(_superuser(db), autocommit=True) as conn:
        return table_counts(conn)


def _catalog(db: Database) -> dict[str, list]:
    with psycopg.connect(_superuser(db), autocommit=True) as conn:
        return {name: conn.execute(sql).fetchall() for name, sql in CATALOG.items()}


def _fresh_database(name: str) -> Database:
    from medspa.embedded_db import ensure_embedded

    app_url, owner_url = ensure_embedded(VAR, name, recreate=True)
    return Database(app_url, owner_url, VAR)


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    """Seed the demo clinic (and `other`) in a database of its own, back it up with a media
    folder, restore into a new empty database and folder; yields what both sides hold."""
    from medspa import migrate
    from medspa.demo import seed_demo
    from medspa.domain.clinical.photos import LocalMediaStore
    from medspa.embedded_db import start_server

    tmp = tmp_path_factory.mktemp("backup")
    pid = os.getpid()
    src, dst = _fresh_database(f"medspa_bk_src_{pid}"), _fresh_database(f"medspa_bk_dst_{pid}")
    src_settings = Settings(database_url="", secret_key=KEY, var_dir=VAR, media_dir=tmp / "src-media")
    dst_settings = Settings(database_url="", secret_key=KEY, var_dir=VAR, media_dir=tmp / "dst-media")
    try:
        migrate.upgrade(src.app_url, src.owner_url)
        engine = create_engine(to_sqlalchemy_url(src.app_url))
        owner_engine = create_engine(to_sqlalchemy_url(src.owner_url))
        # the demo clinic at its small scale (same shape, 150 clients): the full one adds ~25 s of
        # seeding and nothing a round trip would catch; `medspa backup` of the full demo is in the README
        org_id = seed_demo(engine, owner_engine, today=TODAY, now=NOW, settings=src_settings, scale="small")
        engine.dispose()
        owner_engine.dispose()
        store = LocalMediaStore(src_settings.media_root)
        for key, data in PHOTOS.items():
            store.put(key, data, "image/jpeg")
        lines: list[str] = []
        archive = tmp / "out" / "demo.medspa-backup"
        made = backup(src_settings, src, archive, lines.append, now=NOW)
        restored = restore(dst_settings, dst, archive, lines.append)
        yield {"src": src, "dst": dst, "org_id": org_id, "archive": archive, "made": made, "restored": restored,
               "lines": lines, "src_settings": src_settings, "dst_settings": dst_settings}
    finally:
        with psycopg.connect(start_server(VAR), autocommit=True) as conn:
            for db in (src, dst):
                conn.execute(f'drop database if exists "{pgtools.database_name(db.owner_url)}" with (force)')


def test_every_table_comes_back_with_the_same_row_count(round_trip):
    made, restored = round_trip["made"], round_trip["restored"]
    src_counts, dst_counts = _counts(round_trip["src"]), _counts(round_trip["dst"])
    assert dst_counts == src_counts == made.manifest["database"]["tables"]
    assert restored.problems == () and restored.warnings == ()
    assert made.tables == restored.tables == len(src_counts) >= 39
    assert made.rows == restored.rows == sum(src_counts.values())
    # the demo clinic is really there, not an empty schema
    assert src_counts["organization"] == 2 and src_counts["appointment"] > 500
    assert src_counts["audit_event"] > 0 and src_counts["user_account"] >= 5


def test_media_files_come_back_byte_for_byte(round_trip):
    src_root = round_trip["src_settings"].media_root
    dst_root = round_trip["dst_settings"].media_root
    photos = {key: hashlib.sha256(data).hexdigest() for key, data in PHOTOS.items()}
    expected = _sha_tree(src_root)  # the photos put here plus the demo's signed consents (issue 17)
    assert photos.items() <= expected.items()
    seeded = {key for key in expected if key not in photos}
    assert seeded and all("/consents/" in key for key in seeded), seeded
    assert _sha_tree(dst_root) == expected
    manifest_files = {f["path"]: f["sha256"] for f in round_trip["made"].manifest["media"]["files"]}
    assert manifest_files == expected
    assert round_trip["restored"].files == len(expected)
    assert all((dst_root / key).stat().st_mode & 0o777 == 0o600 for key in expected)
    assert (dst_root / "org-1" / "photos").stat().st_mode & 0o777 == 0o700


def test_rls_policies_triggers_and_grants_are_the_same(round_trip):
    src, dst = _catalog(round_trip["src"]), _catalog(round_trip["dst"])
    for name in CATALOG:
        assert dst[name] == src[name], name
    assert any(t[1] == "audit_event_no_update" for t in dst["triggers"])
    assert sum(1 for _, enabled, forced in dst["rls"] if enabled and forced) >= 25


def test_the_app_role_still_fails_closed_and_sees_one_clinic(round_trip):
    org_id = round_trip["org_id"]
    with psycopg.connect(_superuser(round_trip["src"])) as conn:
        per_org = dict(conn.execute("select org_id, count(*) from client group by 1").fetchall())
    assert len(per_org) == 2 and all(n > 0 for n in per_org.values())
    with psycopg.connect(round_trip["dst"].app_url) as conn:
        role = conn.execute("select rolsuper, rolbypassrls from pg_roles where rolname = current_user").fetchone()
        assert role == (False, False)
        assert conn.execute("select count(*) from client").fetchone()[0] == 0  # no clinic set: nothing
        conn.execute("select set_config('app.org_id', %s, true)", (str(org_id),))
        assert conn.execute("select count(*) from client").fetchone()[0] == per_org[org_id]
        assert conn.execute("select count(*) from client where org_id <> %s", (org_id,)).fetchone()[0] == 0


def test_the_audit_trail_is_still_append_only(round_trip):
    org_id = round_trip["org_id"]
    with psycopg.connect(round_trip["dst"].owner_url) as conn:  # the owner may UPDATE: the trigger refuses
        conn.execute("select set_config('app.org_id', %s, true)", (str(org_id),))
        assert conn.execute("select count(*) from audit_event").fetchone()[0] > 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute("update audit_event set action = action")
    with psycopg.connect(round_trip["dst"].owner_url) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute("truncate audit_event")
    with psycopg.connect(round_trip["dst"].app_url) as conn:  # the app appends, and cannot delete
        conn.execute("select set_config('app.org_id', %s, true)", (str(org_id),))
        conn.execute("insert into audit_event (org_id, occurred_at, actor_role, actor_label, action, object_type,"
                     " object_id, detail, ip, user_agent) values (%s, now(), 'system', '', 'backup.test', 'x', '',"
                     " '{}', '', '')", (org_id,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("delete from audit_event")


def test_the_manifest_says_what_restore_needs(round_trip):
    manifest = round_trip["made"].manifest
    with tarfile.open(round_trip["archive"]) as tar:
        assert read_manifest(tar) == manifest
        assert tar.getnames()[0] == "db.dump" and tar.getnames()[-1] == "manifest.json"
    assert manifest["alembic_revision"] and manifest["created_at"] == NOW.isoformat()
    assert manifest["server_major"] == manifest["pg_dump_major"] >= 15
    assert {r["name"] for r in manifest["roles"]} == {"medspa_owner", "medspa_app"}
    assert manifest["app_role"] == "medspa_app"
    key = manifest["secret_key"]
    assert key["included"] is False and KEY not in round_trip["archive"].read_bytes().decode("latin-1")
    assert key["fingerprint"] == secret_key_fingerprint(round_trip["src_settings"])[0]
    assert key["two_factor_accounts"] >= 3 and key["source"] == "SECRET_KEY"
    assert round_trip["archive"].stat().st_mode & 0o777 == 0o600
    lines = round_trip["lines"]
    assert any(line.startswith("dumping database... ") for line in lines)
    media = len(_sha_tree(round_trip["src_settings"].media_root))  # 3 photos + the demo's signed consents
    assert media > 3 and f"media {media}/{media}" in lines and any(line.startswith("restoring data 1/") for line in lines)


def test_a_database_that_is_not_empty_is_refused_and_left_alone(round_trip):
    dst = round_trip["dst"]
    before = _counts(dst)
    with pytest.raises(OpsError, match="not empty.*--force"):
        restore(round_trip["dst_settings"], dst, round_trip["archive"], lambda _: None)
    assert _counts(dst) == before


def test_a_different_secret_key_is_a_warning_naming_the_lost_two_factor_set_ups(round_trip, tmp_path):
    from medspa.ops.restore import _key_warnings

    manifest = round_trip["made"].manifest
    other = Settings(database_url="", secret_key="another-key", var_dir=tmp_path)
    none_yet = Settings(database_url="", secret_key="", var_dir=tmp_path)
    [changed] = _key_warnings(other, manifest)
    assert "two-factor" in changed and manifest["secret_key"]["fingerprint"] in changed
    [missing] = _key_warnings(none_yet, manifest)
    assert "no key here yet" in missing and not (tmp_path / "secret_key").exists()
    assert _key_warnings(round_trip["dst_settings"], manifest) == []


def test_a_file_that_is_not_a_backup_is_refused(round_trip, tmp_path):
    bogus = tmp_path / "not-a-backup.tar"
    with tarfile.open(bogus, "w") as tar:
        tar.add(__file__, arcname="notes.txt")
    with pytest.raises(OpsError, match="not a medspa backup"):
        restore(round_trip["dst_settings"], round_trip["dst"], bogus, lambda _: None)


def test_a_pg_dump_of_another_major_version_is_refused(tmp_path):
    for name in ("pg_dump", "pg_restore"):
        fake = tmp_path / name
        fake.write_text("#!/bin/sh\necho '%s (PostgreSQL) 15.20'\n" % name)
        fake.chmod(0o755)
    external = Settings(database_url="postgresql://medspa_app@db.example/medspa", pg_bin_dir=str(tmp_path))
    with pytest.raises(OpsError, match="pg_dump 15 .* PostgreSQL 18.*postgresql/18/bin"):
        pgtools.client_for(external, 18)
    assert pgtools.client_for(external, 15).major == 15


def test_the_owner_role_alone_cannot_take_a_backup(db_urls):
    """Owner and app role are NOBYPASSRLS: a backup through them would miss every row."""
    with psycopg.connect(db_urls[1], autocommit=True) as conn:
        with pytest.raises(OpsError, match="BACKUP_DATABASE_URL"):
            pgtools.require_rls_bypass(conn)


class _FakeBucket:
    """The two S3 calls a backup makes (versioning status, paginated listing), over a dict."""

    def __init__(self, objects: dict[str, tuple[int, str]], versioning: str | None = "Enabled"):
        self.objects, self.versioning = objects, versioning

    def get_bucket_versioning(self, Bucket: str) -> dict:
        return {"Status": self.versioning} if self.versioning else {}

    def get_paginator(self, name: str):
        assert name == "list_objects_v2"
        bucket = self

        class Pages:
            def paginate(self, Bucket: str):
                items = [{"Key": k, "Size": size, "ETag": f'"{etag}"', "LastModified": NOW}
                         for k, (size, etag) in sorted(bucket.objects.items())]
                return [{"Contents": items[:2]}, {"Contents": items[2:]}, {}]

        return Pages()


def test_with_s3_the_listing_is_recorded_and_checked_after_a_restore():
    from medspa.ops.backup import s3_listing
    from medspa.ops.restore import _check_s3

    bucket = _FakeBucket({"org-1/photos/a.jpg": (10, "e1"), "org-1/photos/b.jpg": (20, "e2"),
                          "org-2/photos/c.png": (30, "e3")})
    listed = s3_listing("clinic-media", bucket)
    assert listed["versioning"] == "Enabled" and [o["key"] for o in listed["objects"]] == sorted(bucket.objects)
    assert listed["objects"][0] == {"key": "org-1/photos/a.jpg", "bytes": 10, "etag": "e1",
                                    "last_modified": NOW.isoformat()}
    assert _check_s3("clinic-media", listed, bucket, lambda _: None) == []
    del bucket.objects["org-1/photos/b.jpg"]
    bucket.objects["org-2/photos/c.png"] = (31, "e3x")
    bucket.objects["org-2/photos/new.png"] = (5, "e4")  # newer than the backup: fine
    problems = _check_s3("clinic-media", listed, bucket, lambda _: None)
    assert problems == ["S3 object org-1/photos/b.jpg is missing: restore it from the bucket's versions",
                        "S3 object org-2/photos/c.png changed since the backup (etag e3 -> e3x)"]
    assert s3_listing("clinic-media", _FakeBucket({}, versioning=None))["versioning"] == "Disabled"
