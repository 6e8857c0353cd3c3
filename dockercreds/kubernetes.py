"""Kubernetes: ``dockerconfigjson`` Secrets and the kubelet credential-provider plugin.

**Secrets.** :func:`docker_registry_secret` builds the Secret that
``kubectl create secret docker-registry NAME --dry-run=client`` builds for the same
flags; :func:`dockerconfigjson_secret` builds one for any number of registries (e.g.
what :func:`export_auths` finds through the resolver, helpers and keyring included).
:func:`secret_to_json` and :func:`secret_to_yaml` write it byte for byte as kubectl's
``-o json`` / ``-o yaml`` do (Go ``json.MarshalIndent``; ``sigs.k8s.io/yaml``, whose
scalar quoting rules are reproduced for the strings a Secret can hold). The inner
``.dockerconfigjson`` is Go ``json.Marshal`` output: map keys sorted, ``<>&`` escaped,
fields ``username``, ``password``, ``email``, ``auth`` with empty ones omitted.

Deliberate difference from kubectl: the Secret name must be a DNS-1123 subdomain and
the namespace a DNS-1123 label (the API server rejects anything else; kubectl's
client-side dry run does not check), and every value must be valid Unicode.

**Kubelet plugin.** :func:`handle_request` answers one ``CredentialProviderRequest``
(``credentialprovider.kubelet.k8s.io`` v1, v1beta1, v1alpha1; unknown request fields
ignored) with a strict ``CredentialProviderResponse`` in the same version. The ``auth``
key is chosen so that kubelet's own matching (``URLsMatchStr``: same number of host
labels, equal ports, path prefix, case-sensitive globs) applies it to the requested
image: the image's registry host as written (``docker.io`` for Docker Hub images), or
``host/namespace/`` for credentials from a namespace key such as ``quay.io/org`` (the
trailing ``/`` keeps kubelet's plain-prefix match off ``quay.io/organization``).

``cacheKeyType`` is ``Registry`` unless the registry has namespace keys in the config:
kubelet reuses a ``Registry``-keyed answer for every image of that registry without
asking again, so one answer for ``quay.io/org/app`` would shadow (or leak to) other
repositories with different credentials. Then the answer is keyed per ``Image`` (also
for an image without a registry part, e.g. ``nginx``, answered with kubelet's Docker Hub
fallback key ``index.docker.io``).
``cacheDuration`` is omitted unless asked for (kubelet then uses the provider's
``defaultCacheDuration``). Identity tokens and registry tokens cannot be expressed (kubelet
wants a username and password): such credentials count as none, with a note on stderr.
"""

from __future__ import annotations

import base64
import json
import os
import re
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    Iterable,
    List,
    Mapping,
    NamedTuple,
    Optional,
    Tuple,
    Union,
)

from .credentials import Credentials
from .errors import CredentialsNotFound, DockerCredsError, InvalidRegistry, KubernetesError
from .protocol import go_json
from .registry import HUB_DOMAIN, HUB_KEY, normalize_registry, parse_key

if TYPE_CHECKING:  # pragma: no cover
    from .resolver import ConfigArg

__all__ = [
    "API_GROUP",
    "API_VERSIONS",
    "DEFAULT_DOCKER_SERVER",
    "DEFAULT_PLUGIN_TIMEOUT",
    "MAX_REQUEST_BYTES",
    "SECRET_TYPE",
    "CredentialProviderRequest",
    "build_response",
    "docker_registry_secret",
    "dockerconfigjson",
    "dockerconfigjson_secret",
    "export_auths",
    "format_go_duration",
    "handle_request",
    "parse_go_duration",
    "parse_request",
    "response_auth_key",
    "run_plugin",
    "secret_to_json",
    "secret_to_yaml",
    "serialize_secret",
]

#: kubectl's default ``--docker-server`` (Docker Hub's config key).
DEFAULT_DOCKER_SERVER = "https://index.docker.io/v1/"
SECRET_TYPE = "kubernetes.io/dockerconfigjson"  # noqa: S105 - a type name
DOCKERCONFIGJSON_KEY = ".dockerconfigjson"

