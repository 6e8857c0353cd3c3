"""Answers of external credential helpers, reused for a while (in memory only).

A build that resolves 100 images on 10 registries through ``docker-credential-ecr-login``
should run the helper 10 times, not 100. A :class:`HelperCache` keeps each answer of a
helper's ``get`` (credentials, and "not found" too) per (helper, server) for
``ttl`` seconds (default 60, ``DOCKERCREDS_HELPER_CACHE_TTL``; ``0`` disables). Errors
are not kept: the next lookup asks again. Nothing is ever written to disk.

Which cache a lookup uses (:func:`dockercreds.resolver.resolve`): the ``helper_cache=``
argument, else the one made current with :func:`using` (the ``dockercreds`` program
does this for one run), else the one of the loaded config object (:func:`cache_for`;
``load_config(helper_cache_ttl=...)`` sets its ttl). Lookups that load the config
files anew on every call (``config=None`` or a path) and have none of these ask the
helper every time.

Writers drop what they change: ``login``/``logout`` call :func:`invalidate` with the
registry, which clears it from every cache in the process.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
import weakref
from contextvars import ContextVar
from typing import Callable, Dict, Iterator, Optional, Tuple

from ._log import debug_logger
from .credentials import Credentials
from .errors import ConfigError, InvalidArgument

__all__ = [
    "DEFAULT_TTL",
    "TTL_ENV",
    "HelperCache",
    "cache_for",
    "current",
    "invalidate",
    "parse_ttl",
    "using",
]

TTL_ENV = "DOCKERCREDS_HELPER_CACHE_TTL"
DEFAULT_TTL = 60.0

_Entry = Tuple[float, Optional[Credentials]]  # (expiry on the clock, answer)

_LIVE: weakref.WeakSet[HelperCache] = weakref.WeakSet()
_LIVE_LOCK = threading.Lock()
_BY_CONFIG: weakref.WeakKeyDictionary[object, HelperCache] = weakref.WeakKeyDictionary()
_CURRENT: ContextVar[Optional[HelperCache]] = ContextVar("dockercreds_helper_cache", default=None)


def parse_ttl(value: str) -> float:
    """Seconds from a ``DOCKERCREDS_HELPER_CACHE_TTL`` value; :class:`ConfigError` if bad."""
    try:
        seconds = float(value.strip())
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise ConfigError(
            f"{TTL_ENV}={value!r} is not a valid time: set it to a number of seconds"
            f" (0 disables the cache), or unset it for the default of {DEFAULT_TTL:g}"
        )
    return seconds


def _ttl_from_env() -> float:
    value = os.environ.get(TTL_ENV, "")
    return parse_ttl(value) if value.strip() else DEFAULT_TTL


def _server_key(server: str) -> str:
    """What a helper is asked for ``server`` (any spelling of the registry), if it parses."""
    from .errors import InvalidRegistry
    from .registry import helper_server

    try:
        return helper_server(server)
    except InvalidRegistry:
        return server


class HelperCache:
    """Helper answers per (helper name, server), each kept ``ttl`` seconds (thread-safe).

    ``ttl``: seconds; None reads ``DOCKERCREDS_HELPER_CACHE_TTL`` (default 60); ``0``
    keeps nothing. ``clock``: a monotonic clock (tests).
    """

    def __init__(
        self, ttl: Optional[float] = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if ttl is None:
            ttl = _ttl_from_env()
        elif not (math.isfinite(ttl) and ttl >= 0):
            raise InvalidArgument(
                f"helper_cache_ttl must be a number of seconds >= 0, not {ttl!r}"
            )
        self.ttl = float(ttl)
        self._clock = clock
        self._lock = threading.Lock()
        self._answers: Dict[Tuple[str, str], _Entry] = {}
        with _LIVE_LOCK:
            _LIVE.add(self)

    def __repr__(self) -> str:
        return f"<HelperCache ttl={self.ttl:g}s entries={len(self._answers)}>"

    def get(self, helper: str, server: str) -> Tuple[bool, Optional[Credentials]]:
        """``(True, answer)`` when a fresh answer is kept (``None`` = not found)."""
        with self._lock:
            entry = self._answers.get((helper, server))
            if entry is None:
                return False, None
            if self._clock() >= entry[0]:
                del self._answers[(helper, server)]
                return False, None
        log = debug_logger(__name__)
        if log:
            found = "not found" if entry[1] is None else f"username {entry[1].username!r}"
            log.debug("docker-credential-%s get %r: cached answer (%s)", helper, server, found)
        return True, entry[1]

    def put(self, helper: str, server: str, answer: Optional[Credentials]) -> None:
        """Keep ``answer`` (None: "not found") of ``helper`` for ``server``."""
        if self.ttl <= 0:
            return
        with self._lock:
            self._answers[(helper, server)] = (self._clock() + self.ttl, answer)

    def invalidate(self, registry: Optional[str] = None, *, helper: Optional[str] = None) -> None:
        """Forget the answers for ``registry`` (any spelling: ``quay.io``,
        ``https://quay.io``, ``docker.io``), or all of them; only ``helper``'s if given."""
        wanted = None if registry is None else {registry, _server_key(registry)}
        with self._lock:
            for key in list(self._answers):
                if (helper is None or key[0] == helper) and (
                    wanted is None or key[1] in wanted or _server_key(key[1]) in wanted
                ):
                    del self._answers[key]

    def clear(self) -> None:
        """Forget every answer."""
        self.invalidate()


def invalidate(registry: Optional[str] = None, *, helper: Optional[str] = None) -> None:
    """Drop ``registry`` (or everything) from every :class:`HelperCache` in the process.

    ``login`` and ``logout`` call this after changing a store, so a cached answer never
    outlives a change made through this process.
    """
    with _LIVE_LOCK:
        caches = list(_LIVE)
    for cache in caches:
        cache.invalidate(registry, helper=helper)


def cache_for(config: object, *, ttl: Optional[float] = None) -> HelperCache:
    """The cache belonging to a loaded config object, made on first use.

    With ``ttl``, a new cache with that ttl replaces the config's cache.
    """
    with _LIVE_LOCK:
        cache = _BY_CONFIG.get(config)
    if cache is not None and ttl is None:
        return cache
    made = HelperCache(ttl)
    with _LIVE_LOCK:
        if ttl is None:
            return _BY_CONFIG.setdefault(config, made)  # another thread may have won
        _BY_CONFIG[config] = made
    return made


def current() -> Optional[HelperCache]:
    """The cache made current by :func:`using`, if any."""
    return _CURRENT.get()


@contextlib.contextmanager
def using(cache: Optional[HelperCache]) -> Iterator[Optional[HelperCache]]:
    """``with helper_cache.using(cache):`` the lookups in this context share ``cache``."""
    token = _CURRENT.set(cache)
    try:
        yield cache
    finally:
        _CURRENT.reset(token)
