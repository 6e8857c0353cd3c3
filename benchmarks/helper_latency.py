"""Latency of docker-credential-keyring against the Go helpers, as a docker pull sees it.

Every credential lookup by the docker CLI is a fresh helper process, so what matters is
the wall time of one whole ``get`` (and of ``list``, which ``docker build`` calls).
This script starts a private Secret Service (gnome-keyring on its own D-Bus bus) and a
``pass`` store with the project's own test fixtures (tests/peers.py), stores the same
credential through each helper, then runs ROUNDS rounds; in each round every helper is
called once, in a shuffled order (paired samples under the same machine load). It prints
the medians and the ratios to docker-credential-secretservice, and exits 1 when a target
is missed: ``get`` <= 3x and ``list`` <= 2x the Go Secret Service helper.

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
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import peers  # noqa: E402 - after the sys.path change

SERVER = "127.0.0.1:5055"
USER = "benchuser"
SECRET = "bench-secret-value"  # noqa: S105 - a throwaway test value
TARGETS = {"get": 3.0, "list": 2.0}


def _call(cmd: List[str], action: str, stdin: bytes, env: Dict[str, str]) -> float:
    start = time.perf_counter()
    out = subprocess.run(
        [*cmd, action], input=stdin, capture_output=True, env=env, timeout=60, check=False
    )
    elapsed = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(f"{cmd[0]} {action} failed ({out.returncode}): {out.stdout!r}")
    return elapsed


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--no-pass", action="store_true", help="skip docker-credential-pass")
    args = parser.parse_args(argv)

    compileall.compile_dir(str(ROOT / "dockercreds"), quiet=1)
    ours = str(Path(sys.executable).parent / "docker-credential-keyring")
    helpers: Dict[str, List[str]] = {
        "keyring (ours)": [ours],
        "secretservice (Go)": [peers.require("docker-credential-secretservice")],
    }
    if not args.no_pass and shutil.which("docker-credential-pass") and shutil.which("pass"):
        helpers["pass (Go)"] = [shutil.which("docker-credential-pass") or "pass"]

    work = Path(tempfile.mkdtemp(prefix="dcbench."))
    service = peers.start_secret_service(peers.short_tmpdir("dcbs"))
    pass_store = peers.start_pass_store() if "pass (Go)" in helpers else None
    try:
        env = {
            **os.environ,
            **service.env,
            **(pass_store.env if pass_store else {}),
            "DOCKERCREDS_KEYRING_INDEX": str(work / "keyring-index.json"),
        }
        env.pop("PYTHON_KEYRING_BACKEND", None)
        message = (
            f'{{"ServerURL":"{SERVER}","Username":"{USER}","Secret":"{SECRET}"}}\n'
        ).encode()
        for cmd in helpers.values():
            _call(cmd, "store", message, env)
        samples: Dict[str, Dict[str, List[float]]] = {
            action: {name: [] for name in helpers} for action in TARGETS
        }
        for action in TARGETS:  # warm-up (page cache, pyc, gpg-agent)
            for cmd in helpers.values():
                _call(cmd, action, SERVER.encode(), env)
        rng = random.Random(1)
        for _ in range(args.rounds):
            for action in TARGETS:
                order = list(helpers)
                rng.shuffle(order)
                for name in order:
                    stdin = SERVER.encode() if action == "get" else b"unused"
                    samples[action][name].append(_call(helpers[name], action, stdin, env))
        for cmd in helpers.values():
            _call(cmd, "erase", SERVER.encode(), env)
    finally:
        if pass_store is not None:
            pass_store.stop()
        service.stop()
        shutil.rmtree(service.dir, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)

    print(f"helper latency, median of {args.rounds} paired rounds (ms); ratio to secretservice")
    print(f"{'action':<7}{'helper':<22}{'median':>9}{'p90':>9}{'ratio':>8}{'target':>9}")
    missed = []
    for action, target in TARGETS.items():
        base = statistics.median(samples[action]["secretservice (Go)"])
        for name in helpers:
            values = sorted(samples[action][name])
            med = statistics.median(values)
            p90 = values[int(0.9 * (len(values) - 1))]
            ratio = med / base
            goal = f"<={target:g}x" if name == "keyring (ours)" else ""
            print(
                f"{action:<7}{name:<22}{med * 1000:>9.1f}{p90 * 1000:>9.1f}"
                f"{ratio:>7.2f}x{goal:>9}"
            )
            if name == "keyring (ours)" and ratio > target:
                missed.append(f"{action}: {ratio:.2f}x > {target:g}x")
    if missed:
        print("TARGET MISSED: " + "; ".join(missed))
        return 1
    print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
