"""Fuzz: docker-credential-keyring's stdin for every action, and its argv."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Tuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockercreds.keyring_store import KeyringStore
from tests.fuzz.common import (
    SECRETS,
    check_helper,
    fuzz,
    hosts,
    json_values,
    nasty_text,
    run_helper,
)
from tests.memory_keyring import MemoryKeyring

ACTIONS = ["store", "get", "erase", "list", "version"]


@pytest.fixture
def memory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Dict[Tuple[str, str], str]:
    """The helper's KeyringStore on an in-memory backend and a temp index."""
    backend = MemoryKeyring()
    index = str(tmp_path / "index.json")

    def factory(**kwargs: Any) -> KeyringStore:
        return KeyringStore(backend=backend, index_path=index)

    monkeypatch.setattr("dockercreds.keyring_store.KeyringStore", factory)
    monkeypatch.setenv("DOCKERCREDS_KEYRING_INDEX", index)
    return backend.items


def _enc(obj: object) -> bytes:
    return json.dumps(obj).encode("utf-8")


store_inputs = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "ServerURL": hosts | nasty_text | json_values,
            "Username": st.just("user") | nasty_text | json_values,
            "Secret": st.sampled_from(SECRETS) | nasty_text | json_values,
        },
    ).map(_enc),
    json_values.map(_enc),
    st.binary(max_size=100),
)
server_inputs = (hosts | nasty_text).map(lambda s: s.encode("utf-8", "surrogatepass")) | st.binary(
    max_size=60
)


@fuzz(60)
@given(st.data())
def test_actions(memory: Dict[Tuple[str, str], str], data: st.DataObject) -> None:
    # a known-good entry first, so get/list/erase have something to look at
    assert run_helper(["store"], _enc({"ServerURL": "quay.io", "Username": "u",
                                       "Secret": SECRETS[0]})).code == 0
    for _ in range(data.draw(st.integers(1, 4))):
        action = data.draw(st.sampled_from(ACTIONS))
        stdin = data.draw(store_inputs if action == "store" else server_inputs)
        result = run_helper([action], stdin)
        check_helper(result)
        if action in ("get", "list") and result.code == 0:
            json.loads(result.out)
    # the good entry is still readable (unless erased), never corrupted
    result = run_helper(["get"], b"quay.io")
    check_helper(result)


@fuzz(10)
@given(st.sampled_from(["store", "get", "erase"]), st.sampled_from([
    b'{"ServerURL":"quay.io","Username":"u\\ud800","Secret":"s"}',
    b'{"ServerURL":"quay.io\\udcff","Username":"u","Secret":"s"}',
    b'{"ServerURL":"quay.io","Username":"u","Secret":"s","x":'
    + b"[" * 50_000
    + b"]" * 50_000
    + b"}",
    b'{"ServerURL":"quay.io","Username":"u","Secret":"s","x":' + b"9" * 5000 + b"}",
    b'{"ServerURL":"quay.io","Username":"u","Secret":"s","x":NaN}',
]))
def test_json_limits(memory: Dict[Tuple[str, str], str], action: str, stdin: bytes) -> None:
    assert run_helper(["store"], _enc({"ServerURL": "quay.io", "Username": "u",
                                       "Secret": SECRETS[0]})).code == 0
    check_helper(run_helper([action], stdin))
    result = run_helper(["get"], b"quay.io")
    check_helper(result)
    assert result.code == 0  # a refused store leaves the old entry readable


@fuzz(60)
@given(st.lists(nasty_text | st.sampled_from([*ACTIONS, "-h", "--help", "-v"]), max_size=3))
def test_argv(memory: Dict[Tuple[str, str], str], argv: list[str]) -> None:
    result = run_helper(argv, b"quay.io\n")
    assert result.code in (0, 1)
    assert "Traceback" not in result.out + result.err


def test_main_guard_is_one_line_and_detected(
    monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    """helper_main.main's last resort: one line, exit 1, and check_helper flags it."""
    from dockercreds import helper_main
    from tests.fuzz.common import Result

    def bug(*args: Any) -> int:
        raise KeyError("S3cr3t-Fz9q-p4ss")

    monkeypatch.setattr(helper_main, "run", bug)
    assert helper_main.main(["get"]) == 1
    out, err = capsysbinary.readouterr()
    assert out.count(b"\n") == 1 and b"internal error (KeyError)" in out
    assert b"S3cr3t" not in out and err == b""
    with pytest.raises(AssertionError, match="internal error"):
        check_helper(Result(1, out.decode(), ""))


def test_unknown_action_with_undecodable_bytes(memory: Dict[Tuple[str, str], str]) -> None:
    """argv bytes that are not UTF-8 (surrogates): one protocol line, not a crash."""
    result = run_helper(["\udcff\ud800"], b"")
    check_helper(result)
    assert result.code == 1 and "unknown action: \\udcff\\ud800" in result.out
