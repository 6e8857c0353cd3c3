"""4. Helper latency: ``docker-credential-keyring`` against the Go helpers.

The measurement is :func:`benchmarks.helper_latency.measure` (a private Secret Service
and a ``pass`` store from tests/peers.py, paired shuffled rounds of whole helper
processes), run in this process; its results become rows of ours.
"""

from __future__ import annotations

from typing import Dict, Tuple

from .common import Options, Row, SectionResult, fmt_ratio, fmt_time


def _no_result(res: SectionResult, exc: BaseException) -> SectionResult:
    """A row saying why nothing was measured: skipped (peer missing) or failed."""
    text = f"{type(exc).__name__}: {exc}".strip()
    skipped = "skip" in text.lower() or "not found" in text.lower()
    res.rows.append(
        Row(
            "helpers",
            "helper latency",
            "",
            ok=None if skipped else False,
            note=f"{'skipped' if skipped else 'no result'}: {text[:300]}",
        )
    )
    return res


def run(opts: Options) -> SectionResult:
    res = SectionResult("helpers", "4. Helper latency (fresh process per call)")
    try:
        from . import helper_latency as hl
    except ImportError as exc:  # pytest (tests/peers.py) not installed
        return _no_result(res, exc)
    rounds = opts.rounds(30, 5)
    try:
        results = hl.measure(rounds)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # HelperFailed, PeerError, or pytest.skip from require
        return _no_result(res, exc)
    medians: Dict[Tuple[str, str], float] = {(r.action, r.helper): r.median for r in results}
    for action, target in hl.TARGETS.items():
        ours = medians.get((action, hl.OURS))
        base = medians.get((action, hl.GO_SS))
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
        other = medians.get((action, hl.GO_PASS))
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
    res.notes.append(
        "benchmarks/helper_latency.py: whole helper processes, paired shuffled rounds, in a"
        " private gnome-keyring Secret Service session (and a pass store); medians."
    )
    return res
