"""dockercreds.helper_cache: helper answers kept ``ttl`` seconds, and who drops them."""

from __future__ import annotations

import logging
import math
from typing import List, Optional

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dockercreds import helper_cache
from dockercreds.credentials import Credentials
from dockercreds.errors import ConfigError, InvalidArgument
from dockercreds.helper_cache import (
    DEFAULT_TTL,
    TTL_ENV,
    HelperCache,
    cache_for,
    current,
    parse_ttl,
    using,
)

ALICE = Credentials("quay.io", username="alice", password="Pw-31337", source="helper:ecr-login")
BOB = Credentials("quay.io", username="bob", password="Pw-42", source="helper:ecr-login")


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Config:
    """Stands for a loaded config object (anything that can be weakly referenced)."""


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(autouse=True)
def no_env_ttl(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TTL_ENV, raising=False)


def test_constants() -> None:
    assert TTL_ENV == "DOCKERCREDS_HELPER_CACHE_TTL"
    assert DEFAULT_TTL == 60.0


# --------------------------------------------------------------------------- parse_ttl


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("60", 60.0),
        ("0", 0.0),
        ("0.0", 0.0),
        (" 1.5 ", 1.5),
        ("\t30\n", 30.0),
        ("1e3", 1000.0),
        ("+2", 2.0),
        (".25", 0.25),
    ],
)
def test_parse_ttl(value: str, seconds: float) -> None:
    assert parse_ttl(value) == seconds


@pytest.mark.parametrize(
    "value", ["-1", "-0.5", "nan", "NaN", "inf", "-inf", "infinity", "1e400", "abc", "", " ",
              "1s", "60 s", "1,5", "0x10"]
)
def test_parse_ttl_bad(value: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_ttl(value)
    assert str(info.value) == (
        f"DOCKERCREDS_HELPER_CACHE_TTL={value!r} is not a valid time: set it to a number of"
        " seconds (0 disables the cache), or unset it for the default of 60"
    )


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=0, allow_nan=False, allow_infinity=False))
def test_parse_ttl_reads_what_python_writes(seconds: float) -> None:
    assert parse_ttl(repr(seconds)) == seconds
    assert parse_ttl(f"  {seconds!r} ") == seconds


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=12))
@example("-0")
@example("1_0")
def test_parse_ttl_any_text(value: str) -> None:
    try:
        seconds = parse_ttl(value)
    except ConfigError as exc:
        assert repr(value) in str(exc)
    else:
        assert math.isfinite(seconds)
        assert seconds >= 0
        assert seconds == float(value.strip())


# --------------------------------------------------------------------------- ttl of a cache


@pytest.mark.parametrize(
    ("env", "ttl"),
    [(None, 60.0), ("", 60.0), ("   ", 60.0), ("5", 5.0), (" 2.5 ", 2.5), ("0", 0.0)],
)
def test_ttl_from_environment(
    monkeypatch: pytest.MonkeyPatch, env: Optional[str], ttl: float
) -> None:
    if env is not None:
        monkeypatch.setenv(TTL_ENV, env)
    assert HelperCache().ttl == ttl
    assert HelperCache(None).ttl == ttl


def test_bad_ttl_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TTL_ENV, "soon")
    with pytest.raises(ConfigError, match=r"DOCKERCREDS_HELPER_CACHE_TTL='soon'"):
        HelperCache()
    assert HelperCache(3).ttl == 3.0  # an explicit ttl does not read it


