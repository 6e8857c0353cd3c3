"""The ``dockercreds`` program.

Exit status: 0 on success, 1 on a handled error (one line on stderr), 2 on usage errors.
Never a traceback for bad input, a missing file or a failing peer.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional, Sequence

from . import __version__
from .errors import DockerCredsError, HelperNotInstalledWarning, InvalidArgument, one_line

if TYPE_CHECKING:  # pragma: no cover
    from .credentials import Credentials

__all__ = ["main"]

Handler = Callable[[argparse.Namespace], int]


def _err(message: str) -> None:
    """One line on stderr: a message's own line breaks are folded into spaces."""
    sys.stderr.write(f"dockercreds: {_one_line(message)}\n")


def _one_line(text: str) -> str:
    return one_line(text)


def _out(text: str) -> None:
    """Write ``text`` to stdout, refusing text that is not valid Unicode.

    A value decoded with surrogateescape (undecodable bytes in argv or a file) cannot be
    printed as UTF-8; say so instead of dying in the middle of the output.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidArgument(
            "the answer holds text that is not valid Unicode (undecodable bytes in an"
            " argument, a config file or a helper's answer); it cannot be printed as UTF-8"
        ) from None
    sys.stdout.write(text)


class _OutputFailed(DockerCredsError):
    """stdout cannot take the answer: closed, a full disk, an I/O error."""


class _Stdout:
    """``sys.stdout`` for one run of :func:`main`: a write or flush that fails (``>&-``,
    ``>/dev/full``) is an :class:`_OutputFailed`, one line on stderr and exit status 1,
    not a traceback or Python's "Exception ignored" at exit. A closed pipe stays a
    BrokenPipeError (``dockercreds list | head`` is not an error)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def _call(self, name: str, *args: Any) -> Any:
        if self._stream is None:
            raise _OutputFailed("cannot write the answer: stdout is closed")
        try:
            return getattr(self._stream, name)(*args)
        except BrokenPipeError:
            raise
        except (OSError, ValueError) as exc:  # ValueError: I/O on a closed file
            reason = getattr(exc, "strerror", None) or "the stream is closed"
            raise _OutputFailed(f"cannot write the answer to stdout: {reason}") from None

    def write(self, text: str) -> Any:
        return self._call("write", text)

    def flush(self) -> None:
        self._call("flush")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


#: Start of the last-resort message for an unexpected exception (a bug). Tests assert
#: that it never appears.
INTERNAL_ERROR = "internal error"


def _internal_error(exc: BaseException) -> str:
    """``internal error: <type> at <file:line>: <message>``, without the input values.

    The message of an unexpected exception can quote the input that caused it (a
    password, a token), so quoted parts are dropped and the rest is clipped.
    """
    import re
    import traceback
    from pathlib import Path

    where = ""
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        last = frames[-1]
        where = f" at {Path(last.filename).name}:{last.lineno}"
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", _one_line(str(exc)))
    text = text if len(text) <= 80 else text[:79] + "…"
    detail = f": {text}" if text else ""
    return (
        f"{INTERNAL_ERROR}: {type(exc).__name__}{where}{detail} — please report this"
        " at https://github.com/dockercreds/dockercreds/issues"
    )


# --- get / explain -------------------------------------------------------------------


def _add_get(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "get",
        help="print the credentials for a registry or image",
        description="Print the credentials Docker would use for TARGET as the helper-protocol"
        ' JSON {"ServerURL":..,"Username":..,"Secret":..} (an identity token has the'
        " Username <token>). No credentials: one line on stderr, exit status 1.",
    )
    p.add_argument("target", metavar="TARGET", help=_TARGET_HELP)
    _add_source_flags(p)
    _add_strict(p)


def _add_strict(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--strict",
        action="store_true",
        help="a credential helper named in the config that is not installed is an error"
        " (default: a warning, and the lookup goes on without it)",
    )


_TARGET_HELP = (
    "a registry (quay.io, localhost:5000, https://index.docker.io/v1/) or an image"
    " reference (ubuntu:22.04, quay.io/org/app); without '/', a name with '.' or ':'"
    " (other than a tag) or 'localhost' is a registry"
)


def explain_hint(args: argparse.Namespace, target: str) -> str:
    """``dockercreds explain TARGET`` with the source options the user gave."""
    import shlex

    words = ["dockercreds", "explain", target]
    if getattr(args, "config", None):
        words += ["--config", args.config]
    if getattr(args, "containers", False):
        words.append("--containers")
    return " ".join(shlex.quote(w) for w in words)


def _sources(args: argparse.Namespace) -> Optional[str]:
    return "all" if getattr(args, "containers", False) else None


def _cmd_get(args: argparse.Namespace) -> int:
    from .errors import CredentialsNotFound
    from .protocol import encode_credentials
    from .registry import without_userinfo
    from .resolver import parse_target, resolve

    host, path = parse_target(args.target)
    creds = resolve(host, path, config=args.config, sources=_sources(args), strict=args.strict)
    if creds is None or creds.is_empty:
        where = f"{host}/{path}" if path else host
        raise CredentialsNotFound(
            f"no credentials for {where}"
            f" (see: {explain_hint(args, without_userinfo(args.target))})"
        )
    if creds.registry_token and not (creds.password or creds.identity_token):
        # the helper protocol has no field for a registry token; print it as the secret
        username, secret = creds.username or "", creds.registry_token
    else:
        username, secret = creds.helper_pair()
    _out(encode_credentials(creds.server, username, secret) + "\n")
    return 0


