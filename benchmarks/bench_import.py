"""1. Import cost: ``python -c "import dockercreds"`` against ``python -c pass``.

Both are fresh interpreters of the same venv, run alternately (ABBA), so the start-up
of the interpreter, ``site`` and the editable install's ``.pth`` cancel out; the figure
is the median of the paired differences. The package's bytecode is compiled first
(``compileall``), as ``pip install`` does.
"""

from __future__ import annotations

import compileall
import json
import subprocess
import sys
import time
from typing import List

from .common import ROOT, Options, Row, SectionResult, fmt_time, median

TARGET_MS = 5.0
#: modules ``import dockercreds`` must not pull in (imported lazily where needed)
HEAVY = ("keyring", "requests", "secretstorage", "cryptography", "subprocess", "jeepney")

_CHECK = (
    "import sys\n"
    "before = set(sys.modules)\n"
    "import dockercreds\n"
    "new = sorted(set(sys.modules) - before)\n"
    "heavy = sorted(m for m in {heavy!r} if m in sys.modules)\n"
    "import json\n"
    "print(json.dumps({{'heavy': heavy, 'new': new}}))\n"
)


_IN_PROCESS = (
    "import time\n"
    "start = time.perf_counter()\n"
    "import dockercreds\n"
    "print(time.perf_counter() - start)\n"
)


def _run(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
    return time.perf_counter() - start


def run(opts: Options) -> SectionResult:
    res = SectionResult("import", "1. Import cost")
    rounds = opts.rounds(40, 10)
    compileall.compile_dir(str(ROOT / "dockercreds"), quiet=1)
    for _ in range(3):  # warm the page cache and the .pyc files
        _run("import dockercreds")
        _run("pass")
    bare: List[float] = []
    ours: List[float] = []
    diffs: List[float] = []
    for i in range(rounds):
        if i % 2 == 0:
            b = _run("pass")
            o = _run("import dockercreds")
        else:
            o = _run("import dockercreds")
            b = _run("pass")
        bare.append(b)
        ours.append(o)
        diffs.append(o - b)
    extra = median(diffs)
    res.rows.append(
        Row(
            "import",
            f"`import dockercreds` over a bare interpreter ({rounds} pairs)",
            f"+{extra * 1e3:.2f} ms",
            f"bare {fmt_time(median(bare))}",
            f"total {fmt_time(median(ours))}",
            f"<= +{TARGET_MS:.0f} ms",
            extra * 1e3 <= TARGET_MS,
        )
    )
    out = subprocess.run(
        [sys.executable, "-c", _CHECK.format(heavy=HEAVY)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    found = json.loads(out.stdout)
    heavy = found["heavy"]
    res.rows.append(
        Row(
            "import",
            "heavy modules after `import dockercreds`",
            ", ".join(heavy) if heavy else "none",
            "",
            "",
            "none of " + ", ".join(HEAVY),
            not heavy,
        )
    )
    inside = [
        float(
            subprocess.run(
                [sys.executable, "-c", _IN_PROCESS],
                cwd=ROOT,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        for _ in range(opts.rounds(15, 5))
    ]
    res.notes.append(
        f"`import dockercreds` adds {len(found['new'])} modules to sys.modules"
        f" ({', '.join(found['new'])}) and takes"
        f" {fmt_time(median(inside))} timed inside the interpreter (median);"
        " the figure in the table is the median of paired differences of whole"
        " interpreter runs."
    )
    return res
