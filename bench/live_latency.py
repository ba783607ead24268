"""Live-update latency: from a committed write to the block in the DOM of other open calendars.

Starts the real app (prod build, one worker, embedded PostgreSQL, FROZEN_NOW) like the
browser tests, opens 2 and then 10 staff calendars in headless Chromium, writes bookings
through the domain services from this process (no Reflex involved: the database trigger,
the worker's LISTEN loop and the push into each tab's state do the rest), and records in
each page, with a MutationObserver, the epoch time at which the new block appeared.
Prints p50 and p95 per number of open calendars. Latency here includes the browsers, which
share the machine's 2 cores with the server.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser import conftest as harness  # noqa: E402
from tests.browser.test_calendar import TODAY, at, make_desk, open_day, script_booking, sign_in  # noqa: E402

WRITES = 8
OBSERVER = """() => {
  window.__seen = {};
  const mark = () => document.querySelectorAll('.cal-block[data-appointment]').forEach(el => {
    const id = el.getAttribute('data-appointment');
    if (!(id in window.__seen)) window.__seen[id] = performance.timeOrigin + performance.now();
  });
  mark();
  new MutationObserver(mark).observe(document.body, {childList: true, subtree: true, attributes: true});
}"""


def start_server():
    from medspa.embedded_db import ensure_embedded

    slot, lock = harness._claim_slot()
    app_dir = slot / "app"
    harness._copy_app(app_dir)
    app_url, owner_url = ensure_embedded(slot, "medspa", recreate=True)
    port = harness._free_port()
    base_url = f"http://localhost:{port}"
    log = open(slot / "bench-serve.log", "wb")  # noqa: SIM115
    cmd = ["env", *(f"{k}={v}" for k, v in harness.SERVER_ENV.items()), sys.executable, "-m", "medspa.cli",
           "serve", "--port", str(port), "--var-dir", str(slot), "--app-dir", str(app_dir)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    t0 = time.monotonic()
    while not harness._ping(base_url):
        if proc.poll() is not None or time.monotonic() - t0 > harness.START_TIMEOUT:
            raise SystemExit(f"app did not start:\n{harness._log_tail(slot / 'bench-serve.log')}")
        time.sleep(0.5)
    return proc, slot, lock, base_url, (app_url, owner_url)


def measure(browser, base_url: str, urls, calendars: int) -> list[float]:
    desk = make_desk(urls)
    pages = []
    for _ in range(calendars):
        ctx = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
        page = ctx.new_page()
        sign_in(page, desk.email)
        open_day(page, desk, TODAY + timedelta(days=1))
        page.evaluate(OBSERVER)
        pages.append(page)
    day = TODAY + timedelta(days=1)
    latencies = []
    for n in range(WRITES):
        start = at(day, 9 + n // 2, 30 * (n % 2))
        t_write = time.time() * 1000
        appt = script_booking(desk, start, f"Live{n}", "Bench", provider=desk.clinic.provider_ids[n % 2])
        for page in pages:
            page.wait_for_function(f"() => '{appt.id}' in window.__seen", timeout=20_000)
            latencies.append(page.evaluate(f"() => window.__seen['{appt.id}']") - t_write)
    for page in pages:
        page.context.close()
    return latencies


def main() -> None:
    proc, slot, lock, base_url, urls = start_server()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"])
            for calendars in (2, 10):
                lat = sorted(measure(browser, base_url, urls, calendars))
                p95 = lat[max(0, int(round(0.95 * len(lat))) - 1)]
                print(f"live latency, {calendars:2d} open calendars, {WRITES} writes: "
                      f"p50 {statistics.median(lat):.0f} ms, p95 {p95:.0f} ms, max {lat[-1]:.0f} ms "
                      f"({len(lat)} samples)")
            browser.close()
    finally:
        from medspa.embedded_db import stop_server

        harness._stop(proc)
        stop_server(slot)
        lock.close()


if __name__ == "__main__":
    main()
