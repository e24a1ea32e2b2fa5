"""``legato.utilities.annotations``: Prefect 3's path for the argument wrappers."""

from legato.annotations import BaseAnnotation, allow_failure, quote, unmapped

__all__ = ["BaseAnnotation", "allow_failure", "quote", "unmapped"]
