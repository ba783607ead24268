"""/account: the signed-in staff member's own two-factor, password and sessions."""
