"""`python -m medspa.cli ...` (the browser tests start the app this way)."""

from medspa.cli import app

app()
