"""Background jobs run by the app process (lifespan tasks): hold expiry, later reminders."""
