"""The public landing page at `/`."""
