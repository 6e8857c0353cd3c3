"""dockercreds.writer: locked, atomic, symlink-aware config rewrites."""

from __future__ import annotations

import json
import os
import random
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockercreds.errors import ConfigWriteError
from dockercreds.writer import (
    config_lock,
    dump_config,
    read_config,
    resolve_target,
    section,
    temp_name,
    update_config,
)

REPO = Path(__file__).resolve().parent.parent


def add_entry(key: str, value: Any = None) -> Any:
    def mutate(data: Dict[str, Any]) -> None:
        auths = section(data, "auths")
        assert auths is not None
        auths[key] = {"auth": "dTpw"} if value is None else value

    return mutate


def temps(directory: Path) -> List[str]:
    return sorted(p.name for p in directory.iterdir() if ".tmp-" in p.name)


# --------------------------------------------------------------------------- format


def test_new_file_docker_layout(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    update_config(path, add_entry("quay.io"))
    text = path.read_text()
    assert text == '{\n\t"auths": {\n\t\t"quay.io": {\n\t\t\t"auth": "dTpw"\n\t\t}\n\t}\n}'
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_auths_always_present(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    update_config(path, lambda d: d.update(credsStore="keyring"))
    assert json.loads(path.read_text()) == {"credsStore": "keyring", "auths": {}}


def test_case_insensitive_sections_are_reused() -> None:
    data: Dict[str, Any] = {"Auths": {"a": {}}}
    auths = section(data, "auths")
    assert auths is data["Auths"]
    assert json.loads(dump_config(data)) == {"Auths": {"a": {}}}


def test_section_of_wrong_type_is_refused() -> None:
    with pytest.raises(ConfigWriteError, match="auths is not a JSON object"):
        section({"auths": [1]}, "auths")


def test_unknown_keys_fields_and_order_survive(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    original = {
        "zeta": {"nested": [1, 2, {"x": None}]},
        "auths": {
            "b.example": {"auth": "dTpw", "email": "e@x", "x-custom": True},
            "a.example": {},
        },
        "psFormat": "table {{.ID}}",
        "unicode": "h\u00e9llo \u2603",
        "number": 1.5,
    }
    path.write_text(json.dumps(original))
    update_config(path, add_entry("c.example"))
    after = json.loads(path.read_text())
    assert list(after) == list(original)
    assert list(after["auths"]) == ["b.example", "a.example", "c.example"]
    assert after["auths"]["b.example"] == original["auths"]["b.example"]  # type: ignore[index]
    for key in ("zeta", "psFormat", "unicode", "number"):
        assert after[key] == original[key]
    assert "h\u00e9llo" in path.read_text(encoding="utf-8")  # not \\u-escaped


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o644, 0o400])
def test_mode_of_existing_file_is_kept(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "config.json"
    path.write_text("{}")
    path.chmod(mode)
    update_config(path, add_entry("quay.io"))
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_new_directories_are_0700(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "config.json"
    old = os.umask(0o022)
    try:
        update_config(path, add_entry("quay.io"))
    finally:
        os.umask(old)
    for d in (tmp_path / "a", tmp_path / "a" / "b"):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_mutation_returning_false_does_not_write(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"auths":{}}  ')
    before = path.stat().st_mtime_ns, path.read_bytes()
    data = update_config(path, lambda d: False)
    assert data == {"auths": {}}
    assert (path.stat().st_mtime_ns, path.read_bytes()) == before


@pytest.mark.parametrize("content", [b"", b"   \n", None])
def test_missing_or_blank_file_is_empty(tmp_path: Path, content: Any) -> None:
    path = tmp_path / "config.json"
    if content is not None:
        path.write_bytes(content)
    assert read_config(path) == {}
    update_config(path, add_entry("quay.io"))
    assert list(json.loads(path.read_text())["auths"]) == ["quay.io"]


# --------------------------------------------------------------------------- refusal


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b'{"auths": {', "line 1, column 12"),
        (b'{\n  "auths": {}\n  "x": 1\n}', "line 3, column 3"),
        (b"[]", "top level must be a JSON object"),
        (b'{"auths": []}', "auths must be an object"),
        (b'{"credHelpers": "pass"}', "credHelpers must be an object"),
        (b'{"credsStore": 1}', "credsStore must be a string"),
        (
            b'{"auths": {}} {"auths": {}}',
            "text after the JSON value at line 1, column 15, which a rewrite would lose;",
        ),
        (b'{"auths": {"a": "\xff"}}', "not UTF-8 text at line 1, column 18"),
        (b'\xef\xbb\xbf{"auths": {}}', "byte-order mark"),
    ],
)
def test_malformed_file_is_refused_unchanged(tmp_path: Path, content: bytes, needle: str) -> None:
    path = tmp_path / "config.json"
    path.write_bytes(content)
    called = []
    with pytest.raises(ConfigWriteError) as info:
        update_config(path, lambda d: called.append(1))
    message = str(info.value)
    assert str(path) in message
    assert "left unchanged" in message
    assert needle in message or needle in str(info.value.__cause__ or "")
    assert path.read_bytes() == content
    assert not called
    assert temps(tmp_path) == []


