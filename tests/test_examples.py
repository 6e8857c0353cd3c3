"""The runnable examples in examples/ work against a real registry."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dockercreds.config import encode_auth
from tests.peers import Registry

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / "pull_manifest.py"), *args],
        capture_output=True, text=True, timeout=60, check=False,
    )


@pytest.mark.peer
def test_pull_manifest_with_the_right_credentials(registry: Registry, tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(
        {"auths": {registry.addr: {"auth": encode_auth(registry.user, registry.password)}}}
    ))
    proc = _run("--config", str(config), registry.image)
    assert proc.returncode == 0, proc.stderr
    digest, media_type, size = proc.stdout.splitlines()
    assert digest == registry.digest
    assert media_type == "application/vnd.docker.distribution.manifest.v2+json"
    assert size.endswith(" bytes")


@pytest.mark.peer
def test_pull_manifest_without_credentials_fails_cleanly(
    registry: Registry, tmp_path: Path
) -> None:
    config = tmp_path / "config.json"
    config.write_text("{}")
    proc = _run("--config", str(config), registry.image)
    assert proc.returncode == 1
    assert proc.stderr.startswith("pull_manifest: ") and "401" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_seed_example_config() -> None:
    from dockercreds import get_credentials

    config = EXAMPLES / "docker-config.json"
    quay = get_credentials("quay.io/lightside/svc-awesome:1.2.3", config=config)
    hub = get_credentials("ubuntu", config=config)
    assert quay is not None and quay.server == "quay.io"
    assert hub is not None and hub.server == "https://index.docker.io/v1/"
