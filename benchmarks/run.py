"""The one benchmark command: ``.venv/bin/python -m benchmarks`` (from the repository root).

Every comparison is measured side by side in the same run (alternating, medians of
repeated runs). Exit status: 0 when every target is met, 1 when one is missed (unless
``--no-fail``), 2 on usage errors. Sections whose peer is missing are reported as
skipped and do not fail the run.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from typing import Callable, Dict, List, Optional

from .common import Options, Row, SectionResult, machine, render_markdown, render_text

COMMAND = ".venv/bin/python -m benchmarks"


def _sections() -> Dict[str, Callable[[Options], SectionResult]]:
    from . import bench_config, bench_import, bench_reference, bench_token, helpers

    return {
        "import": bench_import.run,
        "config": bench_config.run,
        "reference": bench_reference.run,
        "helpers": helpers.run,
        "token": bench_token.run,
    }


SECTION_NAMES = ("import", "config", "reference", "helpers", "token")


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="dockercreds against docker-py, docker-image-py and the Go helpers.",
    )
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    parser.add_argument(
        "--only",
        action="append",
        choices=SECTION_NAMES,
        metavar="SECTION",
        help=f"run only this section (repeatable): {', '.join(SECTION_NAMES)}",
    )
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument(
        "--no-fail", action="store_true", help="exit 0 even when a target is missed"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="more rows and details")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    opts = Options(quick=args.quick, verbose=args.verbose)
    sections = _sections()
    wanted = args.only or list(SECTION_NAMES)
    results: List[SectionResult] = []
    for name in SECTION_NAMES:
        if name not in wanted:
            continue
        print(f"running {name} ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        try:
            res = sections[name](opts)
        except Exception as exc:
            if args.verbose:
                traceback.print_exc()
            res = SectionResult(name, name)
            res.rows.append(
                Row(name, "section failed", "", ok=False, note=f"{type(exc).__name__}: {exc}")
            )
        res.seconds = time.perf_counter() - start
        results.append(res)
    info = machine()
    command = COMMAND + (" --quick" if args.quick else "")
    if args.markdown:
        print(render_markdown(results, info, command))
    else:
        print(render_text(results, info))
    missed = [f"{r.title}: {row.case}" for r in results for row in r.rows if row.ok is False]
    if missed:
        print(f"\n{len(missed)} target(s) missed:", file=sys.stderr)
        for line in missed:
            print(f"  - {line}", file=sys.stderr)
        return 0 if args.no_fail else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