def _add_explain(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "explain",
        help="show how the credentials for TARGET are found",
        description="Trace the lookup for TARGET step by step: the sources read, the keys"
        " considered and which one matched and why, collisions, the helper or store asked,"
        " and the result. Secrets are never shown. Exit status 1 when a step fails (the"
        " trace up to that point is still printed).",
    )
    p.add_argument("target", metavar="TARGET", help=_TARGET_HELP)
    _add_source_flags(p)
    _add_strict(p)
    p.add_argument(
        "--json", action="store_true", help="print the trace as JSON (steps, result, error)"
    )


def _secret_kind(creds: Credentials) -> str:
    if creds.password:
        return "password"
    return "identity_token" if creds.identity_token else "registry_token"


def _cmd_explain(args: argparse.Namespace) -> int:
    import json

    from .registry import without_userinfo
    from .resolver import Trace, parse_target, resolve

    trace = Trace()
    host, path = parse_target(args.target)
    shown = without_userinfo(args.target)
    trace(f"target {shown!r}: registry {host!r}" + (f", repository {path!r}" if path else ""))
    if args.config:
        trace(f"config: only {args.config} (--config)")
    error: Optional[DockerCredsError] = None
    creds = None
    try:
        # a helper that is not installed is a step of the trace, not a second report
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", HelperNotInstalledWarning)
            creds = resolve(
                host,
                path,
                config=args.config,
                sources=_sources(args),
                trace=trace,
                strict=args.strict,
            )
    except DockerCredsError as exc:  # show how far the lookup got, then the error
        error = exc
        trace(f"error: {exc}")
    if args.json:
        result = None
        if creds is not None:
            from .registry import without_userinfo

            result = {
                "server": without_userinfo(creds.server),  # explain never shows a secret
                "source": creds.source,
                "username": creds.username,
                "secret": _secret_kind(creds),
            }
        doc = {
            "registry": host,
            "repository": path,
            "steps": trace.steps,
            "result": result,
            "error": str(error) if error else None,
        }
        _out(json.dumps(doc, indent=2) + "\n")
    else:
        _out("\n".join(trace.steps) + "\n")
    if error is not None:
        _err(str(error))
        return 1
    return 0


def _add_source_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config", metavar="PATH", help="read only this Docker config file (no other source)"
    )
    p.add_argument(
        "--containers",
        action="store_true",
        help="also read the containers auth files of podman and skopeo (REGISTRY_AUTH_FILE,"
        " $XDG_RUNTIME_DIR/containers/auth.json, $XDG_CONFIG_HOME/containers/auth.json);"
        " ignored with --config",
    )


# --- check ---------------------------------------------------------------------------


def _add_check(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "check",
        help="validate the config file(s): every entry, not only the ones a lookup uses",
        description=(
            "Read the config sources a lookup reads (DOCKER_AUTH_CONFIG and the Docker"
            " config file; with --containers also the containers auth files; with --config"
            " only that file) and decode every entry. Lookups decode an entry only when"
            " they use it. Prints one line per source on stdout, one line per problem"
            " (naming the file, line and key) on stdout, and warnings on stderr. Exit"
            " status 1 when there is a problem, else 0."
        ),
    )
    _add_source_flags(p)


def _cmd_check(args: argparse.Namespace) -> int:
    from .config import check_sources

    report = check_sources(args.config, sources=_sources(args) or "docker")
    for line in report.checked:
        sys.stdout.write(f"checked {line}\n")
    for line in report.warnings:
        _err(f"warning: {line}")
    for line in report.problems:
        sys.stdout.write(f"problem: {line}\n")
    if report.problems:
        n = len(report.problems)
        _err(f"{n} problem{'s' if n != 1 else ''} found")
        return 1
    return 0


# --- login / logout / migrate (safe writes) ---------------------------------------------


def _add_target_flags(p: argparse.ArgumentParser) -> None:
    """--config (Docker's file) or --containers / --authfile (the containers auth file)."""
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--config", metavar="PATH",
        help="the Docker config file to change (default: $DOCKER_CONFIG/config.json,"
        " else ~/.docker/config.json)",
    )
    where.add_argument(
        "--containers", action="store_true",
        help="change the auth file podman writes (REGISTRY_AUTH_FILE, else"
        " $DOCKER_CONFIG/config.json, else $XDG_RUNTIME_DIR/containers/auth.json) instead,"
        " in podman's format",
    )
    where.add_argument(
        "--authfile", metavar="PATH",
        help="change this containers auth file (podman/skopeo/buildah format)",
    )


def _target(args: argparse.Namespace) -> tuple[Optional[str], str]:
    """(config path or None, target) from --config / --containers / --authfile."""
    if args.authfile is not None:
        return args.authfile, "containers"
    if args.containers:
        return None, "containers"
    return args.config, "docker"


