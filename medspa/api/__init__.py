"""HTTP routes served by the Reflex backend on the app's one port (FastAPI via api_transformer)."""
