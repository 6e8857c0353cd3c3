"""The keyring store's secret-free index: location, format, locking, atomic writes."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Callable

import pytest

from dockercreds.errors import KeyringError
from dockercreds.keyring_index import INDEX_ENV, KeyringIndex, default_index_path


@pytest.mark.parametrize(
    ("env", "platform", "expected"),
    [
        ({INDEX_ENV: "/x/i.json"}, "linux", "/x/i.json"),
        ({INDEX_ENV: "/x/i.json", "XDG_DATA_HOME": "/d"}, "linux", "/x/i.json"),
        ({"XDG_DATA_HOME": "/d"}, "linux", "/d/dockercreds/keyring-index.json"),
        ({}, "linux", "HOME/.local/share/dockercreds/keyring-index.json"),
        ({"XDG_DATA_HOME": ""}, "linux", "HOME/.local/share/dockercreds/keyring-index.json"),
        ({}, "darwin", "HOME/Library/Application Support/dockercreds/keyring-index.json"),
    ],
)
def test_default_index_path(
    env: dict[str, str],
    platform: str,
    expected: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(sys, "platform", platform)
    assert default_index_path(env) == expected.replace("HOME", str(tmp_path))


def test_default_follows_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(INDEX_ENV, str(tmp_path / "i.json"))
    assert KeyringIndex().path == str(tmp_path / "i.json")


def test_missing_and_empty_file_are_empty(tmp_path: Path) -> None:
    index = KeyringIndex(str(tmp_path / "none" / "i.json"))
    assert index.read() == {}
    assert index.list_output() == b"{}\n"
    (tmp_path / "e.json").write_bytes(b"  \n")
    assert KeyringIndex(str(tmp_path / "e.json")).read() == {}
    assert KeyringIndex(str(tmp_path / "e.json")).list_output() == b"{}\n"


@pytest.mark.parametrize(
    "content",
    [b"not json", b"[1, 2]", b'{"a": 1}', b'{"a": null}', b"{", b'{"a":"b"} x'],
)
def test_invalid_file_is_an_error_naming_it(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "i.json"
    path.write_bytes(content)
    with pytest.raises(KeyringError) as info:
        KeyringIndex(str(path)).read()
    assert str(path) in str(info.value)
    assert "remove it" in str(info.value)


def test_update_writes_go_json_list_format(tmp_path: Path) -> None:
    index = KeyringIndex(str(tmp_path / "sub" / "i.json"))
    with index.locked():
        index.update("b.example", "<token>")
        index.update("a.example", "alice")
        index.update("c.example", "ünï")
    raw = (tmp_path / "sub" / "i.json").read_bytes()
    assert raw == (
        '{"a.example":"alice","b.example":"\\u003ctoken\\u003e","c.example":"ünï"}\n'
    ).encode()
    assert index.list_output() == raw
    assert index.read() == {"a.example": "alice", "b.example": "<token>", "c.example": "ünï"}
    with index.locked():
        index.update("b.example", None)
        index.update("missing.example", None)
    assert index.read() == {"a.example": "alice", "c.example": "ünï"}


def test_list_output_of_a_hand_edited_file_is_reencoded(tmp_path: Path) -> None:
    path = tmp_path / "i.json"
    path.write_text(json.dumps({"z": "1", "a": "<2>"}, indent=2))
    assert KeyringIndex(str(path)).list_output() == b'{"a":"\\u003c2\\u003e","z":"1"}\n'


def test_modes_and_no_temp_files(tmp_path: Path) -> None:
    directory = tmp_path / "d"
    index = KeyringIndex(str(directory / "i.json"))
    with index.locked():
        index.update("a", "b")
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE((directory / "i.json").stat().st_mode) == 0o600
    assert stat.S_IMODE((directory / "i.json.lock").stat().st_mode) == 0o600
    assert sorted(p.name for p in directory.iterdir()) == ["i.json", "i.json.lock"]


def test_failed_write_keeps_old_file_and_removes_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = KeyringIndex(str(tmp_path / "i.json"))
    with index.locked():
        index.update("a", "1")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with index.locked(), pytest.raises(KeyringError) as info:
        index.update("b", "2")
    assert "No space left" in str(info.value)
    assert index.read() == {"a": "1"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["i.json", "i.json.lock"]


def test_lock_is_exclusive_across_processes(tmp_path: Path) -> None:
    """A second process blocks on the lock while this one holds it."""
    index = KeyringIndex(str(tmp_path / "i.json"))
    script = textwrap.dedent(
        f"""
        import fcntl, os, sys
        fd = os.open({index.lock_path!r}, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            sys.exit(3)
        sys.exit(0)
        """
    )
    with index.locked():
        held = subprocess.run([sys.executable, "-c", script], check=False, timeout=30)
    free = subprocess.run([sys.executable, "-c", script], check=False, timeout=30)
    assert (held.returncode, free.returncode) == (3, 0)


def test_concurrent_updates_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "i.json"
    script = textwrap.dedent(
        """
        import sys
        from dockercreds.keyring_index import KeyringIndex
        index = KeyringIndex(sys.argv[1])
        for i in range(10):
            with index.locked():
                index.update(f"p{sys.argv[2]}-{i}.example", f"user{sys.argv[2]}")
        """
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(path), str(n)]) for n in range(8)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0] * 8
    listed = KeyringIndex(str(path)).read()
    assert len(listed) == 80
    assert listed["p7-9.example"] == "user7"


# --------------------------------------------------------------------------- limits


def _finishes(fn: Callable[[], object], timeout: float = 30) -> object:
    """``fn()``'s result or exception, run in a thread; fails if it is still running."""
    box: list[object] = []

    def target() -> None:
        try:
            box.append(fn())
        except BaseException as exc:  # handed to the test
            box.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), "still waiting"
    return box[0]