def _add_login(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "login",
        help="store credentials for a registry",
        description="Check the credentials with the registry, then store them where Docker"
        " would (credHelpers > credsStore > the config file), or in --store. Without a"
        " password (and on a terminal) it prompts.",
    )
    p.add_argument(
        "registry", metavar="REGISTRY", nargs="?", default="docker.io",
        help="registry host[:port] (default: Docker Hub)",
    )
    p.add_argument("-u", "--username", help="username ('<token>' for an identity token)")
    secret = p.add_mutually_exclusive_group()
    secret.add_argument("-p", "--password", help="password (insecure: use --password-stdin)")
    secret.add_argument(
        "--password-stdin", action="store_true", help="read the password or token from stdin"
    )
    p.add_argument(
        "--store", metavar="STORE", type=_store_name,
        help="where to store: file, keyring or the name of an installed credential helper"
        " (pass for docker-credential-pass); default: as Docker would",
    )
    _add_target_flags(p)
    p.add_argument(
        "--no-verify", action="store_true", help="store without checking with the registry"
    )
    p.add_argument(
        "--insecure", action="store_true",
        help="allow plain http when checking (always allowed for localhost/127.0.0.1)",
    )


def _unicode(value: str, what: str) -> str:
    """``value`` when it is valid Unicode; argv and stdin may carry undecodable bytes."""
    from .errors import InvalidCredentials

    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidCredentials(
            f"the {what} is not valid UTF-8 text; registries and config files need UTF-8"
        ) from None
    return value


def _read_stdin_text(what: str) -> str:
    from .errors import InvalidCredentials

    if sys.stdin is None:
        raise InvalidCredentials(f"cannot read the {what} from stdin: stdin is closed")
    stream = getattr(sys.stdin, "buffer", None)
    try:
        data = stream.read() if stream is not None else sys.stdin.read()
    except UnicodeDecodeError:
        raise InvalidCredentials(f"the {what} on stdin is not valid UTF-8 text") from None
    except OSError as exc:
        raise InvalidCredentials(f"cannot read the {what} from stdin: {exc.strerror}") from None
    if isinstance(data, bytes):
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidCredentials(f"the {what} on stdin is not valid UTF-8 text") from None
    return data


def _stdin_is_terminal() -> bool:
    """stdin is a terminal one can prompt on (not closed, ``<&-``, nor a file or pipe)."""
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except ValueError:  # closed
        return False


def _stdin_password() -> str:
    """All of stdin, less one trailing line break (as ``docker login --password-stdin``)."""
    password = _read_stdin_text("password")
    password = password[:-1] if password.endswith("\n") else password
    return password[:-1] if password.endswith("\r") else password


def _seconds(value: str) -> float:
    """``--timeout``: a usage error unless a valid timeout (``inf`` or ``1e12`` would
    overflow in the OS's wait, ``nan`` and ``-1`` mean nothing)."""
    import math

    from .timeouts import RULE, is_timeout

    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not is_timeout(seconds):
        raise argparse.ArgumentTypeError(f"{value!r} is not {RULE}")
    return seconds


def _store_name(value: str) -> str:
    """``--store``: file, keyring, or a helper whose program is on PATH (checked up front,
    so a typo is a usage error about the flag, not a failure blamed on config.json)."""
    import shutil

    if value in ("file", "keyring"):
        return value
    if not value or "/" in value or value.startswith("docker-credential-"):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a store: use file, keyring or a helper name such as pass"
            " (without the docker-credential- prefix)"
        )
    if shutil.which(f"docker-credential-{value}") is None:
        raise argparse.ArgumentTypeError(
            f"no credential helper {value!r}: docker-credential-{value} is not on PATH;"
            " use file, keyring or the name of an installed helper"
        )
    return value


def _login_secret(args: argparse.Namespace) -> tuple[str, str]:
    import getpass

    from .errors import InvalidCredentials

    username = _unicode(args.username or "", "username")
    if args.username is not None and not username.strip():
        raise InvalidCredentials(
            "the username is empty (-u ''): give a username, or '<token>' with an identity token"
        )
    if args.password_stdin:
        if not username:
            raise InvalidCredentials("the --password-stdin option requires --username to be set")
        return username, _stdin_password()
    if args.password is not None:
        sys.stderr.write(
            "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n"
        )
        if username:
            return username, _unicode(args.password, "password")
        if not _stdin_is_terminal():
            raise InvalidCredentials("--password needs a username: add -u USER")
    if not _stdin_is_terminal():
        raise InvalidCredentials("Cannot perform an interactive login from a non TTY device")
    try:
        if not username:
            sys.stderr.write("Username: ")
            sys.stderr.flush()
            line = sys.stdin.readline()
            if not line:
                raise EOFError
            username = _unicode(line.strip(), "username")
        password = args.password
        if password is None:
            password = getpass.getpass("Password: ")
    except EOFError:
        sys.stderr.write("\n")  # end the prompt line, so the error is a line of its own
        raise InvalidCredentials(
            "login cancelled: end of input at the prompt (no credentials were stored)"
        ) from None
    except UnicodeDecodeError:
        sys.stderr.write("\n")
        raise InvalidCredentials("the text typed at the prompt is not valid UTF-8") from None
    return username, _unicode(password, "password")


