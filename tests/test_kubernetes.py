"""dockercreds.kubernetes: Secrets as kubectl writes them, and the kubelet plugin.

The Secret tests compare our bytes with ``kubectl create secret docker-registry
--dry-run=client`` (a real peer). The plugin tests run ``dockercreds kubelet-plugin``
as kubelet does (a subprocess, the request on stdin) and check the answer against the
CredentialProviderResponse field set and against kubelet's own image matching,
reimplemented below from its Go logic (``URLsMatchStr``, ``BasicDockerKeyring``).
"""

from __future__ import annotations

import base64
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockercreds import cli, kubernetes
from dockercreds.credentials import Credentials
from dockercreds.errors import CredentialsNotFound, DockerCredsError, KubernetesError
from tests.peers import require

ROOT = Path(__file__).resolve().parent.parent
V1 = "credentialprovider.kubelet.k8s.io/v1"
V1BETA1 = "credentialprovider.kubelet.k8s.io/v1beta1"
V1ALPHA1 = "credentialprovider.kubelet.k8s.io/v1alpha1"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# --- kubectl, the reference for Secrets ---------------------------------------------------


def kubectl_secret(
    tmp_path: Path, name: str, output: str, flags: Mapping[str, str]
) -> Tuple[int, str, str]:
    kubectl = require("kubectl")
    argv = [kubectl, "create", "secret", "docker-registry", name, "--dry-run=client"]
    argv += [f"--{flag}={value}" for flag, value in flags.items()]
    argv += ["-o", output]
    env = dict(os.environ, KUBECONFIG=str(tmp_path / "no-kubeconfig"))
    proc = subprocess.run(argv, capture_output=True, env=env, timeout=60, check=False)
    return proc.returncode, proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")


def ours(name: str, output: str, flags: Mapping[str, str]) -> str:
    secret = kubernetes.docker_registry_secret(
        name,
        username=flags["docker-username"],
        password=flags["docker-password"],
        server=flags.get("docker-server", kubernetes.DEFAULT_DOCKER_SERVER),
        email=flags.get("docker-email"),
        namespace=flags.get("namespace"),
    )
    return kubernetes.serialize_secret(secret, output)


SECRET_CASES: List[Tuple[str, Dict[str, str]]] = [
    ("regcred", {"docker-username": "u", "docker-password": "p"}),
    (
        "quay-pull",
        {
            "docker-server": "quay.io",
            "docker-username": "robot+ci",
            "docker-password": "pa:ss:word",
            "docker-email": "ci@example.com",
            "namespace": "team-a",
        },
    ),
    (
        "unicode",
        {
            "docker-username": "zoë",
            "docker-password": "pässwörd-日本語-🔑",
            "docker-email": "zoë@exämple.org",
        },
    ),
    ("html", {"docker-username": "a<b>&c", "docker-password": "<script>&amp;</script>"}),
    (
        "escapes",
        {
            "docker-server": "https://index.docker.io/v1/",
            "docker-username": 'q"uo\\te',
            "docker-password": "tab\there\u2028\u2029\x7f",
        },
    ),
    ("long", {"docker-username": "u" * 300, "docker-password": "p:" * 2000, "namespace": "n"}),
    ("local", {"docker-server": "localhost:5000", "docker-username": "u", "docker-password": "p"}),
    ("ipv6", {"docker-server": "[::1]:5000", "docker-username": "u", "docker-password": "p"}),
    (
        "as-given",
        {"docker-server": "Quay.IO/Org/", "docker-username": "u", "docker-password": "p"},
    ),
    # names and namespaces that YAML would read as other types are quoted by kubectl
    ("123", {"docker-username": "u", "docker-password": "p", "namespace": "0x1f"}),
    ("true", {"docker-username": "u", "docker-password": "p", "namespace": "null"}),
    ("2024-02-29", {"docker-username": "u", "docker-password": "p", "namespace": "1e3"}),
    ("2023-02-29", {"docker-username": "u", "docker-password": "p", "namespace": "017"}),
    ("1e400", {"docker-username": "u", "docker-password": "p", "namespace": "09"}),
    ("on", {"docker-username": "u", "docker-password": "p", "namespace": "y"}),
    ("1.5", {"docker-username": "u", "docker-password": "p", "namespace": "0b101"}),
    ("18446744073709551615", {"docker-username": "u", "docker-password": "p"}),
    ("18446744073709551616", {"docker-username": "u", "docker-password": "p"}),
    ("a" * 63 + "." + "b" * 63, {"docker-username": "u", "docker-password": "p"}),
]


@pytest.mark.peer
@pytest.mark.parametrize("output", ["json", "yaml"])
@pytest.mark.parametrize(("name", "flags"), SECRET_CASES, ids=[c[0][:20] for c in SECRET_CASES])
def test_secret_matches_kubectl(
    tmp_path: Path, name: str, flags: Dict[str, str], output: str
) -> None:
    rc, want, err = kubectl_secret(tmp_path, name, output, flags)
    assert rc == 0, err
    assert ours(name, output, flags) == want


