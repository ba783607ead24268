"""Fifty open calendars on one web worker: committed write -> delta received, and memory per calendar.

50 browser tabs do not fit 2 cores, so most calendars here are lightweight clients that
speak the app's own websocket protocol (Reflex 0.10.1 over Socket.IO / Engine.IO v4, as
site-packages/reflex_base/.templates/web/utils/state.js does it): the websocket to /_event
with the tab token in the query and the staff session cookie in the handshake, the
`hydrate_and_load` event in the Socket.IO CONNECT packet (Reflex then runs the page's
on_load, CalendarState.load, which registers the tab for live pushes), answers to the
server's pings, and the deltas as they arrive. A few real Chromium pages (Playwright)
measure the same on the page: the epoch time the new block appeared in their DOM.

Runs against the real app (prod build, one worker, embedded PostgreSQL, FROZEN_NOW; see
bench/_server.py, `--reuse` for an app already up). Each phase is a fresh clinic (two
providers) whose desk staff sign in over HTTP (one session each) and open the same day;
this process then books WRITES appointments through the domain services (no Reflex: the
trigger, the worker's LISTEN loop and the push do the rest), one after the other, and waits
until every calendar has it. Latency = receipt (or DOM) time - time just before the write.

Printed: p50/p95 per phase; the goal (issue 20) p95 at 50 calendars <= 2.5x p95 at 2
(protocol clients, the bound measured in this run); Chromium pages the same against 2 pages;
memory per connected calendar = growth of the web worker's RSS while the 50 connect and
load, divided by 50.

    python bench/live_calendars.py [--reuse] [--calendars 50] [--pages 4] [--writes 24] [--workers 2]

With --workers 2 the app runs two web workers with Reflex's state in a private redis-server
(as tests/browser/test_calendar.py's `cluster`): tabs land on either worker, each worker's
listener pushes to its own tabs; memory is then the two workers' RSS growth (the states
themselves live in Redis).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import re
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wsproto import ConnectionType, WSConnection  # noqa: E402
from wsproto.events import (  # noqa: E402
    AcceptConnection,
    CloseConnection,
    Ping,
    RejectConnection,
    Request,
    TextMessage,
)

from bench._server import Server, app_server, web_processes  # noqa: E402

WAIT_SECONDS = 30.0
PAUSE_SECONDS = 0.25  # between writes, so two writes never merge into one listener batch
NAMESPACE = "/_event"  # Reflex's Socket.IO namespace (and path)
LOADED = re.compile(r'"loads(?:_rx_state_)?"\s*:\s*[1-9]')
OBSERVER = """() => {
  window.__seen = {};
  const mark = () => document.querySelectorAll('.cal-block[data-appointment]').forEach(el => {
    const id = el.getAttribute('data-appointment');
    if (!(id in window.__seen)) window.__seen[id] = performance.timeOrigin + performance.now();
  });
  mark();
  new MutationObserver(mark).observe(document.body, {childList: true, subtree: true, attributes: true});
}"""


# --------------------------------------------------------------------------- the protocol client


class ProtocolCalendar:
    """One calendar tab without a browser: Engine.IO v4 / Socket.IO over a plain websocket."""

    def __init__(self, server: Server, cookie: str, page_path: str, query: dict[str, str],
                 hashes: list[str] | None = None):
        self.server, self.cookie, self.hashes = server, cookie, hashes
        self.token = str(uuid.uuid4())  # the tab token (state.js: sessionStorage "token")
        self.page_path, self.query = page_path, query
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.loaded = asyncio.Event()
        self.closed = asyncio.Event()
        self.watch: set[str] = set()  # substrings to time-stamp (e.g. '"a123"', a block's key)
        self.seen: dict[str, float] = {}
        self.recent: list[tuple[float, str]] = []  # event frames since the bench last cleared it
        self.frames = 0
        self.error = ""
        self._task: asyncio.Task | None = None
        self._parts: list[str] = []

    def _boot_event(self) -> dict:
        import reflex as rx
        from reflex_base.constants.compiler import CompileVars

        as_path = self.page_path + ("?" + urlencode(self.query) if self.query else "")
        payload = {"hashes": self.hashes} if self.hashes else {}
        return {"name": f"{rx.State.get_full_name()}.{CompileVars.HYDRATE_AND_LOAD}", "payload": payload,
                "router_data": {"pathname": self.page_path, "asPath": as_path, "query": self.query}}

    async def open(self) -> None:
        """Connect, hand over the boot event; the reader runs until close()."""
        port = self.server.port
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", port)
        target = "/_event/?" + urlencode({"EIO": "4", "transport": "websocket", "token": self.token})
        self.writer.write(self.ws.send(Request(host=f"localhost:{port}", target=target, extra_headers=[
            (b"origin", self.server.base_url.encode()), (b"cookie", self.cookie.encode()),
            (b"user-agent", b"medspa-bench-protocol-client")])))
        await self.writer.drain()
        self._task = asyncio.create_task(self._read())

    def _send_text(self, text: str) -> None:
        if self.writer is not None and not self.writer.is_closing():
            self.writer.write(self.ws.send(TextMessage(data=text)))

    async def _read(self) -> None:
        assert self.reader is not None
        try:
            while True:
                data = await self.reader.read(65536)
                if not data:
                    break
                received = time.time() * 1000
                self.ws.receive_data(data)
                for event in self.ws.events():
                    if isinstance(event, AcceptConnection):
                        pass
                    elif isinstance(event, RejectConnection):
                        self.error = f"websocket refused ({event.status_code})"
                        return
                    elif isinstance(event, TextMessage):
                        self._parts.append(event.data)
                        if event.message_finished:
                            text, self._parts = "".join(self._parts), []
                            self._engine_io(text, received)
                    elif isinstance(event, Ping):
                        self.writer.write(self.ws.send(event.response()))
                    elif isinstance(event, CloseConnection):
                        return
                await self.writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            self.error = self.error or f"{type(exc).__name__}: {exc}"
        finally:
            self.closed.set()

    def _engine_io(self, text: str, received: float) -> None:
        kind = text[:1]
        if kind == "0":  # Engine.IO open: join the default Socket.IO namespace with the boot event
            self._send_text(f"40{NAMESPACE}," + json.dumps({"event": self._boot_event()}))
        elif kind == "2":  # ping -> pong
            self._send_text("3")
        elif kind == "4":  # a Socket.IO packet
            if text.startswith("44"):
                self.error = f"connect refused: {text[:200]}"
            elif text.startswith(f"42{NAMESPACE},"):
                self.frames += 1
                self.recent.append((received, text))
                for key in self.watch:
                    if key not in self.seen and key in text:
                        self.seen[key] = received
                if not self.loaded.is_set() and LOADED.search(text):
                    self.loaded.set()

    def mark(self, key: str) -> None:
        """Time-stamp the first event frame containing `key`: one already received since
        `recent` was cleared, else the next one that arrives."""
        for received, text in self.recent:
            if key in text:
                self.seen.setdefault(key, received)
                return
        self.watch.add(key)

    async def close(self) -> None:
        if self.writer is not None and not self.writer.is_closing():
            try:
                self._send_text(f"41{NAMESPACE},")
                self.writer.write(self.ws.send(CloseConnection(code=1000)))
                await self.writer.drain()
            except (ConnectionError, RuntimeError):
                pass
            self.writer.close()
        if self._task is not None:
            self._task.cancel()


# --------------------------------------------------------------------------- set-up


def make_clinic(server: Server, staff: int):
    """A fresh clinic (two providers, tests.factories) with `staff` front-desk logins; (desk, emails)."""
    from medspa.domain.identity.service import create_user
    from tests.browser.test_calendar import PASSWORD, make_desk

    desk = make_desk(server.urls)
    emails = [desk.email]
    with desk.clinic.session() as s:
        for n in range(1, staff):
            email = f"desk{n}-{desk.clinic.slug}@example.com"
            create_user(s, desk.clinic.system, email=email, password=PASSWORD, role="front_desk",
                        display_name=f"Desk {n}")
            emails.append(email)
        s.commit()
    return desk, emails


def book(desk, start, client_id: int, provider: int):
    """The write: a confirmed desk booking through the scheduling service, committed (as
    tests.browser.test_calendar.script_booking, with the client made beforehand)."""
    from medspa.domain.scheduling.service import hold_slot
    from tests.browser.test_calendar import FROZEN_NOW

    with desk.clinic.session() as s:
        appt = hold_slot(s, desk.clinic.staff_actor(), location_id=desk.clinic.location_id,
                         service_id=desk.clinic.services["botox"], start_at=start, now=FROZEN_NOW,
                         provider_id=provider, client_id=client_id, source="staff", confirm=True)
        s.commit()
        return appt


async def sign_in(http, server: Server, email: str) -> str:
    """POST /auth/login (JSON); the session cookie's value."""
    from medspa.web.auth import SESSION_COOKIE
    from tests.browser.test_calendar import PASSWORD

    resp = await http.post(f"{server.base_url}/auth/login", json={"email": email, "password": PASSWORD},
                           headers={"origin": server.base_url})
    value = resp.cookies.get(SESSION_COOKIE)
    if not value:
        raise SystemExit(f"sign-in of {email} failed: {resp.status_code} {resp.text[:200]}")
    return value


