"""Availability over HTTP, 32 concurrent clients, as ratios to a trivial JSON route of the same server.

data: the demo clinic (bench/_common.py, var/bench); GET /api/v1/demo/availability for every
(location, online service) pair (up to 6 services per location) and 7-day windows starting on
BENCH_TODAY + 0..6 days, round robin. The server runs with FROZEN_NOW = BENCH_NOW so the
windows are in the future.
server: the API app the way production serves it (granian, ASGI, ONE worker, the security
middleware of medspa.api.app.with_security_headers, and the worker's calendar LISTEN loop,
which keeps the availability cache: scheduling/availability_cache.py), as a child process,
DATABASE_URL the bench database's app role. The Reflex pages are not part of it: the API is
matched first. BENCH_NO_LISTENER=1: without the loop, i.e. without the cache (every request
computed). Read-only load: no booking invalidates the cache during the run.
bound: GET /api/v1/health on the same server, same client, same concurrency: FastAPI
dependency-free sync route doing one `select 1` (the cheapest existing JSON route that still
reaches the database, as every availability request must).
client: a minimal asyncio HTTP/1.1 keep-alive client (32 connections, one request in flight
each) so that on a 2-core machine the load generator costs little next to the server.
goal (issue 20): availability req/s >= 0.3 x health req/s, availability p95 <= 3 x health p95.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from _common import BENCH_NOW, BENCH_TODAY, bench_engines

from medspa.db import tenant_session
from medspa.domain.catalog.service import list_services
from medspa.domain.identity.actor import Actor
from medspa.domain.practice.service import list_locations
from medspa.settings import PROJECT_ROOT, Settings

CONCURRENCY = 32
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "2000"))  # per route, after a warm-up
WARMUP = 200
GOAL_THROUGHPUT, GOAL_P95 = 0.3, 3.0


def served_app():
    """The ASGI app granian serves (factory): the API inside its production middleware, and,
    like every production web worker (medspa.live.lifespan), the calendar LISTEN loop, which
    also keeps this worker's availability cache (unless BENCH_NO_LISTENER is set)."""
    import asyncio
    import contextlib

    from medspa.api.app import api, with_security_headers
    from medspa.db import get_engine
    from medspa.live.loop import LiveCalendars, NoTabs

    inner = with_security_headers(api)
    if os.environ.get("BENCH_NO_LISTENER"):
        return inner

    async def app(scope, receive, send):
        if scope["type"] != "lifespan":
            return await inner(scope, receive, send)
        task = None
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                hub = LiveCalendars(db_url=os.environ["DATABASE_URL"], engine=get_engine(), tabs=NoTabs("bench"),
                                    push=lambda *a: asyncio.sleep(0, False))
                task = asyncio.create_task(hub.run())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(BaseException):
                        await task
                await send({"type": "lifespan.shutdown.complete"})
                return

    return app


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _app_url() -> str:
    settings = Settings()
    if settings.database_url:
        return settings.database_url
    from medspa.embedded_db import ensure_embedded

    return ensure_embedded(PROJECT_ROOT / "var" / "bench", "medspa_bench")[0]


def start_server(port: int) -> subprocess.Popen:
    """granian with one worker, serving served_app() against the bench database."""
    env = dict(os.environ, DATABASE_URL=_app_url(), FROZEN_NOW=BENCH_NOW.isoformat(),
               PYTHONPATH=os.pathsep.join([str(PROJECT_ROOT), str(Path(__file__).parent)]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1", "--log-level", "warning", "--no-access-log", "--factory",
         "availability_http:served_app"],
        cwd=PROJECT_ROOT, env=env, start_new_session=True)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 60:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}")
        try:
            status, _ = asyncio.run(_one(port, "/api/v1/health"))
            if status == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise SystemExit("the server did not answer within 60 s")


async def _request(reader, writer, path: str) -> tuple[int, bytes]:
    writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\nUser-Agent: bench\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    else:  # chunked
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            body += chunk[:-2]
    return status, body


async def _one(port: int, path: str) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        return await _request(reader, writer, path)
    finally:
        writer.close()


async def _load(port: int, paths: list[str], total: int) -> tuple[float, list[float], int]:
    """(seconds, latencies, bytes) of `total` requests over `paths` round robin, CONCURRENCY in flight."""
    counter = iter(range(total))
    latencies: list[float] = []
    nbytes = 0

    async def client():
        nonlocal nbytes
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for i in counter:
                t0 = time.perf_counter()
                status, body = await _request(reader, writer, paths[i % len(paths)])
                latencies.append(time.perf_counter() - t0)
                if status != 200:
                    raise SystemExit(f"{paths[i % len(paths)]}: HTTP {status} {body[:300]!r}")
                nbytes += len(body)
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CONCURRENCY)))
    return time.perf_counter() - t0, latencies, nbytes


def measure(port: int, name: str, paths: list[str]) -> tuple[float, float, float]:
    """(req/s, p50 s, p95 s) of REQUESTS requests after a warm-up; prints them."""
    asyncio.run(_load(port, paths, WARMUP))
    seconds, lat, nbytes = asyncio.run(_load(port, paths, REQUESTS))
    lat.sort()
    rps, p50, p95 = len(lat) / seconds, statistics.median(lat), lat[int(len(lat) * 0.95) - 1]
    print(f"  {name:13s} {rps:7.1f} req/s  p50 {p50 * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms  "
          f"({nbytes / len(lat) / 1024:.1f} KiB/response)")
    return rps, p50, p95


def main() -> None:
    engine, _, org_id = bench_engines()
    actor = Actor.public(org_id)
    with tenant_session(org_id, engine) as s:
        slug = "demo"
        pairs = [(loc.id, svc.id) for loc in list_locations(s, actor)
                 for svc in list_services(s, actor, loc.id, online_only=True)[:6]]
    engine.dispose()
    paths = []
    for k in range(7):
        start = BENCH_TODAY + timedelta(days=k)
        end = start + timedelta(days=6)
        paths += [f"/api/v1/{slug}/availability?location_id={loc}&service_id={svc}"
                  f"&start_date={start}&end_date={end}" for loc, svc in pairs]
    print(f"availability over HTTP: {len(pairs)} (location, service) pairs x 7 windows of 7 days, "
          f"{REQUESTS} requests per route, concurrency {CONCURRENCY}, granian 1 worker")
    port = _free_port()
    proc = start_server(port)
    try:
        h_rps, _, h_p95 = measure(port, "health", ["/api/v1/health"])
        a_rps, _, a_p95 = measure(port, "availability", paths)
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
    print(f"availability/health throughput: {a_rps / h_rps:.2f} (goal >= {GOAL_THROUGHPUT})")
    print(f"availability/health p95: {a_p95 / h_p95:.2f} (goal <= {GOAL_P95})")


if __name__ == "__main__":
    main()