@pytest.mark.peer
@pytest.mark.parametrize("output", ["json", "yaml"])
def test_cli_secret_matches_kubectl(
    tmp_path: Path, output: str, capsys: pytest.CaptureFixture[str]
) -> None:
    flags = {
        "docker-server": "ghcr.io",
        "docker-username": "me",
        "docker-password": "s3:cr<e>t&",
        "docker-email": "me@example.com",
        "namespace": "apps",
    }
    rc, want, err = kubectl_secret(tmp_path, "ghcr", output, flags)
    assert rc == 0, err
    argv = ["k8s-secret", "ghcr", *(f"--{k}={v}" for k, v in flags.items()), "-o", output]
    assert cli.main(argv) == 0
    assert capsys.readouterr().out == want


_DNS_CHARS = st.sampled_from(list("0123456789") * 3 + list("abexo-.ny"))
_DNS_NAMES = st.text(_DNS_CHARS, min_size=1, max_size=12).filter(
    lambda s: re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*", s)
    is not None
)


@pytest.mark.peer
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=_DNS_NAMES)
def test_yaml_quoting_matches_kubectl(tmp_path: Path, name: str) -> None:
    """Number-, date- and bool-like names are quoted exactly where kubectl quotes them."""
    flags = {"docker-username": "u", "docker-password": "p"}
    rc, want, err = kubectl_secret(tmp_path, name, "yaml", flags)
    assert rc == 0, err
    assert ours(name, "yaml", flags) == want


@pytest.mark.peer
def test_missing_flags_are_a_usage_error_like_kubectl(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, _, err = kubectl_secret(tmp_path, "s", "json", {"docker-username": "u"})
    assert rc != 0
    assert "--docker-username, --docker-password and --docker-server is required" in err
    with pytest.raises(SystemExit) as exc:
        cli.main(["k8s-secret", "s", "--docker-username", "u"])
    assert exc.value.code == 2
    # kubectl names --docker-server as required although it has a default; we do not
    err = capsys.readouterr().err
    assert "both --docker-username and --docker-password are required" in err
    assert "--docker-server defaults to https://index.docker.io/v1/" in err


# --- Secret: library and CLI without kubectl ------------------------------------------------


def decode_secret(text: str) -> Dict[str, Any]:
    obj = json.loads(text)
    return dict(json.loads(base64.b64decode(obj["data"][".dockerconfigjson"])))


def test_secret_dict_shape() -> None:
    secret = kubernetes.docker_registry_secret(
        "s", username="u", password="p:q", server="quay.io", email="e@x", namespace="ns"
    )
    assert list(secret) == ["kind", "apiVersion", "metadata", "data", "type"]
    assert secret["metadata"] == {"name": "s", "namespace": "ns", "creationTimestamp": None}
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    inner = base64.b64decode(secret["data"][".dockerconfigjson"]).decode()
    assert inner == (
        '{"auths":{"quay.io":{"username":"u","password":"p:q","email":"e@x",'
        f'"auth":"{b64("u:p:q")}"}}}}}}'
    )


def test_dockerconfigjson_sorts_keys_as_go_and_escapes_html() -> None:
    auths = {
        "zeta.io": Credentials("zeta.io", username="z", password="1"),
        "Zeta.io": Credentials("Zeta.io", username="Z", password="2"),
        "é.io": Credentials("é.io", username="e", password="<&>"),
        "a.io": Credentials("a.io", username="a", password="4", email=""),
    }
    text = kubernetes.dockerconfigjson(auths)
    assert list(json.loads(text)["auths"]) == ["Zeta.io", "a.io", "zeta.io", "é.io"]
    assert "\\u003c\\u0026\\u003e" in text
    assert '"email"' not in text


def _inner_auths(secret: Dict[str, Any]) -> Dict[str, Any]:
    return dict(json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))["auths"])


EXPECTED_ENTRY = {"username": "u", "password": "p:q", "auth": b64("u:p:q")}


@pytest.mark.parametrize(
    "auths",
    [
        {"quay.io": Credentials("quay.io", username="u", password="p:q")},
        Credentials("quay.io", username="u", password="p:q", source="keyring"),
        {"quay.io": {"username": "u", "password": "p:q"}},
        {"quay.io": {"auth": b64("u:p:q")}},
        {"quay.io": {"Username": "u", "Password": "p:q"}},  # Docker reads fields any case
        {"auths": {"quay.io": {"auth": b64("u:p:q")}}},  # a whole config.json
    ],
    ids=["credentials", "one-credentials", "dict", "dict-auth", "dict-case", "config-json"],
)
def test_dockerconfigjson_secret_accepts_natural_inputs(auths: Any) -> None:
    secret = kubernetes.dockerconfigjson_secret("s", auths)
    assert _inner_auths(secret) == {"quay.io": EXPECTED_ENTRY}


@pytest.mark.parametrize(
    ("auths", "message"),
    [
        ({"quay.io": ("u", "p")}, "auths['quay.io'] is a tuple; expected a Credentials"),
        ({"quay.io": {"user": "u", "pass": "p"}}, "unknown field(s) 'pass', 'user'; expected"),
        ({"quay.io": {"username": "u"}}, "auths['quay.io'] has no password; expected"),
        ({"quay.io": {"auth": "not base64!"}}, "is not base64 of 'username:password'"),
        ({"quay.io": {"username": "u", "password": 5}}, "['password'] is a int, not a string"),
        ([("quay.io", "u", "p")], "auths is a list; expected a mapping"),
        ({"quay.io": {"identitytoken": "t"}}, "are a token"),
    ],
)
def test_dockerconfigjson_secret_says_what_it_wants(auths: Any, message: str) -> None:
    with pytest.raises(KubernetesError) as exc:
        kubernetes.dockerconfigjson_secret("s", auths)
    assert message in str(exc.value)
    assert "'p'" not in str(exc.value) and "AttributeError" not in str(exc.value)