API_GROUP = "credentialprovider.kubelet.k8s.io"
API_VERSIONS = tuple(f"{API_GROUP}/{v}" for v in ("v1", "v1beta1", "v1alpha1"))
REQUEST_KIND = "CredentialProviderRequest"
RESPONSE_KIND = "CredentialProviderResponse"
#: Largest request read from stdin (kubelet's are well under a kilobyte).
MAX_REQUEST_BYTES = 1 << 20
#: Overall deadline of one plugin run, in seconds (kubelet kills the plugin after 60).
DEFAULT_PLUGIN_TIMEOUT = 50.0

Warn = Callable[[str], None]


def _no_warn(message: str) -> None:
    return None


# --- validation -----------------------------------------------------------------------

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")


def _check_name(name: str) -> None:
    what = f"Secret name {name!r}"
    if not name or len(name) > 253 or not all(
        _DNS_LABEL.match(part) and len(part) <= 63 for part in name.split(".")
    ):
        raise KubernetesError(
            f"invalid {what}: it must be a DNS-1123 subdomain (lowercase letters, digits,"
            " '-' and '.', starting and ending with a letter or digit, at most 253"
            " characters), e.g. regcred"
        )


def _check_namespace(namespace: str) -> None:
    if len(namespace) > 63 or not _DNS_LABEL.match(namespace):
        raise KubernetesError(
            f"invalid namespace {namespace!r}: it must be a DNS-1123 label (lowercase"
            " letters, digits and '-', starting and ending with a letter or digit, at most"
            " 63 characters), e.g. default"
        )


