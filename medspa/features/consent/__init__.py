"""Signed consent in the UI: the portal's Consents tab, the staff tablet view, the profile card
and the settings editor (domain: medspa/domain/clinical/consent*.py)."""
