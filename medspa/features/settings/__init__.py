"""/settings: the clinic settings of owners and managers (Services tab)."""