def _check_text(value: str, what: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise KubernetesError(
            f"the {what} is not valid Unicode (undecodable bytes); give it as UTF-8"
        ) from None


# --- the Secret -----------------------------------------------------------------------


def _entry(creds: Credentials, server: str) -> Dict[str, str]:
    username = creds.username or ""
    password = creds.password or ""
    _check_text(server, "registry server")
    _check_text(username, f"username for {server!r}")
    _check_text(password, f"password for {server!r}")
    _check_text(creds.email or "", f"email for {server!r}")
    entry: Dict[str, str] = {}
    # kubectl's DockerConfigEntry: every field is omitempty, in this order.
    if username:
        entry["username"] = username
    if password:
        entry["password"] = password
    if creds.email:
        entry["email"] = creds.email
    raw = f"{username}:{password}".encode()
    entry["auth"] = base64.b64encode(raw).decode("ascii")
    return entry


def dockerconfigjson(auths: Mapping[str, Credentials]) -> str:
    """The ``.dockerconfigjson`` text kubectl writes: ``{"auths":{KEY:{...}}}``, Go JSON.

    Keys are written as given (kubectl does not normalize ``--docker-server``), sorted
    as Go sorts map keys (by UTF-8 bytes).
    """
    ordered = sorted(auths.items(), key=lambda kv: kv[0].encode("utf-8", "surrogatepass"))
    body = {server: _entry(creds, server) for server, creds in ordered}
    return go_json({"auths": body})


_ENTRY_FIELDS = ("username", "password", "auth", "email", "identitytoken", "registrytoken")
_WANTED = (
    "a Credentials (what dockercreds.get_credentials returns) or a mapping with"
    " 'username' and 'password' (or 'auth', base64 of 'username:password'; 'email' optional)"
)


def _as_credentials(server: Any, value: Any) -> Credentials:
    """One ``auths`` value as Credentials: a Credentials, or a config.json-style entry."""
    if not isinstance(server, str):
        raise KubernetesError(
            f"auths keys must be registry servers (str), not {type(server).__name__}"
        )
    if isinstance(value, Credentials):
        return value
    if not isinstance(value, Mapping):
        raise KubernetesError(
            f"auths[{server!r}] is a {type(value).__name__}; expected {_WANTED}"
        )
    fields = {str(k).lower(): v for k, v in value.items()}
    unknown = sorted(set(fields) - set(_ENTRY_FIELDS))
    if unknown:
        raise KubernetesError(
            f"auths[{server!r}] has unknown field(s) {', '.join(map(repr, unknown))};"
            f" expected {_WANTED}"
        )
    for name, field in fields.items():
        if field is not None and not isinstance(field, str):
            raise KubernetesError(
                f"auths[{server!r}][{name!r}] is a {type(field).__name__}, not a string"
            )
    username, password = fields.get("username"), fields.get("password")
    if fields.get("auth"):
        from .config import decode_auth

        try:
            username, password = decode_auth(
                fields["auth"], where="dockerconfigjson_secret", key=server, path=None
            )
        except ValueError:
            raise KubernetesError(
                f"auths[{server!r}]['auth'] is not base64 of 'username:password'"
            ) from None
    creds = Credentials(
        server,
        username=username or None,
        password=password or None,
        identity_token=fields.get("identitytoken") or None,
        registry_token=fields.get("registrytoken") or None,
        email=fields.get("email") or None,
        source="mapping",
    )
    if not (creds.password or creds.identity_token or creds.registry_token):
        raise KubernetesError(f"auths[{server!r}] has no password; expected {_WANTED}")
    return creds


def dockerconfigjson_secret(
    name: str,
    auths: Union[Mapping[str, Union[Credentials, Mapping[str, Any]]], Credentials],
    *,
    namespace: Optional[str] = None,
) -> Dict[str, Any]:
    """A ``kubernetes.io/dockerconfigjson`` Secret (a dict in kubectl's field order).

    ``auths`` maps the key to write (``https://index.docker.io/v1/``, ``quay.io``...) to
    credentials with a username and password: a :class:`~dockercreds.Credentials`, or a
    mapping shaped like a config.json ``auths`` entry (``username`` and ``password``, or
    ``auth``; ``email`` optional). A single Credentials is written under its ``server``;
    a whole config.json document (``{"auths": {...}}``) is read for its ``auths``. An
    empty ``namespace`` is left out, as kubectl does.
    """
    _check_name(name)
    if namespace:
        _check_namespace(namespace)
    if isinstance(auths, Credentials):
        auths = {auths.server: auths}
    if not isinstance(auths, Mapping):
        raise KubernetesError(
            f"auths is a {type(auths).__name__}; expected a mapping of registry server to"
            f" credentials, each {_WANTED}"
        )
    if set(auths) == {"auths"} and isinstance(auths["auths"], Mapping):
        auths = auths["auths"]  # a whole config.json document
    entries = {server: _as_credentials(server, value) for server, value in auths.items()}
    if not entries:
        raise KubernetesError(f"Secret {name!r} would hold no credentials")
    for server, creds in entries.items():
        if not creds.password and (creds.identity_token or creds.registry_token):
            raise KubernetesError(
                f"the credentials for {server!r} are a token, which a dockerconfigjson"
                " Secret cannot carry (kubelet reads only username and password)"
            )
    metadata: Dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    metadata["creationTimestamp"] = None
    data = base64.b64encode(dockerconfigjson(entries).encode("utf-8")).decode("ascii")
    return {
        "kind": "Secret",
        "apiVersion": "v1",
        "metadata": metadata,
        "data": {DOCKERCONFIGJSON_KEY: data},
        "type": SECRET_TYPE,
    }


def docker_registry_secret(
    name: str,
    *,
    username: str,
    password: str,
    server: str = DEFAULT_DOCKER_SERVER,
    email: Optional[str] = None,
    namespace: Optional[str] = None,
) -> Dict[str, Any]:
    """``kubectl create secret docker-registry NAME`` with the same flags, as a dict."""
    missing = [n for n, v in (("username", username), ("password", password),
                              ("server", server)) if not v]
    if missing:
        raise KubernetesError(f"docker_registry_secret: {' and '.join(missing)} must not be empty")
    creds = Credentials(
        server, username=username, password=password, email=email or None, source="flags"
    )
    return dockerconfigjson_secret(name, {server: creds}, namespace=namespace)


_GO_HTML = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def secret_to_json(secret: Mapping[str, Any]) -> str:
    """kubectl ``-o json``: Go ``json.MarshalIndent`` with 4 spaces, then a newline."""
    text = json.dumps(secret, indent=4, ensure_ascii=False, separators=(",", ": "))
    # Go's HTML-safe escaping; these characters only ever occur inside JSON strings.
    return text.translate(_GO_HTML) + "\n"


# --- YAML as kubectl writes it ----------------------------------------------------------
#
# kubectl -o yaml goes through sigs.k8s.io/yaml (go-yaml v2): map keys sorted, two-space
# indent, a string written plain unless it would read back as another type (bool, null,
# int, float, timestamp), then double-quoted. Only strings of the alphabet below are
# supported (names, namespaces, base64, field names): enough for every Secret we build.

_PLAIN_ALPHABET = re.compile(r"[A-Za-z0-9._/+=][A-Za-z0-9._/+=-]*\Z")
_YAML_NON_STR = frozenset(
    [
        *("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"),
        *("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"),
        *("~", "null", "Null", "NULL", ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF"),
        *("+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", "<<"),
    ]
)
_YAML_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_YAML_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})\Z")
_INT_DIGITS = {"x": "0123456789abcdefABCDEF", "o": "01234567", "b": "01"}


