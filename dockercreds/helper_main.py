"""The ``docker-credential-keyring`` program (the keyring store lands in its own work)."""

from __future__ import annotations

import sys
from typing import Optional, Sequence

from . import __version__

__all__ = ["main"]


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args in (["version"], ["-v"], ["--version"]):
        sys.stdout.write(f"docker-credential-keyring (dockercreds) {__version__}\n")
        return 0
    sys.stdout.write("Usage: docker-credential-keyring <store|get|erase|list|version>\n")
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
