"""One ``auths`` entry: the decoded value (:class:`AuthEntry`) and the ``auth`` field codec.

Shared by the config sources (:mod:`dockercreds.config`, which decodes entries) and the
key index (:mod:`dockercreds.matcher`, which hands matched entries to the resolver), so
that neither has to import the other's module for it.
"""

from __future__ import annotations

import base64
import binascii
import re
import sys
from typing import NamedTuple, Optional, Tuple

from .errors import ConfigFormatError
from .registry import without_userinfo

__all__ = ["AuthEntry", "b64decode", "decode_auth", "encode_auth"]


class AuthEntry(NamedTuple):
    """One decoded ``auths`` entry (immutable). Secrets are hidden from ``repr``."""

    key: str
    username: Optional[str] = None
    password: Optional[str] = None
    identity_token: Optional[str] = None
    registry_token: Optional[str] = None
    email: Optional[str] = None

    @property
    def is_empty(self) -> bool:
        """``{}``: no secret here; the credential store holds it (or nobody does)."""
        return not (self.username or self.password or self.identity_token or self.registry_token)

    def __repr__(self) -> str:
        state = "empty" if self.is_empty else "with secret"
        return f"<AuthEntry {without_userinfo(self.key)!r} username={self.username!r} {state}>"

    def __str__(self) -> str:
        return self.__repr__()


def encode_auth(username: str, password: str) -> str:
    """The ``auth`` field: standard base64 of ``username:password``."""
    return base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")

if sys.version_info >= (3, 11):

    def b64decode(value: str) -> Optional[bytes]:
        """Go's StdEncoding on a value without line breaks, or None when invalid."""
        if len(value) % 4:
            return None
        try:
            return binascii.a2b_base64(value, strict_mode=True)
        except (binascii.Error, ValueError):
            return None

else:  # pragma: no cover - no strict mode before 3.11

    def b64decode(value: str) -> Optional[bytes]:
        """Go's StdEncoding on a value without line breaks, or None when invalid."""
        if len(value) % 4 or _BASE64.fullmatch(value) is None:
            return None
        try:
            return binascii.a2b_base64(value)
        except (binascii.Error, ValueError):
            return None


def decode_auth(value: str, *, where: str, key: str, path: Optional[str]) -> Tuple[str, str]:
    """Decode an ``auth`` field as Docker does: base64, split at the first ``:``.

    Go's ``base64.StdEncoding``: padding required, line breaks ignored, nothing else.
    ``where`` starts the message of the :class:`ConfigFormatError` raised for a bad value.
    """
    if "\n" in value or "\r" in value:
        value = value.replace("\r", "").replace("\n", "")
    raw = b64decode(value)
    if raw is None:
        raise ConfigFormatError(
            f"{where}: auths[{without_userinfo(key)!r}].auth is not valid base64"
            " (expected base64 of 'username:password'; log in again to rewrite it)",
            path=path,
            key=key,
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    username, sep, password = text.partition(":")
    if not sep or not username:
        problem = "has no ':'" if not sep else "has an empty username"
        raise ConfigFormatError(
            f"{where}: auths[{without_userinfo(key)!r}].auth {problem} after decoding"
            " (expected base64 of 'username:password')",
            path=path,
            key=key,
        )
    if password.endswith("\x00") or password.startswith("\x00"):
        password = password.strip("\x00")
    return username, password
