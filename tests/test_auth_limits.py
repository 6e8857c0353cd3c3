"""dockercreds.auth_limits: deadlines, the body cap and the typed errors of both drivers."""

from __future__ import annotations

import socket
import time
from typing import List, Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dockercreds.auth_limits import (
    CHUNK,
    BodyCap,
    failure,
    network_error,
    remaining,
    timeout_error,
)
from dockercreds.auth_steps import MAX_TOKEN_BODY, Fetch
from dockercreds.errors import NetworkError, TokenError

PURPOSE = "token request for registry quay.io to https://auth.example.com/token"
FAR = 10_000.0  # seconds: a deadline no test reaches


def step(
    deadline: Optional[float] = None,
    *,
    url: str = "https://auth.example.com/token",
    timeout: float = 0.0,
) -> Fetch:
    return Fetch("GET", url, deadline=deadline, purpose=PURPOSE, timeout=timeout)


def future() -> float:
    return time.monotonic() + FAR


def past() -> float:
    return time.monotonic() - 1.0


def test_chunk_size() -> None:
    assert CHUNK == 65536


@pytest.mark.parametrize(
    ("timeout", "expected"),
    [
        (0.0, f"{PURPOSE} failed: timed out: no complete answer within the token timeout;"
              " the server is too slow or sends too little"),
        (30.0, f"{PURPOSE} failed: timed out: no complete answer within the token timeout"
               " (30 s); the server is too slow or sends too little"),
        (2.5, f"{PURPOSE} failed: timed out: no complete answer within the token timeout"
              " (2.5 s); the server is too slow or sends too little"),
    ],
)
def test_timeout_error(timeout: float, expected: str) -> None:
    error = timeout_error(step(timeout=timeout))
    assert isinstance(error, TokenError)
    assert str(error) == expected


# ---------------------------------------------------------------- remaining


@pytest.mark.parametrize("timeout", [None, 0.5, 7.0])
def test_remaining_without_deadline_is_the_timeout(timeout: Optional[float]) -> None:
    assert remaining(step(None), timeout) == timeout


@pytest.mark.parametrize("timeout", [0.5, 7.0])
def test_remaining_is_capped_by_the_timeout(timeout: float) -> None:
    assert remaining(step(future()), timeout) == timeout


def test_remaining_is_the_time_left() -> None:
    before = time.monotonic()
    left = remaining(step(before + FAR))
    assert left is not None
    assert FAR - 60 < left <= FAR


def test_remaining_time_left_below_the_timeout() -> None:
    left = remaining(step(time.monotonic() + 30.0), 600.0)
    assert left is not None
    assert 0 < left <= 30.0


@pytest.mark.parametrize("timeout", [None, 5.0])
def test_remaining_past_the_deadline(timeout: Optional[float]) -> None:
    with pytest.raises(TokenError, match=r"^token request for registry quay\.io .* timed out"):
        remaining(step(past(), timeout=5.0), timeout)


# ---------------------------------------------------------------- network errors


@pytest.mark.parametrize(
    ("url", "exc", "expected"),
    [
        (
            "https://Auth.Example.COM:8443/token?x=1",
            ConnectionRefusedError(111, "Connection refused"),
            f"cannot reach auth.example.com:8443: connection refused ({PURPOSE})",
        ),
        (
            "https://user:pw@auth.example.com/token",
            socket.gaierror(-2, "Name or service not known"),
            f"cannot reach auth.example.com: name resolution failed ({PURPOSE})",
        ),
        (
            "https://[::1]:5000/token",
            ConnectionResetError(104, "reset"),
            f"cannot reach [::1]:5000: connection reset by the server ({PURPOSE})",
        ),
        (
            "http://[::1/token",  # does not parse
            ConnectionRefusedError(111, "Connection refused"),
            f"cannot reach the server: connection refused ({PURPOSE})",
        ),
    ],
)
def test_network_error(url: str, exc: BaseException, expected: str) -> None:
    error = network_error(step(url=url), exc)
    assert isinstance(error, NetworkError)
    assert str(error) == expected
    assert "pw" not in str(error)


@pytest.mark.parametrize(
    ("deadline", "kind"),
    [
        (None, NetworkError),
        (FAR, NetworkError),  # relative to now
        (-1.0, TokenError),  # passed: the failure is the timeout
    ],
)
def test_failure(deadline: Optional[float], kind: type) -> None:
    when = None if deadline is None else time.monotonic() + deadline
    error = failure(step(when, timeout=5.0), TimeoutError("read timed out"))
    assert type(error) is kind
    if kind is TokenError:
        assert "(5 s)" in str(error)
    else:
        assert str(error) == f"cannot reach auth.example.com: timed out ({PURPOSE})"


# ---------------------------------------------------------------- body cap


def test_body_cap_collects_chunks() -> None:
    cap = BodyCap(step(future()))
    assert cap.body() == b""
    for chunk in (b'{"tok', b"", b'en": "T"}'):
        cap.add(chunk)
    assert cap.body() == b'{"token": "T"}'
    assert isinstance(cap.body(), bytes)


def test_body_cap_allows_exactly_the_limit() -> None:
    cap = BodyCap(step())
    cap.add(b"x" * (MAX_TOKEN_BODY - 1))
    cap.add(b"x")
    assert len(cap.body()) == MAX_TOKEN_BODY


@pytest.mark.parametrize("chunks", [[MAX_TOKEN_BODY + 1], [MAX_TOKEN_BODY, 1], [CHUNK] * 17])
def test_body_cap_refuses_more(chunks: List[int]) -> None:
    cap = BodyCap(step())
    with pytest.raises(TokenError) as info:
        for size in chunks:
            cap.add(b"x" * size)
    assert str(info.value) == (
        f"{PURPOSE} failed: the answer is larger than 1024 KiB, more than any token response"
    )


def test_body_cap_past_the_deadline() -> None:
    cap = BodyCap(step(past()))
    with pytest.raises(TokenError, match="timed out"):
        cap.add(b"{}")


@settings(max_examples=50, deadline=None)
@given(st.lists(st.binary(max_size=64), max_size=20))
def test_body_cap_is_the_concatenation(chunks: List[bytes]) -> None:
    cap = BodyCap(step(future()))
    for chunk in chunks:
        cap.add(chunk)
    assert cap.body() == b"".join(chunks)
