"""3. Reference parsing: ``dockercreds.reference`` against docker-image-py.

Both sides do the docker CLI's reading of a name (Go ``ParseNormalizedNamed``):
dockercreds ``reference.parse_normalized(s)``, docker-image-py
``reference.Reference.parse_normalized_named(s)``.

* Corpus: ~2,000 generated references (short names, user/repo, hosts with ports, IPv6
  hosts, tags, digests); only references both parsers accept, with the same result.
* Hostile inputs: long separator runs, ``[`` and ``:`` floods, ``"a"*24 + "!"``, 100 KB
  strings. Ours runs in-process (median of repeats per input, worst input reported);
  docker-image-py runs each input in a child process under a time cap, reported as
  ``>CAP`` when it does not finish.
"""

from __future__ import annotations

import contextlib
import json
import random
import subprocess
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from .common import ROOT, Options, Row, SectionResult, fmt_ratio, fmt_time, median, paired

WORST_TARGET = 5e-3  # seconds
HEX = "0123456789abcdef"


def corpus(size: int = 2_000, seed: int = 11) -> List[str]:
    """A deterministic mix of the reference shapes seen in the wild."""
    rnd = random.Random(seed)
    words = [
        "ubuntu", "nginx", "redis", "alpine", "postgres", "node", "python", "golang",
        "busybox", "traefik", "grafana", "prometheus", "my-app", "api_server", "web.front",
        "team", "platform", "infra", "ml", "data", "release", "tools", "base-images",
    ]
    hosts = [
        "quay.io", "ghcr.io", "gcr.io", "registry.gitlab.com", "docker.io", "index.docker.io",
        "localhost:5000", "registry.example.com:8443", "127.0.0.1:5000", "[::1]:5000",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com", "myregistry.azurecr.io",
        "harbor.internal.corp:443", "localhost",
    ]
    tags = ["latest", "1.25", "3.12-slim", "v2.8.2", "7-alpine", "sha-1a2b3c4", "2024.05.01"]

    def digest() -> str:
        return "sha256:" + "".join(rnd.choice(HEX) for _ in range(64))

    out: List[str] = []
    while len(out) < size:
        shape = rnd.randrange(6)
        path = "/".join(rnd.choice(words) for _ in range(rnd.choice((1, 1, 2, 2, 3))))
        if shape == 0:  # short official name
            name = rnd.choice(words)
        elif shape == 1:  # user/repo on Docker Hub
            name = f"{rnd.choice(words)}/{rnd.choice(words)}"
        else:  # with a registry host
            name = f"{rnd.choice(hosts)}/{path}"
        suffix = rnd.randrange(4)
        if suffix == 1:
            name += ":" + rnd.choice(tags)
        elif suffix == 2:
            name += "@" + digest()
        elif suffix == 3:
            name += ":" + rnd.choice(tags) + "@" + digest()
        out.append(name)
    return out


