"""Latency of docker-credential-keyring against the Go helpers, as a docker pull sees it.

Every credential lookup by the docker CLI is a fresh helper process, so what matters is
the wall time of one whole ``get`` (and of ``list``, which ``docker build`` calls).
This script starts a private Secret Service (gnome-keyring on its own D-Bus bus) and a
``pass`` store with the project's own test fixtures (tests/peers.py), stores the same
credential through each helper, then runs ROUNDS rounds; in each round every helper is
called once, in a shuffled order (paired samples under the same machine load). It prints
the medians and the ratios to docker-credential-secretservice, and exits 1 when a target
is missed: ``get`` <= 2.5x and ``list`` <= 1.5x the Go Secret Service helper (issue 12).

    .venv/bin/python benchmarks/helper_latency.py [--rounds 30] [--no-pass]

Our package's bytecode is compiled first (``compileall``), as ``pip install`` does; an
editable install run with PYTHONDONTWRITEBYTECODE=1 would otherwise recompile every call.
"""

from __future__ import annotations

import argparse
import compileall
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make ``tests`` importable
    sys.path.insert(0, str(ROOT))

from tests import peers  # noqa: E402 - after the sys.path change

SERVER = "127.0.0.1:5055"
USER = "benchuser"
SECRET = "bench-secret-value"  # noqa: S105 - a throwaway test value
TARGETS = {"get": 2.5, "list": 1.5}  # x the Go secretservice helper, for ours
OURS = "keyring (ours)"
GO_SS = "secretservice (Go)"
GO_PASS = "pass (Go)"  # noqa: S105 - a helper name

Samples = Dict[str, Dict[str, List[float]]]  # action -> helper -> seconds per call


class HelperFailed(RuntimeError):
    """A helper call exited non-zero; the message names the helper, action and output."""


@dataclass(frozen=True)
class Result:
    """One helper's latency for one action (seconds), and its ratio to :data:`GO_SS`."""

    action: str
    helper: str
    median: float
    p90: float
    ratio: float
    target: Optional[float] = None  # the ratio ours must not exceed; None for the others

    @property
    def missed(self) -> bool:
        return self.target is not None and self.ratio > self.target


def _call(cmd: List[str], action: str, stdin: bytes, env: Dict[str, str]) -> float:
    start = time.perf_counter()
    out = subprocess.run(
        [*cmd, action], input=stdin, capture_output=True, env=env, timeout=60, check=False
    )
    elapsed = time.perf_counter() - start
    if out.returncode != 0:
        raise HelperFailed(f"{cmd[0]} {action} failed ({out.returncode}): {out.stdout!r}")
    return elapsed


def _helpers(use_pass: bool) -> Dict[str, List[str]]:
    """Helper name -> command; our helper is next to this interpreter."""
    ours = str(Path(sys.executable).parent / "docker-credential-keyring")
    helpers: Dict[str, List[str]] = {
        OURS: [ours],
        GO_SS: [peers.require("docker-credential-secretservice")],
    }
    if use_pass and shutil.which("docker-credential-pass") and shutil.which("pass"):
        helpers[GO_PASS] = [shutil.which("docker-credential-pass") or "pass"]
    return helpers


def _sample(helpers: Dict[str, List[str]], rounds: int, env: Dict[str, str]) -> Samples:
    """Store the credential with every helper, time ``rounds`` shuffled rounds, erase it."""
    message = (f'{{"ServerURL":"{SERVER}","Username":"{USER}","Secret":"{SECRET}"}}\n').encode()
    for cmd in helpers.values():
        _call(cmd, "store", message, env)
    samples: Samples = {action: {name: [] for name in helpers} for action in TARGETS}
    for action in TARGETS:  # warm-up (page cache, pyc, gpg-agent)
        for cmd in helpers.values():
            _call(cmd, action, SERVER.encode(), env)
    rng = random.Random(1)
    for _ in range(rounds):
        for action in TARGETS:
            order = list(helpers)
            rng.shuffle(order)
            for name in order:
                stdin = SERVER.encode() if action == "get" else b"unused"
                samples[action][name].append(_call(helpers[name], action, stdin, env))
    for cmd in helpers.values():
        _call(cmd, "erase", SERVER.encode(), env)
    return samples


def summarize(samples: Samples) -> List[Result]:
    """Medians, p90s and ratios to :data:`GO_SS`, in the order of ``samples``."""
    results: List[Result] = []
    for action, by_helper in samples.items():
        base = statistics.median(by_helper[GO_SS])
        for name, values in by_helper.items():
            ordered = sorted(values)
            med = statistics.median(ordered)
            results.append(
                Result(
                    action,
                    name,
                    med,
                    ordered[int(0.9 * (len(ordered) - 1))],
                    med / base,
                    TARGETS.get(action) if name == OURS else None,
                )
            )
    return results


def measure(rounds: int = 30, *, use_pass: bool = True) -> List[Result]:
    """Run the whole measurement: private Secret Service (and pass store), ``rounds`` rounds.

    A missing Go helper skips (tests.peers.require); a failing helper call raises
    :class:`HelperFailed`; a peer that does not start raises ``tests.peers.PeerError``.
    """
    compileall.compile_dir(str(ROOT / "dockercreds"), quiet=1)
    helpers = _helpers(use_pass)
    work = Path(tempfile.mkdtemp(prefix="dcbench."))
    service = peers.start_secret_service(peers.short_tmpdir("dcbs"))
    pass_store = peers.start_pass_store() if GO_PASS in helpers else None
    try:
        env = {
            **os.environ,
            **service.env,
            **(pass_store.env if pass_store else {}),
            "DOCKERCREDS_KEYRING_INDEX": str(work / "keyring-index.json"),
        }
        env.pop("PYTHON_KEYRING_BACKEND", None)
        samples = _sample(helpers, rounds, env)
    finally:
        if pass_store is not None:
            pass_store.stop()
        service.stop()
        shutil.rmtree(service.dir, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    return summarize(samples)


def render(results: List[Result], rounds: int) -> Tuple[List[str], List[str]]:
    """(the printed table's lines, the missed targets as ``"get: 3.10x > 3x"``)."""
    lines = [
        f"helper latency, median of {rounds} paired rounds (ms); ratio to secretservice",
        f"{'action':<7}{'helper':<22}{'median':>9}{'p90':>9}{'ratio':>8}{'target':>9}",
    ]
    missed: List[str] = []
    for r in results:
        goal = f"<={r.target:g}x" if r.target is not None else ""
        lines.append(
            f"{r.action:<7}{r.helper:<22}{r.median * 1000:>9.1f}{r.p90 * 1000:>9.1f}"
            f"{r.ratio:>7.2f}x{goal:>9}"
        )
        if r.missed:
            missed.append(f"{r.action}: {r.ratio:.2f}x > {r.target:g}x")
    return lines, missed


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--no-pass", action="store_true", help="skip docker-credential-pass")
    args = parser.parse_args(argv)
    try:
        results = measure(args.rounds, use_pass=not args.no_pass)
    except HelperFailed as exc:
        raise SystemExit(str(exc)) from None
    lines, missed = render(results, args.rounds)
    print("\n".join(lines))
    if missed:
        print("TARGET MISSED: " + "; ".join(missed))
        return 1
    print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
