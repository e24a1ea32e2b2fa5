"""Helpers for testing flows: ``legato.testing.utilities.legato_test_harness``."""

from __future__ import annotations
