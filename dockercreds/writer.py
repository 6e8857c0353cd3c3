"""Safe changes to a Docker config file: locked, re-read, atomic, symlink-aware.

:func:`update_config` is the one primitive every write (``login``, ``logout``,
``migrate``) goes through::

    resolve symlinks (also dangling ones) to the real target file
    refuse a target that exists and is not a regular file (device, FIFO, directory)
    lock "<target>.lock" (flock, exclusive; bounded wait; a symlinked lock file is refused)
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

Values a write does not own are written back as they were read: numbers keep their text
(``1e400`` stays ``1e400``, not ``Infinity``; ``1.0`` stays ``1.0``; integers of any
length), and a lone surrogate that the file spelled as a ``\\udc80`` escape is written
as that escape. ``NaN`` and ``Infinity``, which are not JSON (the docker CLI refuses such a
file), are refused, as is a new value holding a lone surrogate (not Unicode text).
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple, Union

from .config import Source, parse_config_text, read_config_text
from .errors import ConfigError, ConfigFormatError, ConfigSyntaxError, ConfigWriteError
from .fileio import (
    DEFAULT_LOCK_TIMEOUT,
    LOCK_TIMEOUT_ENV,
    LockFailed,
    LockTimeout,
    NotRegularFile,
    TempFileError,
    atomic_write,
    exclusive_lock,
    lock_timeout,
    make_dirs,
    regular_or_missing,
)
from .registry import without_userinfo

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
    try:
        return lock_timeout()
    except ValueError as exc:
        raise ConfigWriteError(str(exc)) from None


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
        except NotRegularFile as exc:
            raise ConfigWriteError(
                f"refusing to use the lock file {lock_path}: it {exc.strerror}, not a regular"
                " file (symbolic links are not followed there); remove it and retry",
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


class _Int(int):
    """An integer read from the file; ``text`` is how the file wrote it."""

    text: str


class _Float(float):
    """A number read from the file (and integers too long for ``int``); ``text`` as written."""

    text: str


_MAX_INT_DIGITS = 4000  # below Python's int/str conversion limit (4300 digits)


def _parse_int(text: str) -> Union[_Int, _Float]:
    # past the limit the value is inf: only the text matters, it is written back as is
    number = _Float(text) if len(text) > _MAX_INT_DIGITS else _Int(text)
    number.text = text
    return number


def _parse_float(text: str) -> _Float:
    number = _Float(text)
    number.text = text
    return number


class _NotJson(ValueError):
    """``NaN`` or ``Infinity`` in the file: Python's json accepts them, JSON does not."""


def _parse_constant(name: str) -> Any:
    raise _NotJson(name)


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


#: Strings read from the file that hold lone surrogates, by identity (id -> the object,
#: which keeps it alive so that no new string can take its id): only these are written
#: back as escapes; an equal string a mutation wrote is refused.
_Kept = Dict[int, str]


def _surrogate_strings(data: Any) -> _Kept:
    """Every string object (key or value) of ``data`` holding a lone surrogate."""
    found: _Kept = {}
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if _has_surrogate(key):
                    found[id(key)] = key
                stack.append(item)
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str) and _has_surrogate(value):
            found[id(value)] = value
    return found


def read_config(path: PathLike) -> Dict[str, Any]:
    """The raw JSON object of a config file (``{}`` when missing or 0-byte).

    Anything that is not exactly one JSON object is refused with
    :class:`ConfigWriteError` naming the file, line and column: a writer must never
    replace a file it did not understand. So are ``NaN``/``Infinity`` (not JSON) and a
    path that is not a regular file. Numbers are ``int``/``float`` subclasses that
    remember their text (:func:`dump_config` writes it back).
    """
    return _read(Path(path))[0]


def _read(target: Path) -> Tuple[Dict[str, Any], _Kept]:
    """The raw object and the strings in it that hold lone surrogates (kept as escapes)."""
    try:
        text = read_config_text(target)
    except ConfigError as exc:
        raise _refuse(target, str(exc).split(": ", 1)[-1]) from None
    if text is None:
        return {}, {}
    if not text.strip():
        return {}, {}
    source = Source("docker", f"file:{target}", str(target))
    try:
        parsed = parse_config_text(text, source)
    except ConfigSyntaxError as exc:
        raise _refuse(target, str(exc).split(": ", 1)[-1]) from None
    except ConfigFormatError as exc:
        if exc.key is None:  # the shape is wrong (top level, auths, credHelpers)
            raise _refuse(target, str(exc).split(": ", 1)[-1]) from None
        # a bad entry: the raw object is still fine to edit (e.g. to log in again)
    except RecursionError:
        raise _refuse(target, "it is nested too deeply to read") from None
    except ValueError as exc:  # a JSON limit of the reader (e.g. a huge integer)
        raise _refuse(target, f"it cannot be read ({type(exc).__name__})") from None
    else:
        for warning in parsed.warnings:
            # text after the JSON value would be lost by a rewrite
            why = warning.split(": ", 1)[-1].replace(" is ignored (as Docker does)", "")
            raise _refuse(target, f"{why}, which a rewrite would lose")
    start = len(text) - len(text.lstrip())
    decoder = json.JSONDecoder(
        parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant
    )
    try:
        data, _ = decoder.raw_decode(text, start)
    except _NotJson as exc:
        raise _refuse(
            target, f"it holds {exc}, which is not JSON (the docker CLI refuses the file too)"
        ) from None
    except RecursionError:
        raise _refuse(target, "it is nested too deeply to rewrite") from None
    except ValueError as exc:  # pragma: no cover (parse_config_text refused it)
        raise _refuse(target, f"not valid JSON ({type(exc).__name__})") from None
    if data is None:  # `null` reads as an empty config (as in Docker)
        return {}, {}
    if not isinstance(data, dict):  # pragma: no cover (parse_config_text refused it)
        raise _refuse(target, "the top level is not a JSON object")
    lowered = text.lower()
    keep = _surrogate_strings(data) if "\\ud" in lowered else {}
    return data, keep


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