def _go_parse_int(text: str) -> bool:
    """True when Go ``strconv.ParseInt(text, 0, 64)`` or ``ParseUint`` accepts ``text``."""
    sign = text[:1] in ("+", "-")
    body = text[1:] if sign else text
    if not body:
        return False
    base, digits = 10, body
    prefix = body[:2].lower()
    if len(body) > 2 and prefix[0] == "0" and prefix[1] in _INT_DIGITS:
        alphabet = _INT_DIGITS[prefix[1]]
        base, digits = {"x": 16, "o": 8, "b": 2}[prefix[1]], body[2:]
        if not all(c in alphabet for c in digits):
            return False
    elif body[0] == "0" and len(body) > 1:
        base, digits = 8, body[1:]
        if not all(c in "01234567" for c in digits):
            return False
    elif not (body.isascii() and body.isdigit()):
        return False
    value = int(digits, base) * (-1 if text[0] == "-" else 1)
    if -(2**63) <= value < 2**63:
        return True
    return not sign and 0 <= value < 2**64


def _is_date(text: str) -> bool:
    m = _YAML_DATE.match(text)
    if not m:
        return False
    year, month, day = (int(g) for g in m.groups())
    if not 1 <= month <= 12:
        return False
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    days = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    return 1 <= day <= days


def _yaml_resolves_to_str(text: str) -> bool:
    """go-yaml v2 ``resolve("", text)`` gives ``!!str`` (for the plain alphabet)."""
    if text in _YAML_NON_STR or not text:
        return False
    first = text[0]
    if first == ".":
        try:
            float(text)
        except ValueError:
            return True
        return False
    if first in "+-" or first.isdigit():
        if _is_date(text):
            return False
        plain = text.replace("_", "")
        if _go_parse_int(plain):
            return False
        if _YAML_FLOAT.match(plain):
            value = float(plain)
            return value in (float("inf"), float("-inf"))  # Go: out of range -> string
    return True


def _yaml_scalar(text: str) -> str:
    if not _PLAIN_ALPHABET.match(text) or text.startswith("..."):
        raise KubernetesError(f"cannot write {text!r} as YAML the way kubectl does; use -o json")
    return text if _yaml_resolves_to_str(text) else f'"{text}"'


def _yaml_lines(mapping: Mapping[str, Any], indent: str) -> Iterable[str]:
    for key in sorted(mapping):
        value = mapping[key]
        head = f"{indent}{_yaml_scalar(key)}:"
        if isinstance(value, Mapping):
            if not value:
                yield f"{head} {{}}"
                continue
            yield head
            yield from _yaml_lines(value, indent + "  ")
        elif value is None:
            yield f"{head} null"
        elif isinstance(value, str):
            yield f"{head} {_yaml_scalar(value)}"
        else:
            raise KubernetesError(f"cannot write a {type(value).__name__} as kubectl YAML")


