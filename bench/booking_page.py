"""The public booking page's weight and first paint against a blank page of the same build.

Runs against the real app (prod build, one worker; bench/_server.py, `--reuse` for an app
already up). A clinic is made through the services (tests.factories.build_clinic: one
location, so the page opens on "Choose a treatment"). Each visit is a fresh Chromium context
(empty cache, as a client's first visit from a clinic's website) at phone-ish desktop size:

- JS transferred: the summed `transferSize` of the page's script resources (Resource Timing:
  entries whose URL ends in .js, modulepreloads included), until the page shows its content
  and the network is idle;
- LCP: the last `largest-contentful-paint` entry (PerformanceObserver, buffered) once the
  page shows its content (booking: the "Choose a treatment" step with the clinic's
  treatments, which needs the websocket and the page's on_load; blank: Reflex's own 404
  page of the same build, "404: Page not found", which loads the same root bundle).

Printed: medians of ROUNDS alternating visits, and booking / blank for each (goal <= 1.5x,
issue 20), plus the scripts that only the booking page loads, largest first.

    python bench/booking_page.py [--reuse] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._server import Server, app_server  # noqa: E402

GOAL = 1.5
LCP_OBSERVER = """
window.__lcp = [];
new PerformanceObserver(list => { for (const e of list.getEntries())
  window.__lcp.push({t: e.renderTime || e.loadTime || e.startTime, size: e.size,
                     el: e.element ? (e.element.id || e.element.tagName) : ''}); })
  .observe({type: 'largest-contentful-paint', buffered: true});
"""
SCRIPTS = """() => performance.getEntriesByType('resource')
  .filter(e => new URL(e.name).pathname.endsWith('.js'))
  .map(e => ({name: e.name, transfer: e.transferSize, body: e.encodedBodySize, decoded: e.decodedBodySize}))"""


def visit(browser, server: Server, path: str, ready) -> dict:
    """One cold visit; {'js': bytes transferred, 'lcp': ms, 'scripts': {path: bytes}}."""
    ctx = browser.new_context(base_url=server.base_url, viewport={"width": 1280, "height": 900})
    ctx.add_init_script(LCP_OBSERVER)
    page = ctx.new_page()
    try:
        page.goto(path)
        ready(page)
        page.wait_for_load_state("networkidle", timeout=30_000)
        page.wait_for_timeout(300)
        scripts = page.evaluate(SCRIPTS)
        lcp = page.evaluate("() => window.__lcp.length ? window.__lcp[window.__lcp.length - 1] : null")
    finally:
        ctx.close()
    if lcp is None:
        raise SystemExit(f"no largest-contentful-paint entry on {path}")
    return {"js": sum(s["transfer"] for s in scripts), "decoded": sum(s["decoded"] for s in scripts),
            "lcp": lcp["t"], "lcp_el": lcp["el"], "count": len(scripts),
            "scripts": {urlparse(s["name"]).path: s["transfer"] for s in scripts}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse", action="store_true", help="use the app `python bench/_server.py` keeps up")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from playwright.sync_api import expect, sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
    from tests.browser.test_calendar import _engine
    from tests.factories import build_clinic

    with app_server(reuse=args.reuse) as server:
        clinic = build_clinic(_engine(server.app_url), _engine(server.owner_url), providers=2)

        def booking_ready(page) -> None:
            expect(page.get_by_role("heading", name="Choose a treatment")).to_be_visible(timeout=30_000)
            expect(page.get_by_role("button", name="Botox")).to_be_visible(timeout=30_000)

        def blank_ready(page) -> None:
            expect(page.get_by_text("404: Page not found")).to_be_visible(timeout=30_000)

        targets = {"blank (404 page)": ("/404", blank_ready), "booking": (f"/book/{clinic.slug}", booking_ready)}
        results: dict[str, list[dict]] = {name: [] for name in targets}
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            for name, (path, ready) in targets.items():  # warm-up: the server's first answers of each
                visit(browser, server, path, ready)
            for _ in range(args.rounds):
                for name, (path, ready) in targets.items():
                    results[name].append(visit(browser, server, path, ready))
            browser.close()

    med = {name: {k: statistics.median(r[k] for r in runs) for k in ("js", "decoded", "lcp", "count")}
           for name, runs in results.items()}
    for name, m in med.items():
        print(f"{name:17s} JS {m['js'] / 1024:7.0f} KiB transferred ({m['decoded'] / 1024:.0f} KiB decoded, "
              f"{m['count']:.0f} files), LCP {m['lcp']:5.0f} ms (element: {results[name][-1]['lcp_el'] or '?'})")
    blank, booking = med["blank (404 page)"], med["booking"]
    print(f"booking / blank: JS transferred {booking['js'] / blank['js']:.2f}x, "
          f"LCP {booking['lcp'] / blank['lcp']:.2f}x (goal each <= {GOAL}x; medians of {args.rounds} cold visits)")
    only = {p: b for p, b in results["booking"][-1]["scripts"].items()
            if p not in results["blank (404 page)"][-1]["scripts"]}
    top = sorted(only.items(), key=lambda kv: -kv[1])[:12]
    print(f"scripts only the booking page loads: {len(only)} files, {sum(only.values()) / 1024:.0f} KiB; largest: "
          + ", ".join(f"{Path(p).name} {b / 1024:.0f} KiB" for p, b in top))


if __name__ == "__main__":
    main()
