"""Client portal UI: /portal/[clinic]."""
