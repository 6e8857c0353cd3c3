"""2. Config load + 100 lookups: dockercreds against docker-py (``docker.auth``).

Equal work on both sides, timed in-process with ``time.perf_counter``:

* read and parse the same ``config.json`` from disk,
* then 100 lookups by registry host, in a fixed shuffled order, for two workloads:
  ``hits`` (every lookup finds an entry) and ``mixed`` (75 hits, 25 misses).

dockercreds through the public API: ``dockercreds.load_config(path)`` +
``dockercreds.get_registry_credentials(host, config=cfg)`` (normalizes the host, builds
the key index on first use, decodes the entries it returns, returns ``Credentials``).
docker-py: ``docker.auth.load_config(path)`` + ``docker.auth.resolve_authconfig(cfg, host)``.
The floor: ``json.loads`` of the same file read from disk (nothing can be faster than
reading the JSON).

Configs have 10, 1,000 and 10,000 entries, with host keys (``hostN.example.com``) and
with URL-form keys (``https://hostN.example.com/v2/``, as old ``docker login`` wrote them);
docker-py finds a URL-form key (and any miss) only by a linear scan of every key.

Targets (issue 12): at least 2x faster than docker-py in every cell, 10x at 1,000 URL-form
keys, and within 2x of the floor at 1,000 and 10,000 entries.
"""

from __future__ import annotations

import base64
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, List, Optional, Tuple

from .common import Options, Row, SectionResult, fmt_ratio, fmt_time, median, rotated

SIZES = (10, 1_000, 10_000)
FORMS = ("host", "url")
WORKLOADS = ("hits", "mixed")
LOOKUPS = 100
HIT_SHARE = 0.75
#: ours at least this many times faster than docker-py (``(form, size)`` overrides)
SPEEDUP = 2.0
SPEEDUP_AT = {("url", 1_000): 10.0}
#: ours at most this many times the floor, at these sizes
FLOOR_FACTOR = 2.0
FLOOR_SIZES = (1_000, 10_000)
MIN_ROUNDS = 5


def key_for(i: int, form: str) -> str:
    host = f"host{i}.example.com"
    return host if form == "host" else f"https://{host}/v2/"


def write_config(directory: Path, size: int, form: str) -> Path:
    auths = {}
    for i in range(size):
        auth = base64.b64encode(f"user{i}:secret-{i:06d}".encode()).decode()
        auths[key_for(i, form)] = {"auth": auth}
    path = directory / f"config-{form}-{size}.json"
    path.write_text(json.dumps({"auths": auths}, indent="\t") + "\n")
    return path


def lookups(size: int, seed: int = 7, workload: str = "mixed") -> List[Tuple[str, bool]]:
    """100 (host, expected hit) pairs over the whole file: all hits, or 75 hits + 25 misses."""
    rnd = random.Random(seed * 1_000_003 + size)
    hits = LOOKUPS if workload == "hits" else int(LOOKUPS * HIT_SHARE)
    out = [(f"host{rnd.randrange(size)}.example.com", True) for _ in range(hits)]
    out += [(f"missing{j}.example.org", False) for j in range(LOOKUPS - hits)]
    rnd.shuffle(out)
    return out


def ours_fn(path: Path, hosts: List[str]) -> Callable[[], Tuple[float, int]]:
    import dockercreds

    load_config = dockercreds.load_config
    get_registry_credentials = dockercreds.get_registry_credentials

    def run() -> Tuple[float, int]:
        start = time.perf_counter()
        cfg = load_config(path)
        found = 0
        for host in hosts:
            if get_registry_credentials(host, config=cfg) is not None:
                found += 1
        return time.perf_counter() - start, found

    return run


def peer_fn(path: Path, hosts: List[str]) -> Callable[[], Tuple[float, int]]:
    import docker.auth

    def run() -> Tuple[float, int]:
        start = time.perf_counter()
        cfg = docker.auth.load_config(config_path=str(path))
        found = 0
        for host in hosts:
            if docker.auth.resolve_authconfig(cfg, host) is not None:
                found += 1
        return time.perf_counter() - start, found

    return run


