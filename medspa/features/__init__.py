"""Reflex UI, one package per area; each `page.py` defines `register(app)` (see medspa/medspa.py)."""