def test_bad_entry_elsewhere_does_not_block_a_write(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"auths": {"bad.example": {"auth": "!!!notbase64"}}}')
    update_config(path, add_entry("quay.io"))
    after = json.loads(path.read_text())
    assert after["auths"]["bad.example"] == {"auth": "!!!notbase64"}
    assert "quay.io" in after["auths"]


def test_directory_as_config_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.mkdir()
    with pytest.raises(ConfigWriteError, match="is a directory"):
        update_config(path, add_entry("quay.io"))


# --------------------------------------------------------------------------- symlinks


def _setup_link(tmp_path: Path, kind: str) -> tuple[Path, Path]:
    """(link the user names, real file) for each symlink shape."""
    home = tmp_path / "home"
    home.mkdir()
    other = tmp_path / "dotfiles" / "docker"
    other.mkdir(parents=True)
    link = home / "config.json"
    if kind == "relative":
        real = home / "real.json"
        real.write_text('{"auths": {"old.example": {}}}')
        link.symlink_to("real.json")
    elif kind == "absolute":
        real = home / "real.json"
        real.write_text('{"auths": {"old.example": {}}}')
        link.symlink_to(real)
    elif kind == "other-dir":
        real = other / "config.json"
        real.write_text('{"auths": {"old.example": {}}}')
        link.symlink_to(os.path.relpath(real, home))
    elif kind == "dangling":
        real = other / "new.json"
        link.symlink_to(real)
    elif kind == "dangling-missing-dir":
        real = other / "sub" / "new.json"
        link.symlink_to(real)
    elif kind == "chain":
        real = other / "config.json"
        real.write_text('{"auths": {"old.example": {}}}')
        middle = other / "middle.json"
        middle.symlink_to("config.json")
        link.symlink_to(middle)
    elif kind == "linked-dir":
        real = other / "config.json"
        real.write_text('{"auths": {"old.example": {}}}')
        (home / "d").symlink_to(other)
        link = home / "d" / "config.json"
    else:  # pragma: no cover
        raise AssertionError(kind)
    return link, real


@pytest.mark.parametrize(
    "kind",
    ["relative", "absolute", "other-dir", "dangling", "dangling-missing-dir", "chain",
     "linked-dir"],
)
def test_symlinks_stay_symlinks(tmp_path: Path, kind: str) -> None:
    link, real = _setup_link(tmp_path, kind)
    link_text = os.readlink(link) if link.is_symlink() else None
    existed = real.exists()
    if existed:
        real.chmod(0o640)
    assert resolve_target(link) == Path(os.path.realpath(real))
    update_config(link, add_entry("quay.io"))
    if link_text is not None:
        assert link.is_symlink()
        assert os.readlink(link) == link_text
    assert real.is_file() and not real.is_symlink()
    data = json.loads(real.read_text())
    assert "quay.io" in data["auths"]
    if existed:
        assert "old.example" in data["auths"]
        assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert temps(real.parent) == []
    assert temps(link.parent) == []
    assert (real.parent / (real.name + ".lock")).exists()


