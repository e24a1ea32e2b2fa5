"""Prefect-compatible module paths for small helpers."""
