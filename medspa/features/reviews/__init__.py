"""The medical director's review queue /reviews (issue 18)."""