def floor_fn(path: Path) -> Callable[[], float]:
    """Read the file and ``json.loads`` it: the least any reader of it can do."""

    def run() -> float:
        start = time.perf_counter()
        with open(path, "rb") as f:
            data = json.loads(f.read())
        seconds = time.perf_counter() - start
        del data  # freed outside the timer, as the other two free their configs
        return seconds

    return run


def _checked(fn: Callable[[], Tuple[float, int]], expect: int, who: str) -> Callable[[], float]:
    def run() -> float:
        seconds, found = fn()
        if found != expect:
            raise AssertionError(f"{who}: {found} hits, expected {expect}")
        return seconds

    return run


def target_for(form: str, size: int) -> Tuple[float, Optional[float]]:
    """(least speed-up over docker-py, most times the floor or None) for a cell."""
    speedup = SPEEDUP_AT.get((form, size), SPEEDUP)
    return speedup, (FLOOR_FACTOR if size in FLOOR_SIZES else None)


def judge(form: str, size: int, ours: float, peer: float, floor: float) -> Tuple[str, bool]:
    """(target text, met) for one cell's medians."""
    speedup, factor = target_for(form, size)
    text = f">= {speedup:g}x faster"
    ok = peer / ours >= speedup
    if factor is not None:
        text += f", <= {factor:g}x floor"
        ok = ok and ours <= factor * floor
    return text, ok


def run(opts: Options) -> SectionResult:
    res = SectionResult("config", "2. Config load + 100 lookups")
    try:
        import docker  # noqa: F401
    except ImportError:
        res.rows.append(
            Row("config", "docker-py", "", note="skipped: pip install docker (bench extra)")
        )
        return res
    # small cells take many rounds (a shared machine's noise averages out), large ones
    # stop at the time budget after MIN_ROUNDS
    rounds = opts.rounds(501, 5)
    budget = 0.5 if opts.quick else 3.0
    with tempfile.TemporaryDirectory(prefix="dcbench-") as tmp:
        for form in FORMS:
            for size in SIZES:
                path = write_config(Path(tmp), size, form)
                for workload in WORKLOADS:
                    res.rows.append(_cell(path, form, size, workload, rounds, budget))
    res.notes.append(
        "load from file + 100 lookups by host; hits: every lookup finds an entry, mixed: 75"
        " hits and 25 misses; docker-py " + _docker_version() + ": load_config +"
        " resolve_authconfig; dockercreds: dockercreds.load_config(path) +"
        " get_registry_credentials(host, config=cfg); floor: json.loads of the file read"
        " from disk, (x) = dockercreds' time over it. Medians of rotating runs in one"
        " process."
    )
    return res


def _cell(path: Path, form: str, size: int, workload: str, rounds: int, budget: float) -> Row:
    pairs = lookups(size, workload=workload)
    hosts = [h for h, _ in pairs]
    expect = sum(1 for _, hit in pairs if hit)
    ours = _checked(ours_fn(path, hosts), expect, "dockercreds")
    peer = _checked(peer_fn(path, hosts), expect, "docker-py")
    floor = floor_fn(path)
    for fn in (ours, peer, floor):  # warm-up (imports, page cache)
        fn()
    a, b, c = rotated([ours, peer, floor], rounds, budget=budget, min_rounds=MIN_ROUNDS)
    mo, mp, mf = median(a), median(b), median(c)
    target, ok = judge(form, size, mo, mp, mf)
    label = "host keys" if form == "host" else "URL-form keys"
    return Row(
        "config",
        f"{size:,} {label}, {workload} (n={len(a)})",
        fmt_time(mo),
        fmt_time(mp),
        fmt_ratio(mo, mp),
        target,
        ok,
        floor=f"{fmt_time(mf)} (x{mo / mf:.2f})",
    )


def _docker_version() -> str:
    import docker

    version: Any = getattr(docker, "__version__", "?")
    return str(version)