def test_lock_wait_is_bounded_by_the_config_lock_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKERCREDS_LOCK_TIMEOUT", "0.3")
    path = str(tmp_path / "i.json")

    def second_writer() -> None:
        with KeyringIndex(path).locked():
            pass  # pragma: no cover

    with KeyringIndex(path).locked():  # another open file description: flock conflicts
        got = _finishes(second_writer)
    assert isinstance(got, KeyringError)
    assert "timed out after 0.3s" in str(got)
    assert "DOCKERCREDS_LOCK_TIMEOUT" in str(got)
    with KeyringIndex(path).locked(timeout=0.3):  # released: free again
        pass


def test_bad_lock_timeout_is_a_keyring_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKERCREDS_LOCK_TIMEOUT", "later")
    index = KeyringIndex(str(tmp_path / "i.json"))
    with pytest.raises(KeyringError, match="DOCKERCREDS_LOCK_TIMEOUT"), index.locked():
        pass  # pragma: no cover


def test_symlinked_lock_is_refused(tmp_path: Path) -> None:
    index = KeyringIndex(str(tmp_path / "i.json"))
    victim = tmp_path / "victim"
    Path(index.lock_path).symlink_to(victim)
    with pytest.raises(KeyringError, match="symbolic link"), index.locked():
        pass  # pragma: no cover
    assert not victim.exists()


def test_fifo_as_index_is_refused_without_blocking(tmp_path: Path) -> None:
    path = tmp_path / "i.json"
    os.mkfifo(path)
    index = KeyringIndex(str(path))
    try:
        for action in (index.read, index.list_output):
            got = _finishes(action)
            assert isinstance(got, KeyringError), got
            assert "FIFO" in str(got)
        with index.locked():
            got = _finishes(lambda: index.write({"a": "b"}))
        assert isinstance(got, KeyringError)
        assert stat.S_ISFIFO(path.lstat().st_mode)  # never replaced
    finally:  # let a reader that the old code left blocked finish
        fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
        os.close(fd)


def test_oversized_index_is_refused(tmp_path: Path) -> None:
    from dockercreds.keyring_index import MAX_INDEX_BYTES

    path = tmp_path / "i.json"
    with path.open("wb") as fh:
        fh.write(b"{")
        fh.truncate(MAX_INDEX_BYTES + 1)
    with pytest.raises(KeyringError, match="larger than 16 MiB"):
        KeyringIndex(str(path)).list_output()


@pytest.mark.parametrize(
    "content", [b"[" * 100_000, b'{"a": ' + b"1" * 5000 + b"}", b'{"a": "\xff"}']
)
def test_json_limits_are_keyring_errors(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "i.json"
    path.write_bytes(content)
    with pytest.raises(KeyringError, match="is not a JSON object"):
        KeyringIndex(str(path)).read()
