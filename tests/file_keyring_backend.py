"""A keyring backend for tests that run dockercreds in a subprocess.

Select it with ``PYTHON_KEYRING_BACKEND=tests.file_keyring_backend.FileKeyring`` (the
repository root on ``PYTHONPATH``); it keeps its items in the JSON file named by
``TEST_KEYRING_FILE``. ``TEST_KEYRING_SLEEP`` (seconds) makes every read hang that long,
to test deadlines. Test use only: it stores secrets in plaintext.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Dict, Optional

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

FILE_ENV = "TEST_KEYRING_FILE"
SLEEP_ENV = "TEST_KEYRING_SLEEP"


class FileKeyring(KeyringBackend):
    """Items in one JSON file: {"service\\x00username": password}."""

    priority = 1

    def _path(self) -> Path:
        return Path(os.environ[FILE_ENV])

    def _load(self) -> Dict[str, str]:
        path = self._path()
        if not path.exists():
            return {}
        return dict(json.loads(path.read_text("utf-8")))

    def _save(self, items: Dict[str, str]) -> None:
        self._path().write_text(json.dumps(items), "utf-8")

    def get_password(self, service: str, username: str) -> Optional[str]:
        delay = os.environ.get(SLEEP_ENV)
        if delay:
            time.sleep(float(delay))
        return self._load().get(f"{service}\0{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        items = self._load()
        items[f"{service}\0{username}"] = password
        self._save(items)

    def delete_password(self, service: str, username: str) -> None:
        items = self._load()
        if items.pop(f"{service}\0{username}", None) is None:
            raise PasswordDeleteError("not found")
        self._save(items)
