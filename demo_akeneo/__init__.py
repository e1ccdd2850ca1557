"""Demo Akeneo: an Akeneo-compatible REST API over a deterministic generated catalog (see server.py)."""