def test_docker_registry_secret_names_the_empty_argument() -> None:
    with pytest.raises(KubernetesError, match="password must not be empty"):
        kubernetes.docker_registry_secret("s", username="u", password="")


@pytest.mark.parametrize(
    ("name", "namespace"),
    [
        ("Bad", None),
        ("a_b", None),
        ("-a", None),
        ("a" * 254, None),
        ("", None),
        ("ok", "a.b"),
        ("ok", "N"),
        ("ok", "x" * 64),
    ],
)
def test_secret_rejects_names_the_api_server_rejects(name: str, namespace: Optional[str]) -> None:
    with pytest.raises(KubernetesError):
        kubernetes.docker_registry_secret(name, username="u", password="p", namespace=namespace)


def test_secret_rejects_token_credentials_and_bad_unicode() -> None:
    token = Credentials("quay.io", identity_token="tok")
    with pytest.raises(KubernetesError, match="token"):
        kubernetes.dockerconfigjson_secret("s", {"quay.io": token})
    with pytest.raises(KubernetesError, match="no credentials"):
        kubernetes.dockerconfigjson_secret("s", {})
    with pytest.raises(KubernetesError, match="Unicode") as exc:
        kubernetes.docker_registry_secret("s", username="u", password="p\udcff")
    assert "p\udcff" not in str(exc.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("abc", "abc"),
        ("123", '"123"'),
        ("0x1f", '"0x1f"'),
        ("09", '"09"'),
        ("1e5", '"1e5"'),
        ("1e400", "1e400"),
        ("2024-02-29", '"2024-02-29"'),
        ("2023-02-29", "2023-02-29"),
        ("1-2", "1-2"),
        ("yes", '"yes"'),
        ("null", '"null"'),
        ("9223372036854775808", '"9223372036854775808"'),
        (".dockerconfigjson", ".dockerconfigjson"),
        ("eyJhdXRocyI6e30=", "eyJhdXRocyI6e30="),
    ],
)
def test_yaml_scalar_table(text: str, expected: str) -> None:
    assert kubernetes._yaml_scalar(text) == expected


