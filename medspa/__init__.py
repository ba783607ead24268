"""medspa: an open-source practice system for medical spas."""
