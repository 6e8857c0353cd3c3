"""Every exception dockercreds raises.

::

    DockerCredsError                      root; catch this to catch everything
    ├── InvalidReference (ValueError)     bad image reference; ``.kind`` says which rule
    ├── InvalidRegistry (ValueError)      bad registry host or config key
    ├── InvalidArgument (ValueError)      a bad argument to a library call (sources=, timeout=)
    ├── InvalidCredentials (ValueError)   a username/secret that cannot be stored (empty, ':')
    ├── ConfigError                       a config source could not be used
    │   ├── ConfigSyntaxError (ValueError)    not JSON: ``.path`` ``.line`` ``.column``
    │   ├── ConfigFormatError (ValueError)    wrong shape or bad entry: ``.path`` ``.key`` ``.line``
    │   ├── ConfigNotFound                    a config named explicitly does not exist
    │   └── ConfigWriteError                  a config file could not be written (or is refused)
    ├── HelperError                       an external docker-credential-<name> program failed
    │   ├── HelperNotInstalled                the program is not on PATH
    │   ├── HelperTimeout                     it ran past DOCKERCREDS_HELPER_TIMEOUT
    │   ├── HelperFailed                      non-zero exit (other than "not found")
    │   └── HelperProtocolError               its output is not what the protocol says
    ├── KeyringError                      the OS keyring could not be used
    │   ├── NoKeyringError                    no usable backend
    │   ├── KeyringLockedError                the keyring is locked
    │   └── InsecureKeyringError              a plaintext backend, refused unless allowed
    ├── AuthError                         HTTP authentication with a registry failed
    │   ├── ChallengeError (ValueError)       malformed WWW-Authenticate header
    │   ├── TokenError                        the token server refused, answered nonsense,
    │   │                                     too much, or too slowly (token_timeout)
    │   ├── NetworkError                      a registry or token server cannot be reached
    │   ├── UnsafeAuthError                   a credential would go where it must not
    │   └── LoginRefused                      the registry rejected the credentials at login
    ├── CredentialsNotFound (LookupError) no credentials where some were required
    ├── CommandError                      ``dockercreds run`` could not start its command
    └── KubernetesError (ValueError)      a bad CredentialProviderRequest or Secret input

    UserWarning
    ├── HelperNotInstalledWarning         a credHelpers/credsStore helper is not on PATH;
    │                                     the lookup went on without it (once per helper)
    └── IncompleteListWarning             a store's ``list`` failed; ``list_credentials``
                                          went on without its accounts

Messages say what failed, on which value and where (file, key, helper), and what to do.
They never contain a secret.
"""

from __future__ import annotations

from typing import Optional

__all__ = [
    "AuthError",
    "ChallengeError",
    "CommandError",
    "ConfigError",
    "ConfigFormatError",
    "ConfigNotFound",
    "ConfigSyntaxError",
    "ConfigWriteError",
    "CredentialsNotFound",
    "DockerCredsError",
    "HelperError",
    "HelperFailed",
    "HelperNotInstalled",
    "HelperNotInstalledWarning",
    "HelperProtocolError",
    "HelperTimeout",
    "IncompleteListWarning",
    "InsecureKeyringError",
    "InvalidArgument",
    "InvalidCredentials",
    "InvalidReference",
    "InvalidRegistry",
    "KeyringError",
    "KeyringLockedError",
    "KubernetesError",
    "LoginRefused",
    "NetworkError",
    "NoKeyringError",
    "TokenError",
    "UnsafeAuthError",
]


class DockerCredsError(Exception):
    """Root of every error raised by dockercreds."""


