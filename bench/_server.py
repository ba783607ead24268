"""The real app for the benches that need it: a prod build on one port, started like the
browser tests start it (tests/browser/conftest.py: a private slot under var/browser-test with
its own copy of the app, its own embedded PostgreSQL, FROZEN_NOW, no demo seed).

A prod build bakes its port into the bundle and takes minutes on 2 shared cores, so a bench
that needs the app takes one of two ways:

    with app_server() as server:          # start (build), run, stop
        ...
    python bench/_server.py [--workers 2] # start one and keep it up (Ctrl-C stops it);
    python bench/live_calendars.py --reuse  # the benches then use that one (no second build)

`--reuse` reads var/bench/server.json, which `python bench/_server.py` writes.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import conftest as harness  # noqa: E402

STATE_FILE = ROOT / "var" / "bench" / "server.json"


@dataclass
class Server:
    """A running app: base URL, (app_url, owner_url) of its database, the launcher's pid."""

    base_url: str
    app_url: str
    owner_url: str
    pid: int
    slot: str
    workers: int = 1
    redis_url: str = ""

    @property
    def urls(self) -> tuple[str, str]:
        return self.app_url, self.owner_url

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])


def web_processes(server: Server):
    """The web worker processes (psutil) under the launcher: the python processes without
    python children (the granian workers; the launcher, `reflex run` and granian's main
    process have children)."""
    import psutil

    root = psutil.Process(server.pid)
    procs = [p for p in root.children(recursive=True) if "python" in (p.name() or "").lower()]
    return [p for p in procs if not any("python" in (c.name() or "").lower() for c in p.children())]


def web_rss(server: Server) -> int:
    """Summed resident set size in bytes of the web worker processes."""
    return sum(p.memory_info().rss for p in web_processes(server))


@contextlib.contextmanager
def app_server(*, workers: int = 1, reuse: bool = False) -> Iterator[Server]:
    """A running prod app (see the module docstring); stopped on exit unless reused."""
    if reuse:
        server = Server(**json.loads(STATE_FILE.read_text()))
        if not harness._ping(server.base_url):
            raise SystemExit(f"--reuse: no app answers at {server.base_url} (start `python bench/_server.py`)")
        if server.workers != workers:
            raise SystemExit(f"--reuse: the running app has {server.workers} workers, this needs {workers}")
        yield server
        return
    from medspa.embedded_db import ensure_embedded, stop_server

    redis = None
    slot, lock = harness._claim_slot()
    try:
        env = dict(harness.SERVER_ENV)
        if workers > 1:
            from tests.redis_support import RedisServer

            (slot / "redis").mkdir(exist_ok=True)
            redis = RedisServer(slot / "redis")
            redis.start()
            env.update(REDIS_URL=redis.url, WEB_WORKERS=str(workers))
        app_dir = slot / "app"
        harness._copy_app(app_dir)
        app_url, owner_url = ensure_embedded(slot, "medspa", recreate=True)
        port = harness._free_port()
        base_url = f"http://localhost:{port}"
        log_path = slot / "bench-serve.log"
        cmd = ["env", *(f"{k}={v}" for k, v in env.items()), sys.executable, "-m", "medspa.cli",
               "serve", "--port", str(port), "--var-dir", str(slot), "--app-dir", str(app_dir)]
        t0 = time.monotonic()
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            while not harness._ping(base_url):
                if proc.poll() is not None or time.monotonic() - t0 > harness.START_TIMEOUT * 3:
                    raise SystemExit(f"app did not start:\n{harness._log_tail(log_path)}")
                time.sleep(0.5)
            print(f"app up at {base_url} in {time.monotonic() - t0:.0f} s ({workers} worker(s); log {log_path})",
                  flush=True)
            yield Server(base_url, app_url, owner_url, proc.pid, str(slot), workers, redis.url if redis else "")
        finally:
            harness._stop(proc)
            stop_server(slot)
    finally:
        if redis is not None:
            redis.stop()
        lock.close()


def _interrupt(signum, frame) -> None:  # noqa: ANN001
    raise KeyboardInterrupt


def main() -> None:
    signal.signal(signal.SIGTERM, _interrupt)
    workers = int(sys.argv[sys.argv.index("--workers") + 1]) if "--workers" in sys.argv else 1
    with app_server(workers=workers) as server:
        STATE_FILE.parent.mkdir(parents=True, exist_ok=True)
        STATE_FILE.write_text(json.dumps(asdict(server)))
        print(f"kept up for --reuse ({STATE_FILE}); Ctrl-C stops it", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            with contextlib.suppress(OSError):
                if json.loads(STATE_FILE.read_text()).get("pid") == server.pid:
                    os.unlink(STATE_FILE)


if __name__ == "__main__":
    main()