def test_symlink_loop_is_an_error(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.symlink_to("b.json")
    b.symlink_to("a.json")
    with pytest.raises(ConfigWriteError, match="too many levels of symbolic links"):
        update_config(a, add_entry("quay.io"))


# --------------------------------------------------------------------------- lock, temps


def test_lock_timeout_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    with config_lock(resolve_target(path)), pytest.raises(
        ConfigWriteError, match="waiting for the lock"
    ):
        update_config(path, add_entry("quay.io"), timeout=0.2)
    assert not path.exists()
    update_config(path, add_entry("quay.io"), timeout=0.2)  # released
    assert path.exists()


def test_lock_timeout_env_is_validated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKERCREDS_LOCK_TIMEOUT", "soon")
    with pytest.raises(ConfigWriteError, match="DOCKERCREDS_LOCK_TIMEOUT"):
        update_config(tmp_path / "c.json", add_entry("x"))


def test_stale_temp_files_are_removed(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text("{}")
    for pid in (1, 999999, os.getpid()):
        temp_name(path, pid).write_text("partial")
    unrelated = tmp_path / "config.json.tmp-notapid"
    unrelated.write_text("keep")
    update_config(path, add_entry("quay.io"))
    assert temps(tmp_path) == ["config.json.tmp-notapid"]


def test_failed_rename_leaves_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"auths": {"keep.example": {}}}')
    before = path.read_bytes()

    def boom(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(ConfigWriteError, match="No space left on device"):
        update_config(path, add_entry("quay.io"))
    assert path.read_bytes() == before
    assert temps(tmp_path) == []


def test_exception_in_mutation_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"auths": {}}')

    def bad(data: Dict[str, Any]) -> None:
        data["auths"]["x"] = {}
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError):
        update_config(path, bad)
    assert path.read_text() == '{"auths": {}}'


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=8,
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    extra=st.dictionaries(
        st.text(min_size=1, max_size=8).filter(
            lambda k: k.lower() not in ("auths", "credhelpers", "credsstore")
        ),
        json_values,
        max_size=5,
    )
)
def test_round_trip_keeps_any_unknown_json(tmp_path: Path, extra: Dict[str, Any]) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(extra), encoding="utf-8")
    update_config(path, add_entry("quay.io"))
    after = json.loads(path.read_text(encoding="utf-8"))
    assert {k: v for k, v in after.items() if k != "auths"} == extra
    assert list(after)[: len(extra)] == list(extra)


# --------------------------------------------------------------------------- processes

_LOGIN_WORKER = textwrap.dedent(
    """
    import sys, warnings
    warnings.simplefilter("ignore")
    from dockercreds.accounts import login
    path, prefix, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    for i in range(count):
        login(f"{prefix}-{i}.example:5000", "user", f"pw-{prefix}-{i}", config=path,
              store="file")
    """
)

_LOGOUT_WORKER = textwrap.dedent(
    """
    import sys
    from dockercreds.accounts import logout
    path, count = sys.argv[1], int(sys.argv[2])
    for i in range(count):
        assert logout(f"old-{i}.example", config=path), i
    """
)


def _python(code: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.parametrize("via_link", [False, True], ids=["file", "symlink"])
def test_concurrent_logins_and_logouts_lose_nothing(tmp_path: Path, via_link: bool) -> None:
    real = tmp_path / "real" / "config.json"
    real.parent.mkdir()
    old = {f"old-{i}.example": {"auth": "b2xkOnB3"} for i in range(40)}
    keep = {"keep.example/ns": {"auth": "a2VlcDpwdw==", "x-field": 1}}
    real.write_text(json.dumps({"auths": {**old, **keep}, "currentContext": "x"}))
    real.chmod(0o640)
    path = real
    if via_link:
        path = tmp_path / "link.json"
        path.symlink_to(os.path.relpath(real, tmp_path))
    procs = [_python(_LOGIN_WORKER, str(path), f"w{n}", "20") for n in range(12)]
    procs.append(_python(_LOGOUT_WORKER, str(path), "40"))
    for proc in procs:
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    data = json.loads(real.read_text())
    auths = data["auths"]
    expected = {f"w{n}-{i}.example:5000" for n in range(12) for i in range(20)}
    assert expected <= set(auths)
    assert not any(k.startswith("old-") for k in auths)
    assert auths["keep.example/ns"] == keep["keep.example/ns"]
    assert data["currentContext"] == "x"
    assert set(auths) == expected | set(keep)
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    if via_link:
        assert path.is_symlink()
    assert temps(real.parent) == []


_CRASH_WORKER = textwrap.dedent(
    """
    import sys, warnings
    warnings.simplefilter("ignore")
    from dockercreds.writer import section, update_config
    path, prefix = sys.argv[1], sys.argv[2]
    print("ready", flush=True)
    i = 0
    while True:
        def add(data, key=f"{prefix}-{i}.example"):
            section(data, "auths")[key] = {"auth": "dTpw", "pad": "x" * 4096}
        update_config(path, add)
        i += 1
    """
)


def test_sigkill_at_random_moments_never_corrupts(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(
        json.dumps({"auths": {f"seed-{i}.example": {"auth": "dTpw"} for i in range(50)}})
    )
    rng = random.Random(20261127)
    seen: set[str] = set(json.loads(path.read_text())["auths"])
    for round_ in range(40):
        proc = _python(_CRASH_WORKER, str(path), f"r{round_}")
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.0, 0.08))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.stdout is not None
        proc.stdout.close()
        assert proc.stderr is not None
        proc.stderr.close()
        data = json.loads(path.read_text())  # always parses
        now = set(data["auths"])
        assert seen <= now, f"round {round_}: lost {sorted(seen - now)[:5]}"
        seen = now
    update_config(path, add_entry("after.example"))
    assert temps(tmp_path) == []
    assert seen | {"after.example"} == set(json.loads(path.read_text())["auths"])