def _cmd_login(args: argparse.Namespace) -> int:
    import warnings

    from .accounts import login
    from .writer import PlaintextStorageWarning

    username, password = _login_secret(args)
    config, target = _target(args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PlaintextStorageWarning)
        login(
            args.registry,
            username,
            password,
            config=config,
            store=args.store,
            verify=not args.no_verify,
            insecure=args.insecure,
            target=target,
        )
    for warning in caught:
        if issubclass(warning.category, PlaintextStorageWarning):
            sys.stderr.write(
                f"\nWARNING! {warning.message}\n"
                f"Run '{_migrate_hint(args)}' to move them into the OS keyring, or configure"
                " a credential helper.\n\n"
            )
        else:
            sys.stderr.write(f"WARNING: {warning.message}\n")
    _out("Login Succeeded\n")
    return 0


def _migrate_hint(args: argparse.Namespace) -> str:
    """``dockercreds migrate`` for the file the login just wrote."""
    import shlex

    words = ["dockercreds", "migrate"]
    if args.authfile is not None:
        words += ["--authfile", args.authfile]
    elif args.containers:
        words.append("--containers")
    elif args.config:
        words += ["--config", args.config]
    return " ".join(shlex.quote(w) for w in words)


def _add_logout(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "logout",
        help="remove the credentials for a registry",
        description="Remove the credentials for REGISTRY from every store that holds them"
        " (its credHelpers helper, the credsStore) and every auths key naming it. Not being"
        " logged in is not an error.",
    )
    p.add_argument(
        "registry", metavar="REGISTRY", nargs="?", default="docker.io",
        help="registry host[:port], or host/namespace for a namespace key"
        " (default: Docker Hub)",
    )
    _add_target_flags(p)


def _cmd_logout(args: argparse.Namespace) -> int:
    import warnings

    from .accounts import config_path, containers_key, logout, namespace_of
    from .registry import helper_server, parse_key
    from .writer import read_config, section

    config, target = _target(args)
    key = parse_key(args.registry)
    shown = helper_server(key.host)
    if target == "containers":
        shown = containers_key(args.registry)[1]  # podman removes exactly that key
    elif key.path and not key.scheme:
        # logout removes the namespace key when there is one, else the whole host
        auths = section(read_config(config_path(config)), "auths", create=False)
        if any(namespace_of(k) == (key.host, key.path) for k in auths or {}):
            shown = f"{key.host}/{key.path}"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        removed = logout(args.registry, config=config, target=target)
    for warning in caught:
        sys.stderr.write(f"WARNING: {warning.message}\n")
    if removed:
        _out(f"Removing login credentials for {shown}\n")
    else:
        _out(f"Not logged in to {shown}\n")
    return 0


def _add_migrate(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "migrate",
        help="move plaintext secrets into the keyring or a helper",
        description="Store every plaintext secret of the config file in the keyring (or a"
        " helper) and read each back; then remove them from the file and route their"
        " registries there with credHelpers. Any failure leaves the file unchanged.",
    )
    p.add_argument(
        "--to", metavar="STORE", default="keyring",
        help="keyring (default) or a credential helper name (pass, secretservice, ...)",
    )
    p.add_argument(
        "--dry-run", action="store_true", help="only show what would move; change nothing"
    )
    p.add_argument(
        "--include-namespaces", action="store_true",
        help="move namespace keys (quay.io/org) too, into the keyring only; the docker CLI,"
        " podman and skopeo then no longer see those accounts (the report says what they see)",
    )
    _add_target_flags(p)


def _cmd_migrate(args: argparse.Namespace) -> int:
    from .migrate import migrate
    from .registry import without_userinfo

    if args.to == "file":
        _err("migrate: --to must be keyring or a credential helper name, not file")
        return 2
    config, target = _target(args)
    report = migrate(
        config, to=args.to, dry_run=args.dry_run, target=target,
        include_namespaces=args.include_namespaces,
    )
    out = sys.stdout
    if report.dry_run:
        out.write(f"Dry run: nothing changed in {report.path}\n")
    for item in report.items:
        out.write(item.describe() + "\n")
    if not report.items:
        out.write(f"no credentials in {report.path}\n")
    verb = "would be set" if report.dry_run else "set"
    if report.routes:
        keys = ", ".join(report.routes)
        out.write(f"credHelpers {verb} to {report.store!r} for {keys} in {report.path}\n")
    if report.creds_store_set:
        out.write(f"credsStore {verb} to {report.store!r} in {report.path}\n")
    elif report.creds_store_note:
        out.write(f"credsStore not set: {report.creds_store_note}\n")
    for note in report.notes:
        out.write(f"note: {note}\n")
    if report.failed:
        out.write(f"nothing changed in {report.path}\n")
    moved = len(report.moved)
    out.write(
        f"{moved} {'would move' if report.dry_run else 'moved'}, {len(report.kept)} kept,"
        f" {len(report.failed)} failed\n"
    )
    for item in report.failed:
        _err(f"{without_userinfo(item.key)}: {' '.join(item.reason.split())}")
    return 1 if report.failed else 0