def secret_to_yaml(secret: Mapping[str, Any]) -> str:
    """kubectl ``-o yaml`` for a Secret built here (sorted keys, two-space indent)."""
    return "".join(line + "\n" for line in _yaml_lines(secret, ""))


def serialize_secret(secret: Mapping[str, Any], output: str = "yaml") -> str:
    """``output`` is ``json`` or ``yaml``, as kubectl's ``-o``."""
    if output == "json":
        return secret_to_json(secret)
    if output == "yaml":
        return secret_to_yaml(secret)
    raise KubernetesError(f"unknown output format {output!r}: use json or yaml")


# --- exporting what the resolver finds ---------------------------------------------------


def _configs(config: ConfigArg) -> Iterable[Any]:
    from .resolver import iter_configs  # lazy: keep `import dockercreds` cheap

    return iter_configs(config)


def _known_places(config: ConfigArg) -> List[Tuple[str, str]]:
    from .resolver import list_registries

    places = [(host, "") for host in list_registries(config=config)]
    namespaces = {place for cfg in _configs(config) for place in cfg.index.namespaces}
    return places + sorted(namespaces)


def export_auths(
    registries: Optional[Iterable[str]] = None,
    *,
    config: ConfigArg = None,
    warn: Warn = _no_warn,
) -> Dict[str, Credentials]:
    """The ``auths`` of a Secret holding what the resolver finds for ``registries``.

    ``registries``: registries (``quay.io``, ``https://index.docker.io/v1/``) or
    namespaces (``quay.io/org``); default every place the config knows (auths keys,
    credHelpers, the credsStore's list). Keys are written as kubelet matches them:
    ``https://index.docker.io/v1/`` for Docker Hub, ``host[:port]``, ``host/namespace/``.
    A registry named explicitly without credentials is an error; token-only credentials
    (identity or registry token) are skipped with a warning.
    """
    from .resolver import resolve

    explicit = registries is not None
    if registries is None:
        places = _known_places(config)
    else:
        places = []
        for registry in registries:
            key = parse_key(registry)
            places.append((key.host, key.path))
    found: Dict[str, Credentials] = {}
    for host, path in places:
        label = f"{host}/{path}" if path else host
        creds = resolve(host, path, config=config)
        if path and creds is not None and not _namespace_of(creds):
            if explicit:
                warn(f"{label}: no namespace credentials, exporting those of {host}")
            else:
                continue  # the registry's own entry covers it
        if creds is None or creds.is_empty:
            if explicit:
                hint = f"dockercreds explain {label}"
                if isinstance(config, (str, os.PathLike)):
                    import shlex

                    hint += f" --config {shlex.quote(os.fspath(config))}"
                raise CredentialsNotFound(f"no credentials for {label} (try: {hint})")
            continue
        if not creds.password:
            kind = "an identity token" if creds.identity_token else "a registry token"
            warn(
                f"skipping {label}: its credentials are {kind}, which a dockerconfigjson"
                " Secret cannot carry (kubelet reads only username and password)"
            )
            continue
        if path:
            key_text = f"{host}/{path}/"
        elif host == HUB_DOMAIN:
            key_text = HUB_KEY
        else:
            key_text = host
        found[key_text] = creds
    if not found:
        raise CredentialsNotFound(
            "no credentials to export (log in first, or name registries with --registry)"
        )
    return found


def _namespace_of(creds: Credentials) -> str:
    """The namespace path of the key that matched ("" for a registry-wide key)."""
    try:
        key = parse_key(creds.server)
    except InvalidRegistry:
        return ""
    return key.path if not key.scheme else ""


# --- kubelet credential provider ---------------------------------------------------------


class CredentialProviderRequest(NamedTuple):
    """The fields of a ``CredentialProviderRequest`` the plugin uses."""

    api_version: str
    image: str


