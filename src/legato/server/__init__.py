"""legato's REST server: ``create_app(settings)`` and ``legato server start``.

Importing this package loads FastAPI; ``import legato`` never does.
"""

from __future__ import annotations

from legato.server.app import create_app

__all__ = ["create_app"]
