"""dockercreds.fileio: sidecar lock, atomic replacement, 0700 directories."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Optional

import pytest

from dockercreds.fileio import (
    DEFAULT_LOCK_TIMEOUT,
    LOCK_TIMEOUT_ENV,
    LockFailed,
    LockTimeout,
    NotRegularFile,
    TempFileError,
    atomic_write,
    exclusive_lock,
    file_kind,
    fsync_dir,
    lock_timeout,
    make_dirs,
    regular_or_missing,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes and flock")

# A second process that tries the lock without waiting: exit 3 while it is held, 0 when free.
# It asks for a shared lock, which only an exclusive one refuses.
_TRY_LOCK = textwrap.dedent(
    """
    import fcntl, os, sys
    fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        sys.exit(3)
    sys.exit(0)
    """
)

# A second process that holds the lock until its stdin closes; prints "held" once it has it.
_HOLD_LOCK = textwrap.dedent(
    """
    import sys
    from dockercreds.fileio import exclusive_lock
    with exclusive_lock(sys.argv[1], timeout=None):
        print("held", flush=True)
        sys.stdin.read()
    """
)


def _try_lock(lock: Path) -> int:
    return subprocess.run(
        [sys.executable, "-c", _TRY_LOCK, str(lock)], check=False, timeout=30
    ).returncode


@pytest.fixture
def held_elsewhere(tmp_path: Path) -> Any:
    """The lock file path, locked by another process for the test's duration."""
    lock = tmp_path / "held.lock"
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(lock)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdin is not None
    try:
        assert proc.stdout.readline().strip() == "held"
        yield lock
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


# ----------------------------------------------------------------------------- lock


@pytest.mark.parametrize("timeout", [None, 5.0])
def test_lock_excludes_another_process(tmp_path: Path, timeout: Optional[float]) -> None:
    lock = tmp_path / "x.lock"
    with exclusive_lock(lock, timeout=timeout):
        held = _try_lock(lock)
    free = _try_lock(lock)
    assert (held, free) == (3, 0)


@pytest.mark.parametrize("timeout", [0.0, 0.05, 0.2])
def test_lock_held_elsewhere_times_out(held_elsewhere: Path, timeout: float) -> None:
    with pytest.raises(LockTimeout) as info, exclusive_lock(held_elsewhere, timeout=timeout):
        pytest.fail("the lock was taken while another process held it")
    assert isinstance(info.value, LockFailed)
    assert isinstance(info.value, OSError)
    assert info.value.errno == errno.ETIMEDOUT
    assert info.value.filename == str(held_elsewhere)


def test_lock_is_released_on_exception_and_reusable(tmp_path: Path) -> None:
    lock = tmp_path / "x.lock"
    with pytest.raises(RuntimeError), exclusive_lock(lock, timeout=1.0):
        raise RuntimeError("boom")
    assert _try_lock(lock) == 0
    with exclusive_lock(lock, timeout=1.0):
        assert _try_lock(lock) == 3
    assert lock.exists()  # never deleted


@pytest.mark.parametrize(
    ("relative", "new_dirs"),
    [
        ("x.lock", []),
        ("a/x.lock", ["a"]),
        ("a/b/c/x.lock", ["a", "a/b", "a/b/c"]),
    ],
)
def test_lock_creates_dirs_0700_and_file_0600(
    tmp_path: Path, relative: str, new_dirs: list[str]
) -> None:
    lock = tmp_path / relative
    with exclusive_lock(lock, timeout=None):
        pass
    assert stat.S_IMODE(lock.stat().st_mode) == 0o600
    for d in new_dirs:
        assert stat.S_IMODE((tmp_path / d).stat().st_mode) == 0o700


