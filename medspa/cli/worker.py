"""`medspa worker`: a job worker process (production; `medspa serve` runs one in-process
worker by default, see IN_PROCESS_WORKER). Several may run at once, on one machine or many:
the queue hands each job to one of them and each periodic tick runs once."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import List, Optional

import typer

from medspa.cli.common import database, say, settings_for, var_dir_option
from medspa.ops import jobs as ops_jobs


def worker(
    name: Optional[str] = typer.Option(None, "--name", help="Name in the logs and job contexts (default: worker-PID)."),
    queue: Optional[List[str]] = typer.Option(None, "--queue", help="Only this queue (repeat for several; default: all)."),
    concurrency: int = typer.Option(1, "--concurrency", min=1, help="Jobs run at once by this process."),
    var_dir: Optional[Path] = var_dir_option(),
) -> None:
    """Run a job worker until Ctrl-C or SIGTERM (the job at hand finishes first)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = settings_for(var_dir)
    with database(settings, create=False) as db:
        conninfo = ops_jobs.bind_worker_database(settings, db)
        from medspa.jobs.worker import run_worker

        name = name or f"worker-{os.getpid()}"
        say(f"medspa worker {name}: running jobs (queues: {', '.join(queue) if queue else 'all'}); "
            "Ctrl-C or SIGTERM stops it")
        asyncio.run(run_worker(conninfo, name=name, queues=queue or None, concurrency=concurrency))
        say(f"medspa worker {name}: stopped")
