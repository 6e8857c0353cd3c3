"""The suite never shrinks silently: under CI=true every skip is a failure (tests/conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CONFTEST = "from tests.conftest import pytest_make_collect_report, pytest_runtest_makereport\n"
CASES = {
    "test_skips.py": """
import sys
import pytest

def test_plain_skip():
    pytest.skip("no reason")

def test_importorskip():
    pytest.importorskip("surely_not_an_installed_module")

@pytest.mark.skipif(True, reason="condition")
def test_skipif():
    pass

@pytest.mark.peer
def test_peer_skip():
    pytest.skip("peer missing")

@pytest.mark.xfail(reason="known", strict=True)
def test_xfail():
    assert False

def test_passes():
    pass
""",
    "test_module_skip.py": """
import pytest
pytest.importorskip("surely_not_an_installed_module")

def test_never_collected():
    pass
""",
}


def _run(tmp_path: Path, ci: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    peer: peer\n")
    for name, text in CASES.items():
        (tmp_path / name).write_text(text)
    env = {**os.environ, "CI": ci, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider",
         "--continue-on-collection-errors", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120, check=False,
    )


def test_under_ci_every_skip_fails(tmp_path: Path) -> None:
    proc = _run(tmp_path, "true")
    out = proc.stdout
    assert proc.returncode == 1, out
    assert "3 failed, 1 passed, 1 xfailed, 2 errors" in out, out
    # a skip in the test body fails the test; a skipif fails its setup (an error)
    assert "test skipped under CI=true: Skipped: no reason" in out
    assert "test skipped under CI=true: Skipped: could not import" in out
    assert "test skipped under CI=true: Skipped: condition" in out
    assert "peer test skipped under CI=true: Skipped: peer missing" in out
    assert "module skipped under CI=true" in out


@pytest.mark.parametrize("ci", ["", "1"])
def test_outside_ci_skips_stay_skips(tmp_path: Path, ci: str) -> None:
    proc = _run(tmp_path, ci)
    assert proc.returncode == 0, proc.stdout
    assert "1 passed, 5 skipped, 1 xfailed" in proc.stdout, proc.stdout
