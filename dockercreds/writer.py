"""Safe changes to a Docker config file: locked, re-read, atomic, symlink-aware.

:func:`update_config` is the one primitive every write (``login``, ``logout``,
``migrate``) goes through::

    resolve symlinks (also dangling ones) to the real target file
    lock "<target>.lock" (flock, exclusive; bounded wait)
      remove our stale temp files "<target name>.tmp-<pid>" (only the lock holder writes one)
      re-read and parse the target (missing or 0-byte = {}); refuse anything that does not parse
      mutate the raw JSON object (unknown keys and entry fields stay, key order stays)
      write "<target name>.tmp-<pid>" next to the target with the target's mode, fsync
      rename it over the target, fsync the directory
    unlock

A crash at any point leaves the old file or the new one, never a mix; a temp file left
by a crash is removed by the next writer. The lock file is never deleted (deleting it
would let two writers hold "the" lock at once).

Output is Docker's format: JSON indented with tabs, no trailing newline; keys keep the
order they had in the file (new keys are appended); ``auths`` is always present.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, Optional, Tuple, Union

from .config import Source, parse_config_text, read_config_text
from .errors import ConfigError, ConfigFormatError, ConfigSyntaxError, ConfigWriteError
from .fileio import LockFailed, LockTimeout, TempFileError, atomic_write, exclusive_lock, make_dirs

__all__ = [
    "DEFAULT_LOCK_TIMEOUT",
    "LOCK_TIMEOUT_ENV",
    "PlaintextStorageWarning",
    "Mutator",
    "config_lock",
    "dump_config",
    "field_key",
    "read_config",
    "resolve_target",
    "section",
    "temp_name",
    "update_config",
]

PathLike = Union[str, "os.PathLike[str]"]
Mutator = Callable[[Dict[str, Any]], Optional[bool]]

#: Environment variable: seconds to wait for the config lock (default 30).
LOCK_TIMEOUT_ENV = "DOCKERCREDS_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 30.0

_TMP_MARK = ".tmp-"
_MAX_LINKS = 40


class PlaintextStorageWarning(UserWarning):
    """Credentials were written in plaintext (base64) to a config file."""


def temp_name(target: Path, pid: Optional[int] = None) -> Path:
    """The temp file a writer with ``pid`` uses for ``target``."""
    return target.with_name(f"{target.name}{_TMP_MARK}{os.getpid() if pid is None else pid}")


def resolve_target(path: PathLike) -> Path:
    """The file a write to ``path`` must replace: every symlink followed, even dangling ones.

    Relative link targets are taken relative to the link's directory. A link loop is an
    error. The result is absolute; it may not exist yet.
    """
    current = Path(os.path.abspath(os.fspath(path)))  # noqa: PTH100 (no symlink resolution)
    for _ in range(_MAX_LINKS):
        try:
            target = os.readlink(current)  # noqa: PTH115 (str result, Python 3.9)
        except FileNotFoundError:
            return _resolve_dirs(current)
        except OSError as exc:
            if exc.errno == errno.EINVAL:  # not a symlink
                return _resolve_dirs(current)
            raise ConfigWriteError(
                f"cannot resolve {path}: {exc.strerror or exc}", path=os.fspath(path)
            ) from None
        current = Path(os.path.abspath(current.parent / target))  # noqa: PTH100
    raise ConfigWriteError(
        f"cannot write {path}: too many levels of symbolic links (a link loop?);"
        " fix the link or give the real file with --config",
        path=os.fspath(path),
    )


def _resolve_dirs(file: Path) -> Path:
    # the directories may be links too; the file name itself is not a link any more
    return Path(os.path.realpath(file.parent)) / file.name


def _lock_timeout(timeout: Optional[float]) -> float:
    if timeout is not None:
        return timeout
    value = os.environ.get(LOCK_TIMEOUT_ENV, "").strip()
    if not value:
        return DEFAULT_LOCK_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise ConfigWriteError(
            f"{LOCK_TIMEOUT_ENV}={value!r} is not a positive number of seconds"
        )
    return seconds


@contextlib.contextmanager
def config_lock(target: Path, *, timeout: Optional[float] = None) -> Iterator[None]:
    """Hold the exclusive lock of ``target`` (already resolved) for the ``with`` block."""
    limit = _lock_timeout(timeout)
    try:
        make_dirs(target.parent)  # 0700, as Docker does
    except OSError as exc:
        raise ConfigWriteError(
            f"cannot create directory {exc.filename}: {exc.strerror or exc}",
            path=str(target.parent),
        ) from None
    lock_path = target.with_name(target.name + ".lock")
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(exclusive_lock(lock_path, timeout=limit))
        except LockTimeout:
            raise ConfigWriteError(
                f"timed out after {limit:g}s waiting for the lock {lock_path}"
                " (another dockercreds process is writing the config; retry, or raise"
                f" {LOCK_TIMEOUT_ENV})",
                path=str(target),
            ) from None
        except LockFailed as exc:
            raise ConfigWriteError(
                f"cannot lock {lock_path}: {exc.strerror or exc}", path=str(target)
            ) from None
        except OSError as exc:
            raise ConfigWriteError(
                f"cannot open the lock file {lock_path}: {exc.strerror or exc}"
                " (is the directory writable?)",
                path=str(target),
            ) from None
        yield


def _refuse(target: Path, why: str) -> ConfigWriteError:
    return ConfigWriteError(
        f"refusing to write {target}: {why}; the file was left unchanged"
        " (fix it, or move it away and log in again)",
        path=str(target),
    )


def read_config(path: PathLike) -> Dict[str, Any]:
    """The raw JSON object of a config file (``{}`` when missing or 0-byte).

    Anything that is not exactly one JSON object is refused with
    :class:`ConfigWriteError` naming the file, line and column: a writer must never
    replace a file it did not understand.
    """
    target = Path(path)
    try:
        text = read_config_text(target)
    except ConfigError as exc:
        raise _refuse(target, str(exc).split(": ", 1)[-1]) from None
    if text is None:
        return {}
    if not text.strip():
        return {}
    source = Source("docker", f"file:{target}", str(target))
    try:
        parsed = parse_config_text(text, source)
    except ConfigSyntaxError as exc:
        raise _refuse(target, str(exc).split(": ", 1)[-1]) from None
    except ConfigFormatError as exc:
        if exc.key is None:  # the shape is wrong (top level, auths, credHelpers)
            raise _refuse(target, str(exc).split(": ", 1)[-1]) from None
        # a bad entry: the raw object is still fine to edit (e.g. to log in again)
    else:
        for warning in parsed.warnings:
            # text after the JSON value would be lost by a rewrite
            why = warning.split(": ", 1)[-1].replace(" is ignored (as Docker does)", "")
            raise _refuse(target, f"{why}, which a rewrite would lose")
    start = len(text) - len(text.lstrip())
    data, _ = json.JSONDecoder().raw_decode(text, start)
    if data is None:  # `null` reads as an empty config (as in Docker)
        return {}
    if not isinstance(data, dict):  # pragma: no cover (parse_config_text refused it)
        raise _refuse(target, "the top level is not a JSON object")
    return data


def field_key(data: Dict[str, Any], name: str) -> Optional[str]:
    """The key of ``data`` that Docker reads as field ``name``: case-insensitive, last wins."""
    lowered = name.lower()
    found = None
    for key in data:
        if key.lower() == lowered:
            found = key
    return found


def section(data: Dict[str, Any], name: str, *, create: bool = True) -> Optional[Dict[str, Any]]:
    """The object at top-level field ``name`` (``auths``, ``credHelpers``), created if asked.

    ``null`` counts as missing. Another type raises :class:`ConfigWriteError`.
    """
    key = field_key(data, name)
    value = data.get(key) if key is not None else None
    if value is None:
        if not create:
            return None
        value = {}
        data[key if key is not None else name] = value
    if not isinstance(value, dict):
        raise ConfigWriteError(f"refusing to write: {name} is not a JSON object in the config")
    return value


def dump_config(data: Dict[str, Any]) -> str:
    """Docker's layout: tab indent, ``"key": value``, UTF-8 kept, no trailing newline."""
    if field_key(data, "auths") is None:
        data["auths"] = {}
    return json.dumps(data, indent="\t", ensure_ascii=False)


