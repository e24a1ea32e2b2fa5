"""Run unmodified Prefect 3 code on legato.

Opt in once, before the user's code imports ``prefect``::

    import legato.compat  # installs the alias
    from prefect import flow, task  # legato's flow and task

or run a script with ``python -m legato.compat script.py [args]``.

Every module ``prefect.X`` becomes legato's ``legato.X`` (same object, so
``prefect.flow is legato.flow``). A Prefect module legato does not have
raises the usual ``ModuleNotFoundError`` naming both modules.
"""

from legato.compat.aliases import install, is_installed, uninstall

install()

__all__ = ["install", "is_installed", "uninstall"]
