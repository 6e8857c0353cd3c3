"""Timeouts a user gives (flags, environment, keyword arguments): one rule for all.

A timeout is a finite number of seconds above 0 and at most a day. The upper bound is
what the OS can wait for: ``inf``, ``1e12`` or ``1e400`` would reach a socket, a thread
wait or a timer and overflow there (OverflowError), far from the value that caused it.
"""

from __future__ import annotations

import math

__all__ = ["MAX_SECONDS", "RULE", "is_timeout"]

#: The longest timeout accepted, in seconds (one day).
MAX_SECONDS = 86_400.0

#: What a valid timeout is, for messages.
RULE = "a positive number of seconds, at most 86400 (one day)"


def is_timeout(seconds: object) -> bool:
    """``seconds`` is a number (not a bool) that is a valid timeout."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        return False
    return math.isfinite(seconds) and 0 < seconds <= MAX_SECONDS