class InvalidReference(DockerCredsError, ValueError):
    """An image reference does not follow the distribution/reference grammar.

    ``kind`` is one of ``invalid_format``, ``name_empty``, ``name_too_long``,
    ``name_contains_uppercase``, ``hex_id``, ``digest_unsupported``,
    ``digest_invalid_length``, ``digest_invalid_format``, or ``registry_not_image``
    (``get_credentials("quay.io")``: a registry given where an image is expected).
    """

    def __init__(self, message: str, *, kind: str, text: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.text = text


class InvalidRegistry(DockerCredsError, ValueError):
    """A registry host or config key cannot be understood."""


class InvalidCredentials(DockerCredsError, ValueError):
    """A username or secret cannot be stored (empty, or a username with ``:``)."""


class InvalidArgument(DockerCredsError, ValueError):
    """A library call got an argument it cannot use."""


class ConfigError(DockerCredsError):
    """A config source could not be read or used."""

    def __init__(self, message: str, *, path: Optional[str] = None) -> None:
        super().__init__(message)
        self.path = path


class ConfigSyntaxError(ConfigError, ValueError):
    """A config file is not valid JSON; ``line`` and ``column`` are 1-based."""

    def __init__(self, message: str, *, path: Optional[str], line: int, column: int) -> None:
        super().__init__(message, path=path)
        self.line = line
        self.column = column


class ConfigFormatError(ConfigError, ValueError):
    """A config file is JSON but a value has the wrong type or cannot be decoded.

    ``key`` is the raw ``auths``/``credHelpers`` key (None for the file's shape);
    ``line`` the 1-based line of that key in the file, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        path: Optional[str],
        key: Optional[str] = None,
        line: Optional[int] = None,
    ) -> None:
        super().__init__(message, path=path)
        self.key = key
        self.line = line


class ConfigNotFound(ConfigError):
    """A config file named explicitly (``config=``, ``--config``) does not exist."""


class ConfigWriteError(ConfigError):
    """A config file could not be written, or writing it was refused."""


class HelperError(DockerCredsError):
    """An external credential helper program failed.

    ``helper`` is the suffix (``pass`` for ``docker-credential-pass``), ``action`` one of
    ``get``, ``store``, ``erase``, ``list``.
    """

    def __init__(self, message: str, *, helper: str, action: str) -> None:
        super().__init__(message)
        self.helper = helper
        self.action = action


class HelperNotInstalled(HelperError):
    """The helper program is not on PATH."""


class HelperNotInstalledWarning(UserWarning):
    """A ``credHelpers``/``credsStore`` helper is not installed; the lookup went on.

    Emitted once per helper per process. The lookup uses the ``auths`` entries (then
    anonymous access) as if the helper had answered "not found". ``helper`` is the
    suffix (``desktop`` for ``docker-credential-desktop``). ``strict=True`` (library) or
    ``--strict`` (CLI) raise :class:`HelperNotInstalled` instead.
    """

    def __init__(self, message: str, *, helper: str = "") -> None:
        super().__init__(message)
        self.helper = helper


class HelperTimeout(HelperError):
    """The helper program did not finish in time."""


class HelperFailed(HelperError):
    """The helper program exited non-zero; ``output`` is its (redacted) output."""

    def __init__(
        self, message: str, *, helper: str, action: str, returncode: int, output: str = ""
    ) -> None:
        super().__init__(message, helper=helper, action=action)
        self.returncode = returncode
        self.output = output


class HelperProtocolError(HelperError):
    """The helper program's output does not follow the helper protocol."""


class KeyringError(DockerCredsError):
    """The OS keyring could not be used."""


class NoKeyringError(KeyringError):
    """No usable keyring backend is available."""


class KeyringLockedError(KeyringError):
    """The keyring is locked and could not be unlocked."""


class InsecureKeyringError(KeyringError):
    """The selected keyring backend stores secrets in plaintext; refused unless allowed."""


class AuthError(DockerCredsError):
    """Authenticating an HTTP request to a registry failed."""


class ChallengeError(AuthError, ValueError):
    """A WWW-Authenticate header is malformed."""


class TokenError(AuthError):
    """A token server refused the request or answered something unusable."""


class NetworkError(AuthError):
    """A registry or token server cannot be reached: one line naming the host and cause
    (``cannot reach quay.io: name resolution failed``)."""


class UnsafeAuthError(AuthError):
    """Sending a credential would break a security rule (realm scheme, host, redirect)."""


class LoginRefused(AuthError):
    """The registry rejected the credentials given to ``login`` (HTTP 401/403)."""


class CredentialsNotFound(DockerCredsError, LookupError):
    """No credentials were found where some were required."""


class CommandError(DockerCredsError):
    """The command given to ``dockercreds run`` could not be started.

    ``command`` is its name; ``status`` the exit status a shell gives (127: not found,
    126: found but not executable).
    """

    def __init__(self, message: str, *, command: str, status: int) -> None:
        super().__init__(message)
        self.command = command
        self.status = status


class KubernetesError(DockerCredsError, ValueError):
    """A Kubernetes input (CredentialProviderRequest, Secret flags) is invalid."""


class IncompleteListWarning(UserWarning):
    """A store's ``list`` failed (or its helper is not installed); the listing went on.

    Given by :func:`dockercreds.list_credentials` once per store; ``store`` is its name
    (``pass``, ``keyring``). ``strict=True`` raises the store's error instead.
    """

    def __init__(self, message: str, *, store: str = "") -> None:
        super().__init__(message)
        self.store = store


def one_line(text: str) -> str:
    """``text`` as one line for a terminal: whitespace runs folded into one space, and
    every other unprintable character (ESC of a terminal escape sequence, other
    controls, zero-width and format characters) shown as its ``\\x``/``\\u`` escape, so
    text a server or helper chose can neither break the line nor drive the terminal."""
    line = " ".join(text.split())
    if line.isprintable():
        return line
    return "".join(
        c if c.isprintable() else (f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}")
        for c in line
    )