def test_null_file_is_rewritten_as_a_config(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text("null")
    update_config(path, lambda data: data.setdefault("auths", {}).update({"q.io": {}}))
    assert json.loads(path.read_text()) == {"auths": {"q.io": {}}}


# --------------------------------------------------------------------------- only regular files

_WRITE_ONE = textwrap.dedent(
    """
    import sys
    from dockercreds.errors import ConfigWriteError
    from dockercreds.writer import section, update_config
    def add(data):
        section(data, "auths")["quay.io"] = {"auth": "dTpw"}
    try:
        update_config(sys.argv[1], add, timeout=5)
    except ConfigWriteError as exc:
        print("refused:", exc)
    """
)


def _write_in_child(path: Path) -> str:
    """update_config in a child process, so that a hang (a FIFO) fails instead of blocking."""
    done = subprocess.run(
        [sys.executable, "-c", _WRITE_ONE, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize("via_link", [False, True])
@pytest.mark.parametrize("kind", ["fifo", "chardev", "socket"])
def test_special_file_as_config_is_refused(tmp_path: Path, kind: str, via_link: bool) -> None:
    special = tmp_path / "special"
    if kind == "fifo":
        os.mkfifo(special)
    elif kind == "socket":
        import socket

        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(special))
        sock.close()
    else:  # a private twin of /dev/null, the device root's login replaced
        if os.geteuid() != 0:
            pytest.skip("creating a device node needs root")
        os.mknod(special, stat.S_IFCHR | 0o666, os.stat(os.devnull).st_rdev)
    path = special
    if via_link:
        path = tmp_path / "config.json"
        path.symlink_to(special)
    before = os.lstat(special)
    out = _write_in_child(path)
    assert out.startswith("refused:"), out
    assert "not a regular file" in out
    assert "\n" not in out
    after = os.lstat(special)
    assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["special"] + (["config.json"] if via_link else [])
    )  # no lock file, no temp file


def test_symlinked_lock_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"auths": {}}')
    victim = tmp_path / "elsewhere"
    (tmp_path / "config.json.lock").symlink_to(victim)
    with pytest.raises(ConfigWriteError, match="symbolic link") as info:
        update_config(path, add_entry("quay.io"))
    assert "\n" not in str(info.value)
    assert not victim.exists()
    assert path.read_text() == '{"auths": {}}'


def test_directory_on_the_temp_name_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"auths": {}}')
    squatter = temp_name(path)
    squatter.mkdir()
    (squatter / "inside").write_text("x")
    with pytest.raises(ConfigWriteError, match="in the way") as info:
        update_config(path, add_entry("quay.io"))
    assert str(squatter) in str(info.value)
    assert path.read_text() == '{"auths": {}}'
    assert (squatter / "inside").exists()
    squatter.joinpath("inside").unlink()
    squatter.rmdir()
    update_config(path, add_entry("quay.io"))  # works again once it is gone


# --------------------------------------------------------------------------- values kept as written