# --- token (HTTP auth) -------------------------------------------------------------------


def _add_token(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "token",
        help="print a registry bearer token for an image",
        description="Print a bearer token for pulling (or pushing) IMAGE, e.g. for curl:"
        ' curl -H "Authorization: Bearer $(dockercreds token IMAGE)" ...'
        " IMAGE follows the TARGET rule of `get`: a registry alone (quay.io,"
        " localhost:5000) is refused, since a token is for a repository."
        " Registries with Basic (htpasswd) authentication issue no token.",
    )
    p.add_argument(
        "image", metavar="IMAGE", help="image or repository, e.g. quay.io/org/app or ubuntu"
    )
    p.add_argument("--push", action="store_true", help="scope pull,push instead of pull")
    p.add_argument(
        "--config", metavar="PATH", help="read only this Docker config file (no other source)"
    )
    p.add_argument(
        "--insecure",
        action="store_true",
        help="the registry may use plain http or an unverified TLS certificate",
    )
    p.add_argument(
        "--timeout",
        type=_seconds,
        default=30.0,
        metavar="SECONDS",
        help="longest time for each exchange with the registry or token server (default 30)",
    )
    p.set_defaults(token_parser=p)


def _cmd_token(args: argparse.Namespace) -> int:
    import warnings

    from .auth_requests import RegistryAuth
    from .errors import NetworkError, TokenError
    from .registry import api_host, is_loopback
    from .resolver import parse_target

    parser: argparse.ArgumentParser = args.token_parser
    registry, path = parse_target(args.image)
    if not path:
        parser.error(
            f"{args.image.strip()!r} is a registry; a token is for a repository:"
            f" give one, e.g. {registry}/NAMESPACE/NAME"
        )
    host = api_host(registry)
    scopes = [f"repository:{path}:{'pull,push' if args.push else 'pull'}"]
    auth = RegistryAuth(
        config=args.config,
        insecure=[host] if args.insecure else (),
        token_timeout=args.timeout,
    )
    # Like docker: https first; plain http only for loopback or --insecure registries.
    schemes = ["https", "http"] if args.insecure or is_loopback(registry) else ["https"]
    token = ""
    for scheme in schemes:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # urllib3's InsecureRequestWarning
                token = auth.token(
                    f"{scheme}://{host}",
                    scopes,
                    verify=False if args.insecure else None,
                    timeout=args.timeout,
                )
            break
        except NetworkError as exc:
            if scheme == schemes[-1]:
                hint = "" if len(schemes) > 1 else "; for a plain-http registry use --insecure"
                raise NetworkError(f"{exc}{hint}") from None
        except TokenError as exc:
            raise TokenError(_with_explain_hint(str(exc), args)) from None
    _out(token + "\n")
    return 0


def _with_explain_hint(message: str, args: argparse.Namespace) -> str:
    """A library message's ``dockercreds explain REGISTRY`` hint, with the user's options."""
    import re

    match = re.search(r"dockercreds explain (\S+)", message)
    if match is None:
        return message
    return message[: match.start()] + explain_hint(args, match.group(1)) + message[match.end() :]


# --- Kubernetes ------------------------------------------------------------------------


def _add_k8s_secret(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "k8s-secret",
        help="print a kubernetes.io/dockerconfigjson Secret",
        description="Print the Secret `kubectl create secret docker-registry NAME"
        " --dry-run=client` prints for the same flags, or one holding the credentials"
        " dockercreds finds (--from-config; helpers and the keyring included).",
    )
    p.add_argument("name", metavar="NAME", help="Secret name (a DNS-1123 subdomain)")
    p.add_argument(
        "--docker-server",
        metavar="SERVER",
        help="registry key to write (default https://index.docker.io/v1/, as kubectl)",
    )
    p.add_argument(
        "--docker-username", metavar="USER", help="username for the registry (required"
        " without --from-config)",
    )
    p.add_argument(
        "--docker-password", metavar="PASSWORD", help="password or access token for the"
        " registry (required without --from-config)",
    )
    p.add_argument(
        "--docker-email", metavar="EMAIL", help="email written next to the credentials (optional)"
    )
    p.add_argument(
        "-n", "--namespace", metavar="NS",
        help="namespace of the Secret (default: left out, so kubectl uses the current one)",
    )
    p.add_argument(
        "-o", "--output", choices=("json", "yaml"), default="yaml",
        help="output format (default: yaml)",
    )
    p.add_argument(
        "--from-config",
        action="store_true",
        help="export the credentials dockercreds finds (default: every registry known)",
    )
    p.add_argument(
        "--registry",
        action="append",
        metavar="R",
        help="with --from-config: a registry or namespace to export (repeatable)",
    )
    p.add_argument(
        "--config", metavar="PATH", help="with --from-config: read only this Docker config file"
    )
    p.set_defaults(k8s_secret_parser=p)


