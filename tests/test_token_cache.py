"""dockercreds.token_cache: tokens per key, expiry rules."""

from __future__ import annotations

from typing import Any

import pytest

from dockercreds.token_cache import (
    DEFAULT_EXPIRES_IN,
    EXPIRY_LEEWAY,
    Token,
    TokenCache,
    expiry,
    parse_time,
)

NOW = 1_000_000.0


@pytest.mark.parametrize(
    ("expires_in", "issued_at", "expected"),
    [
        (300, None, NOW + 300),
        (None, None, NOW + DEFAULT_EXPIRES_IN),
        (10, None, NOW + DEFAULT_EXPIRES_IN),  # never less than 60
        (True, None, NOW + DEFAULT_EXPIRES_IN),  # a bool is no number
        ("300", None, NOW + DEFAULT_EXPIRES_IN),
        (float("nan"), None, NOW + DEFAULT_EXPIRES_IN),
        (10**400, None, NOW + DEFAULT_EXPIRES_IN),  # too large for a float
        (300, "1970-01-12T13:46:30Z", NOW - 10 + 300),  # issued 10 s ago
        (300, "1970-01-12T13:47:30Z", NOW + 300),  # issued in the future: now
        (300, "not a time", NOW + 300),
        (300, "9999-12-31T23:59:59.999999999+99:00", NOW + 300),
    ],
)
def test_expiry(expires_in: Any, issued_at: Any, expected: float) -> None:
    assert expiry(NOW, expires_in, issued_at) == expected


def test_parse_time_nanoseconds() -> None:
    assert parse_time("1970-01-01T00:00:01.123456789Z") == pytest.approx(1.123456)
    assert parse_time(12) is None


def test_cache_fresh_put_forget() -> None:
    now = [NOW]
    cache = TokenCache(lambda: now[0])
    key = ("https://auth/t", "svc", ("repository:a:pull",))
    assert cache.fresh(key) is None
    cache.put(key, Token("T", NOW + 60))
    assert cache.fresh(key) == Token("T", NOW + 60)
    now[0] = NOW + 60 - EXPIRY_LEEWAY
    assert cache.fresh(key) is None  # in its last seconds
    cache.forget(key, "other")
    assert len(cache) == 1
    cache.forget(key, "T")
    assert len(cache) == 0
    assert cache.key_lock(key) is cache.key_lock(key)
