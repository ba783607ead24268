"""Intake forms: the portal Forms tab, the staff tablet page and the visit panel card (issue 17)."""
