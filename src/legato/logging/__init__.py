"""Run loggers and legato's logging setup.

``get_run_logger()`` inside a flow or task run returns a logger whose records
carry the run's ids and names; they are printed on the console and recorded
with the run. ``get_logger(name)`` returns a plain logger under ``legato``.
"""

from legato.logging.loggers import LoggingAdapter, get_logger, get_run_logger

__all__ = ["LoggingAdapter", "get_logger", "get_run_logger"]
