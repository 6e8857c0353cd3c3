"""Client for external ``docker-credential-<name>`` programs.

:class:`HelperClient` runs a helper the way the docker CLI does: one argument (the
action), the payload on stdin, the answer on stdout (see :mod:`dockercreds.protocol`).
It never uses a shell and never puts a secret in argv; ``subprocess`` is imported only
when a helper actually runs.

Differences from the docker CLI, all on the safe side:

* every call is bounded by a timeout (``DOCKERCREDS_HELPER_TIMEOUT`` seconds, default
  30); the helper is killed when it runs past it;
* ``get`` treats an exit-0 answer with empty Username and Secret as "not found"
  (docker-credential-pass 0.6.4 answers a missing entry that way);
* at most :data:`OUTPUT_LIMIT` bytes (1 MiB) are read from its stdout and from its
  stderr: a longer answer is a :class:`~dockercreds.errors.HelperProtocolError` and the
  helper is killed; stderr past the limit is dropped;
* the helper runs in its own process group (session): on a timeout or an oversized
  answer the whole group is killed, so a shell script's children die with it, and a
  child that keeps the pipes open after the helper exited is not waited for;
* failures are typed errors (:mod:`dockercreds.errors`) that name the helper and the
  action and quote at most one clipped line of its output, with the secret replaced
  by ``***``; output that parses as JSON or looks like a credentials answer is never
  quoted, nor is output of ``get`` that does not parse, since it may hold a secret.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import time
from typing import Any, Dict, List, Mapping, Optional, Tuple

from . import protocol
from ._log import debug_logger
from .credentials import Credentials
from .errors import (
    ConfigError,
    ConfigFormatError,
    HelperError,
    HelperFailed,
    HelperNotInstalled,
    HelperProtocolError,
    HelperTimeout,
    InvalidArgument,
    one_line,
)
from .timeouts import RULE, is_timeout

__all__ = [
    "DEFAULT_TIMEOUT",
    "GO_HELPER_INPUT_LIMIT",
    "OUTPUT_LIMIT",
    "PROGRAM_PREFIX",
    "TIMEOUT_ENV",
    "REDACTED",
    "HelperClient",
    "parse_timeout",
    "program_exists",
    "program_name",
    "redact",
]

PROGRAM_PREFIX = "docker-credential-"
TIMEOUT_ENV = "DOCKERCREDS_HELPER_TIMEOUT"
DEFAULT_TIMEOUT = 30.0

#: The Go helpers read stdin with a default bufio.Scanner: one line of at most 64 KiB
#: (docker-credential-pass/-secretservice 0.6.4 accept 65535 bytes plus the newline).
GO_HELPER_INPUT_LIMIT = 64 * 1024

#: Most bytes read from a helper's stdout, and from its stderr (1 MiB). A longer answer
#: is refused; stderr past it is dropped. A real answer is a few hundred bytes.
OUTPUT_LIMIT = 1024 * 1024

#: What replaces a secret in any helper output we quote.
REDACTED = "***"
#: Longest line of helper output quoted in an exception message.
_MESSAGE_LIMIT = 200
#: How long a child of the helper may keep its pipes open after the helper exited.
_EXIT_GRACE = 0.25
#: How often the exit of a helper whose pipes stay open is checked for.
_POLL_INTERVAL = 0.05
_CHUNK = 65536
_POSIX = os.name == "posix"


def program_name(name: str) -> str:
    """``docker-credential-<name>``, after checking ``name`` is a plain program suffix.

    A name from ``credsStore``/``credHelpers`` must not be a path: ``../../tmp/x`` would
    otherwise run a program outside PATH.
    """
    if not name or "/" in name or "\\" in name or "\0" in name or name in (".", ".."):
        raise ConfigFormatError(
            f"invalid credential helper name {name!r}: it must be the suffix of a "
            f"{PROGRAM_PREFIX}<name> program on PATH (no '/', not empty); "
            "fix credsStore/credHelpers in config.json",
            path=None,
            key=name,
        )
    return PROGRAM_PREFIX + name


def _which(program: str, path: Optional[str]) -> Optional[str]:
    import shutil  # lazy: keep `import dockercreds` cheap

    return shutil.which(program, path=path)


def program_exists(name: str, *, env: Optional[Mapping[str, str]] = None) -> bool:
    """True when ``docker-credential-<name>`` is an executable on PATH.

    ``env`` overlays ``os.environ`` as for :class:`HelperClient` (only its ``PATH`` counts).
    An invalid name is simply not installed.
    """
    try:
        program = program_name(name)
    except ConfigFormatError:
        return False
    return _which(program, _effective_env(env).get("PATH", os.defpath)) is not None


def _effective_env(overlay: Optional[Mapping[str, str]]) -> Dict[str, str]:
    env = dict(os.environ)
    if overlay:
        env.update(overlay)
    return env


def parse_timeout(value: str) -> float:
    """Seconds from a ``DOCKERCREDS_HELPER_TIMEOUT`` value; :class:`ConfigError` if bad."""
    try:
        seconds = float(value.strip())
    except ValueError:
        seconds = math.nan
    if not is_timeout(seconds):
        raise ConfigError(
            f"{TIMEOUT_ENV}={value!r} is not a valid timeout: set it to {RULE} (e.g. 30),"
            f" or unset it for the default of {DEFAULT_TIMEOUT:g}"
        )
    return seconds


def _secret_forms(secret: str) -> List[str]:
    """The ways a secret may appear in echoed output: raw and JSON-escaped."""
    forms = {secret, json.dumps(secret)[1:-1], protocol.go_json(secret)[1:-1]}
    forms.add(json.dumps(secret, ensure_ascii=False)[1:-1])
    # Longest first, so a form that contains another is replaced whole.
    return sorted((f for f in forms if f), key=len, reverse=True)


def redact(text: str, secrets: Tuple[str, ...]) -> str:
    """``text`` with every form of each secret replaced by ``***``."""
    for secret in secrets:
        if not secret:
            continue
        for form in _secret_forms(secret):
            text = text.replace(form, REDACTED)
    return text


#: Most JSON objects looked at in one helper output (bounds the work on garbage).
_MAX_EMBEDDED = 64


def _embedded_secrets(text: str) -> List[str]:
    """The Secret fields of the credentials messages found anywhere in ``text``."""
    decoder = json.JSONDecoder()
    found: List[str] = []
    pos = text.find("{")
    for _ in range(_MAX_EMBEDDED):
        if pos < 0:
            break
        try:
            _, end = decoder.raw_decode(text, pos)
        except ValueError:
            end = -1
        if end > 0:
            with contextlib.suppress(protocol.ProtocolError):
                secret = protocol.decode_credentials(text[pos:end]).secret
                if secret:
                    found.append(secret)
        pos = text.find("{", pos + 1)  # also the objects nested in this one
    return found


#: A field of a credentials answer followed by its value: ``"Secret": ...``,
#: ``password=...``, ``Username: ...``.
_CREDENTIAL_FIELD = re.compile(
    r"""(?:secret|password|passwd|username|identitytoken|registrytoken|auth|token)"""
    r"""["']?\s*[:=]""",
    re.IGNORECASE,
)


