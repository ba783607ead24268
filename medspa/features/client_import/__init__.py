"""/clients/import: the client list from the old system."""
