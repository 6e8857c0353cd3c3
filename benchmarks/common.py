"""Shared pieces of the benchmarks: timing, result rows, the table, the machine."""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Options:
    """Command-line options every section gets."""

    quick: bool = False
    verbose: bool = False

    def rounds(self, full: int, quick: int) -> int:
        return quick if self.quick else full


@dataclass
class Row:
    """One line of the table.

    ``ours`` and ``peer`` are display strings; ``ok`` is True (target met), False (missed)
    or None (no target, or not measured). ``note`` explains a skip or a miss. ``floor``:
    the least the work can cost (e.g. ``json.loads`` of the same file), when there is one.
    """

    section: str
    case: str
    ours: str
    peer: str = ""
    ratio: str = ""
    target: str = ""
    ok: Optional[bool] = None
    note: str = ""
    floor: str = ""


@dataclass
class SectionResult:
    name: str
    title: str
    rows: List[Row] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    seconds: float = 0.0


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def fmt_time(seconds: float) -> str:
    """Human time: µs below 1 ms, ms below 10 s."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 10:
        return f"{seconds * 1e3:.2f} ms" if seconds < 0.1 else f"{seconds * 1e3:.0f} ms"
    return f"{seconds:.1f} s"


def fmt_ratio(ours: float, peer: float) -> str:
    """``12.3x faster`` / ``1.8x slower`` (ours against the peer)."""
    if ours <= 0 or peer <= 0:
        return "n/a"
    if ours <= peer:
        return f"{peer / ours:.1f}x faster"
    return f"{ours / peer:.1f}x slower"


def paired(
    ours: Callable[[], float],
    peer: Callable[[], float],
    rounds: int,
    *,
    budget: Optional[float] = None,
    min_rounds: int = 3,
) -> tuple[List[float], List[float]]:
    """Alternate ``ours``/``peer`` (ABBA order), each call returning its own duration.

    Stops after ``rounds`` pairs, or earlier once ``budget`` seconds were spent and at
    least ``min_rounds`` pairs were taken (for cells where the peer is very slow).
    """
    a: List[float] = []
    b: List[float] = []
    start = time.perf_counter()
    for i in range(rounds):
        if i % 2 == 0:
            a.append(ours())
            b.append(peer())
        else:
            b.append(peer())
            a.append(ours())
        if budget is not None and i + 1 >= min_rounds and time.perf_counter() - start > budget:
            break
    return a, b


def rotated(
    fns: Sequence[Callable[[], float]],
    rounds: int,
    *,
    budget: Optional[float] = None,
    min_rounds: int = 3,
) -> List[List[float]]:
    """:func:`paired` for any number of functions: each round runs them all, the order
    rotating from round to round so that none always goes first."""
    out: List[List[float]] = [[] for _ in fns]
    start = time.perf_counter()
    for i in range(rounds):
        for k in range(len(fns)):
            j = (i + k) % len(fns)
            out[j].append(fns[j]())
        if budget is not None and i + 1 >= min_rounds and time.perf_counter() - start > budget:
            break
    return out


def machine() -> Dict[str, str]:
    """CPU model, cores, Python, OS, for the head of the table."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 0
    os_name = platform.platform(terse=True)
    try:
        release = dict(
            line.split("=", 1)
            for line in Path("/etc/os-release").read_text().splitlines()
            if "=" in line
        )
        pretty = release.get("PRETTY_NAME", "").strip('"')
        if pretty:
            os_name = f"{pretty} (Linux {platform.release()})"
    except OSError:
        pass
    py = sys.version.split()[0]
    return {
        "CPU": cpu,
        "cores": str(cores),
        "Python": f"{py} ({platform.python_implementation()})",
        "OS": os_name,
    }


_STATUS = {True: "ok", False: "MISSED", None: ""}


def _cells(row: Row) -> List[str]:
    status = _STATUS[row.ok]
    if row.note:
        status = f"{status} ({row.note})" if status else row.note
    return [row.case, row.ours, row.peer, row.ratio, row.floor, row.target, status]


HEADERS = ["case", "dockercreds", "peer", "ratio", "floor", "target", "result"]


def render_text(results: List[SectionResult], info: Dict[str, str]) -> str:
    lines = ["Machine: " + ", ".join(f"{k} {v}" for k, v in info.items()), ""]
    for res in results:
        table = [HEADERS] + [_cells(r) for r in res.rows]
        widths = [max(len(r[i]) for r in table) for i in range(len(HEADERS))]
        lines.append(f"== {res.title}  [{res.seconds:.0f} s]")
        for n, cells in enumerate(table):
            lines.append("  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip())
            if n == 0:
                lines.append("  ".join("-" * w for w in widths))
        lines.extend(f"   * {note}" for note in res.notes)
        lines.append("")
    return "\n".join(lines)


def _md(cell: str) -> str:
    return cell.replace("|", "\\|")


def render_markdown(results: List[SectionResult], info: Dict[str, str], command: str) -> str:
    lines = [
        "Measured with `" + command + "` on: "
        + "; ".join(f"{k}: {v}" for k, v in info.items())
        + ".",
        "",
        "| section | " + " | ".join(HEADERS) + " |",
        "|" + " --- |" * (len(HEADERS) + 1),
    ]
    for res in results:
        for row in res.rows:
            lines.append(
                "| " + " | ".join(_md(c) for c in [res.title, *_cells(row)]) + " |"
            )
    notes = [f"{res.title}: {note}" for res in results for note in res.notes]
    if notes:
        lines.append("")
        lines.extend(f"- {_md(n)}" for n in notes)
    return "\n".join(lines)