def test_cli_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["k8s-secret", "s", "--from-config", "--docker-username", "u"],
        ["k8s-secret", "s", "--registry", "quay.io", "--docker-username", "u",
         "--docker-password", "p"],
        ["k8s-secret", "s", "--docker-username", "u", "--docker-password", "p",
         "--docker-server", ""],
        ["k8s-secret", "s", "-o", "xml", "--docker-username", "u", "--docker-password", "p"],
    ):
        with pytest.raises(SystemExit) as exc:
            cli.main(argv)
        assert exc.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def write_config(directory: Path, config: Mapping[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "config.json"
    path.write_text(json.dumps(config), "utf-8")
    return path


def test_from_config_exports_what_the_resolver_finds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(
        tmp_path / "cfg",
        {
            "auths": {
                "https://index.docker.io/v1/": {"auth": b64("hubuser:hubpass")},
                "quay.io": {"username": "q", "password": "qp", "email": "q@x"},
                "quay.io/org": {"auth": b64("orguser:orgpass")},
                "ghcr.io": {"identitytoken": "refresh-token-value"},
            }
        },
    )
    assert cli.main(["k8s-secret", "s", "--from-config", "--config", str(path), "-o", "json"]) == 0
    captured = capsys.readouterr()
    auths = decode_secret(captured.out)["auths"]
    assert auths == {
        "https://index.docker.io/v1/": {
            "username": "hubuser",
            "password": "hubpass",
            "auth": b64("hubuser:hubpass"),
        },
        "quay.io": {"username": "q", "password": "qp", "email": "q@x", "auth": b64("q:qp")},
        "quay.io/org/": {
            "username": "orguser",
            "password": "orgpass",
            "auth": b64("orguser:orgpass"),
        },
    }
    assert "ghcr.io" in captured.err and "identity token" in captured.err
    assert "refresh-token-value" not in captured.err


@pytest.mark.peer
def test_from_config_single_registry_equals_kubectl(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(
        tmp_path / "cfg",
        {"auths": {"https://quay.io/v2/": {"auth": b64("robot:pa:ss<&>")}, "other.io": {
            "auth": b64("x:y")}}},
    )
    flags = {"docker-server": "quay.io", "docker-username": "robot", "docker-password": "pa:ss<&>"}
    for output in ("json", "yaml"):
        rc, want, err = kubectl_secret(tmp_path, "q", output, flags)
        assert rc == 0, err
        argv = ["k8s-secret", "q", "--from-config", "--registry", "Quay.io", "--config",
                str(path), "-o", output]
        assert cli.main(argv) == 0
        assert capsys.readouterr().out == want


def test_from_config_explicit_registry_without_credentials(tmp_path: Path) -> None:
    path = write_config(tmp_path / "cfg", {"auths": {"quay.io": {"auth": b64("u:p")}}})
    with pytest.raises(CredentialsNotFound, match=r"ghcr\.io"):
        kubernetes.export_auths(["ghcr.io"], config=str(path))
    with pytest.raises(CredentialsNotFound):
        kubernetes.export_auths(config=str(write_config(tmp_path / "empty", {})))


def test_from_config_uses_helpers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = fake_helper(tmp_path, "fake", "helperuser", "helper:secret")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    path = write_config(tmp_path / "cfg", {"credHelpers": {"registry.example.com:5000": "fake"}})
    auths = kubernetes.export_auths(config=str(path))
    creds = auths["registry.example.com:5000"]
    assert (creds.username, creds.password, creds.source) == (
        "helperuser",
        "helper:secret",
        "helper:fake",
    )


# --- Go durations ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "0s"),
        (1, "1ns"),
        (1_500, "1.5\u00b5s"),
        (500_000_000, "500ms"),
        (1_000_000_000, "1s"),
        (1_500_000_000, "1.5s"),
        (300_000_000_000, "5m0s"),
        (3_600_000_000_000, "1h0m0s"),
        (5_430_000_000_000, "1h30m30s"),
        (2**63 - 1, "2562047h47m16.854775807s"),
    ],
)
def test_format_go_duration(ns: int, text: str) -> None:
    assert kubernetes.format_go_duration(ns) == text
    assert kubernetes.parse_go_duration(text) == ns


@pytest.mark.parametrize(
    ("text", "ns"),
    [("5m", 300 * 10**9), ("1h30m", 5400 * 10**9), ("0", 0), ("1.5h", 5400 * 10**9),
     ("300ms", 3 * 10**8), ("2us", 2000), (".5s", 5 * 10**8), ("+10s", 10**10)],
)
def test_parse_go_duration(text: str, ns: int) -> None:
    assert kubernetes.parse_go_duration(text) == ns


@pytest.mark.parametrize("text", ["", "5", "-5m", "5 m", "m", "1d", ".s", "5m-3s", "9999999999h"])
def test_parse_go_duration_rejects(text: str) -> None:
    with pytest.raises(KubernetesError, match="duration"):
        kubernetes.parse_go_duration(text)


@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_go_duration_round_trip(ns: int) -> None:
    assert kubernetes.parse_go_duration(kubernetes.format_go_duration(ns)) == ns


# --- kubelet's matching, from its Go source (keyring.go, url.go) -----------------------------


def _go_glob(pattern: str, text: str) -> bool:
    """Go filepath.Match for one host label (no '/')."""
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.index("]", i + 1)
            body = pattern[i + 1 : end]
            neg = body.startswith("^")
            body = body[1:] if neg else body
            out.append("[" + ("^" if neg else "") + body.replace("\\", "\\\\") + "]")
            i = end
        elif c == "\\":
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return re.fullmatch("".join(out), text) is not None


def _split_host_port(host: str) -> Tuple[List[str], str]:
    """net.SplitHostPort, falling back to (host, "") as kubelet's SplitURL does."""
    if host.startswith("["):
        end = host.find("]")
        if host[end + 1 : end + 2] == ":":
            return host[1:end].split("."), host[end + 2 :]
        return host.split("."), ""
    if host.count(":") == 1:
        name, port = host.split(":")
        return name.split("."), port
    return host.split("."), ""


def _parse_schemeless(url: str) -> Tuple[str, str]:
    """(host, path) as Go's url.Parse("https://" + url) sees them ('?' starts a query)."""
    rest = url.split("?", 1)[0].split("#", 1)[0]
    host, slash, path = rest.partition("/")
    return host, slash + path


def urls_match_str(glob: str, target: str) -> bool:
    """kubelet credentialprovider.URLsMatchStr."""
    g_host, g_path = _parse_schemeless(glob)
    t_host, t_path = _parse_schemeless(target)
    g_parts, g_port = _split_host_port(g_host)
    t_parts, t_port = _split_host_port(t_host)
    if g_port != t_port or len(g_parts) != len(t_parts):
        return False
    if not t_path.startswith(g_path):
        return False
    return all(_go_glob(gp, tp) for gp, tp in zip(g_parts, t_parts))


def kubelet_key(location: str) -> str:
    """BasicDockerKeyring.Add: how a config/response key is indexed."""
    for scheme in ("https://", "http://"):
        if location.startswith(scheme):
            location = location[len(scheme) :]
    host, path = _parse_schemeless(location)
    if path.startswith(("/v2/", "/v1/")):
        path = path[3:]
    return host + path if path and path != "/" else host


def _default_registry_match(image: str) -> bool:
    parts = image.split("/", 1)
    if not parts[0]:
        return False
    if len(parts) == 1 or parts[0] in ("docker.io", "index.docker.io"):
        return True
    return not any(c in parts[0] for c in ".:") and parts[0] != "localhost"


def kubelet_lookup(auth: Mapping[str, Any], image: str) -> List[Any]:
    """BasicDockerKeyring.Lookup: every entry that applies to ``image``."""
    index: Dict[str, List[Any]] = {}
    for location, value in auth.items():
        index.setdefault(kubelet_key(location), []).append(value)
    found = [v for k in sorted(index, reverse=True) if urls_match_str(k, image) for v in index[k]]
    if not found and _default_registry_match(image):
        found = index.get("index.docker.io", [])
    return found


@pytest.mark.parametrize(
    ("glob", "target", "expected"),
    [
        ("*.azurecr.io", "myreg.azurecr.io/team/app", True),
        ("*.io", "myreg.azurecr.io/x", False),
        ("*.*.io", "myreg.azurecr.io/x", True),
        ("registry.io:8080/path", "registry.io/path/img", False),
        ("registry.io", "registry.io:8080/img", False),
        ("reg.io/foo", "reg.io/foobar/img", True),
        ("reg.io/foo/", "reg.io/foo", False),
        ("Reg.IO", "reg.io/x", False),
        ("reg[0-9].example.com", "reg7.example.com/x", True),
        ("reg.io/a*", "reg.io/abc", False),
        ("[::1]:5000", "[::1]:5000/x", True),
        ("*.gcr.io", "gcr.io/x", False),
    ],
)
def test_kubelet_matcher_model(glob: str, target: str, expected: bool) -> None:
    assert urls_match_str(glob, target) is expected


def test_kubelet_lookup_model_order() -> None:
    auth = {"gcr.io": 1, "gcr.io/etcd-development": 2, "*.gcr.io": 3}
    assert kubelet_lookup(auth, "gcr.io/etcd-development/etcd") == [2, 1]
    assert kubelet_lookup({"https://index.docker.io/v1/": 1}, "docker.io/library/x") == [1]


# --- the response ------------------------------------------------------------------------

_RESPONSE_FIELDS = {"apiVersion", "kind", "cacheKeyType", "cacheDuration", "auth"}
_GO_DURATION = re.compile(r"(0|([0-9]+(\.[0-9]+)?(h|m|s|ms|ns|\u00b5s))+)\Z")


def check_response(response: Any, api_version: str) -> Dict[str, Any]:
    """Strict decoding of a CredentialProviderResponse: no unknown fields, right types."""
    assert isinstance(response, dict)
    assert set(response) <= _RESPONSE_FIELDS, set(response) - _RESPONSE_FIELDS
    assert response["apiVersion"] == api_version
    assert response["kind"] == "CredentialProviderResponse"
    assert response["cacheKeyType"] in ("Image", "Registry", "Global")
    if "cacheDuration" in response:
        assert isinstance(response["cacheDuration"], str)
        assert _GO_DURATION.match(response["cacheDuration"])
    auth = response.get("auth", {})
    assert isinstance(auth, dict)
    for key, value in auth.items():
        assert isinstance(key, str) and key
        assert isinstance(value, dict) and set(value) == {"username", "password"}
        assert all(isinstance(v, str) for v in value.values())
    return response


def request(image: str, api_version: str = V1, **extra: Any) -> str:
    return json.dumps(
        {"apiVersion": api_version, "kind": "CredentialProviderRequest", "image": image, **extra}
    )


@pytest.mark.parametrize(
    ("image", "server", "key", "namespaced", "siblings"),
    [
        ("docker.io/library/nginx", "https://index.docker.io/v1/", "docker.io", False, []),
        ("docker.io/library/nginx:1.25", "https://index.docker.io/v1/", "docker.io", False, []),
        ("index.docker.io/library/nginx", "docker.io", "index.docker.io", False, []),
        ("nginx", "https://index.docker.io/v1/", "index.docker.io", False, []),
        ("quay.io/org/app", "quay.io", "quay.io", False, []),
        ("quay.io/org/app@sha256:" + "a" * 64, "quay.io", "quay.io", False, []),
        (
            "quay.io/org/app",
            "quay.io/org",
            "quay.io/org/",
            True,
            ["quay.io/organization/app", "quay.io/other/app", "quay.io/org"],
        ),
        # the namespace itself: kubelet's plain prefix match cannot exclude
        # quay.io/organization here; the per-Image cache keeps the answer to this image
        ("quay.io/org", "quay.io/org", "quay.io/org", True, ["quay.io/other"]),
        (
            "quay.io/org/team/app:v1",
            "quay.io/org/team",
            "quay.io/org/team/",
            True,
            ["quay.io/org/teamster/app", "quay.io/org/app"],
        ),
        ("localhost:5000/x/y", "localhost:5000", "localhost:5000", False, ["localhost/x/y"]),
        ("[::1]:5000/x/y", "[::1]:5000", "[::1]:5000", False, ["[::1]:5001/x/y"]),
        (
            "reg.example.com/v2/app",
            "reg.example.com/v2",
            "https://reg.example.com/v2/v2/",
            True,
            ["reg.example.com/app"],
        ),
        ("docker.io/me/app", "docker.io/me", "docker.io/me/", True, ["docker.io/mew/app"]),
    ],
)
def test_response_auth_key_is_applied_by_kubelet(
    image: str, server: str, key: str, namespaced: bool, siblings: List[str]
) -> None:
    creds = Credentials(server, username="u", password="p")
    assert kubernetes.response_auth_key(image, creds) == (key, namespaced)
    repo = re.split(r"[@]", image)[0]
    repo = repo.rsplit(":", 1)[0] if ":" in repo.rsplit("/", 1)[-1] else repo
    assert kubelet_lookup({key: "creds"}, repo) == ["creds"]
    for sibling in siblings:
        assert kubelet_lookup({key: "creds"}, sibling) == [], sibling


def test_handle_request_with_injected_lookup() -> None:
    creds = {
        "quay.io/org/app": Credentials("quay.io/org", username="o", password="op"),
        "quay.io/x/y": Credentials("quay.io", username="h", password="hp"),
        "ghcr.io/a/b": Credentials("ghcr.io", identity_token="tok", source="helper:gh"),
        "docker.io/library/nginx": Credentials(kubernetes.DEFAULT_DOCKER_SERVER, username="d",
                                               password="dp"),
    }
    notes: List[str] = []

    def answer(image: str, api_version: str = V1, duration: Optional[int] = None) -> Any:
        req = kubernetes.parse_request(request(image, api_version))
        return check_response(
            kubernetes.handle_request(
                req,
                creds.get,
                has_namespaces=lambda host: host == "quay.io",
                cache_duration=duration,
                warn=notes.append,
            ),
            api_version,
        )

    assert answer("quay.io/org/app") == {
        "apiVersion": V1,
        "kind": "CredentialProviderResponse",
        "cacheKeyType": "Image",
        "auth": {"quay.io/org/": {"username": "o", "password": "op"}},
    }
    # host credentials, but quay.io has namespace keys: per-image cache
    assert answer("quay.io/x/y")["cacheKeyType"] == "Image"
    hub = answer("docker.io/library/nginx", V1BETA1, 300 * 10**9)
    assert hub["cacheKeyType"] == "Registry"
    assert hub["cacheDuration"] == "5m0s"
    assert hub["auth"] == {"docker.io": {"username": "d", "password": "dp"}}
    assert answer("ghcr.io/a/b", V1ALPHA1)["auth"] == {}
    assert any("identity token" in n for n in notes)
    assert not any("tok" in n.split("token")[-1] for n in notes)
    assert answer("example.com/none")["auth"] == {}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("", "no CredentialProviderRequest"),
        ("not json", "not JSON"),
        ("[1]", "not an object"),
        (json.dumps({"apiVersion": V1, "kind": "Pod", "image": "x"}), "kind"),
        (json.dumps({"apiVersion": V1, "image": "x"}), "kind"),
        (request("x", "credentialprovider.kubelet.k8s.io/v2"), "apiVersion"),
        (request("x", "v1"), "apiVersion"),
        (json.dumps({"apiVersion": V1, "kind": "CredentialProviderRequest"}), "image"),
        (request(""), "image"),
        (json.dumps({"apiVersion": V1, "kind": "CredentialProviderRequest", "image": 5}), "image"),
        # issue 10 finding 9: JSON limits and odd types are typed errors, not crashes
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"a":' * 5_000 + "1" + "}" * 5_000, "nested too deeply"),
        ("[" * 65 + "]" * 65, "nested too deeply"),  # the same limit on every Python
        (request("x")[:-1] + ', "deep": ' + '{"a":' * 64 + "1" + "}" * 64 + "}", "nested too"),
        (request("x")[:-1] + ', "n": ' + "9" * 5_000 + "}", "integer of 5000 digits"),
        (request("x")[:-1] + ', "n": ' + "9" * 200 + "}", "integer of 200 digits"),
        (request("\ud800"), "not valid Unicode"),
        (json.dumps({"apiVersion": [V1], "kind": "CredentialProviderRequest", "image": "x"}),
         "unsupported apiVersion a JSON array"),
        (json.dumps({"apiVersion": V1, "kind": {"k": "x" * 1000}, "image": "x"}),
         "got a JSON object$"),
        (json.dumps({"apiVersion": V1, "kind": "y" * 1000, "image": "x"}), r"got 'y+\.\.\.$"),
    ],
)
def test_parse_request_rejects(data: str, message: str) -> None:
    with pytest.raises(KubernetesError, match=message) as info:
        kubernetes.parse_request(data)
    assert len(str(info.value)) < 400  # never the whole request


