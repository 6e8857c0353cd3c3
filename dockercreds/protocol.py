"""The docker-credential-helpers wire format, shared by the client and the server.

A helper is run with one argument, the action, and talks JSON on stdin/stdout:

* ``store``: stdin ``{"ServerURL":..,"Username":..,"Secret":..}``; prints nothing.
* ``get``: stdin the server URL; prints ``{"ServerURL":..,"Username":..,"Secret":..}``.
* ``erase``: stdin the server URL; prints nothing.
* ``list``: stdin ignored; prints ``{"<server>":"<username>",...}``.

Errors are one line on stdout and exit status 1. The output is Go's ``encoding/json``:
compact, ``<``, ``>`` and ``&`` escaped as ``\\u003c`` ``\\u003e`` ``\\u0026``, non-ASCII
as UTF-8, map keys sorted.
"""

from __future__ import annotations

import json
from typing import Dict, Mapping, NamedTuple

__all__ = [
    "ERR_MISSING_SERVER_URL",
    "ERR_MISSING_USERNAME",
    "ERR_NOT_FOUND",
    "ACTIONS",
    "HelperCredentials",
    "ProtocolError",
    "decode_credentials",
    "decode_list",
    "encode_credentials",
    "encode_list",
    "go_json",
]

#: The exact message every helper prints when it has no entry for a server.
ERR_NOT_FOUND = "credentials not found in native keychain"
ERR_MISSING_SERVER_URL = "no credentials server URL"
ERR_MISSING_USERNAME = "no credentials username"

ACTIONS = ("store", "get", "erase", "list", "version")


class ProtocolError(ValueError):
    """A helper message that does not follow the wire format (no secret in the text)."""


class HelperCredentials(NamedTuple):
    """One credentials message; the secret is hidden from ``repr``."""

    server_url: str
    username: str
    secret: str

    def __repr__(self) -> str:
        state = "hidden" if self.secret else "empty"
        return (
            f"HelperCredentials(server_url={self.server_url!r}, username={self.username!r},"
            f" secret=<{state}>)"
        )


_GO_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def go_json(value: object) -> str:
    """``value`` as Go's json.Marshal writes it (compact, HTML-safe, sorted map keys)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    return text.translate(_GO_ESCAPES)


def encode_credentials(server_url: str, username: str, secret: str) -> str:
    """The JSON object of ``store`` input and ``get`` output (no trailing newline)."""
    return go_json({"ServerURL": server_url, "Username": username, "Secret": secret})


def encode_list(entries: Mapping[str, str]) -> str:
    """The ``list`` output: server -> username, keys sorted as Go sorts map keys."""
    ordered = dict(sorted(entries.items(), key=lambda kv: kv[0].encode("utf-8")))
    return go_json(ordered)


class _Number:
    """Any JSON number: never converted (a 5000-digit integer would raise ValueError), as
    a number is always a wrong type in these messages."""

    __slots__ = ()


_NUMBER = _Number()


class _NotJson(Exception):
    """``NaN``/``Infinity``: Python's json accepts them, JSON does not."""


def _constant(name: str) -> object:
    raise _NotJson(name)


_DECODER = json.JSONDecoder(
    parse_int=lambda _: _NUMBER, parse_float=lambda _: _NUMBER, parse_constant=_constant
)


def _loads(data: str, what: str) -> object:
    try:
        return _DECODER.decode(data)
    except json.JSONDecodeError as exc:
        raise ProtocolError(f"{what} is not JSON ({exc.msg} at column {exc.colno})") from None
    except _NotJson as exc:
        raise ProtocolError(f"{what} holds {exc}, which is not JSON") from None
    except RecursionError:
        raise ProtocolError(f"{what} is nested too deeply") from None


def _check_text(value: str, what: str) -> str:
    if not value.isascii():
        for ch in value:
            if "\ud800" <= ch <= "\udfff":
                raise ProtocolError(
                    f"{what} holds a lone surrogate (U+{ord(ch):04X} escape), which is not"
                    " Unicode text"
                )
    return value


def _field(obj: Mapping[str, object], name: str) -> str:
    # Go's decoder matches field names case-insensitively; an exact match wins.
    if name in obj:
        value = obj[name]
    else:
        lowered = name.lower()
        value = next((v for k, v in obj.items() if k.lower() == lowered), "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ProtocolError(f"field {name!r} is {_json_type(value)}, not a string")
    return _check_text(value, f"field {name!r}")


def _json_type(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, _Number):
        return "a number"
    return f"a {type(value).__name__}"


def decode_credentials(data: str) -> HelperCredentials:
    """Parse ``{"ServerURL","Username","Secret"}`` (``store`` input, ``get`` output)."""
    obj = _loads(data, "credentials message")
    if not isinstance(obj, dict):
        raise ProtocolError("credentials message is not a JSON object")
    return HelperCredentials(
        _field(obj, "ServerURL"), _field(obj, "Username"), _field(obj, "Secret")
    )


def decode_list(data: str) -> Dict[str, str]:
    """Parse ``list`` output into server -> username."""
    obj = _loads(data, "list output")
    if not isinstance(obj, dict) or not all(isinstance(v, str) for v in obj.values()):
        raise ProtocolError("list output is not a JSON object of strings")
    for key, value in obj.items():
        _check_text(key, "a server in the list output")
        _check_text(value, "a username in the list output")
    return {str(k): str(v) for k, v in obj.items()}
