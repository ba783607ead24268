"""The owner's audit trail page (`/audit`): search, page through and export the trail."""
