"""The chaos test's server (tests/test_chaos.py), shaped like `medspa serve`: a parent process
that runs ONE job worker thread (jobs/worker.InProcessWorker: hold expiry, reconciliation at
start-up and every minute) and launches the web server as a child process: granian (the ASGI
server Reflex runs in production) serving the real API app, medspa.api.app:api (/api/v1, the
webhook, health). Like serve, the web server is exec'd, never forked from a process whose
threads hold locks.

    python -m tests.chaos_server PORT

Configured like the app, by the environment (DATABASE_URL: the app role's URL). Parent, granian
and granian's worker form one process group: the test kills it whole with SIGKILL.
"""

from __future__ import annotations

import subprocess
import sys

from medspa.jobs.worker import InProcessWorker
from medspa.settings import get_settings


def main() -> None:
    port = sys.argv[1]
    InProcessWorker(get_settings().database_url).start()
    web = subprocess.Popen([sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1",
                            "--port", port, "--workers", "1", "medspa.api.app:api"])
    sys.exit(web.wait())


if __name__ == "__main__":
    main()
