"""The package root: exported names, and an import that stays cheap."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import dockercreds


def test_exported_members() -> None:
    assert dockercreds.__all__ == sorted(dockercreds.__all__)
    assert dir(dockercreds) == dockercreds.__all__
    for name in dockercreds.__all__:
        assert getattr(dockercreds, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        dockercreds.nope  # noqa: B018


def test_public_contract_names() -> None:
    from dockercreds import reference

    for name in ("parse", "parse_normalized", "parse_docker_ref", "parse_any", "Reference",
                 "InvalidReference"):
        assert hasattr(reference, name)
    assert dockercreds.errors.DockerCredsError
    assert callable(dockercreds.get_credentials)
    assert callable(dockercreds.get_registry_credentials)
    assert callable(dockercreds.load_config)
    assert callable(dockercreds.login)
    assert callable(dockercreds.logout)
    assert isinstance(dockercreds.__version__, str)


def test_import_loads_no_heavy_module() -> None:
    code = (
        "import sys, json; import dockercreds; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'keyring', 'requests', 'subprocess', 'secretstorage', 'cryptography', 'jeepney', "
        "'typing', 'json', 'urllib3', 'httpx'})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # json is imported by the probe itself; nothing else may be there
    assert [m for m in json.loads(out.stdout) if not m.startswith("json")] == []
