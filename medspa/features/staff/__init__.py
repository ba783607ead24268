"""/staff: the owner's staff accounts page."""
