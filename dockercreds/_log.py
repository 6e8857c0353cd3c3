"""Standard :mod:`logging` for dockercreds, without paying for its import.

Every module logs to ``logging.getLogger(__name__)`` (children of ``"dockercreds"``), at
DEBUG, and the library configures nothing but a :class:`logging.NullHandler` on
``"dockercreds"``. :func:`debug_logger` never imports :mod:`logging` itself: when no one
has imported it, no one can have configured a handler, so there is nothing to log to and
a lookup costs one dict probe. Callers build messages only when a logger is returned.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from logging import Logger
    from typing import Dict, Optional

__all__ = ["ROOT", "debug_logger"]

ROOT = "dockercreds"
_LOGGERS: Dict[str, Logger] = {}


def debug_logger(name: str) -> Optional[Logger]:
    """The logger ``name`` when it would emit DEBUG records, else None."""
    logging = sys.modules.get("logging")
    if logging is None:
        return None
    logger = _LOGGERS.get(name)
    if logger is None:
        root = logging.getLogger(ROOT)
        if not any(isinstance(h, logging.NullHandler) for h in root.handlers):
            root.addHandler(logging.NullHandler())
        logger = _LOGGERS[name] = logging.getLogger(name)
    return logger if logger.isEnabledFor(logging.DEBUG) else None
