"""The immutable :class:`Credentials` value that every lookup returns."""

from __future__ import annotations

from typing import Any, Optional, Tuple

__all__ = ["TOKEN_USERNAME", "Credentials", "new_credentials"]

#: The username a credential helper uses to say "the secret is an identity token".
TOKEN_USERNAME = "<token>"  # noqa: S105 - a marker, not a password


class Credentials:
    """Credentials for one registry, and where they came from.

    ``server`` is the config key or server URL that matched (what a helper was asked
    for); ``source`` is ``"file:<path>"``, ``"env:DOCKER_AUTH_CONFIG"``,
    ``"helper:<name>"`` or ``"keyring"``. Secrets never appear in ``repr`` or ``str``.
    """

    __slots__ = (
        "email",
        "identity_token",
        "password",
        "registry_token",
        "server",
        "source",
        "username",
    )

    server: str
    username: Optional[str]
    password: Optional[str]
    identity_token: Optional[str]
    registry_token: Optional[str]
    source: str
    email: Optional[str]

    def __init__(
        self,
        server: str,
        *,
        username: Optional[str] = None,
        password: Optional[str] = None,
        identity_token: Optional[str] = None,
        registry_token: Optional[str] = None,
        source: str = "",
        email: Optional[str] = None,
    ) -> None:
        _fill(self, server, username, password, identity_token, registry_token, source, email)

    @classmethod
    def from_helper(cls, server: str, username: str, secret: str, *, source: str) -> Credentials:
        """Build from a helper answer: username ``<token>`` means an identity token."""
        if username == TOKEN_USERNAME:
            return cls(server, identity_token=secret, source=source)
        return cls(server, username=username, password=secret, source=source)

    def helper_pair(self) -> Tuple[str, str]:
        """(Username, Secret) as the helper protocol carries them."""
        if self.identity_token and not self.password:
            return TOKEN_USERNAME, self.identity_token
        return self.username or "", self.password or ""

    @property
    def is_empty(self) -> bool:
        """True when there is nothing to authenticate with."""
        return not (self.username or self.password or self.identity_token or self.registry_token)

    def replace(self, **changes: Any) -> Credentials:
        """A copy with some fields changed."""
        fields = {name: getattr(self, name) for name in self.__slots__}
        fields.update(changes)
        server = fields.pop("server")
        return Credentials(server, **fields)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Credentials is immutable (cannot set {name!r})")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Credentials is immutable (cannot delete {name!r})")

    def _key(self) -> Tuple[Optional[str], ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Credentials):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        kinds = [
            name
            for name in ("password", "identity_token", "registry_token")
            if getattr(self, name)
        ]
        secret = "+".join(kinds) if kinds else "none"
        from .registry import without_userinfo  # a key may carry ?token=... or user@

        return (
            f"<Credentials server={without_userinfo(self.server)!r} username={self.username!r} "
            f"secret={secret}(hidden) source={self.source!r}>"
        )

    __str__ = __repr__


# The slots' own setters: what __setattr__ (which refuses every change) would have used.
# Unrolled calls of them, because every lookup builds a Credentials.
_set_server, _set_user, _set_password, _set_identity, _set_registry, _set_source, _set_email = (
    getattr(Credentials, name).__set__
    for name in (
        "server", "username", "password", "identity_token", "registry_token", "source", "email"
    )
)
_new = object.__new__


def _fill(
    self: Credentials,
    server: str,
    username: Optional[str],
    password: Optional[str],
    identity_token: Optional[str],
    registry_token: Optional[str],
    source: str,
    email: Optional[str],
) -> None:
    _set_server(self, server)
    _set_user(self, username)
    _set_password(self, password)
    _set_identity(self, identity_token)
    _set_registry(self, registry_token)
    _set_source(self, source)
    _set_email(self, email)


def new_credentials(
    server: str,
    username: Optional[str],
    password: Optional[str],
    identity_token: Optional[str],
    registry_token: Optional[str],
    source: str,
    email: Optional[str],
) -> Credentials:
    """``Credentials(server, username=..., ...)`` with every field given in slot order,
    without the keyword handling: for the lookup paths that build one per answer."""
    creds: Credentials = _new(Credentials)
    _fill(creds, server, username, password, identity_token, registry_token, source, email)
    return creds
