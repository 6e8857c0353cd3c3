"""Test doubles for credential stores: an in-process store and a helper program.

* :class:`FakeStore` has the store shape (get/store/erase/list) over a dict and records
  every call; ``fail`` makes chosen calls raise.
* :func:`install_fake_helper` writes ``docker-credential-<name>`` (a small Python
  program speaking the helper protocol over a JSON file) into a directory put first on
  PATH; :func:`helper_db` / :func:`helper_calls` read its state and call log.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import pytest

from dockercreds.credentials import Credentials
from dockercreds.errors import DockerCredsError, KeyringError


class FakeStore:
    def __init__(self, name: str = "fake") -> None:
        self.name = name
        self.data: Dict[str, Tuple[str, str]] = {}
        self.calls: List[Tuple[str, str]] = []
        # (action, server) -> error to raise; server "*" matches any
        self.fail: Dict[Tuple[str, str], DockerCredsError] = {}
        self.on_store: Optional[Callable[[str], None]] = None
        self.corrupt_reads = False

    @property
    def source(self) -> str:
        return "keyring" if self.name == "keyring" else f"helper:{self.name}"

    def _check(self, action: str, server: str) -> None:
        self.calls.append((action, server))
        for key in ((action, server), (action, "*")):
            if key in self.fail:
                raise self.fail[key]

    def get(self, server: str) -> Optional[Credentials]:
        self._check("get", server)
        if server not in self.data:
            return None
        user, secret = self.data[server]
        if self.corrupt_reads:
            secret = secret + "-corrupt"
        return Credentials.from_helper(server, user, secret, source=self.source)

    def store(self, server: str, username: str, secret: str) -> None:
        self._check("store", server)
        self.data[server] = (username, secret)
        if self.on_store is not None:
            self.on_store(server)

    def erase(self, server: str) -> None:
        self._check("erase", server)
        self.data.pop(server, None)

    def list(self) -> Dict[str, str]:
        self._check("list", "")
        return {k: v[0] for k, v in self.data.items()}


def locked_error() -> KeyringError:
    return KeyringError("the keyring is locked (test)")


_HELPER = """#!{python}
import json, os, sys
db_path = os.environ["FAKE_HELPER_DB"]
action = sys.argv[1] if len(sys.argv) > 1 else ""
data = sys.stdin.read()
with open(os.environ["FAKE_HELPER_LOG"], "a") as log:
    log.write(json.dumps({{"helper": "{name}", "action": action, "stdin": data}}) + "\\n")
try:
    with open(db_path) as fh:
        db = json.load(fh)
except FileNotFoundError:
    db = {{}}
def save():
    with open(db_path, "w") as fh:
        json.dump(db, fh)
if action == "store":
    req = json.loads(data)
    db[req["ServerURL"]] = [req["Username"], req["Secret"]]
    save()
elif action == "get":
    server = data.strip()
    if server not in db:
        print("credentials not found in native keychain")
        sys.exit(1)
    user, secret = db[server]
    print(json.dumps({{"ServerURL": server, "Username": user, "Secret": secret}}))
elif action == "erase":
    server = data.strip()
    if server not in db:
        print("credentials not found in native keychain")
        sys.exit(1)
    del db[server]
    save()
elif action == "list":
    print(json.dumps({{k: v[0] for k, v in db.items()}}))
else:
    print("unknown action")
    sys.exit(1)
"""


def install_fake_helper(
    directory: Path, monkeypatch: pytest.MonkeyPatch, name: str = "fake"
) -> Path:
    """Write docker-credential-<name> into ``directory`` and put it first on PATH."""
    directory.mkdir(parents=True, exist_ok=True)
    program = directory / f"docker-credential-{name}"
    program.write_text(_HELPER.format(python=sys.executable, name=name))
    program.chmod(program.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    monkeypatch.setenv("PATH", f"{directory}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("FAKE_HELPER_DB", str(directory / "db.json"))
    monkeypatch.setenv("FAKE_HELPER_LOG", str(directory / "calls.log"))
    return program


def helper_db(directory: Path) -> Dict[str, List[str]]:
    try:
        return dict(json.loads((directory / "db.json").read_text()))
    except FileNotFoundError:
        return {}


def helper_calls(directory: Path) -> List[Dict[str, str]]:
    try:
        lines = (directory / "calls.log").read_text().splitlines()
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in lines]