def test_environment_zero_disables(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> None:
    monkeypatch.setenv(TTL_ENV, "0")
    cache = HelperCache(clock=clock)
    cache.put("ecr-login", "quay.io", ALICE)
    assert cache.get("ecr-login", "quay.io") == (False, None)


@pytest.mark.parametrize("ttl", [-1.0, -0.001, math.nan, math.inf, -math.inf])
def test_bad_ttl_argument(ttl: float) -> None:
    with pytest.raises(InvalidArgument) as info:
        HelperCache(ttl)
    assert str(info.value) == f"helper_cache_ttl must be a number of seconds >= 0, not {ttl!r}"


@pytest.mark.parametrize(("ttl", "stored"), [(0, 0.0), (5, 5.0), (0.5, 0.5)])
def test_ttl_is_a_float(ttl: float, stored: float) -> None:
    cache = HelperCache(ttl)
    assert cache.ttl == stored
    assert type(cache.ttl) is float


# --------------------------------------------------------------------------- get and put


def test_unknown_is_a_miss(clock: Clock) -> None:
    assert HelperCache(60, clock=clock).get("ecr-login", "quay.io") == (False, None)


@pytest.mark.parametrize(
    ("later", "kept"),
    [(0.0, True), (9.999, True), (10.0, False), (10.001, False), (1e6, False)],
)
def test_answer_expires_after_ttl(clock: Clock, later: float, kept: bool) -> None:
    cache = HelperCache(10, clock=clock)
    cache.put("ecr-login", "quay.io", ALICE)
    clock.now += later
    assert cache.get("ecr-login", "quay.io") == ((True, ALICE) if kept else (False, None))


@pytest.mark.parametrize(("later", "kept"), [(59.9, True), (60.0, False)])
def test_not_found_is_kept_too(clock: Clock, later: float, kept: bool) -> None:
    cache = HelperCache(60, clock=clock)
    cache.put("ecr-login", "quay.io", None)
    assert cache.get("ecr-login", "quay.io") == (True, None)
    clock.now += later
    assert cache.get("ecr-login", "quay.io") == (kept, None)


def test_expired_answer_is_dropped(clock: Clock) -> None:
    cache = HelperCache(10, clock=clock)
    cache.put("ecr-login", "quay.io", ALICE)
    assert repr(cache) == "<HelperCache ttl=10s entries=1>"
    clock.now += 10
    assert cache.get("ecr-login", "quay.io") == (False, None)
    assert repr(cache) == "<HelperCache ttl=10s entries=0>"
    clock.now -= 5  # even if the clock went back, it is gone
    assert cache.get("ecr-login", "quay.io") == (False, None)


def test_ttl_zero_keeps_nothing(clock: Clock) -> None:
    cache = HelperCache(0, clock=clock)
    cache.put("ecr-login", "quay.io", ALICE)
    cache.put("ecr-login", "r.example.com", None)
    assert repr(cache) == "<HelperCache ttl=0s entries=0>"  # not even kept until expiry
    assert cache.get("ecr-login", "quay.io") == (False, None)
    assert cache.get("ecr-login", "r.example.com") == (False, None)
    assert repr(cache) == "<HelperCache ttl=0s entries=0>"


def test_put_replaces_and_restarts_the_ttl(clock: Clock) -> None:
    cache = HelperCache(10, clock=clock)
    cache.put("ecr-login", "quay.io", ALICE)
    clock.now += 8
    cache.put("ecr-login", "quay.io", BOB)
    clock.now += 8  # 16 s after the first answer, 8 after the second
    assert cache.get("ecr-login", "quay.io") == (True, BOB)
    clock.now += 2
    assert cache.get("ecr-login", "quay.io") == (False, None)


def test_answers_per_helper_and_server(clock: Clock) -> None:
    cache = HelperCache(60, clock=clock)
    cache.put("ecr-login", "quay.io", ALICE)
    cache.put("pass", "quay.io", BOB)
    cache.put("ecr-login", "r.example.com", None)
    assert cache.get("ecr-login", "quay.io") == (True, ALICE)
    assert cache.get("pass", "quay.io") == (True, BOB)
    assert cache.get("ecr-login", "r.example.com") == (True, None)
    assert cache.get("pass", "r.example.com") == (False, None)
    assert cache.get("osxkeychain", "quay.io") == (False, None)


@pytest.mark.parametrize(
    ("ttl", "expected"),
    [(60, "<HelperCache ttl=60s entries=0>"), (1.5, "<HelperCache ttl=1.5s entries=0>")],
)
def test_repr(ttl: float, expected: str) -> None:
    assert repr(HelperCache(ttl)) == expected


def test_hit_is_logged_without_the_secret(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    cache = HelperCache(60, clock=clock)
    cache.put("ecr-login", "quay.io", ALICE)
    cache.put("ecr-login", "r.example.com", None)
    with caplog.at_level(logging.DEBUG, logger="dockercreds"):
        cache.get("ecr-login", "quay.io")
        cache.get("ecr-login", "r.example.com")
        cache.get("ecr-login", "unknown.example.com")  # a miss logs nothing
    assert [(r.name, r.getMessage()) for r in caplog.records] == [
        (
            "dockercreds.helper_cache",
            "docker-credential-ecr-login get 'quay.io': cached answer (username 'alice')",
        ),
        (
            "dockercreds.helper_cache",
            "docker-credential-ecr-login get 'r.example.com': cached answer (not found)",
        ),
    ]
    assert "Pw-31337" not in caplog.text


# --------------------------------------------------------------------------- invalidate

SERVERS = [
    "quay.io",
    "https://quay.io",
    "quay.io/org",
    "https://index.docker.io/v1/",
    "r.example.com:5000",
    "not a host!!",
]


@pytest.mark.parametrize(
    ("registry", "left"),
    [
        ("quay.io", ["https://index.docker.io/v1/", "not a host!!", "r.example.com:5000"]),
        (
            "https://QUAY.io/v2/",  # any spelling
            ["https://index.docker.io/v1/", "not a host!!", "r.example.com:5000"],
        ),
        ("docker.io", ["https://quay.io", "not a host!!", "quay.io", "quay.io/org",
                       "r.example.com:5000"]),
        ("index.docker.io", ["https://quay.io", "not a host!!", "quay.io", "quay.io/org",
                             "r.example.com:5000"]),
        ("r.example.com:5000", ["https://index.docker.io/v1/", "https://quay.io",
                                "not a host!!", "quay.io", "quay.io/org"]),
        ("r.example.com", SERVERS),  # another port is another registry
        ("not a host!!", ["https://index.docker.io/v1/", "https://quay.io", "quay.io",
                          "quay.io/org", "r.example.com:5000"]),
        ("elsewhere.example.com", SERVERS),
        (None, []),
    ],
)
def test_invalidate_registry(clock: Clock, registry: Optional[str], left: List[str]) -> None:
    cache = HelperCache(60, clock=clock)
    for server in SERVERS:
        cache.put("ecr-login", server, ALICE)
    cache.invalidate(registry)
    kept = [s for s in SERVERS if cache.get("ecr-login", s)[0]]
    assert sorted(kept) == sorted(left)


def test_invalidate_one_helper(clock: Clock) -> None:
    cache = HelperCache(60, clock=clock)
    for helper in ("ecr-login", "pass"):
        cache.put(helper, "quay.io", ALICE)
        cache.put(helper, "r.example.com", None)
    cache.invalidate("quay.io", helper="ecr-login")
    assert cache.get("ecr-login", "quay.io") == (False, None)
    assert cache.get("ecr-login", "r.example.com") == (True, None)
    assert cache.get("pass", "quay.io") == (True, ALICE)
    cache.invalidate(helper="pass")
    assert cache.get("pass", "quay.io") == (False, None)
    assert cache.get("pass", "r.example.com") == (False, None)
    assert cache.get("ecr-login", "r.example.com") == (True, None)


def test_clear(clock: Clock) -> None:
    cache = HelperCache(60, clock=clock)
    cache.put("ecr-login", "quay.io", ALICE)
    cache.put("pass", "r.example.com", None)
    cache.clear()
    assert repr(cache) == "<HelperCache ttl=60s entries=0>"
    assert cache.get("ecr-login", "quay.io") == (False, None)


def test_module_invalidate_reaches_every_cache(clock: Clock) -> None:
    first, second = HelperCache(60, clock=clock), HelperCache(60, clock=clock)
    for cache in (first, second):
        cache.put("ecr-login", "quay.io", ALICE)
        cache.put("pass", "quay.io", BOB)
        cache.put("ecr-login", "r.example.com", None)
    helper_cache.invalidate("https://quay.io/", helper="pass")
    for cache in (first, second):
        assert cache.get("pass", "quay.io") == (False, None)
        assert cache.get("ecr-login", "quay.io") == (True, ALICE)
    helper_cache.invalidate("quay.io")
    for cache in (first, second):
        assert cache.get("ecr-login", "quay.io") == (False, None)
        assert cache.get("ecr-login", "r.example.com") == (True, None)
    helper_cache.invalidate()
    for cache in (first, second):
        assert cache.get("ecr-login", "r.example.com") == (False, None)


# --------------------------------------------------------------------------- which cache


def test_cache_for_one_per_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TTL_ENV, "7")
    one, two = Config(), Config()
    cache = cache_for(one)
    assert cache is cache_for(one)
    assert cache.ttl == 7.0
    assert cache_for(two) is not cache


def test_cache_for_with_ttl_replaces() -> None:
    config = Config()
    old = cache_for(config)
    new = cache_for(config, ttl=5)
    assert new is not old
    assert new.ttl == 5.0
    assert cache_for(config) is new
    newer = cache_for(config, ttl=5)  # a ttl always makes a new one
    assert newer is not new
    assert cache_for(config) is newer


def test_cache_for_bad_ttl() -> None:
    config = Config()
    kept = cache_for(config)
    with pytest.raises(InvalidArgument):
        cache_for(config, ttl=-1)
    assert cache_for(config) is kept


def test_using_and_current() -> None:
    assert current() is None
    outer, inner = HelperCache(60), HelperCache(30)
    with using(outer) as got:
        assert got is outer
        assert current() is outer
        with using(inner):
            assert current() is inner
        with using(None) as nothing:
            assert nothing is None
            assert current() is None
        assert current() is outer
    assert current() is None


def test_using_restores_after_an_error() -> None:
    cache = HelperCache(60)
    with pytest.raises(KeyError), using(cache):
        raise KeyError("boom")
    assert current() is None