def _remove_stale_temps(target: Path) -> None:
    # Only the lock holder ever has a temp file open, and we hold the lock: every
    # "<name>.tmp-<digits>" is left over from a writer that crashed.
    prefix = target.name + _TMP_MARK
    try:
        entries = list(target.parent.iterdir())
    except OSError:
        return
    for entry in entries:
        name = entry.name
        if name.startswith(prefix) and name[len(prefix) :].isdigit():
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()


def _existing_owner_mode(target: Path) -> Tuple[int, Optional[Tuple[int, int]]]:
    try:
        st = target.stat()
    except FileNotFoundError:
        return 0o600, None
    return st.st_mode & 0o7777, (st.st_uid, st.st_gid)


def _write_atomic(target: Path, text: str) -> None:
    mode, owner = _existing_owner_mode(target)
    tmp = temp_name(target)
    try:
        atomic_write(target, text.encode("utf-8"), mode=mode, owner=owner, temp_name=tmp)
    except TempFileError as exc:
        raise ConfigWriteError(
            f"cannot create {tmp}: {exc.strerror or exc} (is {target.parent} writable?)",
            path=str(target),
        ) from None
    except OSError as exc:
        raise ConfigWriteError(
            f"cannot write {target}: {exc.strerror or exc}; the file was left unchanged",
            path=str(target),
        ) from None


def update_config(
    path: PathLike, mutate: Mutator, *, timeout: Optional[float] = None
) -> Dict[str, Any]:
    """Change the config file at ``path`` safely; returns the object as it now stands.

    ``mutate`` gets the raw JSON object read under the lock and changes it in place.
    Returning ``False`` means "nothing to change": the file is not rewritten.
    """
    target = resolve_target(path)
    with config_lock(target, timeout=timeout):
        _remove_stale_temps(target)
        data = read_config(target)
        if mutate(data) is False:
            return data
        _write_atomic(target, dump_config(data))
        return data
