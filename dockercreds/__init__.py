"""dockercreds: container-registry credentials as Docker and Podman find them.

Importing the package is cheap: the public names are loaded from their modules on
first use, and ``keyring``, ``requests`` and ``subprocess`` are imported only by the
code paths that need them.
"""

from __future__ import annotations

# Not `from typing import TYPE_CHECKING`: importing typing costs milliseconds on every
# run of the helper program, whose get/list path imports this package.
TYPE_CHECKING = False

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "Credentials": "credentials",
    "DockerConfig": "config",
    "Login": "tempconfig",
    "RegistryAuth": "auth_requests",
    "get_credentials": "resolver",
    "get_registry_credentials": "resolver",
    "list_credentials": "inventory",
    "load_config": "resolver",
    "login": "accounts",
    "logout": "accounts",
    "temporary_config": "tempconfig",
}
_SUBMODULES = ("errors", "reference")

__all__ = [
    "Credentials",
    "DockerConfig",
    "Login",
    "RegistryAuth",
    "__version__",
    "errors",
    "get_credentials",
    "get_registry_credentials",
    "list_credentials",
    "load_config",
    "login",
    "logout",
    "reference",
    "temporary_config",
]

if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, List

    from . import errors, reference
    from .accounts import login, logout
    from .auth_requests import RegistryAuth
    from .config import DockerConfig
    from .credentials import Credentials
    from .inventory import list_credentials
    from .resolver import get_credentials, get_registry_credentials, load_config
    from .tempconfig import Login, temporary_config


def __getattr__(name: str) -> Any:
    import importlib  # here, not at the top: importlib's package imports warnings

    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> List[str]:
    return list(__all__)