def _looks_like_credentials(text: str) -> bool:
    """True for output that parses as JSON or has the shape of a credentials answer.

    Such output is never quoted: a helper that prints its answer and then fails (or
    echoes its input) would otherwise put a secret in an error message.
    """
    stripped = text.strip()
    if not stripped:
        return False
    if "{" in stripped or stripped[0] in '["' or _CREDENTIAL_FIELD.search(stripped):
        return True
    try:
        json.loads(stripped)
    except (ValueError, RecursionError):
        return False
    return True


def _one_line(text: str) -> str:
    """The first non-blank line of ``text``, clipped."""
    for part in text.splitlines():
        line = one_line(part)
        if line:
            if len(line) > _MESSAGE_LIMIT:
                line = line[: _MESSAGE_LIMIT - 3] + "..."
            return line
    return ""


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


class HelperClient:
    """A credential store backed by an external ``docker-credential-<name>`` program.

    ``timeout`` (seconds) bounds each call; ``None`` reads ``DOCKERCREDS_HELPER_TIMEOUT``
    at call time (default 30). ``env`` is laid over ``os.environ`` for the helper (and
    for finding it on ``PATH``), e.g. ``{"PASSWORD_STORE_DIR": ...}``.

    Credentials returned by :meth:`get` have ``server`` = the server asked and
    ``source`` = ``"helper:<name>"``.
    """

    def __init__(
        self,
        name: str,
        *,
        timeout: Optional[float] = None,
        env: Optional[Mapping[str, str]] = None,
    ) -> None:
        self.program = program_name(name)
        self.name = name
        if timeout is not None and not is_timeout(timeout):
            raise InvalidArgument(f"timeout must be {RULE}, not {timeout!r}")
        self.timeout = timeout
        self.env: Optional[Dict[str, str]] = dict(env) if env is not None else None

    @property
    def source(self) -> str:
        return f"helper:{self.name}"

    def __repr__(self) -> str:
        return f"<HelperClient {self.program}>"

    # -- the four actions ------------------------------------------------------------

    def get(self, server: str) -> Optional[Credentials]:
        """The credentials the helper holds for ``server``, or None when it has none."""
        rc, out, err = self._run("get", server)
        text = _decode(out)
        if text.strip() == protocol.ERR_NOT_FOUND:
            return None
        if rc != 0:
            raise self._failed("get", rc, text, _decode(err), ())
        try:
            answer = protocol.decode_credentials(out.decode("utf-8"))
        except UnicodeDecodeError:
            raise self._unparsable("get", out, "it is not UTF-8") from None
        except protocol.ProtocolError as exc:
            raise self._unparsable("get", out, str(exc)) from None
        if not answer.username and not answer.secret:
            return None  # docker-credential-pass 0.6.4 on a missing entry
        return Credentials.from_helper(
            server, answer.username, answer.secret, source=self.source
        )

    def store(self, server: str, username: str, secret: str) -> None:
        """Store ``username``/``secret`` (``<token>`` for an identity token) for ``server``."""
        payload = protocol.encode_credentials(server, username, secret) + "\n"
        rc, out, err = self._run("store", payload)
        if rc != 0:
            size = len(payload.encode("utf-8"))
            hint = ""
            if size > GO_HELPER_INPUT_LIMIT:
                hint = (
                    f" (the store message was {size} bytes; the Go docker-credential-helpers "
                    f"read at most {GO_HELPER_INPUT_LIMIT} bytes of input, so this secret is "
                    "too large for them)"
                )
            raise self._failed("store", rc, _decode(out), _decode(err), (secret,), hint=hint)

    def erase(self, server: str) -> None:
        """Remove the entry for ``server``.

        A helper answering exactly "credentials not found" has nothing to erase: success.
        Other failures (docker-credential-pass on a missing entry) raise HelperFailed.
        """
        rc, out, err = self._run("erase", server)
        text = _decode(out)
        if rc != 0 and text.strip() != protocol.ERR_NOT_FOUND:
            raise self._failed("erase", rc, text, _decode(err), ())

    def list(self) -> Dict[str, str]:
        """Server -> username for every entry the helper knows (no secrets)."""
        rc, out, err = self._run("list", "unused")
        text = _decode(out)
        if text.strip() == protocol.ERR_NOT_FOUND:
            return {}
        if rc != 0:
            raise self._failed("list", rc, text, _decode(err), ())
        try:
            return protocol.decode_list(out.decode("utf-8"))
        except UnicodeDecodeError:
            raise self._unparsable("list", out, "it is not UTF-8") from None
        except protocol.ProtocolError as exc:
            raise self._unparsable("list", out, str(exc)) from None

    # -- running the program ---------------------------------------------------------

    def _timeout_for(self, action: str, env: Mapping[str, str]) -> float:
        if self.timeout is not None:
            return self.timeout
        value = env.get(TIMEOUT_ENV, "")
        if not value.strip():
            return DEFAULT_TIMEOUT
        try:
            return parse_timeout(value)
        except ConfigError as exc:
            raise ConfigError(f"cannot run {self.program} {action}: {exc}") from None

    def _run(self, action: str, payload: str) -> Tuple[int, bytes, bytes]:
        env = _effective_env(self.env)
        timeout = self._timeout_for(action, env)
        path = _which(self.program, env.get("PATH", os.defpath))
        if path is None:
            raise self._not_installed(action)

        import subprocess  # lazy: keep `import dockercreds` cheap

        log = debug_logger(__name__)
        started = time.monotonic()
        try:
            proc = subprocess.Popen(
                [self.program, action],
                executable=path,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                close_fds=True,
                # its own process group: a timeout or an oversized answer kills the
                # helper's children too (a shell script's `sleep`, `yes`)
                start_new_session=_POSIX,
            )
        except FileNotFoundError as exc:
            if not os.access(path, os.F_OK):  # removed since it was found
                raise self._not_installed(action) from None
            # the program is there, what it needs is not: a script's #! interpreter
            # (or a binary's loader); installed and broken, not "not installed"
            raise HelperError(
                f"cannot run {self.program} {action} ({path}): {exc.strerror or exc};"
                " the program exists, so the interpreter on its #! line (or its loader)"
                " is missing: reinstall the helper or fix that line",
                helper=self.name,
                action=action,
            ) from None
        except OSError as exc:
            raise HelperError(
                f"cannot run {self.program} {action} ({path}): {exc.strerror or exc}; "
                f"check that it is an executable program",
                helper=self.name,
                action=action,
            ) from None
        with proc:
            try:
                out, err = _exchange(proc, payload.encode("utf-8"), started + timeout)
            except _TooMuch:
                _kill(proc)
                if log:
                    log.debug("%s %s: killed, more than %d bytes on stdout",
                              self.program, action, OUTPUT_LIMIT)
                raise HelperProtocolError(
                    f"{self.program} {action} answered more than {OUTPUT_LIMIT // 1024} KiB"
                    " on stdout and was killed (an answer is a few hundred bytes); check"
                    " the helper's version and setup",
                    helper=self.name,
                    action=action,
                ) from None
            except _Deadline:
                # SIGKILL to the group, then reap it. Do not read the pipes to EOF: a
                # grandchild that inherited them would keep us waiting.
                _kill(proc)
                if log:
                    log.debug("%s %s: killed after %g s", self.program, action, timeout)
                raise HelperTimeout(
                    f"{self.program} {action} did not answer within {timeout:g} s and was "
                    f"killed; check that the helper's backend (keyring daemon, gpg-agent, "
                    f"network) responds, or raise {TIMEOUT_ENV}",
                    helper=self.name,
                    action=action,
                ) from None
            except BaseException:
                _kill(proc)
                raise
        if log:
            log.debug(
                "%s %s: exit %d after %.1f ms (%d bytes on stdout, %d on stderr)",
                self.program, action, proc.returncode,
                (time.monotonic() - started) * 1e3, len(out), len(err),
            )
        return proc.returncode, out, err

    # -- errors ----------------------------------------------------------------------

    def _not_installed(self, action: str) -> HelperNotInstalled:
        return HelperNotInstalled(
            f"{self.program} is not installed (not found on PATH), needed for {action}; "
            f"install it (https://github.com/docker/docker-credential-helpers/releases or "
            f"your package manager) or remove {self.name!r} from credsStore/credHelpers "
            f"in your Docker config.json",
            helper=self.name,
            action=action,
        )

    def _failed(
        self,
        action: str,
        rc: int,
        out: str,
        err: str,
        secrets: Tuple[str, ...],
        *,
        hint: str = "",
    ) -> HelperFailed:
        # Only output that cannot be a credentials answer is kept, redacted; the
        # message quotes one clipped line of it (stdout first: the Go helpers print
        # their errors there).
        kept = [
            self._redact_output(text, secrets).strip()
            for text in (out, err)
            if not _looks_like_credentials(text)
        ]
        shown = next((line for line in map(_one_line, kept) if line), "")
        if not shown:
            withheld = out.strip() or err.strip()
            shown = "output not shown: it may hold a secret" if withheld else "no output"
        return HelperFailed(
            f"{self.program} {action} failed (exit {rc}): {shown}{hint}",
            helper=self.name,
            action=action,
            returncode=rc,
            output="\n".join(text for text in kept if text),
        )

    @staticmethod
    def _redact_output(text: str, secrets: Tuple[str, ...]) -> str:
        # A helper that prints a credentials message and then fails (or echoes its
        # input) must not leak the Secret field either: on its own line, after a
        # prefix ("error: {...}") or pretty-printed over several lines.
        return redact(text, tuple(secrets) + tuple(_embedded_secrets(text)))

    def _unparsable(self, action: str, out: bytes, why: str) -> HelperProtocolError:
        size = len(out)
        shape = "empty" if not out.strip() else f"{size} bytes, not shown: it may hold a secret"
        return HelperProtocolError(
            f"{self.program} {action} answered something that is not a helper-protocol "
            f"message ({why}; output {shape}); check the helper's version and setup",
            helper=self.name,
            action=action,
        )