async def open_page(browser, server: Server, session: str, path: str, day: str):
    from medspa.web.auth import SESSION_COOKIE

    ctx = await browser.new_context(base_url=server.base_url, viewport={"width": 1280, "height": 900})
    await ctx.add_cookies([{"name": SESSION_COOKIE, "value": session, "url": server.base_url}])
    page = await ctx.new_page()
    await page.goto(path)
    cal = page.locator("#calendar")
    await page.wait_for_function(
        f"""() => {{ const c = document.getElementById('calendar');
                 return c && c.getAttribute('data-day') === '{day}' && c.getAttribute('data-version') !== '0'; }}""",
        timeout=WAIT_SECONDS * 1000)
    await cal.wait_for()
    await page.evaluate(OBSERVER)
    return page


def initial_state_hashes(server: Server) -> list[str] | None:
    """The compiled `initialStateHashes` of the build (what a browser sends with its first
    hydrate, so the server only sends what differs from the compiled defaults), or None."""
    try:
        source = (Path(server.slot) / "app" / ".web" / "utils" / "context.jsx").read_text()
    except OSError:
        return None
    found = re.search(r"initialStateHashes\s*=\s*(\[[^\]]*\])", source)
    return json.loads(found.group(1)) if found else None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(q * len(ordered))) - 1)]