def test_parse_request_ignores_unknown_fields() -> None:
    data = request("quay.io/a/b", V1BETA1, serviceAccountToken="eyJ...", serviceAccountAnnotations={
        "a": "b"}, future={"x": 1})
    assert kubernetes.parse_request(data) == (V1BETA1, "quay.io/a/b")


# --- the plugin as kubelet runs it --------------------------------------------------------


def fake_helper(
    tmp_path: Path, name: str, username: str, secret: str, *, hang: bool = False
) -> Path:
    """A docker-credential-<name> that answers every ``get`` with the same credentials."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    program = bin_dir / f"docker-credential-{name}"
    answer = json.dumps({"ServerURL": "x", "Username": username, "Secret": secret})
    body = "exec sleep 30\n" if hang else f"cat >/dev/null\nprintf '%s' '{answer}'\n"
    program.write_text(f"#!/bin/sh\n{body}", "utf-8")
    program.chmod(program.stat().st_mode | stat.S_IEXEC)
    return bin_dir


def run_plugin(
    data: str,
    docker_config: Path,
    *args: str,
    env: Optional[Mapping[str, str]] = None,
) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ)
    for name in ("DBUS_SESSION_BUS_ADDRESS", "DOCKER_AUTH_CONFIG", "DOCKERCREDS_HELPER_TIMEOUT"):
        full_env.pop(name, None)
    full_env["DOCKER_CONFIG"] = str(docker_config)
    full_env["PYTHONPATH"] = str(ROOT)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "dockercreds.cli", "kubelet-plugin", *args],
        input=data,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
        check=False,
    )


def plugin_answer(
    image: str,
    docker_config: Path,
    *args: str,
    api_version: str = V1,
    env: Optional[Mapping[str, str]] = None,
) -> Dict[str, Any]:
    proc = run_plugin(request(image, api_version), docker_config, *args, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.endswith("\n") and proc.stdout.count("\n") == 1
    return check_response(json.loads(proc.stdout), api_version)


def assert_applies(response: Mapping[str, Any], image: str, username: str, password: str) -> None:
    assert kubelet_lookup(response["auth"], image) == [
        {"username": username, "password": password}
    ]


def test_plugin_docker_hub(tmp_path: Path) -> None:
    conf = tmp_path / "docker"
    write_config(conf, {"auths": {"https://index.docker.io/v1/": {"auth": b64("hub:pw:1")}}})
    for image in ("docker.io/library/nginx", "docker.io/library/nginx:1.25"):
        response = plugin_answer(image, conf)
        assert response["cacheKeyType"] == "Registry"
        assert "cacheDuration" not in response
        assert response["auth"] == {"docker.io": {"username": "hub", "password": "pw:1"}}
        assert_applies(response, "docker.io/library/nginx", "hub", "pw:1")
        # cached per registry: it also serves the registry's other images
        assert_applies(response, "docker.io/me/app", "hub", "pw:1")


def test_plugin_namespaced_keys(tmp_path: Path) -> None:
    conf = tmp_path / "docker"
    write_config(
        conf,
        {
            "auths": {
                "quay.io": {"auth": b64("host:hp")},
                "quay.io/org": {"auth": b64("org:op")},
            }
        },
    )
    response = plugin_answer("quay.io/org/app", conf, "--cache-duration", "90s")
    assert response["cacheKeyType"] == "Image"
    assert response["cacheDuration"] == "1m30s"
    assert_applies(response, "quay.io/org/app", "org", "op")
    for sibling in ("quay.io/organization/app", "quay.io/other/app"):
        assert kubelet_lookup(response["auth"], sibling) == []
    other = plugin_answer("quay.io/organization/app", conf)
    assert other["cacheKeyType"] == "Image"
    assert_applies(other, "quay.io/organization/app", "host", "hp")


def test_plugin_helper_backed(tmp_path: Path) -> None:
    bin_dir = fake_helper(tmp_path, "fake", "robot", "s3cr3t")
    conf = tmp_path / "docker"
    write_config(conf, {"credHelpers": {"registry.example.com:5000": "fake"}})
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    response = plugin_answer("registry.example.com:5000/team/app", conf, env=env)
    assert response["auth"] == {
        "registry.example.com:5000": {"username": "robot", "password": "s3cr3t"}
    }
    assert response["cacheKeyType"] == "Registry"
    assert_applies(response, "registry.example.com:5000/team/app", "robot", "s3cr3t")


def test_plugin_identity_token_counts_as_none(tmp_path: Path) -> None:
    bin_dir = fake_helper(tmp_path, "tok", "<token>", "refresh-123")
    conf = tmp_path / "docker"
    write_config(conf, {"credHelpers": {"ghcr.io": "tok"}})
    proc = run_plugin(
        request("ghcr.io/a/b"), conf, env={"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    )
    assert proc.returncode == 0, proc.stderr
    assert check_response(json.loads(proc.stdout), V1)["auth"] == {}
    assert "identity token" in proc.stderr
    assert "refresh-123" not in proc.stderr + proc.stdout


@pytest.mark.parametrize("api_version", [V1, V1BETA1, V1ALPHA1])
def test_plugin_missing_credentials(tmp_path: Path, api_version: str) -> None:
    conf = tmp_path / "docker"  # no config.json at all
    extra = {"serviceAccountToken": "eyJhbGciOi", "serviceAccountAnnotations": {"a": "b"}}
    proc = run_plugin(request("quay.io/nobody/app", api_version, **extra), conf)
    assert proc.returncode == 0, proc.stderr
    response = check_response(json.loads(proc.stdout), api_version)
    assert response["auth"] == {}


@pytest.mark.parametrize(
    "data",
    [
        "",
        "{not json",
        json.dumps({"apiVersion": V1, "kind": "Pod", "image": "x"}),
        request("quay.io/a/b", "credentialprovider.kubelet.k8s.io/v9"),
        json.dumps({"apiVersion": V1, "kind": "CredentialProviderRequest"}),
        request("Not A Valid Image"),
        # explicit ids: a long one would not fit PYTEST_CURRENT_TEST in the environment
        pytest.param("[" * 100_000, id="deep"),
        pytest.param(request("x")[:-1] + ', "n": ' + "9" * 5_000 + "}", id="huge-int"),
        pytest.param(request("\ud800"), id="lone-surrogate"),
        pytest.param(request("x") + " " * (2 << 20), id="larger-than-MAX_REQUEST_BYTES"),
    ],
)
def test_plugin_malformed_requests(tmp_path: Path, data: str) -> None:
    proc = run_plugin(data, tmp_path / "docker")
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.startswith("dockercreds: ") and proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr


def test_plugin_usage_errors(tmp_path: Path) -> None:
    for args in (["--cache-duration", "5"], ["--timeout", "0"], ["--timeout", "x"],
                 ["--timeout", "inf"], ["--timeout", "1e12"]):
        proc = run_plugin(request("quay.io/a/b"), tmp_path / "docker", *args)
        assert proc.returncode == 2, args
        assert "Traceback" not in proc.stderr


def test_plugin_bad_config_is_one_line(tmp_path: Path) -> None:
    conf = tmp_path / "docker"
    conf.mkdir()
    (conf / "config.json").write_text('{"auths": {', "utf-8")
    proc = run_plugin(request("quay.io/a/b"), conf)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "config.json" in proc.stderr


def test_plugin_deadline_bounds_a_hanging_helper(tmp_path: Path) -> None:
    bin_dir = fake_helper(tmp_path, "hang", "u", "p", hang=True)
    conf = tmp_path / "docker"
    write_config(conf, {"credsStore": "hang"})
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    proc = run_plugin(request("quay.io/a/b"), conf, "--timeout", "1", env=env)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "within 1 s" in proc.stderr and proc.stderr.count("\n") == 1


def keyring_env(tmp_path: Path) -> Dict[str, str]:
    return {
        "PYTHON_KEYRING_BACKEND": "tests.file_keyring_backend.FileKeyring",
        "TEST_KEYRING_FILE": str(tmp_path / "keyring.json"),
        "DOCKERCREDS_KEYRING_INDEX": str(tmp_path / "keyring-index.json"),
        "DOCKERCREDS_KEYRING_ALLOW_INSECURE": "1",
    }


def test_plugin_keyring_backed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dockercreds.keyring_store import KeyringStore
    from tests.file_keyring_backend import FileKeyring

    env = keyring_env(tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    store = KeyringStore(backend=FileKeyring(), allow_insecure=True)  # type: ignore[no-untyped-call]
    store.store("quay.io", "kr-user", "kr:pass")
    store.store("https://index.docker.io/v1/", "hub-kr", "hubpass")
    conf = tmp_path / "docker"
    write_config(conf, {"credsStore": "keyring", "auths": {"quay.io": {}}})
    response = plugin_answer("quay.io/team/app", conf, env=env)
    assert response["auth"] == {"quay.io": {"username": "kr-user", "password": "kr:pass"}}
    assert_applies(response, "quay.io/team/app", "kr-user", "kr:pass")
    hub = plugin_answer("docker.io/library/redis", conf, api_version=V1BETA1, env=env)
    assert_applies(hub, "docker.io/library/redis", "hub-kr", "hubpass")
    # and the Secret export finds the keyring's entries too
    auths = kubernetes.export_auths(["quay.io", "docker.io"], config=str(conf / "config.json"))
    assert sorted(auths) == ["https://index.docker.io/v1/", "quay.io"]
    assert auths["quay.io"].password == "kr:pass"


def test_plugin_deadline_bounds_a_hanging_keyring(tmp_path: Path) -> None:
    env = dict(keyring_env(tmp_path), TEST_KEYRING_SLEEP="30")
    conf = tmp_path / "docker"
    write_config(conf, {"credsStore": "keyring"})
    proc = run_plugin(request("quay.io/a/b"), conf, "--timeout", "1", env=env)
    assert proc.returncode == 1
    assert "within 1 s" in proc.stderr and proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr


def test_run_plugin_restores_the_helper_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKERCREDS_HELPER_TIMEOUT", "7")
    conf = write_config(tmp_path / "docker", {})
    out = kubernetes.run_plugin(request("quay.io/a/b"), config=str(conf), timeout=3)
    assert json.loads(out)["auth"] == {}
    assert os.environ["DOCKERCREDS_HELPER_TIMEOUT"] == "7"
    with pytest.raises(DockerCredsError):
        kubernetes.run_plugin("{}", config=str(conf))


# --- the example provider config -------------------------------------------------------------


def test_example_credential_provider_config() -> None:
    yaml = pytest.importorskip("yaml")
    example = ROOT / "examples" / "kubelet-credential-provider-config.yaml"
    doc = yaml.safe_load(example.read_text("utf-8"))
    assert doc["apiVersion"] == "kubelet.config.k8s.io/v1"
    assert doc["kind"] == "CredentialProviderConfig"
    allowed = {"name", "matchImages", "defaultCacheDuration", "apiVersion", "args", "env"}
    for provider in doc["providers"]:
        assert set(provider) <= allowed
        assert provider["name"] == "dockercreds"
        assert provider["args"][0] == "kubelet-plugin"
        assert provider["apiVersion"] in kubernetes.API_VERSIONS
        kubernetes.parse_go_duration(provider["defaultCacheDuration"])
        assert provider["matchImages"] and all(isinstance(m, str) for m in provider["matchImages"])
        assert urls_match_str(provider["matchImages"][0], "docker.io/library/nginx")
        for var in provider.get("env", []):
            assert set(var) == {"name", "value"}
        parser = cli.build_parser()
        parser.parse_args(provider["args"])
