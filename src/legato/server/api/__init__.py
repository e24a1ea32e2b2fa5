"""The REST routes, one module per resource, all mounted under ``/api``."""
