"""Demo data: a realistic clinic for first runs, screenshots and benches (see seed.py)."""

from medspa.demo.seed import DemoSeedError, demo_credentials, seed_demo, seed_other

__all__ = ["DemoSeedError", "demo_credentials", "seed_demo", "seed_other"]
