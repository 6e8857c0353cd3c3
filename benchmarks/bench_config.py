"""2. Config load + 100 lookups: dockercreds against docker-py (``docker.auth``).

Equal work on both sides, timed in-process with ``time.perf_counter``:

* read and parse the same ``config.json`` from disk (decoding every ``auth`` field),
* then 100 lookups by registry host, 75 hits and 25 misses in a fixed shuffled order.

dockercreds: ``config.load_file`` + ``resolver.get_registry_credentials(host, config=cfg)``
(which normalizes the host, builds the key index once, and returns ``Credentials``).
docker-py: ``docker.auth.load_config(path)`` + ``docker.auth.resolve_authconfig(cfg, host)``.

Configs have 10, 1,000 and 10,000 entries, with host keys (``hostN.example.com``) and
with URL-form keys (``https://hostN.example.com/v2/``, as old ``docker login`` wrote them);
docker-py finds a URL-form key (and any miss) only by a linear scan of every key.
"""

from __future__ import annotations

import base64
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, List, Tuple

from .common import Options, Row, SectionResult, fmt_ratio, fmt_time, median, paired

SIZES = (10, 1_000, 10_000)
FORMS = ("host", "url")
LOOKUPS = 100
HIT_SHARE = 0.75


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


def lookups(size: int, seed: int = 7) -> List[Tuple[str, bool]]:
    """100 (host, expected hit) pairs: 75 hits over the whole file, 25 misses."""
    rnd = random.Random(seed * 1_000_003 + size)
    hits = int(LOOKUPS * HIT_SHARE)
    out = [(f"host{rnd.randrange(size)}.example.com", True) for _ in range(hits)]
    out += [(f"missing{j}.example.org", False) for j in range(LOOKUPS - hits)]
    rnd.shuffle(out)
    return out


def ours_fn(path: Path, hosts: List[str]) -> Callable[[], Tuple[float, int]]:
    from dockercreds.config import load_file
    from dockercreds.resolver import get_registry_credentials

    def run() -> Tuple[float, int]:
        start = time.perf_counter()
        cfg = load_file(path)
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


def lookups_only(path: Path, hosts: List[str]) -> Tuple[Callable[[], float], Callable[[], float]]:
    """(ours, docker-py): the 100 lookups on a config loaded beforehand."""
    import docker.auth

    from dockercreds.config import load_file
    from dockercreds.resolver import get_registry_credentials

    ours_cfg = load_file(path)
    ours_cfg.index  # noqa: B018 - built once, like docker-py's parsed dict
    peer_cfg = docker.auth.load_config(config_path=str(path))

    def ours() -> float:
        start = time.perf_counter()
        for host in hosts:
            get_registry_credentials(host, config=ours_cfg)
        return time.perf_counter() - start

    def peer() -> float:
        start = time.perf_counter()
        for host in hosts:
            docker.auth.resolve_authconfig(peer_cfg, host)
        return time.perf_counter() - start

    return ours, peer


def _checked(fn: Callable[[], Tuple[float, int]], expect: int, who: str) -> Callable[[], float]:
    def run() -> float:
        seconds, found = fn()
        if found != expect:
            raise AssertionError(f"{who}: {found} hits, expected {expect}")
        return seconds

    return run


def run(opts: Options) -> SectionResult:
    res = SectionResult("config", "2. Config load + 100 lookups")
    try:
        import docker  # noqa: F401
    except ImportError:
        res.rows.append(
            Row("config", "docker-py", "", note="skipped: pip install docker (bench extra)")
        )
        return res
    rounds = opts.rounds(21, 5)
    budget = 4.0 if opts.quick else 12.0
    with tempfile.TemporaryDirectory(prefix="dcbench-") as tmp:
        for form in FORMS:
            for size in SIZES:
                path = write_config(Path(tmp), size, form)
                pairs = lookups(size)
                hosts = [h for h, _ in pairs]
                expect = sum(1 for _, hit in pairs if hit)
                ours = _checked(ours_fn(path, hosts), expect, "dockercreds")
                peer = _checked(peer_fn(path, hosts), expect, "docker-py")
                ours()  # warm-up (imports, page cache)
                peer()
                a, b = paired(ours, peer, rounds, budget=budget)
                mo, mp = median(a), median(b)
                label = "host keys" if form == "host" else "URL-form keys"
                if form == "url" and size == 1_000:
                    target, ok = ">= 10x faster", mp / mo >= 10
                else:
                    target, ok = "not slower", mo <= mp
                res.rows.append(
                    Row(
                        "config",
                        f"{size:,} {label} (n={len(a)})",
                        fmt_time(mo),
                        fmt_time(mp),
                        fmt_ratio(mo, mp),
                        target,
                        ok,
                    )
                )
                if form == "url" and size == 1_000:
                    la, lb = paired(*lookups_only(path, hosts), rounds, budget=budget)
                    res.rows.append(
                        Row(
                            "config",
                            f"{size:,} {label}: the 100 lookups alone, config loaded"
                            f" (n={len(la)})",
                            fmt_time(median(la)),
                            fmt_time(median(lb)),
                            fmt_ratio(median(la), median(lb)),
                        )
                    )
    res.notes.append(
        "load from file + 100 lookups by host (75 hits, 25 misses); docker-py "
        + _docker_version()
        + ": load_config + resolve_authconfig; dockercreds: config.load_file"
        " + get_registry_credentials(host, config=cfg). Medians of alternating runs."
    )
    return res


def _docker_version() -> str:
    import docker

    version: Any = getattr(docker, "__version__", "?")
    return str(version)