# --------------------------------------------------------------------------- one phase


async def phase(server: Server, browser, http, *, clients: int, pages: int, writes: int) -> dict:
    """Open `clients` protocol calendars and `pages` Chromium pages on one clinic's day, write,
    measure; returns latencies (ms) per kind and the worker RSS growth (bytes) of connecting."""
    from tests.browser.test_calendar import TODAY, at, new_client

    desk, emails = await asyncio.to_thread(make_clinic, server, clients + pages)
    sessions = [await sign_in(http, server, email) for email in emails]
    day = TODAY + timedelta(days=1)
    query = {"location": str(desk.clinic.location_id), "day": day.isoformat(), "view": "providers", "span": "day"}
    path = "/calendar?" + urlencode(query)
    gc.collect()
    procs = web_processes(server)
    rss_before = sum(p.memory_info().rss for p in procs)

    hashes = initial_state_hashes(server)
    cals = [ProtocolCalendar(server, f"medspa_session={s}", "/calendar", query, hashes) for s in sessions[:clients]]
    t0 = time.monotonic()
    for cal in cals:
        await cal.open()
    for cal in cals:
        try:
            await asyncio.wait_for(cal.loaded.wait(), WAIT_SECONDS * 2)
        except asyncio.TimeoutError:
            raise SystemExit(f"a protocol calendar did not load: {cal.error or 'no load delta'} "
                             f"({cal.frames} frames)") from None
    opened_s = time.monotonic() - t0
    tabs = [await open_page(browser, server, s, path, day.isoformat()) for s in sessions[clients:]]
    await asyncio.sleep(1.0)
    rss_after = sum(p.memory_info().rss for p in procs)

    client_ms: list[float] = []
    page_ms: list[float] = []
    for n in range(writes):
        provider = desk.clinic.provider_ids[n % 2]
        # each (provider, start) once: 2 providers x 9:00-17:00 in 30-minute steps
        start = at(day, 9 + (n // 2) // 2, 30 * ((n // 2) % 2))
        for cal in cals:
            cal.recent.clear()
        client_id = await asyncio.to_thread(new_client, desk, f"Live{n}", "Bench")
        t_write = time.time() * 1000
        appt = await asyncio.to_thread(book, desk, start, client_id, provider)
        key = f'"a{appt.id}"'
        for cal in cals:
            cal.mark(key)
        deadline = time.monotonic() + WAIT_SECONDS
        while any(key not in cal.seen for cal in cals):
            if time.monotonic() > deadline:
                missing = sum(key not in cal.seen for cal in cals)
                raise SystemExit(f"write {n}: {missing} of {clients} protocol calendars got no delta")
            await asyncio.sleep(0.005)
        client_ms += [cal.seen[key] - t_write for cal in cals]
        for tab in tabs:
            await tab.wait_for_function(f"() => '{appt.id}' in window.__seen", timeout=WAIT_SECONDS * 1000)
            page_ms.append(await tab.evaluate(f"() => window.__seen['{appt.id}']") - t_write)
        await asyncio.sleep(PAUSE_SECONDS)
    for cal in cals:
        await cal.close()
    for tab in tabs:
        await tab.context.close()
    return {"clients": client_ms, "pages": page_ms, "rss": rss_after - rss_before, "opened_s": opened_s,
            "workers": len(procs)}


def line(label: str, values: list[float]) -> str:
    return (f"{label}: p50 {statistics.median(values):.0f} ms, p95 {percentile(values, 0.95):.0f} ms, "
            f"max {max(values):.0f} ms ({len(values)} samples)")


async def run(server: Server, args) -> None:
    import httpx
    from playwright.async_api import async_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    async with async_playwright() as pw, httpx.AsyncClient(timeout=60) as http:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        small = await phase(server, browser, http, clients=2, pages=0, writes=args.writes)
        print(line(" 2 calendars (protocol clients)", small["clients"]), flush=True)
        small_pages = await phase(server, browser, http, clients=0, pages=2, writes=args.writes)
        print(line(" 2 calendars (Chromium pages)  ", small_pages["pages"]), flush=True)
        n = args.calendars
        big = await phase(server, browser, http, clients=n - args.pages, pages=args.pages, writes=args.writes)
        print(line(f"{n} calendars: {n - args.pages} protocol clients", big["clients"]), flush=True)
        if args.pages:
            print(line(f"{n} calendars: {args.pages} Chromium pages     ", big["pages"]), flush=True)
        await browser.close()
    ratio = percentile(big["clients"], 0.95) / percentile(small["clients"], 0.95)
    print(f"p95 at {n} / p95 at 2 (protocol clients): {ratio:.2f}x (goal <= 2.5x)")
    if args.pages:
        page_ratio = percentile(big["pages"], 0.95) / percentile(small_pages["pages"], 0.95)
        print(f"p95 at {n} / p95 at 2 (Chromium pages): {page_ratio:.2f}x")
    print(f"memory per connected calendar: {big['rss'] / n / 1024:.0f} KiB "
          f"(web worker RSS +{big['rss'] / 2**20:.1f} MiB for {n} calendars, {big['workers']} worker process(es)); "
          f"{n - args.pages} protocol calendars connected and loaded in {big['opened_s']:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse", action="store_true", help="use the app `python bench/_server.py` keeps up")
    parser.add_argument("--calendars", type=int, default=50)
    parser.add_argument("--pages", type=int, default=4, help="of them real Chromium pages")
    parser.add_argument("--writes", type=int, default=24)
    parser.add_argument("--workers", type=int, default=1,
                        help="web workers (more than 1: Reflex state and cross-worker pushes in a private Redis)")
    args = parser.parse_args()
    with app_server(workers=args.workers, reuse=args.reuse) as server:
        print(f"{server.workers} web worker(s)" + (" + Redis" if server.redis_url else ""), flush=True)
        asyncio.run(run(server, args))


if __name__ == "__main__":
    main()