def _cmd_k8s_secret(args: argparse.Namespace) -> int:
    from . import kubernetes

    parser: argparse.ArgumentParser = args.k8s_secret_parser
    flags = {
        "--docker-server": args.docker_server,
        "--docker-username": args.docker_username,
        "--docker-password": args.docker_password,
        "--docker-email": args.docker_email,
    }
    if args.from_config:
        given = [flag for flag, value in flags.items() if value is not None]
        if given:
            parser.error(f"--from-config cannot be combined with {', '.join(given)}")
        auths = kubernetes.export_auths(
            args.registry, config=args.config, warn=lambda m: _err(f"warning: {m}")
        )
        secret = kubernetes.dockerconfigjson_secret(args.name, auths, namespace=args.namespace)
    else:
        if args.registry or args.config:
            parser.error("--registry and --config need --from-config")
        server = kubernetes.DEFAULT_DOCKER_SERVER
        if args.docker_server is not None:
            server = args.docker_server
        if not server:
            parser.error("--docker-server must not be empty (default: Docker Hub)")
        if not (args.docker_username and args.docker_password):
            parser.error(
                "either --from-config or both --docker-username and --docker-password are"
                f" required (--docker-server defaults to {kubernetes.DEFAULT_DOCKER_SERVER})"
            )
        secret = kubernetes.docker_registry_secret(
            args.name,
            username=args.docker_username,
            password=args.docker_password,
            server=server,
            email=args.docker_email,
            namespace=args.namespace,
        )
    _out(kubernetes.serialize_secret(secret, args.output))
    return 0


def _add_kubelet_plugin(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "kubelet-plugin",
        help="kubelet image credential provider (stdin/stdout)",
        description="Answer the CredentialProviderRequest kubelet writes on stdin with a"
        " CredentialProviderResponse on stdout (credentialprovider.kubelet.k8s.io v1,"
        " v1beta1, v1alpha1).",
    )
    p.add_argument(
        "--cache-duration",
        metavar="DURATION",
        help="cacheDuration to answer with, Go syntax (5m0s, 1h); default: left out, so"
        " kubelet uses the provider's defaultCacheDuration",
    )
    p.add_argument(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        default=50.0,
        help="give up after this long, helper calls included (default 50; kubelet waits 60)",
    )
    p.add_argument(
        "--config", metavar="PATH", help="read only this Docker config file (no other source)"
    )
    p.set_defaults(kubelet_plugin_parser=p)


def _cmd_kubelet_plugin(args: argparse.Namespace) -> int:
    from . import kubernetes
    from .errors import KubernetesError

    parser: argparse.ArgumentParser = args.kubelet_plugin_parser
    cache_duration = None
    if args.cache_duration is not None:
        try:
            cache_duration = kubernetes.parse_go_duration(args.cache_duration)
        except KubernetesError as exc:
            parser.error(f"--cache-duration: {exc}")
    timeout: float = args.timeout
    try:
        if sys.stdin is None:
            raise KubernetesError("cannot read the request from stdin: stdin is closed")
        raw = sys.stdin.buffer.read(kubernetes.MAX_REQUEST_BYTES + 1)
        if len(raw) > kubernetes.MAX_REQUEST_BYTES:
            raise KubernetesError(
                "the CredentialProviderRequest on stdin is larger than"
                f" {kubernetes.MAX_REQUEST_BYTES} bytes; kubelet's requests are far smaller"
            )
        data = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise KubernetesError("the CredentialProviderRequest on stdin is not UTF-8") from None
    except OSError as exc:
        raise KubernetesError(f"cannot read the request from stdin: {exc}") from None
    response = kubernetes.run_plugin(
        data,
        config=args.config,
        cache_duration=cache_duration,
        timeout=timeout,
        warn=lambda m: _err(f"note: {m}"),
    )
    _out(response)
    sys.stdout.flush()
    return 0


# --- run (throw-away credentials for one command) ---------------------------------------


def _add_run(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "run",
        help="run a command with credentials that exist only for it",
        usage="dockercreds run [--login REGISTRY -u USER (--password-env VAR |"
        " --password-stdin)]... [--keep-user-config | --isolated] -- COMMAND [ARG...]",
        description="Run COMMAND with DOCKER_CONFIG and REGISTRY_AUTH_FILE pointing at a"
        " private temporary directory that holds your configuration (helpers, credsStore,"
        " plaintext entries) plus the --login accounts, which win for their registries."
        " The directory is removed when COMMAND ends, however it ends. SIGTERM, SIGHUP"
        " and SIGQUIT are relayed to COMMAND, and SIGINT unless it came from the terminal"
        " (COMMAND got it already). Exit status: COMMAND's (128+N when a signal N killed"
        " it). Passwords come only from the environment or stdin.",
    )
    # one list in command-line order, so that -u and --password-env belong to the
    # --login before them
    p.add_argument(
        "--login", metavar="REGISTRY", dest="run_items", action="append",
        type=lambda v: ("login", v),
        help="an account for REGISTRY (host[:port] or host/namespace); repeatable",
    )
    p.add_argument(
        "-u", "--username", metavar="USER", dest="run_items", action="append",
        type=lambda v: ("username", v), help="the user of the --login before it",
    )
    p.add_argument(
        "--password-env", metavar="VAR", dest="run_items", action="append",
        type=lambda v: ("password_env", v),
        help="read the password of the --login before it from environment variable VAR",
    )
    p.add_argument(
        "--password-stdin", action="store_true",
        help="read the password from stdin (one --login only)",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--keep-user-config", dest="isolated", action="store_false",
        help="layer your Docker and containers configuration under the logins (default)",
    )
    mode.add_argument(
        "--isolated", dest="isolated", action="store_true",
        help="start from an empty configuration: only the --login accounts",
    )
    p.add_argument(
        "run_command", nargs=argparse.REMAINDER, metavar="COMMAND",
        help="the command to run and its arguments, after --",
    )
    p.set_defaults(run_parser=p, isolated=False)