def hostile() -> List[Tuple[str, str]]:
    """(label, input) pairs that make backtracking parsers slow."""
    kb = 100_000
    return [
        ('"a" + "._-"*30 + "!"', "a" + "._-" * 30 + "!"),
        ('"a" + "._-"*33,000 (100 KB)', "a" + "._-" * 33_333),
        ('"a"*24 + "!"', "a" * 24 + "!"),
        ('"a" + "-"*100 KB + "!"', "a" + "-" * kb + "!"),
        ('"a" + "__"*50 KB + "!"', "a" + "__" * (kb // 2) + "!"),
        ('"a/"*50 KB + "!"', "a/" * (kb // 2) + "!"),
        ('"a."*50 KB + "/b!"', "a." * (kb // 2) + "/b!"),
        ('"x.io/" + "a-"*50 KB + "!"', "x.io/" + "a-" * (kb // 2) + "!"),
        ('"[" * 100 KB', "[" * kb),
        ('"[" + ":"*100 KB + "]/a"', "[" + ":" * kb + "]/a"),
        ('":" * 100 KB', ":" * kb),
        ('"a:" + ":"*100 KB', "a:" + ":" * kb),
        ('"a"*100 KB', "a" * kb),
        ('"a@sha256:" + "0"*100 KB', "a@sha256:" + "0" * kb),
        ('"a:" + "b"*100 KB', "a:" + "b" * kb),
        ('"localhost:" + "1"*100 KB + "/a"', "localhost:" + "1" * kb + "/a"),
    ]


def _ours() -> Callable[[str], Any]:
    from dockercreds.reference import parse_normalized

    return parse_normalized


def _theirs() -> Callable[[str], Any]:
    from docker_image import reference

    return reference.Reference.parse_normalized_named


def _agree(refs: List[str]) -> Tuple[List[str], int]:
    """References both parse to the same (name, tag, digest); count of the others."""
    ours, theirs = _ours(), _theirs()
    kept: List[str] = []
    dropped = 0
    for s in refs:
        try:
            a = ours(s)
            b = theirs(s)
        except Exception:
            dropped += 1
            continue
        if (a.name, a.tag, a.digest) == (b["name"], b["tag"], b["digest"]):
            kept.append(s)
        else:
            dropped += 1
    return kept, dropped


def _time_all(fn: Callable[[str], Any], refs: List[str]) -> Callable[[], float]:
    def run() -> float:
        start = time.perf_counter()
        for s in refs:
            fn(s)
        return time.perf_counter() - start

    return run


def _time_one(fn: Callable[[str], Any], s: str) -> float:
    start = time.perf_counter()
    with contextlib.suppress(Exception):  # an error is the expected outcome here
        fn(s)
    return time.perf_counter() - start


_CHILD = """
import json, sys, time
from docker_image import reference
s = sys.stdin.read()
start = time.perf_counter()
try:
    reference.Reference.parse_normalized_named(s)
    outcome = "accepted"
except Exception as exc:
    outcome = type(exc).__name__
print(json.dumps({"seconds": time.perf_counter() - start, "outcome": outcome}))
"""


def _theirs_capped(s: str, cap: float) -> Optional[float]:
    """docker-image-py on ``s`` in a child process; None when it exceeds ``cap`` seconds."""
    try:
        out = subprocess.run(
            [sys.executable, "-c", _CHILD],
            input=s,
            capture_output=True,
            text=True,
            timeout=cap + 2.0,  # + interpreter start-up
            cwd=ROOT,
            check=True,
        )
    except subprocess.TimeoutExpired:
        return None
    result: Dict[str, Any] = json.loads(out.stdout)
    seconds = float(result["seconds"])
    return None if seconds > cap else seconds


def run(opts: Options) -> SectionResult:
    res = SectionResult("reference", "3. Reference parsing")
    try:
        _theirs()
    except ImportError:
        res.rows.append(
            Row("reference", "docker-image-py", "", note="skipped: pip install docker-image-py")
        )
        return res
    refs, dropped = _agree(corpus())
    ours, theirs = _ours(), _theirs()
    a, b = paired(_time_all(ours, refs), _time_all(theirs, refs), opts.rounds(21, 5))
    mo, mp = median(a), median(b)
    res.rows.append(
        Row(
            "reference",
            f"corpus of {len(refs):,} references (n={len(a)})",
            fmt_time(mo),
            fmt_time(mp),
            fmt_ratio(mo, mp),
            "faster",
            mo < mp,
        )
    )
    cap = 3.0 if opts.quick else 10.0
    worst_ours: Tuple[float, str] = (0.0, "")
    worst_theirs: Tuple[float, str] = (0.0, "")
    blew_up: List[str] = []
    repeats = opts.rounds(7, 3)
    for label, s in hostile():
        t_ours = median([_time_one(ours, s) for _ in range(repeats)])
        worst_ours = max(worst_ours, (t_ours, label))
        t_theirs = _theirs_capped(s, cap)
        shown = f">{cap:.0f} s" if t_theirs is None else fmt_time(t_theirs)
        if t_theirs is None:
            blew_up.append(label)
            worst_theirs = (float("inf"), label)
        else:
            worst_theirs = max(worst_theirs, (t_theirs, label))
        if opts.verbose:
            res.rows.append(
                Row(
                    "reference",
                    f"hostile {label}",
                    fmt_time(t_ours),
                    shown,
                    fmt_ratio(t_ours, t_theirs) if t_theirs is not None else "",
                )
            )
    theirs_shown = (
        f">{cap:.0f} s" if worst_theirs[0] == float("inf") else fmt_time(worst_theirs[0])
    )
    res.rows.append(
        Row(
            "reference",
            f"worst of {len(hostile())} hostile inputs",
            f"{fmt_time(worst_ours[0])} ({worst_ours[1]})",
            f"{theirs_shown} ({worst_theirs[1]})",
            "",
            f"< {WORST_TARGET * 1e3:.0f} ms",
            worst_ours[0] < WORST_TARGET,
        )
    )
    res.notes.append(
        "parse_normalized vs docker-image-py Reference.parse_normalized_named;"
        f" corpus: references both accept with the same result ({dropped} of the generated"
        " ones left out); hostile inputs: docker-image-py in a child process capped at"
        f" {cap:.0f} s each"
        + (f"; over the cap: {', '.join(blew_up)}" if blew_up else "")
        + " (--verbose lists every input)."
    )
    return res
