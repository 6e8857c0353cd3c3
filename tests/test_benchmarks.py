"""Smoke tests of the benchmark command (benchmarks/): it runs and prints its table.

No timing is asserted: ``--no-fail`` keeps a missed target (slow CI machine) from
failing the run; what is checked is that the code paths work and the output has shape.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Callable, List

import pytest

from benchmarks import bench_config, bench_reference, helper_latency
from benchmarks.common import fmt_ratio, fmt_time, rotated

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_quick_import_section_prints_the_table() -> None:
    out = _run("--quick", "--only", "import", "--no-fail")
    assert out.returncode == 0, out.stderr
    assert "Machine: CPU " in out.stdout
    assert "1. Import cost" in out.stdout
    assert "`import dockercreds` over a bare interpreter" in out.stdout
    # the heavy-module check is a fact, not a timing: it must hold on every machine
    heavy = [ln for ln in out.stdout.splitlines() if ln.startswith("heavy modules")]
    assert len(heavy) == 1
    assert heavy[0].split()[5] == "none", heavy[0]
    # other sections were not run
    assert "2. Config" not in out.stdout


def test_markdown_table() -> None:
    out = _run("--quick", "--only", "import", "--no-fail", "--markdown")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("Measured with `.venv/bin/python -m benchmarks --quick` on: CPU:")
    header = [ln for ln in lines if ln.startswith("| section |")]
    assert len(header) == 1
    rows = [ln for ln in lines if ln.startswith("| 1. Import cost |")]
    assert len(rows) == 2
    assert all(r.count(" | ") == header[0].count(" | ") for r in rows)


@pytest.mark.parametrize(
    "args",
    [["--only", "nonsense"], ["--bogus"]],
)
def test_usage_errors_exit_2(args: List[str]) -> None:
    out = _run(*args)
    assert out.returncode == 2
    assert "usage:" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize(
    ("ours", "peer", "shown"),
    [(1.0, 12.34, "12.3x faster"), (2.0, 1.0, "2.0x slower"), (1.0, 1.0, "1.0x faster"),
     (0.0, 1.0, "n/a")],
)
def test_fmt_ratio(ours: float, peer: float, shown: str) -> None:
    assert fmt_ratio(ours, peer) == shown


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(12.5e-6, "12.5 µs"), (0.00234, "2.34 ms"), (0.25, "250 ms"), (12.0, "12.0 s")],
)
def test_fmt_time(seconds: float, shown: str) -> None:
    assert fmt_time(seconds) == shown


def test_helper_latency_summary_and_table() -> None:
    hl = helper_latency
    samples = {
        "get": {
            hl.OURS: [0.0312, 0.0401, 0.0300],
            hl.GO_SS: [0.0152, 0.0160, 0.0150],
            hl.GO_PASS: [0.0018, 0.0020, 0.0017],
        },
        "list": {hl.OURS: [0.0330, 0.0330, 0.0330], hl.GO_SS: [0.0150, 0.0150, 0.0150]},
    }
    results = hl.summarize(samples)
    assert [(r.action, r.helper) for r in results] == [
        ("get", hl.OURS), ("get", hl.GO_SS), ("get", hl.GO_PASS),
        ("list", hl.OURS), ("list", hl.GO_SS),
    ]
    ours = results[0]
    assert ours.median == pytest.approx(0.0312)
    assert ours.p90 == pytest.approx(0.0312)  # int(0.9 * 2) = 1: the middle of 3
    assert ours.ratio == pytest.approx(0.0312 / 0.0152)
    assert ours.target == 2.5
    assert not ours.missed
    assert results[1].target is None
    assert results[1].ratio == pytest.approx(1.0)
    assert results[3].missed  # list: 2.2x > 1.5x
    lines, missed = hl.render(results, 3)
    assert lines[0] == (
        "helper latency, median of 3 paired rounds (ms); ratio to secretservice"
    )
    assert lines[2].split() == ["get", "keyring", "(ours)", "31.2", "31.2", "2.05x", "<=2.5x"]
    assert lines[3].split() == ["get", "secretservice", "(Go)", "15.2", "15.2", "1.00x"]
    assert missed == ["list: 2.20x > 1.5x"]


def test_config_lookups_are_a_fixed_mix_of_hits_and_misses() -> None:
    pairs = bench_config.lookups(1_000)
    assert len(pairs) == 100
    assert sum(hit for _, hit in pairs) == 75
    assert pairs == bench_config.lookups(1_000)  # deterministic
    hits = bench_config.lookups(1_000, workload="hits")
    assert len(hits) == 100 and all(hit for _, hit in hits)


@pytest.mark.parametrize(
    ("form", "size", "ours", "peer", "floor", "target", "ok"),
    [
        ("host", 10, 1.0, 2.0, 0.1, ">= 2x faster", True),
        ("host", 10, 1.0, 1.9, 0.1, ">= 2x faster", False),
        ("host", 1_000, 1.0, 2.0, 0.5, ">= 2x faster, <= 2x floor", True),
        ("host", 1_000, 1.0, 3.0, 0.49, ">= 2x faster, <= 2x floor", False),
        ("url", 1_000, 1.0, 9.9, 0.9, ">= 10x faster, <= 2x floor", False),
        ("url", 1_000, 1.0, 10.0, 0.9, ">= 10x faster, <= 2x floor", True),
        ("url", 10_000, 1.0, 2.0, 0.5, ">= 2x faster, <= 2x floor", True),
    ],
)
def test_config_targets(
    form: str, size: int, ours: float, peer: float, floor: float, target: str, ok: bool
) -> None:
    assert bench_config.judge(form, size, ours, peer, floor) == (target, ok)


def test_rotated_runs_every_function_each_round_in_turn() -> None:
    calls: List[str] = []

    def fn(name: str) -> Callable[[], float]:
        def run() -> float:
            calls.append(name)
            return 1.0

        return run

    out = rotated([fn("a"), fn("b"), fn("c")], 3)
    assert out == [[1.0] * 3] * 3
    assert calls == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]


def test_config_floor_reads_the_file(tmp_path: Path) -> None:
    path = bench_config.write_config(tmp_path, 10, "url")
    assert bench_config.floor_fn(path)() > 0


def test_config_both_sides_find_the_same_entries(tmp_path: Path) -> None:
    pytest.importorskip("docker")
    for form in bench_config.FORMS:
        path = bench_config.write_config(tmp_path, 10, form)
        for workload, expect in (("mixed", 75), ("hits", 100)):
            hosts = [h for h, _ in bench_config.lookups(10, workload=workload)]
            _, ours = bench_config.ours_fn(path, hosts)()
            _, peer = bench_config.peer_fn(path, hosts)()
            assert ours == peer == expect


def test_reference_corpus_is_accepted_by_both_parsers() -> None:
    pytest.importorskip("docker_image")
    refs, dropped = bench_reference._agree(bench_reference.corpus(200))
    # docker-image-py 0.2 agrees on every generated reference; 0.1.x (the last release
    # for Python 3.9) differs on a few, which the benchmark leaves out and reports.
    assert len(refs) + dropped == 200
    assert dropped <= 20
