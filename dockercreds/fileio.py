# ruff: noqa: PTH100, PTH101, PTH102, PTH105, PTH108, PTH110, PTH116, PTH120 -- os, not pathlib: the keyring
# helper's store/erase path imports this module (pathlib costs ~3 ms).
"""Writing files safely: a sidecar lock, atomic replacement, 0700 directories.

* :func:`exclusive_lock` holds an exclusive lock on a sidecar lock file (``fcntl.flock``;
  ``msvcrt.locking`` on Windows). The lock file is created 0600 and never deleted
  (deleting it would let two processes hold "the" lock at once); closing the descriptor
  releases the lock, so a crashed holder never leaves it taken.
* :func:`atomic_write` replaces a file so that a crash leaves the old content or the new
  one, never a mix: temp file in the same directory, fsync, rename, directory fsync.
* :func:`make_dirs` creates missing directories 0700; :func:`fsync_dir` makes a rename
  durable.
* :func:`lock_timeout` reads ``DOCKERCREDS_LOCK_TIMEOUT`` (seconds to wait for a lock;
  default 30), shared by the config lock and the keyring index lock.

Only regular files are ever locked or replaced: a symlink at the lock path is not
followed, and a target (after following symlinks) or lock file that is a device, FIFO,
socket or directory raises :class:`NotRegularFile` before anything is written.

Failures are :class:`OSError`; the subclasses below tell the caller which step failed, so
it can word its own error. This module imports only ``os`` and ``sys`` at load time.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from typing import Mapping, Optional, Tuple, Union

    PathLike = Union[str, "os.PathLike[str]"]

__all__ = [
    "DEFAULT_LOCK_TIMEOUT",
    "LOCK_TIMEOUT_ENV",
    "LockFailed",
    "LockTimeout",
    "NotRegularFile",
    "TempFileError",
    "atomic_write",
    "exclusive_lock",
    "fsync_dir",
    "lock_timeout",
    "make_dirs",
    "regular_or_missing",
]

_MAX_POLL = 0.05

#: Environment variable: seconds to wait for a lock (the config's, the keyring index's).
LOCK_TIMEOUT_ENV = "DOCKERCREDS_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 30.0


class LockFailed(OSError):
    """The lock file is open but locking it failed (not because another process holds it)."""


class LockTimeout(LockFailed):
    """Another process held the lock until the deadline passed."""


class TempFileError(OSError):
    """The temp file next to the target could not be created (target unchanged)."""


class NotRegularFile(OSError):
    """A path that must be a regular file is something else; ``strerror`` says what.

    Raised for a replace target or lock file that is a device, FIFO, socket or directory,
    and for a lock path that is a symbolic link.
    """


def lock_timeout(environ: Optional[Mapping[str, str]] = None) -> float:
    """Seconds to wait for a lock: ``$DOCKERCREDS_LOCK_TIMEOUT`` or 30.

    Raises :class:`ValueError` (message fit for users) when the variable is set but is
    not a positive number.
    """
    env = os.environ if environ is None else environ
    value = env.get(LOCK_TIMEOUT_ENV, "").strip()
    if not value:
        return DEFAULT_LOCK_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):
        raise ValueError(f"{LOCK_TIMEOUT_ENV}={value!r} is not a positive number of seconds")
    return seconds


def file_kind(mode: int) -> str:
    """What a ``st_mode`` is, in words ("a FIFO", "a character device", ...)."""
    import stat

    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISREG, "a regular file"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def regular_or_missing(path: PathLike) -> None:
    """Raise :class:`NotRegularFile` unless ``path`` (symlinks followed) is a regular
    file or does not exist. Other errors of ``stat`` propagate."""
    import errno
    import stat

    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        if exc.errno in (errno.ENOTDIR, errno.ELOOP):
            raise NotRegularFile(exc.errno, exc.strerror, os.fspath(path)) from None
        raise
    if not stat.S_ISREG(st.st_mode):
        raise NotRegularFile(errno.EINVAL, f"is {file_kind(st.st_mode)}", os.fspath(path))


def make_dirs(directory: PathLike, mode: int = 0o700) -> None:
    """Create ``directory`` and every missing parent with ``mode`` (umask applies).

    An :class:`OSError` names (``filename``) the directory that could not be created.
    """
    missing = []
    d = os.path.abspath(os.fspath(directory))
    while not os.path.exists(d):
        missing.append(d)
        parent = os.path.dirname(d)
        if parent == d:
            break
        d = parent
    for d in reversed(missing):
        try:
            os.mkdir(d, mode)
        except FileExistsError:
            continue


def fsync_dir(directory: PathLike) -> None:
    """Flush ``directory``'s entries (a rename in it) to disk; best effort, never raises."""
    if sys.platform == "win32":  # pragma: no cover - directories cannot be opened there
        return
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some filesystems cannot fsync a directory
        pass
    finally:
        os.close(fd)


