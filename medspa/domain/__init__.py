"""The domain core: SQLModel tables and the services that hold the rules. Never imports reflex."""