def test_lock_keeps_mode_of_existing_directory(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir(mode=0o755)
    (tmp_path / "d").chmod(0o755)
    with exclusive_lock(tmp_path / "d" / "x.lock", timeout=None):
        pass
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o755


def test_lock_open_failure_is_a_plain_oserror(tmp_path: Path) -> None:
    lock = tmp_path / "dir.lock"
    lock.mkdir()  # a directory where the lock file should be
    with pytest.raises(OSError) as info, exclusive_lock(lock, timeout=1.0):
        pytest.fail("locked a directory")
    assert not isinstance(info.value, LockFailed)


# ----------------------------------------------------------------------------- dirs


@pytest.mark.parametrize(
    ("relative", "mode"),
    [("a", 0o700), ("a/b/c", 0o700), ("a/b", 0o750)],
)
def test_make_dirs_modes(tmp_path: Path, relative: str, mode: int) -> None:
    make_dirs(tmp_path / relative, mode)
    d = tmp_path / relative
    while d != tmp_path:
        assert stat.S_IMODE(d.stat().st_mode) == mode & ~_umask()
        d = d.parent
    make_dirs(tmp_path / relative, mode)  # exists: fine


def test_make_dirs_failure_names_the_directory(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(OSError) as info:
        make_dirs(tmp_path / "file" / "sub")
    assert info.value.filename == str(tmp_path / "file" / "sub")


def test_fsync_dir_never_raises(tmp_path: Path) -> None:
    fsync_dir(tmp_path)
    fsync_dir(tmp_path / "missing")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# ----------------------------------------------------------------------------- atomic_write


def _temps(directory: Path, target: str) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name != target)


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o644, 0o400])
@pytest.mark.parametrize("named", [True, False])
@pytest.mark.parametrize("existing", [True, False])
def test_atomic_write_replaces_content_with_mode(
    tmp_path: Path, mode: int, named: bool, existing: bool
) -> None:
    target = tmp_path / "f.json"
    if existing:
        target.write_bytes(b"old content that is longer")
    temp = tmp_path / "f.json.tmp-1" if named else None
    atomic_write(target, b"new", mode=mode, temp_name=temp, temp_prefix=".f.")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == mode
    assert _temps(tmp_path, "f.json") == []


def test_atomic_write_keeps_owner_when_asked(tmp_path: Path) -> None:
    target = tmp_path / "f"
    owner = (os.getuid(), os.getgid())
    atomic_write(target, b"x", owner=owner)
    st = target.stat()
    assert (st.st_uid, st.st_gid) == owner


@pytest.mark.parametrize("named", [True, False])
@pytest.mark.parametrize(
    "failing",
    ["replace", "fsync", "write"],
)
def test_atomic_write_failure_leaves_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, named: bool, failing: str
) -> None:
    target = tmp_path / "f.json"
    target.write_bytes(b"old")

    def boom(*args: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, failing, boom)
    temp = tmp_path / "f.json.tmp-1" if named else None
    with pytest.raises(OSError, match="No space left") as info:
        atomic_write(target, b"new", temp_name=temp)
    monkeypatch.undo()
    assert not isinstance(info.value, TempFileError)
    assert target.read_bytes() == b"old"
    assert _temps(tmp_path, "f.json") == []


def test_atomic_write_interrupt_removes_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "f.json"

    def interrupted(*args: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, b"new", temp_name=tmp_path / "f.json.tmp-1")
    monkeypatch.undo()
    assert _temps(tmp_path, "f.json") == []
    assert not target.exists()


@pytest.mark.parametrize("named", [True, False])
def test_atomic_write_temp_creation_failure(tmp_path: Path, named: bool) -> None:
    target = tmp_path / "missing-dir" / "f.json"
    temp = target.with_name("f.json.tmp-1") if named else None
    with pytest.raises(TempFileError) as info:
        atomic_write(target, b"x", temp_name=temp)
    assert info.value.errno == errno.ENOENT
    assert not target.parent.exists()


def test_atomic_write_does_not_clobber_an_existing_named_temp(tmp_path: Path) -> None:
    target = tmp_path / "f.json"
    temp = tmp_path / "f.json.tmp-1"
    temp.write_bytes(b"someone else's")
    with pytest.raises(TempFileError):
        atomic_write(target, b"x", temp_name=temp)
    assert temp.read_bytes() == b"someone else's"
    assert not target.exists()


def test_atomic_write_unnamed_temp_uses_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    real_replace = os.replace

    def spy(src: Any, dst: Any) -> None:
        seen.append(os.path.basename(src))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    atomic_write(tmp_path / "f.json", b"x", temp_prefix=".f-index.")
    assert len(seen) == 1
    assert seen[0].startswith(".f-index.")
    assert seen[0].endswith(".tmp")


# --------------------------------------------------------------------------- only regular files


def _special(tmp_path: Path, kind: str) -> Path:
    """A path of ``kind``: fifo, dir, socket, chardev (a private twin of /dev/null; root only)."""
    path = tmp_path / f"special-{kind}"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dir":
        path.mkdir()
    elif kind == "socket":
        import socket

        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(path))
        sock.close()
    else:
        if os.geteuid() != 0:
            pytest.skip("creating a device node needs root")
        null = os.stat(os.devnull)
        os.mknod(path, stat.S_IFCHR | 0o666, null.st_rdev)
    return path


SPECIALS = ["fifo", "dir", "socket", "chardev"]