class _Held:
    """The context manager :func:`exclusive_lock` returns."""

    def __init__(self, path: str, timeout: Optional[float]) -> None:
        self.path = path
        self.timeout = timeout
        self._fd = -1

    def __enter__(self) -> None:
        import errno
        import stat

        make_dirs(os.path.dirname(os.path.abspath(self.path)))
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
        # never follow a symlink planted at the lock path; never block on a FIFO
        flags |= getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(self.path, flags, 0o600)
        except OSError as exc:
            if exc.errno == errno.ELOOP or (
                exc.errno in (errno.EISDIR, errno.ENXIO, errno.EOPNOTSUPP)
            ):
                try:
                    kind = file_kind(os.lstat(self.path).st_mode)
                except OSError:
                    kind = "not a regular file"
                raise NotRegularFile(exc.errno, f"is {kind}", self.path) from None
            raise
        try:
            mode = os.fstat(fd).st_mode
            if not stat.S_ISREG(mode):
                raise NotRegularFile(errno.EINVAL, f"is {file_kind(mode)}", self.path)
            _lock(fd, self.path, self.timeout)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def __exit__(self, *exc: object) -> None:
        fd, self._fd = self._fd, -1
        if fd >= 0:
            os.close(fd)  # closing the descriptor releases the lock


def exclusive_lock(lock_path: PathLike, *, timeout: Optional[float]) -> _Held:
    """Hold the exclusive lock on ``lock_path`` for a ``with`` block.

    Missing directories are created 0700 and the lock file 0600. ``timeout=None`` waits as
    long as it takes; else the lock is polled (with backoff) until ``timeout`` seconds
    passed, then :class:`LockTimeout` is raised. Raises :class:`LockFailed` when locking
    fails otherwise, :class:`NotRegularFile` when the lock path is a symbolic link (never
    followed) or not a regular file, and the plain :class:`OSError` of creating a
    directory (its ``filename`` is the directory) or opening the lock file.
    """
    return _Held(os.fspath(lock_path), timeout)


def _lock(fd: int, path: str, timeout: Optional[float]) -> None:
    import errno
    import time

    if sys.platform == "win32":  # pragma: no cover - not exercised on Linux
        import msvcrt

        def attempt() -> None:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

        busy: Tuple[int, ...] = (errno.EACCES, errno.EDEADLK)
    else:
        import fcntl

        if timeout is None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError as exc:
                raise LockFailed(exc.errno, exc.strerror, path) from None
            return

        def attempt() -> None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

        busy = (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK)

    deadline = None if timeout is None else time.monotonic() + timeout
    delay = 0.001
    while True:
        try:
            attempt()
            return
        except OSError as exc:
            if exc.errno not in busy:
                raise LockFailed(exc.errno, exc.strerror, path) from None
        if deadline is not None and time.monotonic() >= deadline:
            raise LockTimeout(errno.ETIMEDOUT, f"timed out after {timeout:g}s", path)
        time.sleep(delay)
        delay = min(delay * 2, _MAX_POLL)


def atomic_write(
    target: PathLike,
    data: bytes,
    *,
    mode: int = 0o600,
    owner: Optional[Tuple[int, int]] = None,
    temp_name: Optional[PathLike] = None,
    temp_prefix: str = ".tmp-",
) -> None:
    """Replace ``target`` with ``data``: all of it or none of it, even across a crash.

    The temp file is ``temp_name`` (created exclusively; it must be in the target's
    directory) or else a fresh ``<temp_prefix>XXXXXXXX.tmp`` there. It gets ``mode`` and,
    when running as root, ``owner`` (uid, gid; failures ignored), then the data, an fsync,
    and is renamed over ``target``; the directory is fsynced last. On any failure the temp
    file is removed and ``target`` is unchanged: :class:`NotRegularFile` when ``target``
    (symlinks followed) exists and is not a regular file (checked first, and again just
    before the rename), :class:`TempFileError` when the temp file could not be created,
    else the :class:`OSError` of the failing step.
    """
    target = os.fspath(target)
    directory = os.path.dirname(target) or "."
    regular_or_missing(target)
    try:
        if temp_name is not None:
            tmp = os.fspath(temp_name)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
            fd = os.open(tmp, flags | getattr(os, "O_BINARY", 0), 0o600)
        else:
            import tempfile

            fd, tmp = tempfile.mkstemp(prefix=temp_prefix, suffix=".tmp", dir=directory)
    except OSError as exc:
        raise TempFileError(exc.errno, exc.strerror, exc.filename) from None
    try:
        try:
            if owner is not None and hasattr(os, "fchown") and os.geteuid() == 0:
                try:
                    os.fchown(fd, *owner)
                except OSError:
                    pass
            if hasattr(os, "fchmod"):
                os.fchmod(fd, mode)
            else:  # pragma: no cover - Windows before Python 3.13
                os.chmod(tmp, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        regular_or_missing(target)  # never rename over a device that appeared meanwhile
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    fsync_dir(directory)
