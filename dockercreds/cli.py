"""The ``dockercreds`` program.

Exit status: 0 on success, 1 on a handled error (one line on stderr), 2 on usage errors.
Never a traceback for bad input, a missing file or a failing peer.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Dict, Optional, Sequence

from . import __version__
from .errors import DockerCredsError

__all__ = ["main"]

Handler = Callable[[argparse.Namespace], int]


def _err(message: str) -> None:
    sys.stderr.write(f"dockercreds: {message}\n")


# --- get / explain -------------------------------------------------------------------


def _add_get(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("get", help="print the credentials for a registry or image")
    p.add_argument("target", metavar="TARGET", help="registry (quay.io) or image reference")
    _add_source_flags(p)


def _sources(args: argparse.Namespace) -> Optional[str]:
    return "all" if getattr(args, "containers", False) else None


def _cmd_get(args: argparse.Namespace) -> int:
    from .errors import CredentialsNotFound
    from .protocol import encode_credentials
    from .resolver import parse_target, resolve

    host, path = parse_target(args.target)
    creds = resolve(host, path, config=args.config, sources=_sources(args))
    if creds is None or creds.is_empty:
        where = f"{host}/{path}" if path else host
        raise CredentialsNotFound(
            f"no credentials for {where} (see: dockercreds explain {args.target})"
        )
    if creds.registry_token and not (creds.password or creds.identity_token):
        # the helper protocol has no field for a registry token; print it as the secret
        username, secret = creds.username or "", creds.registry_token
    else:
        username, secret = creds.helper_pair()
    sys.stdout.write(encode_credentials(creds.server, username, secret) + "\n")
    return 0


def _add_explain(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("explain", help="show how the credentials for TARGET are found")
    p.add_argument("target", metavar="TARGET")
    _add_source_flags(p)
    p.add_argument("--json", action="store_true", help="machine-readable trace")


def _cmd_explain(args: argparse.Namespace) -> int:
    import json

    from .resolver import Trace, parse_target, resolve

    trace = Trace()
    host, path = parse_target(args.target)
    trace(f"target {args.target!r}: registry {host!r}" + (f", repository {path!r}" if path else ""))
    if args.config:
        trace(f"config: only {args.config} (--config)")
    creds = resolve(host, path, config=args.config, sources=_sources(args), trace=trace)
    if args.json:
        result = None
        if creds is not None:
            result = {
                "server": creds.server,
                "source": creds.source,
                "username": creds.username,
                "secret": "identity_token" if creds.identity_token and not creds.password
                else ("registry_token" if creds.registry_token and not creds.password
                      else "password"),
            }
        doc = {"registry": host, "repository": path, "steps": trace.steps, "result": result}
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        sys.stdout.write("\n".join(trace.steps) + "\n")
    return 0


def _add_source_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="PATH", help="read only this Docker config file")
    p.add_argument(
        "--containers",
        action="store_true",
        help="also read the containers auth files (podman, skopeo)",
    )


# --- login / logout / migrate (safe writes) ---------------------------------------------


def _add_login(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sub.add_parser("login", help="store credentials for a registry")


def _cmd_login(args: argparse.Namespace) -> int:
    raise NotImplementedError


def _add_logout(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sub.add_parser("logout", help="remove the credentials for a registry")


def _cmd_logout(args: argparse.Namespace) -> int:
    raise NotImplementedError


def _add_migrate(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sub.add_parser("migrate", help="move plaintext secrets into the keyring or a helper")


def _cmd_migrate(args: argparse.Namespace) -> int:
    raise NotImplementedError


# --- token (HTTP auth) -------------------------------------------------------------------


def _add_token(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sub.add_parser("token", help="print a registry bearer token for an image")


def _cmd_token(args: argparse.Namespace) -> int:
    raise NotImplementedError


# --- Kubernetes ------------------------------------------------------------------------


def _add_k8s_secret(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sub.add_parser("k8s-secret", help="print a kubernetes.io/dockerconfigjson Secret")


def _cmd_k8s_secret(args: argparse.Namespace) -> int:
    raise NotImplementedError


def _add_kubelet_plugin(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sub.add_parser("kubelet-plugin", help="kubelet image credential provider (stdin/stdout)")


def _cmd_kubelet_plugin(args: argparse.Namespace) -> int:
    raise NotImplementedError


# --- program ---------------------------------------------------------------------------

_COMMANDS: Dict[str, tuple[Callable[..., None], Handler]] = {
    "get": (_add_get, _cmd_get),
    "explain": (_add_explain, _cmd_explain),
    "login": (_add_login, _cmd_login),
    "logout": (_add_logout, _cmd_logout),
    "migrate": (_add_migrate, _cmd_migrate),
    "token": (_add_token, _cmd_token),
    "k8s-secret": (_add_k8s_secret, _cmd_k8s_secret),
    "kubelet-plugin": (_add_kubelet_plugin, _cmd_kubelet_plugin),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dockercreds",
        description="Container-registry credentials as Docker and Podman find them.",
    )
    parser.add_argument("--version", action="version", version=f"dockercreds {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add, _ in _COMMANDS.values():
        add(sub)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
    handler = _COMMANDS[args.command][1]
    try:
        return handler(args)
    except DockerCredsError as exc:
        _err(str(exc))
        return 1
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except BrokenPipeError:
        return 1




if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
