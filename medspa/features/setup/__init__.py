"""/setup: create the clinic of a fresh server with its one-time set-up link."""