def _run_logins(args: argparse.Namespace, parser: argparse.ArgumentParser) -> list[Any]:
    import os

    from .tempconfig import Login

    groups: list[Dict[str, str]] = []
    for field, value in args.run_items or []:
        if field == "login":
            groups.append({"login": value})
            continue
        flag = "-u" if field == "username" else "--password-env"
        if not groups:
            parser.error(f"{flag} {value!r} must follow the --login it belongs to")
        if field in groups[-1]:
            parser.error(f"{flag} given twice for --login {groups[-1]['login']!r}")
        groups[-1][field] = value
    if args.password_stdin and len(groups) != 1:
        parser.error("--password-stdin needs exactly one --login")
    logins = []
    for group in groups:
        where = f"--login {group['login']!r}"
        if "username" not in group:
            parser.error(f"{where} needs -u USER")
        if "password_env" in group:
            if args.password_stdin:
                parser.error(f"{where}: --password-env and --password-stdin both given")
            name = group["password_env"]
            password = os.environ.get(name)
            if not password:
                state = "is not set" if password is None else "is empty"
                parser.error(f"{where}: environment variable {name} {state}")
        elif args.password_stdin:
            password = _stdin_password()
        else:
            parser.error(f"{where} needs --password-env VAR or --password-stdin")
        logins.append(Login(group["login"], group["username"], password))
    return logins


def _cmd_run(args: argparse.Namespace) -> int:
    import warnings

    from .errors import CommandError
    from .tempconfig import run

    parser: argparse.ArgumentParser = args.run_parser
    command = list(args.run_command)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        parser.error("the COMMAND to run is missing (dockercreds run [OPTIONS] -- COMMAND)")
    logins = _run_logins(args, parser)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        # printed as they come: before COMMAND starts, not after it
        warnings.showwarning = lambda message, *_: _err(f"note: {message}")
        try:
            return run(command, logins, isolated=args.isolated)
        except CommandError as exc:
            _err(str(exc))
            return exc.status


# --- list ------------------------------------------------------------------------------


def _add_list(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "list",
        help="list every registry and account with credentials, and which one is used",
        description="List every account this machine has credentials for: the auths of"
        " DOCKER_AUTH_CONFIG and the Docker config, the accounts of its credsStore and"
        " credHelpers (asked with the helper protocol's list action), the keyring store,"
        " and with --containers the podman/skopeo auth files. Says which account a lookup"
        " uses and why the others are shadowed or unused. Never prints a secret.",
    )
    _add_source_flags(p)
    p.add_argument("--json", action="store_true", help="a JSON array, one object per account")
    p.add_argument(
        "--strict",
        action="store_true",
        help="a store whose list fails (or a helper that is not installed) is an error"
        " (default: a warning line, and the listing goes on without it)",
    )


def _cmd_list(args: argparse.Namespace) -> int:
    import json

    from .inventory import inventory

    result = inventory(args.config, _sources(args))
    if args.strict and result.problems:
        for problem in result.problems:
            _err(problem.message)
        return 1
    for problem in result.problems:
        _err(f"warning: {problem.message} (its accounts are not shown)")
    if args.json:
        doc = [account.to_json() for account in result.accounts]
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return 0
    rows = [("REGISTRY", "USERNAME", "SECRET", "SOURCE", "STATUS")]
    for a in result.accounts:
        kind = {"identity_token": "<token>"}.get(a.secret, a.secret)  # as `get` shows it
        status = a.status if a.active else f"{a.status}: {a.reason}"
        rows.append((a.place, a.username or "-", kind, a.source, status))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths)]
        sys.stdout.write("  ".join([*cells, row[4]]) + "\n")
    if not result.accounts:
        sys.stdout.write("(no credentials)\n")
    return 0


# --- program ---------------------------------------------------------------------------

_COMMANDS: Dict[str, tuple[Callable[..., None], Handler]] = {
    "get": (_add_get, _cmd_get),
    "explain": (_add_explain, _cmd_explain),
    "list": (_add_list, _cmd_list),
    "check": (_add_check, _cmd_check),
    "login": (_add_login, _cmd_login),
    "logout": (_add_logout, _cmd_logout),
    "migrate": (_add_migrate, _cmd_migrate),
    "token": (_add_token, _cmd_token),
    "k8s-secret": (_add_k8s_secret, _cmd_k8s_secret),
    "kubelet-plugin": (_add_kubelet_plugin, _cmd_kubelet_plugin),
    "run": (_add_run, _cmd_run),
}