#: Longest integer accepted in a request (CPython's own limit for ``int(str)`` is 4300
#: digits on 3.11+; 3.9 has none and converting a huge one takes quadratic time).
_MAX_INT_DIGITS = 100


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        raise KubernetesError(
            f"the CredentialProviderRequest on stdin holds an integer of {len(text)} digits;"
            " a request has none that long"
        )
    return int(text)


#: Deepest nesting accepted in a request (kubelet's are 3 levels deep). Python's own
#: limit depends on the version (3.9 fails near 1,000 levels, 3.13 near 10,000 or more).
_MAX_DEPTH = 64


def _too_deep(obj: Any, limit: int = _MAX_DEPTH) -> bool:
    """True when ``obj`` nests containers more than ``limit`` levels (no recursion)."""
    stack = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
    return False


def _shown(value: Any) -> str:
    """A request value for a message: its repr, clipped (never a whole document)."""
    if isinstance(value, (dict, list)):
        return f"a JSON {'object' if isinstance(value, dict) else 'array'}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_request(data: str) -> CredentialProviderRequest:
    """Decode a request; unknown fields (``serviceAccountToken``...) are ignored.

    Anything that is not a request (not JSON, nested too deeply, huge numbers, wrong
    types, undecodable text) raises :class:`KubernetesError`.
    """
    if not data.strip():
        raise KubernetesError(
            "no CredentialProviderRequest on stdin: this command is run by kubelet, which"
            ' writes {"apiVersion":"credentialprovider.kubelet.k8s.io/v1",'
            '"kind":"CredentialProviderRequest","image":"..."}'
        )
    too_deep = KubernetesError(
        "the CredentialProviderRequest on stdin is nested too deeply to be a request"
        f" (more than {_MAX_DEPTH} levels)"
    )
    try:
        obj = json.loads(data, parse_int=_parse_int)
    except RecursionError:
        raise too_deep from None
    except json.JSONDecodeError as exc:
        raise KubernetesError(
            "the CredentialProviderRequest on stdin is not JSON"
            f" ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    except KubernetesError:
        raise
    except ValueError as exc:  # e.g. a number Python refuses to convert
        raise KubernetesError(
            f"the CredentialProviderRequest on stdin cannot be read ({type(exc).__name__})"
        ) from None
    if _too_deep(obj):
        raise too_deep
    if not isinstance(obj, dict):
        raise KubernetesError(
            f"the CredentialProviderRequest on stdin is a JSON {type(obj).__name__},"
            " not an object"
        )
    kind = obj.get("kind")
    if kind != REQUEST_KIND:
        raise KubernetesError(f"expected kind {REQUEST_KIND!r} on stdin, got {_shown(kind)}")
    api_version = obj.get("apiVersion")
    if not isinstance(api_version, str) or api_version not in API_VERSIONS:
        raise KubernetesError(
            f"unsupported apiVersion {_shown(api_version)} in the CredentialProviderRequest"
            f" (supported: {', '.join(API_VERSIONS)}); set apiVersion in the kubelet's"
            " CredentialProviderConfig to one of them"
        )
    image = obj.get("image")
    if not isinstance(image, str) or not image.strip():
        raise KubernetesError(
            "the CredentialProviderRequest has no image (a non-empty string is required)"
        )
    _check_text(image, "image in the CredentialProviderRequest")
    return CredentialProviderRequest(api_version, image.strip())


def _split_image(image: str) -> Tuple[Optional[str], str]:
    """(registry as written or None, repository path) of an image, tag and digest dropped."""
    name = image.split("@", 1)[0]
    domain: Optional[str] = None
    first, sep, rest = name.partition("/")
    if sep and (
        "." in first or ":" in first or first == "localhost" or first.lower() != first
    ):
        domain, name = first, rest
    path, _, _ = name.partition(":")  # no port left: a ':' starts the tag
    return domain, path


def response_auth_key(image: str, creds: Credentials) -> Tuple[str, bool]:
    """(``auth`` key kubelet applies to ``image``, whether it is namespace-specific).

    Docker Hub images without a registry (``nginx``) get ``index.docker.io``, kubelet's
    fallback key for Docker Hub.
    """
    domain, path = _split_image(image)
    namespace = _namespace_of(creds)
    if domain is None:
        return "index.docker.io", bool(namespace)
    if not namespace:
        return domain, False
    depth = len(namespace.split("/"))
    segments = path.split("/")
    prefix = "/".join(segments[:depth]) if len(segments) >= depth else namespace
    key_path = prefix if prefix == path else prefix + "/"
    if ("/" + key_path).startswith(("/v1/", "/v2/")):
        # kubelet drops a leading /v1 or /v2 (API version) from a key's path
        return f"https://{domain}/v2/{key_path}", True
    return f"{domain}/{key_path}", True


_DURATION_UNITS = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,
    "\u03bcs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_DURATION_PART = re.compile(r"([0-9]*)(?:\.([0-9]*))?([a-z\u00b5\u03bc]+)")


def parse_go_duration(text: str) -> int:
    """Nanoseconds of a Go duration (``5m``, ``1h30m``, ``90s``, ``0``); no negatives."""
    s = text.strip()
    bad = KubernetesError(
        f"invalid duration {text!r}: use Go duration syntax, e.g. 5m0s, 90s, 1h (or 0s)"
    )
    if s == "0":
        return 0
    if s.startswith("+"):
        s = s[1:]
    if not s or s.startswith("-"):
        raise bad
    total = 0
    pos = 0
    while pos < len(s):
        m = _DURATION_PART.match(s, pos)
        if not m or not (m.group(1) or m.group(2)) or m.group(3) not in _DURATION_UNITS:
            raise bad
        unit = _DURATION_UNITS[m.group(3)]
        whole, frac = m.group(1) or "0", m.group(2) or ""
        total += int(whole) * unit
        if frac:
            total += int(frac) * unit // 10 ** len(frac)
        pos = m.end()
    if total >= 2**63:
        raise bad
    return total


def _frac(value: int, prec: int) -> Tuple[int, str]:
    whole, rest = divmod(value, 10**prec)
    digits = str(rest).rjust(prec, "0").rstrip("0")
    return whole, ("." + digits if digits else "")


def format_go_duration(ns: int) -> str:
    """Go ``time.Duration.String()``: ``5m0s``, ``1h0m0s``, ``1.5s``, ``500ms``, ``0s``."""
    sign = "-" if ns < 0 else ""
    u = abs(ns)
    if u == 0:
        return "0s"
    if u < 1_000_000_000:
        if u < 1_000:
            return f"{sign}{u}ns"
        whole, frac = _frac(u, 3) if u < 1_000_000 else _frac(u, 6)
        unit = "\u00b5s" if u < 1_000_000 else "ms"
        return f"{sign}{whole}{frac}{unit}"
    seconds, frac = _frac(u, 9)
    minutes, seconds = divmod(seconds, 60)
    text = f"{seconds}{frac}s"
    if minutes:
        hours, minutes = divmod(minutes, 60)
        text = f"{minutes}m{text}"
        if hours:
            text = f"{hours}h{text}"
    return sign + text


def build_response(
    api_version: str,
    auth: Mapping[str, Tuple[str, str]],
    *,
    cache_key_type: str = "Registry",
    cache_duration: Optional[int] = None,
) -> Dict[str, Any]:
    """A ``CredentialProviderResponse`` with only the documented fields.

    ``auth``: key -> (username, password); ``cache_duration`` in nanoseconds, or None to
    leave it out (kubelet then uses the provider's ``defaultCacheDuration``).
    """
    if api_version not in API_VERSIONS:
        raise KubernetesError(f"unsupported apiVersion {api_version!r}")
    if cache_key_type not in ("Image", "Registry", "Global"):
        raise KubernetesError(f"invalid cacheKeyType {cache_key_type!r}")
    response: Dict[str, Any] = {
        "apiVersion": api_version,
        "kind": RESPONSE_KIND,
        "cacheKeyType": cache_key_type,
    }
    if cache_duration is not None:
        response["cacheDuration"] = format_go_duration(cache_duration)
    response["auth"] = {
        key: {"username": username, "password": password}
        for key, (username, password) in auth.items()
    }
    return response


def _registry_host(image: str) -> str:
    domain, _ = _split_image(image)
    return normalize_registry(domain) if domain else HUB_DOMAIN


def handle_request(
    request: CredentialProviderRequest,
    lookup: Callable[[str], Optional[Credentials]],
    *,
    has_namespaces: Callable[[str], bool] = lambda host: False,
    cache_duration: Optional[int] = None,
    warn: Warn = _no_warn,
) -> Dict[str, Any]:
    """The response to ``request``; ``lookup(image)`` finds the credentials.

    ``has_namespaces(host)`` says whether the config has namespace keys for that
    registry (then ``cacheKeyType`` is ``Image``, see the module docstring).
    """
    image = request.image
    creds = lookup(image)
    auth: Dict[str, Tuple[str, str]] = {}
    namespaced = False
    if creds is not None and not creds.is_empty:
        if creds.password:
            key, namespaced = response_auth_key(image, creds)
            auth[key] = (creds.username or "", creds.password)
        else:
            kind = "an identity token" if creds.identity_token else "a registry token"
            warn(
                f"the credentials for {image} ({creds.source}) are {kind}; kubelet needs"
                " a username and password, so none are returned"
            )
    domain, _ = _split_image(image)
    per_image = namespaced or domain is None or has_namespaces(_registry_host(image))
    return build_response(
        request.api_version,
        auth,
        cache_key_type="Image" if per_image else "Registry",
        cache_duration=cache_duration,
    )


class _DeadlineExceeded(BaseException):
    """Raised by the SIGALRM handler; a BaseException so no ``except Exception`` eats it."""


def run_plugin(
    data: str,
    *,
    config: ConfigArg = None,
    cache_duration: Optional[int] = None,
    timeout: float = DEFAULT_PLUGIN_TIMEOUT,
    warn: Warn = _no_warn,
) -> str:
    """Answer one request (the text kubelet writes on stdin) with the response text.

    ``timeout`` bounds the whole run, helper calls included (each helper call is also
    limited to it through ``DOCKERCREDS_HELPER_TIMEOUT``).
    """
    import signal
    import threading

    from .helpers import DEFAULT_TIMEOUT, TIMEOUT_ENV, parse_timeout
    from .resolver import get_credentials
    from .timeouts import RULE, is_timeout

    if not is_timeout(timeout):
        raise KubernetesError(f"timeout must be {RULE}, not {timeout!r}")
    request = parse_request(data)

    def lookup(image: str) -> Optional[Credentials]:
        return get_credentials(image, config=config)

    def has_namespaces(host: str) -> bool:
        return any(h == host for cfg in _configs(config) for h, _ in cfg.index.namespaces)

    old_env = os.environ.get(TIMEOUT_ENV)
    helper_timeout = DEFAULT_TIMEOUT
    if old_env and old_env.strip():
        helper_timeout = parse_timeout(old_env)
    os.environ[TIMEOUT_ENV] = f"{min(helper_timeout, timeout):g}"

    use_alarm = hasattr(signal, "setitimer") and (
        threading.current_thread() is threading.main_thread()
    )
    old_handler: Any = None

    def on_alarm(signum: int, frame: Any) -> None:
        raise _DeadlineExceeded

    try:
        if use_alarm:
            old_handler = signal.signal(signal.SIGALRM, on_alarm)
            signal.setitimer(signal.ITIMER_REAL, timeout)
        response = handle_request(
            request,
            lookup,
            has_namespaces=has_namespaces,
            cache_duration=cache_duration,
            warn=warn,
        )
    except _DeadlineExceeded:
        raise DockerCredsError(
            f"no answer for {request.image} within {timeout:g} s (--timeout): a credential"
            " helper or the keyring did not respond; check it, or raise --timeout (kubelet"
            " allows 60 s)"
        ) from None
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old_handler)
        if old_env is None:
            os.environ.pop(TIMEOUT_ENV, None)
        else:
            os.environ[TIMEOUT_ENV] = old_env
    return go_json(response) + "\n"