@pytest.mark.parametrize(
    "number",
    [
        "1e400",
        "-1e400",
        "1E+2",
        "1.0",
        "0.10",
        "-0",
        "-0.0",
        "1e-400",
        "12345678901234567890123456789",
        "3" * 4000,
        "0.1000000000000000055511151231257827",
    ],
)
def test_numbers_keep_their_text(tmp_path: Path, number: str) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"n": %s, "list": [%s, {"deep": %s}], "auths": {}}' % ((number,) * 3))
    update_config(path, add_entry("quay.io"))
    text = path.read_text()
    assert text.count(number) == 3
    assert "Infinity" not in text
    assert json.loads(text)["auths"]["quay.io"] == {"auth": "dTpw"}


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused(tmp_path: Path, constant: str) -> None:
    path = tmp_path / "config.json"
    content = '{"auths": {}, "x": [' + constant + "]}"
    path.write_text(content)
    with pytest.raises(ConfigWriteError) as info:
        update_config(path, add_entry("quay.io"))
    assert str(path) in str(info.value)
    assert "not JSON" in str(info.value) or "not valid JSON" in str(info.value)
    assert path.read_text() == content


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_nan_written_by_a_mutation_is_refused(tmp_path: Path, value: float) -> None:
    path = tmp_path / "config.json"
    with pytest.raises(ConfigWriteError, match=r"\['x'\]") as info:
        update_config(path, lambda data: data.update(x=value))
    assert str(path) in str(info.value)
    assert not path.exists()


@pytest.mark.parametrize(
    ("content", "kept"),
    [
        ('{"auths": {}, "psFormat": "a\\udc80b"}', '"psFormat": "a\\udc80b"'),
        ('{"auths": {}, "k\\ud800": 1}', '"k\\ud800": 1'),
        ('{"auths": {}, "x": ["\\uDFFF", "\\ud83d\\ude00"]}', '"\\udfff",\n\t\t"\U0001f600"'),
    ],
)
def test_lone_surrogates_from_the_file_are_kept_as_escapes(
    tmp_path: Path, content: str, kept: str
) -> None:
    path = tmp_path / "config.json"
    path.write_text(content)
    update_config(path, add_entry("quay.io"))
    text = path.read_text(encoding="utf-8")  # valid UTF-8
    assert kept in text
    assert json.loads(text) == {**json.loads(content), "auths": {"quay.io": {"auth": "dTpw"}}}


@pytest.mark.parametrize("where", ["username", "key"])
def test_lone_surrogate_in_a_new_value_is_a_typed_error(tmp_path: Path, where: str) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"auths": {}, "x": "\\udc80"}')  # the same text in the file is fine
    before = path.read_bytes()
    entry = {"username": "\udc80", "password": "pw"} if where == "username" else {}
    key = "quay.io" if where == "username" else "bad\udc81.example"
    with pytest.raises(ConfigWriteError, match="lone surrogate") as info:
        update_config(path, add_entry(key, entry))
    message = str(info.value)
    assert str(path) in message
    assert "['auths']" in message
    assert "pw" not in message
    assert path.read_bytes() == before


def test_deep_nesting_is_a_typed_error(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    content = '{"auths": {}, "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    path.write_text(content)
    with pytest.raises(ConfigWriteError) as info:
        update_config(path, add_entry("quay.io"))
    assert str(path) in str(info.value)
    assert path.read_text() == content


def test_huge_integer_is_kept_or_refused_never_a_raw_error(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    content = '{"auths": {}, "x": ' + "7" * 5000 + "}"
    path.write_text(content)
    try:
        update_config(path, add_entry("quay.io"))
    except ConfigWriteError as exc:
        assert str(path) in str(exc)
        assert path.read_text() == content
    else:
        assert "7" * 5000 in path.read_text()


@settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    extra=st.dictionaries(
        st.text(min_size=1, max_size=8).filter(
            lambda k: k.lower() not in ("auths", "credhelpers", "credsstore")
        ),
        st.recursive(
            st.none()
            | st.booleans()
            | st.integers()
            | st.floats(allow_nan=False, allow_infinity=False)
            | st.text(max_size=8),
            lambda children: st.lists(children, max_size=3)
            | st.dictionaries(st.text(max_size=6), children, max_size=3),
            max_leaves=8,
        ),
        max_size=5,
    )
)
def test_docker_layout_is_written_back_byte_for_byte(
    tmp_path: Path, extra: Dict[str, Any]
) -> None:
    """A file in Docker's layout comes back unchanged when the entry is already there."""
    path = tmp_path / "config.json"
    original = json.dumps(
        {**extra, "auths": {"quay.io": {"auth": "dTpw"}}}, indent="\t", ensure_ascii=False
    )
    path.write_text(original, encoding="utf-8")
    update_config(path, add_entry("quay.io"))
    assert path.read_text(encoding="utf-8") == original
