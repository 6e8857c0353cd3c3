"""The one rule for user-given timeouts (dockercreds.timeouts)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockercreds.timeouts import MAX_SECONDS, is_timeout

VALID = [0.001, 1, 30.0, 50, MAX_SECONDS]
# inf, 1e12 and 1e400 overflow in a socket, thread or timer wait (OverflowError)
INVALID = [0, 0.0, -1, -0.5, float("nan"), float("inf"), -float("inf"), 1e12, 1e400,
           MAX_SECONDS + 0.5, True, False, None, "30", b"30"]


@pytest.mark.parametrize("value", VALID)
def test_valid(value: float) -> None:
    assert is_timeout(value)


@pytest.mark.parametrize("value", INVALID)
def test_invalid(value: Any) -> None:
    assert not is_timeout(value)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_every_accepted_timeout_can_be_waited_for(seconds: float) -> None:
    """What the rule lets through, the OS can wait for: a thread wait and a socket."""
    import socket
    import threading

    if not is_timeout(seconds):
        return
    threading.Event().wait(min(seconds, 0.0))  # the wait's conversion, without waiting
    with socket.socket() as s:
        s.settimeout(seconds)
    assert seconds <= threading.TIMEOUT_MAX
