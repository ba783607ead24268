"""The treatment chart page /chart/[appointment_id] (provider and owner)."""