class _Unwritable(ValueError):
    """A value :func:`dump_config` cannot write; the text says which and why."""


def dump_config(data: Dict[str, Any]) -> str:
    """Docker's layout: tab indent, ``"key": value``, UTF-8 kept, no trailing newline.

    Numbers read by :func:`read_config` are written as the file had them. A string with a
    lone surrogate or a ``NaN``/``Infinity`` float raises :class:`ConfigWriteError`
    naming the key (:func:`update_config` writes the file's own lone surrogates back as
    ``\\uXXXX`` escapes).
    """
    return _dump_config(data, {})


def _dump_config(data: Dict[str, Any], keep: _Kept) -> str:
    if field_key(data, "auths") is None:
        data["auths"] = {}
    out: List[str] = []
    try:
        _dump(data, "\n", out, [], keep)
    except _Unwritable as exc:
        raise ConfigWriteError(f"refusing to write: {exc}") from None
    except RecursionError:
        raise ConfigWriteError("refusing to write: the config is nested too deeply") from None
    return "".join(out)


_encode_str = json.encoder.encode_basestring


def _where(path: List[str]) -> str:
    if not path:
        return "the top level"
    return "".join(f"[{without_userinfo(part)!r}]" for part in path)


def _str(value: str, out: List[str], path: List[str], keep: _Kept) -> None:
    text: str = _encode_str(value)
    if not value.isascii() and _has_surrogate(value):
        if keep.get(id(value)) is not value:
            cp = next(ord(ch) for ch in value if "\ud800" <= ch <= "\udfff")
            raise _Unwritable(
                f"the value at {_where(path)} holds a lone surrogate (U+{cp:04X}), which is"
                " not Unicode text; give a valid string"
            )
        text = "".join(f"\\u{ord(ch):04x}" if "\ud800" <= ch <= "\udfff" else ch for ch in text)
    out.append(text)


def _dump(
    value: Any, newline: str, out: List[str], path: List[str], keep: _Kept
) -> None:
    if isinstance(value, str):
        _str(value, out, path, keep)
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, (_Int, _Float)):
        out.append(value.text)
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise _Unwritable(f"the value at {_where(path)} is {value!r}, which is not JSON")
        out.append(float.__repr__(value))
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = newline + "\t"
        out.append("{")
        first = True
        for key, item in value.items():
            if not isinstance(key, str):
                raise _Unwritable(f"a key at {_where(path)} is not a string")
            out.append(inner if first else "," + inner)
            first = False
            path.append(key)
            _str(key, out, path, keep)
            out.append(": ")
            _dump(item, inner, out, path, keep)
            path.pop()
        out.append(newline + "}")
    elif isinstance(value, (list, tuple)):
        if not value:
            out.append("[]")
            return
        inner = newline + "\t"
        out.append("[")
        for i, item in enumerate(value):
            out.append(inner if i == 0 else "," + inner)
            path.append(str(i))
            _dump(item, inner, out, path, keep)
            path.pop()
        out.append(newline + "]")
    else:
        raise _Unwritable(f"the value at {_where(path)} is a {type(value).__name__}")


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
            # a directory (or anything else we cannot remove) squatting there is left
            # alone; _write_atomic then reports it
            with contextlib.suppress(OSError):
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
    except NotRegularFile as exc:
        raise _not_regular(target, exc) from None
    except TempFileError as exc:
        if exc.errno == errno.EEXIST:
            raise ConfigWriteError(
                f"cannot create the temp file {tmp}: something that is not a file of ours"
                " (a directory?) is in the way; remove it and retry",
                path=str(target),
            ) from None
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
    try:
        regular_or_missing(target)  # before creating a lock file next to a device
    except NotRegularFile as exc:
        raise _not_regular(target, exc) from None
    except OSError:
        pass  # the read under the lock reports it
    with config_lock(target, timeout=timeout):
        _remove_stale_temps(target)
        data, keep = _read(target)
        if mutate(data) is False:
            return data
        try:
            text = _dump_config(data, keep)
        except ConfigWriteError as exc:
            why = str(exc).split(": ", 1)[-1]
            raise ConfigWriteError(
                f"refusing to write {target}: {why}; the file was left unchanged",
                path=str(target),
            ) from None
        _write_atomic(target, text)
        return data


def _not_regular(target: Path, exc: OSError) -> ConfigWriteError:
    return ConfigWriteError(
        f"refusing to write {target}: it {exc.strerror}, not a regular file; give the path"
        " of a config.json file with --config",
        path=str(target),
    )