def _add_verbose(p: argparse.ArgumentParser, default: object, text: str) -> None:
    p.add_argument("-v", "--verbose", action="store_true", default=default, help=text)


# (variable, meaning): printed by `dockercreds --help` and in docs/cli.md
ENVIRONMENT = (
    ("DOCKER_CONFIG", "directory of config.json (~/.docker)"),
    ("DOCKER_AUTH_CONFIG", "inline config JSON (auths), read first"),
    ("REGISTRY_AUTH_FILE", "podman/skopeo auth file (--containers)"),
    ("XDG_RUNTIME_DIR, XDG_CONFIG_HOME", "where the other auth.json files are"),
    ("DOCKERCREDS_HELPER_TIMEOUT", "seconds per helper call (default 30)"),
    ("DOCKERCREDS_HELPER_CACHE_TTL", "seconds helper answers are reused (60)"),
    ("DOCKERCREDS_LOCK_TIMEOUT", "seconds to wait for the config or keyring index lock (30)"),
    ("PYTHON_KEYRING_BACKEND", "pins the keyring backend"),
    ("DOCKERCREDS_KEYRING_ALLOW_INSECURE=1", "allow plaintext keyring backends"),
    ("DOCKERCREDS_KEYRING_INDEX", "path of the keyring store's index"),
    ("DOCKERCREDS_KEYRING_LEAN=0", "never talk to D-Bus directly"),
)
EXIT_STATUS = (
    ("0", "success"),
    ("1", "handled error, one line on stderr (no credentials, bad input...)"),
    ("2", "usage error (unknown option, missing argument)"),
    ("130", "interrupted (Ctrl-C)"),
)


DESCRIPTION = (
    "Container-registry credentials as Docker and Podman find them: look them up, store"
    " them (in the OS keyring), and use them for HTTP and Kubernetes."
)


def _epilog() -> str:
    def table(rows: Sequence[tuple[str, str]]) -> str:
        width = max(len(name) for name, _ in rows) + 2
        return "\n".join(f"  {name.ljust(width)}{text}" for name, text in rows)

    return (
        f"environment variables:\n{table(ENVIRONMENT)}\n\n"
        f"exit status:\n{table(EXIT_STATUS)}\n\n"
        "Run 'dockercreds COMMAND --help' for a command's options."
    )


def build_parser() -> argparse.ArgumentParser:
    import textwrap

    parser = argparse.ArgumentParser(
        prog="dockercreds",
        description=textwrap.fill(DESCRIPTION, 79),
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"dockercreds {__version__}")
    _add_verbose(
        parser,
        False,
        "log each lookup step, helper run and cache hit on stderr (never a secret)",
    )
    sub = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, title="commands"
    )
    for add, _ in _COMMANDS.values():
        add(sub)
    for command in sub.choices.values():  # -v after the command works too
        _add_verbose(command, argparse.SUPPRESS, argparse.SUPPRESS)
    return parser


def _log_to_stderr() -> Callable[[], None]:
    """Show the ``dockercreds`` loggers' DEBUG records on stderr (``-v``); returns the undo."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("dockercreds: debug: %(name)s: %(message)s"))
    logger = logging.getLogger("dockercreds")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)

    def undo() -> None:
        logger.removeHandler(handler)
        logger.setLevel(level)

    return undo


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the program; returns the exit status (argparse exits 2 itself on usage errors)."""
    undo_logging = None
    stdout = sys.stdout
    if sys.stderr is None:  # 2>&-: nowhere to say anything; the exit status still tells
        import os
        from pathlib import Path

        sys.stderr = Path(os.devnull).open("w")  # noqa: SIM115 - for the rest of the process
    sys.stdout = _Stdout(stdout)
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(list(argv) if argv is not None else None)
        except SystemExit:  # --help, --version, a usage error: their text written first
            sys.stdout.flush()
            raise
        handler = _COMMANDS[args.command][1]
        undo_logging = _log_to_stderr() if args.verbose else None
        code = _in_context(handler, args)
        sys.stdout.flush()  # a failure to write is reported now, not at exit
        return code
    except DockerCredsError as exc:
        _err(str(exc) or type(exc).__name__)
        return 1
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except BrokenPipeError:
        return 1
    except Exception as exc:  # the last resort: a bug, never a traceback for the user
        _err(_internal_error(exc))
        return 1
    finally:
        sys.stdout = stdout
        if undo_logging is not None:
            undo_logging()


def _in_context(handler: Handler, args: argparse.Namespace) -> int:
    """Run one command; its lookups share one helper cache (each helper asked once).

    A :class:`HelperNotInstalledWarning` is one line on stderr, whichever command
    looked up credentials (get, token, k8s-secret, kubelet-plugin).
    """
    from .helper_cache import HelperCache, using

    shown = warnings.showwarning

    def show(message: Any, category: Any, *rest: Any, **kwargs: Any) -> None:
        if issubclass(category, HelperNotInstalledWarning):
            _err(f"warning: {message}")
        else:
            shown(message, category, *rest, **kwargs)

    with using(HelperCache()), warnings.catch_warnings():
        warnings.showwarning = show
        return handler(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