# -- talking to the process --------------------------------------------------------------


class _TooMuch(Exception):
    """The helper wrote more than OUTPUT_LIMIT bytes on stdout."""


class _Deadline(Exception):
    """The helper ran past its deadline."""


def _kill(proc: Any) -> None:
    """SIGKILL the helper's process group (the helper too), then reap the helper."""
    if _POSIX:
        import signal

        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        proc.kill()
    proc.wait()


def _exchange(proc: Any, data: bytes, deadline: float) -> Tuple[bytes, bytes]:
    """Write ``data`` to the helper's stdin and read its stdout and stderr, bounded.

    Reads incrementally: stdout past :data:`OUTPUT_LIMIT` raises :class:`_TooMuch`,
    stderr past it is dropped (still drained, so the helper is not blocked on it).
    Past ``deadline`` (``time.monotonic()``) raises :class:`_Deadline`. When the helper
    has exited but a child of it keeps the pipes open, the rest is given a short grace,
    then the group is killed and what was read is the answer. Returns once the helper
    has exited.
    """
    import selectors  # lazy: keep `import dockercreds` cheap

    out = bytearray()
    err = bytearray()
    stdout_fd = proc.stdout.fileno()
    view = memoryview(data)
    pos = 0
    exited_at: Optional[float] = None
    with selectors.DefaultSelector() as sel:
        if data:
            os.set_blocking(proc.stdin.fileno(), False)
            sel.register(proc.stdin, selectors.EVENT_WRITE)
        else:
            proc.stdin.close()
        sel.register(proc.stdout, selectors.EVENT_READ, out)
        sel.register(proc.stderr, selectors.EVENT_READ, err)
        while any(key.events & selectors.EVENT_READ for key in sel.get_map().values()):
            now = time.monotonic()
            if now >= deadline:
                raise _Deadline
            if exited_at is None and proc.poll() is not None:
                exited_at = now
            if exited_at is not None and now >= exited_at + _EXIT_GRACE:
                _kill(proc)  # the pipes are held by the helper's children
                break
            wait = min(deadline - now, _POLL_INTERVAL)
            for key, _ in sel.select(wait):
                fd = key.fd
                if key.events & selectors.EVENT_WRITE:
                    try:
                        pos += os.write(fd, view[pos : pos + _CHUNK])
                    except BlockingIOError:
                        continue  # the pipe filled up meanwhile
                    except BrokenPipeError:
                        pos = len(view)  # it stopped reading: its answer will say why
                    if pos >= len(view):
                        sel.unregister(key.fileobj)
                        key.fileobj.close()  # type: ignore[union-attr]
                    continue
                chunk = os.read(fd, _CHUNK)
                if not chunk:
                    sel.unregister(key.fileobj)
                    continue
                buf: bytearray = key.data
                if fd == stdout_fd:
                    if len(buf) + len(chunk) > OUTPUT_LIMIT:
                        raise _TooMuch
                    buf += chunk
                elif len(buf) < OUTPUT_LIMIT:
                    buf += chunk[: OUTPUT_LIMIT - len(buf)]
    if proc.stdin and not proc.stdin.closed:
        with contextlib.suppress(OSError):
            proc.stdin.close()
    remaining = deadline - time.monotonic()
    if proc.returncode is None:
        import subprocess

        try:
            proc.wait(max(remaining, 0.0))
        except subprocess.TimeoutExpired:
            raise _Deadline from None
    return bytes(out), bytes(err)
