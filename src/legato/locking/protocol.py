"""Prefect 3 keeps ``LockManager`` in ``prefect.locking.protocol``; legato in ``base``."""

from legato.locking.base import LockManager

__all__ = ["LockManager"]