@pytest.mark.parametrize("kind", SPECIALS)
@pytest.mark.parametrize("via_link", [False, True])
def test_atomic_write_never_replaces_a_special_file(
    tmp_path: Path, kind: str, via_link: bool
) -> None:
    special = _special(tmp_path, kind)
    target = special
    if via_link:
        target = tmp_path / "link"
        target.symlink_to(special)
    before = os.lstat(special).st_mode
    with pytest.raises(NotRegularFile) as info:
        atomic_write(target, b"secret", temp_name=tmp_path / "t.tmp")
    assert info.value.filename == str(target)
    assert os.lstat(special).st_mode == before  # still the FIFO/device/...
    assert not (tmp_path / "t.tmp").exists()


def test_atomic_write_checks_again_before_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "f"
    real_fsync = os.fsync

    def swap_in_a_fifo(fd: int) -> None:  # the target becomes a FIFO while we write
        real_fsync(fd)
        if not target.exists():
            os.mkfifo(target)

    monkeypatch.setattr(os, "fsync", swap_in_a_fifo)
    with pytest.raises(NotRegularFile):
        atomic_write(target, b"data", temp_name=tmp_path / "t.tmp")
    assert stat.S_ISFIFO(os.lstat(target).st_mode)
    assert not (tmp_path / "t.tmp").exists()


@pytest.mark.parametrize("kind", ["file", "dangling", "missing"])
def test_atomic_write_through_or_onto_regular(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "f"
    if kind == "file":
        target.write_bytes(b"old")
    elif kind == "dangling":
        target.symlink_to(tmp_path / "nowhere")
    atomic_write(target, b"new")
    assert target.read_bytes() == b"new"


def test_lock_never_follows_a_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "victim"  # a symlink at the lock path must not create or lock this
    lock = tmp_path / "c.lock"
    lock.symlink_to(victim)
    with pytest.raises(NotRegularFile, match="symbolic link"), exclusive_lock(lock, timeout=1):
        pass  # pragma: no cover
    assert not victim.exists()
    existing = tmp_path / "existing"
    existing.write_bytes(b"keep")
    lock.unlink()
    lock.symlink_to(existing)
    with pytest.raises(NotRegularFile), exclusive_lock(lock, timeout=1):
        pass  # pragma: no cover
    assert existing.read_bytes() == b"keep"


@pytest.mark.parametrize("kind", SPECIALS)
def test_lock_path_must_be_a_regular_file(tmp_path: Path, kind: str) -> None:
    special = _special(tmp_path, kind)
    with pytest.raises(NotRegularFile) as info, exclusive_lock(special, timeout=1):
        pass  # pragma: no cover
    assert info.value.filename == str(special)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("missing", None),
        ("file", None),
        ("fifo", "FIFO"),
        ("dir", "directory"),
        ("socket", "socket"),
        ("chardev", "character device"),
        ("notdir", "Not a directory"),
    ],
)
def test_regular_or_missing(tmp_path: Path, kind: str, expected: Optional[str]) -> None:
    if kind in SPECIALS:
        path = _special(tmp_path, kind)
    else:
        path = tmp_path / "f"
        if kind in ("file", "notdir"):
            path.write_bytes(b"")
        if kind == "notdir":
            path = path / "below"
    if expected is None:
        regular_or_missing(path)
        return
    with pytest.raises(NotRegularFile, match=expected):
        regular_or_missing(path)


@pytest.mark.parametrize(
    ("mode", "kind"),
    [
        (stat.S_IFREG, "a regular file"),
        (stat.S_IFIFO, "a FIFO (named pipe)"),
        (stat.S_IFBLK, "a block device"),
        (stat.S_IFLNK, "a symbolic link"),
        (0, "not a regular file"),
    ],
)
def test_file_kind(mode: int, kind: str) -> None:
    assert file_kind(mode) == kind


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, DEFAULT_LOCK_TIMEOUT),
        ("", DEFAULT_LOCK_TIMEOUT),
        (" 2.5 ", 2.5),
        ("1", 1.0),
        ("0", ValueError),
        ("-3", ValueError),
        ("soon", ValueError),
        ("inf", ValueError),
        ("nan", ValueError),
    ],
)
def test_lock_timeout_from_env(value: Optional[str], expected: Any) -> None:
    env = {} if value is None else {LOCK_TIMEOUT_ENV: value}
    if expected is ValueError:
        with pytest.raises(ValueError, match=LOCK_TIMEOUT_ENV):
            lock_timeout(env)
    else:
        assert lock_timeout(env) == expected
