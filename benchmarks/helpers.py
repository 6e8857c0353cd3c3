"""4. Helper latency: ``docker-credential-keyring`` against the Go helpers.

The measurement is :mod:`benchmarks.helper_latency` (a private Secret Service and a
``pass`` store from tests/peers.py, paired shuffled rounds of whole helper processes).
It runs here as a child process (it sets up its own ``sys.path`` and peers), and its
table is read back into rows of ours.
"""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Dict, List, Tuple

from .common import ROOT, Options, Row, SectionResult, fmt_ratio, fmt_time

SCRIPT = ROOT / "benchmarks" / "helper_latency.py"
OURS = "keyring (ours)"
GO_SS = "secretservice (Go)"
GO_PASS = "pass (Go)"  # noqa: S105 - a helper name
TARGETS = {"get": 3.0, "list": 2.0}  # x the Go secretservice helper (the keyring issue)

# "get    keyring (ours)             31.2     40.1   2.05x    <=3x"
_LINE = re.compile(
    r"^(?P<action>get|list)\s+(?P<helper>.+?)\s+(?P<median>\d+(?:\.\d+)?)\s+"
    r"(?P<p90>\d+(?:\.\d+)?)\s+(?P<ratio>\d+(?:\.\d+)?)x"
)


def parse_table(text: str) -> Dict[Tuple[str, str], float]:
    """(action, helper) -> median seconds, from helper_latency.py's printed table."""
    found: Dict[Tuple[str, str], float] = {}
    for line in text.splitlines():
        m = _LINE.match(line.strip())
        if m:
            found[(m["action"], m["helper"])] = float(m["median"]) / 1000
    return found


def run(opts: Options) -> SectionResult:
    res = SectionResult("helpers", "4. Helper latency (fresh process per call)")
    if not SCRIPT.exists():
        res.rows.append(Row("helpers", "helper latency", "", note=f"skipped: {SCRIPT} missing"))
        return res
    rounds = opts.rounds(30, 5)
    try:
        out = subprocess.run(
            [sys.executable, str(SCRIPT), "--rounds", str(rounds)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    except subprocess.TimeoutExpired:
        res.rows.append(Row("helpers", "helper latency", "", ok=False, note="timed out (900 s)"))
        return res
    medians = parse_table(out.stdout)
    if not any(helper == OURS for _, helper in medians):
        tail = " | ".join((out.stdout + out.stderr).strip().splitlines()[-3:])
        skipped = "skip" in tail.lower() or "not found" in tail.lower()
        res.rows.append(
            Row(
                "helpers",
                "helper latency",
                "",
                ok=None if skipped else False,
                note=f"no result (exit {out.returncode}): {tail[:300]}",
            )
        )
        return res
    for action, target in TARGETS.items():
        ours = medians.get((action, OURS))
        base = medians.get((action, GO_SS))
        if ours is None or base is None:
            continue
        res.rows.append(
            Row(
                "helpers",
                f"`{action}` vs docker-credential-secretservice (n={rounds})",
                fmt_time(ours),
                fmt_time(base),
                fmt_ratio(ours, base),
                f"<= {target:g}x the Go helper's time",
                ours <= target * base,
            )
        )
        other = medians.get((action, GO_PASS))
        if other is not None:
            res.rows.append(
                Row(
                    "helpers",
                    f"`{action}` vs docker-credential-pass (n={rounds})",
                    fmt_time(ours),
                    fmt_time(other),
                    fmt_ratio(ours, other),
                )
            )
    notes: List[str] = [
        "benchmarks/helper_latency.py: whole helper processes, paired shuffled rounds, in a"
        " private gnome-keyring Secret Service session (and a pass store); medians."
    ]
    res.notes.extend(notes)
    return res
