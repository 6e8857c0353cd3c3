"""Tests for dockercreds.resolver: sources, stores and keys in their order of precedence.

Unit tests use config files in tmp_path and fake ``docker-credential-<name>`` programs put
first on PATH; each fake records its argv and stdin so the tests can check what it was
asked. HOME, DOCKER_CONFIG and the XDG dirs point into tmp_path (the real ~/.docker is
never read).

The oracle tests (``peer``) run the docker CLI and skopeo against a real docker-registry
with htpasswd auth: with several config entries where only one holds the right
password, the peer succeeds exactly when our lookup picks that entry, except where
DESIGN.md deliberately differs (labelled ``DIFFERENCE``).
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

import pytest

import dockercreds
from dockercreds.config import DockerConfig
from dockercreds.credentials import Credentials
from dockercreds.errors import (
    ConfigError,
    ConfigFormatError,
    ConfigNotFound,
    ConfigSyntaxError,
    HelperFailed,
    HelperNotInstalled,
)
from dockercreds.registry import HUB_KEY, normalize_registry
from dockercreds.resolver import (
    Trace,
    get_credentials,
    get_registry_credentials,
    list_registries,
    load_config,
    resolve,
)
from tests.peers import IMAGE_REPO, IMAGE_TAG, Registry, require

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "docker-config.json"
NOT_FOUND = "credentials not found in native keychain"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def entry(user: str, password: str) -> Dict[str, str]:
    return {"auth": b64(f"{user}:{password}")}


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- environment

# A fake credential helper: logs {"argv", "stdin"} per call; answers "get" from ANSWERS
# (server -> [username, secret]); MODE says how a missing server is answered:
# "docker" (rc 1 + the not-found message), "pass" (rc 0 + empty fields, as
# docker-credential-pass 0.6.4 does) or "fail" (rc 1 + another error).
_FAKE_HELPER = """#!{python}
import json, sys
ANSWERS = {answers!r}
MODE = {mode!r}
data = sys.stdin.read()
with open({log!r}, "a", encoding="utf-8") as f:
    f.write(json.dumps({{"helper": {name!r}, "argv": sys.argv[1:], "stdin": data}}) + "\\n")
action = sys.argv[1] if len(sys.argv) == 2 else ""
if action == "get":
    server = data.strip()
    if server in ANSWERS:
        user, secret = ANSWERS[server]
        print(json.dumps({{"ServerURL": server, "Username": user, "Secret": secret}}))
    elif MODE == "pass":
        print(json.dumps({{"ServerURL": server, "Username": "", "Secret": ""}}))
    elif MODE == "fail":
        print("backend exploded: the keychain is on fire")
        sys.exit(1)
    else:
        print({not_found!r})
        sys.exit(1)
elif action == "list":
    print(json.dumps({{k: v[0] for k, v in ANSWERS.items()}}))
else:
    print("unsupported action")
    sys.exit(1)
"""


class Env:
    """Isolated HOME / DOCKER_CONFIG / XDG dirs, a bin dir first on PATH, helper log."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tmp = tmp_path
        self.mp = monkeypatch
        self.home = tmp_path / "home"
        self.docker_dir = tmp_path / "docker-config"
        self.runtime = tmp_path / "run"
        self.config_home = tmp_path / "xdg-config"
        self.bin = tmp_path / "bin"
        self.log = tmp_path / "helper-calls.jsonl"
        for d in (self.home, self.docker_dir, self.runtime, self.config_home, self.bin):
            d.mkdir()
        monkeypatch.setenv("HOME", str(self.home))
        monkeypatch.setenv("DOCKER_CONFIG", str(self.docker_dir))
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(self.runtime))
        monkeypatch.setenv("XDG_CONFIG_HOME", str(self.config_home))
        monkeypatch.setenv("PATH", f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}")
        for name in ("REGISTRY_AUTH_FILE", "DOCKER_AUTH_CONFIG", "DOCKERCREDS_HELPER_TIMEOUT",
                     "DOCKERCREDS_HELPER_CACHE_TTL"):
            monkeypatch.delenv(name, raising=False)

    # files
    @property
    def docker_file(self) -> Path:
        return self.docker_dir / "config.json"

    @property
    def home_docker_file(self) -> Path:
        return self.home / ".docker" / "config.json"

    @property
    def runtime_file(self) -> Path:
        return self.runtime / "containers" / "auth.json"

    @property
    def config_home_file(self) -> Path:
        return self.config_home / "containers" / "auth.json"

    def docker(self, data: Any) -> Path:
        return write_json(self.docker_file, data)

    def auth_file(self, data: Any, name: str = "auth.json") -> Path:
        path = write_json(self.tmp / "authfiles" / name, data)
        self.mp.setenv("REGISTRY_AUTH_FILE", str(path))
        return path

    # helpers
    def helper(
        self,
        name: str,
        answers: Optional[Mapping[str, Tuple[str, str]]] = None,
        *,
        mode: str = "docker",
    ) -> None:
        path = self.bin / f"docker-credential-{name}"
        path.write_text(
            _FAKE_HELPER.format(
                python=sys.executable,
                answers={k: list(v) for k, v in (answers or {}).items()},
                mode=mode,
                log=str(self.log),
                name=name,
                not_found=NOT_FOUND,
            ),
            encoding="utf-8",
        )
        path.chmod(path.stat().st_mode | stat.S_IXUSR)

    def calls(self, action: Optional[str] = None) -> List[Tuple[str, str]]:
        """(helper, stdin) of each call, in order (only ``action`` calls when given)."""
        if not self.log.exists():
            return []
        out = []
        for line in self.log.read_text(encoding="utf-8").splitlines():
            call = json.loads(line)
            if action is None or call["argv"] == [action]:
                out.append((call["helper"], call["stdin"]))
        return out


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    return Env(tmp_path, monkeypatch)


def secret_of(creds: Optional[Credentials]) -> Optional[str]:
    return None if creds is None else (creds.password or creds.identity_token)


# --------------------------------------------------------------------------- seed scenario


def test_seed_example_config(env: Env) -> None:
    quay = get_credentials("quay.io/lightside/svc-awesome:1.2.3", config=EXAMPLE)
    assert quay is not None
    assert (quay.server, quay.username, quay.password) == ("quay.io", "quay-user", "quay-pass")
    assert quay.source == f"file:{EXAMPLE}"
    assert quay.email == "me@example.com"
    for image in ("ubuntu", "ubuntu:22.04", "library/ubuntu", "docker.io/library/ubuntu:latest",
                  "index.docker.io/library/ubuntu", "someone/app@sha256:" + "a" * 64):
        hub = get_credentials(image, config=EXAMPLE)
        assert hub is not None, image
        assert (hub.server, hub.username, hub.password) == (HUB_KEY, "hub-user", "hub-pass")
        assert hub.source == f"file:{EXAMPLE}"
    assert get_credentials("gcr.io/project/app", config=EXAMPLE) is None
    assert get_credentials("quay.io:443/lightside/app", config=EXAMPLE) is None


def test_seed_example_as_default_config(env: Env) -> None:
    env.docker(json.loads(EXAMPLE.read_text()))
    creds = get_credentials("quay.io/lightside/svc-awesome:1.2.3")
    assert creds is not None
    assert creds.username == "quay-user"
    assert creds.source == f"file:{env.docker_file}"
    from_example = get_credentials("ubuntu", config=EXAMPLE)
    assert from_example is not None
    hub = dockercreds.get_credentials("ubuntu")
    assert hub == from_example.replace(source=f"file:{env.docker_file}")


# --------------------------------------------------------------------------- TEST CASES 1-15
# containers-ggcr-oras.md "TEST CASES": auths keys, a reference, the expected key.

KEY_CASES: List[Tuple[str, List[str], str, Optional[str]]] = [
    ("1", ["quay.io/a/b", "quay.io/a", "quay.io"], "quay.io/a/b/img", "quay.io/a/b"),
    ("1", ["quay.io/a/b", "quay.io/a", "quay.io"], "quay.io/a/zz", "quay.io/a"),
    ("2", ["quay.io/org", "quay.io"], "quay.io/organization/x", "quay.io"),
    ("3", ["quay.io/foo"], "quay.io/bar", None),
    ("4", ["docker.io/library", "docker.io/vendor", "docker.io"], "busybox", "docker.io/library"),
    ("4", ["docker.io/library", "docker.io/vendor", "docker.io"], "vendor/p", "docker.io/vendor"),
    ("4", ["docker.io/library", "docker.io/vendor", "docker.io"], "other/p", "docker.io"),
    ("5", [HUB_KEY], "docker.io/x", HUB_KEY),
    ("5", ["index.docker.io"], "docker.io/x", "index.docker.io"),
    ("5", ["registry-1.docker.io"], "docker.io/x", "registry-1.docker.io"),
    # "docker.io" matches here (as in c/image), not in ggcr or ORAS
    ("5", ["docker.io"], "docker.io/x", "docker.io"),
    ("6", ["docker.io", "index.docker.io"], "docker.io/x", "docker.io"),
    ("7", ["https://quay.io/org"], "quay.io/other/x", "https://quay.io/org"),
    ("8", ["localhost:5000", "https://localhost:5001"], "localhost:5001/x",
     "https://localhost:5001"),
    ("8", ["localhost:5000", "https://localhost:5001"], "localhost/x", None),
    # 13: rejected keys are skipped, "localhost:5000/repo" is a namespace.
    # DESIGN.md differs from c/image on "https://quay.io": a URL key means its host.
    ("13", ["https://quay.io"], "quay.io/x", "https://quay.io"),
    ("13", ["q.io/foo:tag"], "q.io/foo", None),
    ("13", ["q.io/f@sha256:" + "a" * 64], "q.io/f", None),
    ("13", ["localhost:5000/repo"], "localhost:5000/repo:v1", "localhost:5000/repo"),
]


@pytest.mark.parametrize(("case", "keys", "image", "expected"), KEY_CASES)
def test_reference_cases(
    env: Env, case: str, keys: List[str], image: str, expected: Optional[str]
) -> None:
    path = write_json(env.tmp / "c.json", {"auths": {k: entry("u", k) for k in keys}})
    creds = get_credentials(image, config=path)
    if expected is None:
        assert creds is None
    else:
        assert creds is not None
        assert creds.server == expected
        assert creds.password == expected  # the entry stored under that key
        assert creds.username == "u"


def test_case_9_empty_namespace_entry_gives_nothing_from_this_file(
    env: Env, ns_stores: Dict[str, Any]
) -> None:
    # Deliberate decision (DESIGN.md "Keys"): {} means "the store holds it", so the most
    # specific key being {} gives nothing from this file; the host entry is NOT used.
    # (The keyring is asked for a namespace account first: here it holds none.)
    path = write_json(
        env.tmp / "c.json", {"auths": {"quay.io/org": {}, "quay.io": entry("u", "valid")}}
    )
    assert get_credentials("quay.io/org/app", config=path) is None
    other = get_credentials("quay.io/other/app", config=path)
    assert secret_of(other) == "valid"


def test_case_9_next_source_is_still_asked(env: Env, ns_stores: Dict[str, Any]) -> None:
    env.docker({"auths": {"quay.io/org": {}, "quay.io": entry("u", "docker")}})
    env.auth_file({"auths": {"quay.io": entry("u", "containers")}})
    creds = get_credentials("quay.io/org/app", sources="all")
    assert secret_of(creds) == "containers"


def test_case_10_helper_is_asked_with_the_host_not_the_namespace(env: Env) -> None:
    env.helper("h", {"quay.io": ("helper-user", "helper-secret")})
    path = write_json(
        env.tmp / "c.json",
        {"credHelpers": {"quay.io": "h"}, "auths": {"quay.io/org": entry("u", "plain")}},
    )
    creds = get_credentials("quay.io/org/app", config=path)
    assert creds is not None
    assert (creds.username, creds.password) == ("helper-user", "helper-secret")
    assert creds.server == "quay.io"
    assert creds.source == "helper:h"
    assert env.calls() == [("h", "quay.io")]


def test_case_11_file_order_beats_specificity_containers(env: Env) -> None:
    # The primary file's quay.io wins over quay.io/org/app in a later file.
    primary = env.auth_file({"auths": {"quay.io": entry("u", "primary")}})
    write_json(env.runtime_file, {"auths": {"quay.io/org/app": entry("u", "runtime")}})
    creds = get_credentials("quay.io/org/app", sources="containers")
    assert secret_of(creds) == "primary"
    assert creds is not None
    assert creds.source == f"file:{primary}"


def test_case_11_file_order_beats_specificity_all(env: Env) -> None:
    # DESIGN.md "Sources": with sources="all" the Docker file comes BEFORE the containers
    # files (c/image reads them first); file order still beats specificity.
    env.docker({"auths": {"quay.io": entry("u", "docker")}})
    env.auth_file({"auths": {"quay.io/org/app": entry("u", "containers")}})
    assert secret_of(get_credentials("quay.io/org/app", sources="all")) == "docker"


def test_case_12_legacy_dockercfg_named_explicitly(env: Env) -> None:
    legacy = write_json(env.home / ".dockercfg", {"quay.io/org": entry("u", "legacy")})
    creds = get_credentials("quay.io/zzz", config=legacy)
    assert secret_of(creds) == "legacy"
    assert creds is not None
    assert creds.source == f"file:{legacy}"
    # never read unless named
    assert get_credentials("quay.io/zzz", sources="all") is None


def test_case_14_identity_token(env: Env) -> None:
    path = write_json(
        env.tmp / "c.json",
        {"auths": {
            "quay.io": {"auth": b64("uuid:"), "identitytoken": "T"},
            # DESIGN.md "`auth` field": identitytoken is carried through even without
            # "auth" (as Docker does); c/image ignores it.
            "gcr.io": {"identitytoken": "T2"},
            "ghcr.io": {"registrytoken": "R"},
        }},
    )
    creds = get_credentials("quay.io/x", config=path)
    assert creds is not None
    assert (creds.username, creds.password, creds.identity_token) == ("uuid", None, "T")
    alone = get_credentials("gcr.io/x", config=path)
    assert alone is not None
    assert (alone.username, alone.identity_token) == (None, "T2")
    reg = get_credentials("ghcr.io/x", config=path)
    assert reg is not None
    assert reg.registry_token == "R"


@pytest.mark.parametrize("content", [b"", b"   \n\t"])
def test_case_15_empty_file_is_an_empty_config(env: Env, content: bytes) -> None:
    # DESIGN.md: a 0-byte file is an empty config (as Docker; c/image makes it an error).
    path = env.tmp / "c.json"
    path.write_bytes(content)
    assert get_credentials("quay.io/x", config=path) is None
    env.docker_file.write_bytes(content)
    assert get_credentials("quay.io/x") is None


def test_case_15_bad_base64_is_an_error_when_its_entry_is_used(env: Env) -> None:
    # Entries are decoded when a lookup first uses them (issue 12: loads at the JSON
    # floor): a bad value is an error naming the file, key and line for the lookup that
    # uses it (and for `dockercreds check`), not for lookups of other registries.
    path = write_json(
        env.tmp / "c.json",
        {"auths": {"quay.io": entry("u", "p"), "broken.io": {"auth": "!!not base64!!"}}},
    )
    creds = get_credentials("quay.io/x", config=path)
    assert creds is not None and creds.username == "u"
    with pytest.raises(ConfigFormatError) as info:
        get_credentials("broken.io/x", config=path)
    assert info.value.path == str(path)
    assert info.value.key == "broken.io"
    assert str(path) in str(info.value)
    assert "broken.io" in str(info.value)
    assert info.value.line == 6  # write_json indents: quay.io takes lines 3-5


@pytest.mark.parametrize("auth", [b64("nocolon"), b64(":password-only")])
def test_bad_auth_field_names_file_and_key(env: Env, auth: str) -> None:
    path = write_json(env.tmp / "c.json", {"auths": {"quay.io": {"auth": auth}}})
    with pytest.raises(ConfigFormatError) as info:
        get_credentials("quay.io/x", config=path)
    assert info.value.key == "quay.io"
    assert "password-only" not in str(info.value)


def test_invalid_json_is_an_error_never_empty(env: Env) -> None:
    env.docker_file.write_text('{"auths": {"quay.io": ', encoding="utf-8")
    with pytest.raises(ConfigSyntaxError) as info:
        get_credentials("quay.io/x")
    assert info.value.path == str(env.docker_file)
    assert info.value.line == 1


def test_missing_default_file_is_empty_but_a_named_one_is_an_error(env: Env) -> None:
    assert get_credentials("quay.io/x") is None  # no config.json at all
    missing = env.tmp / "nope.json"
    for call in (
        lambda: get_credentials("quay.io/x", config=missing),
        lambda: get_registry_credentials("quay.io", config=str(missing)),
        lambda: load_config(missing),
    ):
        with pytest.raises(ConfigNotFound, match=r"no such config file: .*nope\.json") as info:
            call()
        assert isinstance(info.value, ConfigError)
        assert info.value.path == str(missing)


# --------------------------------------------------------------------------- precedence


def test_cred_helpers_beat_creds_store_beat_auths(env: Env) -> None:
    env.helper("per-host", {"quay.io": ("h-user", "h-secret")})
    env.helper("store", {"quay.io": ("s-user", "s-secret"), "gcr.io": ("s2", "s2-secret")})
    env.docker({
        "credHelpers": {"quay.io": "per-host"},
        "credsStore": "store",
        "auths": {
            "quay.io": entry("u", "plain-quay"),
            "gcr.io": entry("u", "plain-gcr"),
            "ghcr.io": entry("u", "plain-ghcr"),
        },
    })
    quay = get_credentials("quay.io/x")
    assert quay is not None
    assert (quay.password, quay.source, quay.server) == ("h-secret", "helper:per-host", "quay.io")
    assert env.calls() == [("per-host", "quay.io")]  # the credsStore was not asked
    gcr = get_credentials("gcr.io/x")
    assert gcr is not None
    assert (gcr.password, gcr.source) == ("s2-secret", "helper:store")
    # the store has nothing for ghcr.io: the plaintext entry is used (DIFFERENCE from
    # Docker, which ignores auths once a store is configured; as docker-py does)
    ghcr = get_credentials("ghcr.io/x")
    assert ghcr is not None
    assert (ghcr.password, ghcr.source) == ("plain-ghcr", f"file:{env.docker_file}")
    assert env.calls("get")[-1] == ("store", "ghcr.io")


@pytest.mark.parametrize("mode", ["docker", "pass"])
@pytest.mark.parametrize("via", ["credsStore", "credHelpers"])
def test_helper_not_found_falls_back_to_plaintext(env: Env, mode: str, via: str) -> None:
    # DIFFERENCE from Docker (DESIGN.md "Precedence"): "not found" -> auths still count.
    # mode "pass": exit 0 with empty Username and Secret also means "not found".
    env.helper("h", {}, mode=mode)
    store = {"credsStore": "h"} if via == "credsStore" else {"credHelpers": {"quay.io": "h"}}
    env.docker({**store, "auths": {"quay.io/org": entry("u", "plain")}})
    creds = get_credentials("quay.io/org/app")
    assert secret_of(creds) == "plain"
    assert creds is not None
    assert creds.source == f"file:{env.docker_file}"
    assert creds.server == "quay.io/org"
    assert env.calls("get") == [("h", "quay.io")]


def test_cred_helper_entry_decides_the_store(env: Env) -> None:
    # credHelpers[host] replaces the credsStore for that host (as Docker): when it has
    # nothing, the credsStore is not asked; the plaintext entry is.
    env.helper("per-host", {})
    env.helper("store", {"quay.io": ("u", "from-store")})
    env.docker({"credHelpers": {"quay.io": "per-host"}, "credsStore": "store",
                "auths": {"quay.io": entry("u", "plain")}})
    assert secret_of(get_credentials("quay.io/x")) == "plain"
    assert env.calls() == [("per-host", "quay.io")]


@pytest.mark.parametrize("empty", ["", None])
def test_empty_cred_helper_routes_host_to_this_files_auths(env: Env, empty: Any) -> None:
    # Docker (docker/cli getConfiguredCredentialStore, checked with docker 28.2):
    # credHelpers[host] = "" (or null) exists, so credsStore is skipped for that host and
    # the file's auths answer. `dockercreds run` relies on it to make a --login win.
    env.helper("store", {"quay.io": ("s-user", "from-store"), "gcr.io": ("s", "s-gcr")})
    env.docker({"credsStore": "store", "credHelpers": {"quay.io": empty},
                "auths": {"quay.io": entry("u", "plain"), "gcr.io": {}}})
    assert secret_of(get_credentials("quay.io/x")) == "plain"
    assert env.calls() == []  # the store was not asked for quay.io
    assert secret_of(get_credentials("gcr.io/x")) == "s-gcr"


def test_cred_helpers_namespace_key_is_ignored(env: Env) -> None:
    # helpers are chosen per registry: a credHelpers key with a path is never used
    env.helper("h", {"quay.io": ("u", "helper"), "quay.io/org": ("u", "helper-ns")})
    env.docker({"credHelpers": {"quay.io/org": "h"},
                "auths": {"quay.io": entry("u", "plain")}})
    assert secret_of(get_credentials("quay.io/org/app")) == "plain"
    assert env.calls() == []


# ------------------------------------------------------- credHelpers globs (issue 11 #2)


def test_cred_helpers_glob_routes_matching_registries(env: Env) -> None:
    env.helper("glob", {"a.example.test": ("g-user", "g-a"), "b.example.test:5000": ("g", "g-b")})
    env.helper("exact", {"x.example.test": ("e-user", "e-x")})
    env.helper("store", {"a.example.test": ("s", "s-a"), "c.example.test": ("s", "s-c")})
    env.docker({
        "credHelpers": {"*.example.test": "glob", "*.example.test:5000": "glob",
                        "x.example.test": "exact"},
        "credsStore": "store",
        "auths": {"example.test": entry("u", "plain-apex")},
    })
    a = get_credentials("a.example.test/team/app:1")
    assert a is not None
    assert (a.password, a.source, a.server) == ("g-a", "helper:glob", "a.example.test")
    b = get_credentials("b.example.test:5000/app")
    assert b is not None
    assert (b.password, b.source) == ("g-b", "helper:glob")
    x = get_credentials("x.example.test/app")  # the exact key wins over the glob
    assert x is not None
    assert (x.password, x.source) == ("e-x", "helper:exact")
    # the glob has nothing for c: not the credsStore (the glob replaced it), no auths
    assert get_credentials("c.example.test/app") is None
    # one label more or less: not the glob's; the credsStore and auths as usual
    assert secret_of(get_credentials("example.test/app")) == "plain-apex"
    assert get_credentials("a.b.example.test/app") is None
    assert env.calls("get") == [
        ("glob", "a.example.test"),
        ("glob", "b.example.test:5000"),
        ("exact", "x.example.test"),
        ("glob", "c.example.test"),
        ("store", "example.test"),
        ("store", "a.b.example.test"),
    ]


def test_explain_names_the_glob_rule(env: Env) -> None:
    env.helper("acr", {"x.azurecr.io": ("u", "s")})
    env.docker({"credHelpers": {"*.azurecr.io": "acr", "*.*.io": "any",
                                "y.azurecr.io": "exact", "re?.azurecr.io": "bad"}})
    trace = Trace()
    assert secret_of(resolve("x.azurecr.io", "app", trace=trace)) == "s"
    text = "\n".join(trace.steps)
    assert "credHelpers glob '*.azurecr.io' matches 'x.azurecr.io': helper 'acr'" in text
    assert "credHelpers glob '*.*.io' also matches; '*.azurecr.io' wins" in text
    # an invalid glob key is a note, not an error
    assert "ignored key 're?.azurecr.io': credHelpers glob key 're?.azurecr.io' has '?'" in text
    trace = Trace()
    env.helper("exact", {"y.azurecr.io": ("u", "e")})
    assert secret_of(resolve("y.azurecr.io", "app", trace=trace)) == "e"
    text = "\n".join(trace.steps)
    assert "credHelpers['y.azurecr.io'] = 'exact'" in text
    assert "'*.azurecr.io', '*.*.io' also match; the exact key wins" in text


def test_login_store_choice_follows_a_glob(env: Env) -> None:
    from dockercreds.accounts import write_store

    env.docker({"credHelpers": {"*.azurecr.io": "acr", "y.azurecr.io": ""},
                "credsStore": "store"})
    config = load_config()
    assert write_store(config, "x.azurecr.io", None) == "acr"
    assert write_store(config, "y.azurecr.io", None) is None  # exact "": this file
    assert write_store(config, "azurecr.io", None) == "store"


def test_glob_routed_registries_are_not_listed_as_registries(env: Env) -> None:
    env.docker({"credHelpers": {"*.azurecr.io": "acr", "quay.io": "q"}})
    assert list_registries() == ["quay.io"]


@pytest.mark.parametrize("reverse", [False, True])
def test_colliding_keys_resolve_the_same_in_any_file_order(env: Env, reverse: bool) -> None:
    keys = ["Quay.IO", "http://quay.io", "https://quay.io/v2/", "quay.io"]
    if reverse:
        keys.reverse()
    path = write_json(env.tmp / "c.json", {"auths": {k: entry("u", k) for k in keys}})
    creds = get_credentials("quay.io/x", config=path)
    assert creds is not None
    assert (creds.server, creds.password) == ("quay.io", "quay.io")
    del keys[keys.index("quay.io")]
    path = write_json(env.tmp / "c.json", {"auths": {k: entry("u", k) for k in keys}})
    assert secret_of(get_credentials("quay.io/x", config=path)) == "https://quay.io/v2/"


def test_empty_entry_with_store_that_has_nothing(env: Env) -> None:
    env.helper("h", {})
    env.docker({"credsStore": "h", "auths": {"quay.io": {}}})
    assert get_credentials("quay.io/x") is None
    assert env.calls("get") == [("h", "quay.io")]


def test_empty_entry_with_store_that_has_it(env: Env) -> None:
    env.helper("h", {"quay.io": ("u", "from-store")})
    env.docker({"credsStore": "h", "auths": {"quay.io": {}}})
    creds = get_credentials("quay.io/x")
    assert creds is not None
    assert (creds.password, creds.source) == ("from-store", "helper:h")


def test_helper_failure_is_an_error(env: Env) -> None:
    env.helper("h", {}, mode="fail")
    env.docker({"credsStore": "h", "auths": {"quay.io": entry("u", "plain")}})
    with pytest.raises(HelperFailed) as info:
        get_credentials("quay.io/x")
    assert info.value.helper == "h"
    assert info.value.action == "get"
    assert "on fire" in str(info.value)


def test_missing_helper_program_is_its_own_error_when_strict(env: Env) -> None:
    env.docker({"credHelpers": {"quay.io": "not-installed-anywhere"}})
    with pytest.raises(HelperNotInstalled) as info:
        get_credentials("quay.io/x", strict=True)
    assert "docker-credential-not-installed-anywhere" in str(info.value)
    # only that registry needs the helper
    assert get_credentials("gcr.io/x", strict=True) is None


def test_token_username_means_identity_token(env: Env) -> None:
    env.helper("h", {"quay.io": ("<token>", "refresh-me")})
    env.docker({"credsStore": "h"})
    creds = get_credentials("quay.io/x")
    assert creds is not None
    assert creds.identity_token == "refresh-me"
    assert creds.username is None
    assert creds.password is None
    assert creds.server == "quay.io"
    assert creds.source == "helper:h"


HELPER_SERVER_CASES = [
    # target, credHelpers key, what the helper is asked
    ("quay.io/org/team/app:v1", "quay.io", "quay.io"),
    ("Quay.IO/org/app", "quay.io", "quay.io"),
    ("localhost:5000/a/b", "localhost:5000", "localhost:5000"),
    ("[::1]:5000/a", "[::1]:5000", "[::1]:5000"),
    ("ubuntu", HUB_KEY, HUB_KEY),
    ("library/ubuntu", "docker.io", HUB_KEY),
    ("index.docker.io/me/app", "registry-1.docker.io", HUB_KEY),
    ("docker.io/me/app", "https://index.docker.io/v1", HUB_KEY),
]


@pytest.mark.parametrize(("image", "key", "asked"), HELPER_SERVER_CASES)
@pytest.mark.parametrize("via", ["credsStore", "credHelpers"])
def test_helper_asked_with_the_registry(
    env: Env, image: str, key: str, asked: str, via: str
) -> None:
    env.helper("h", {asked: ("u", "s")})
    store = {"credsStore": "h"} if via == "credsStore" else {"credHelpers": {key: "h"}}
    env.docker(store)
    creds = get_credentials(image)
    assert creds is not None
    assert creds.server == asked
    assert env.calls() == [("h", asked)]
    # argv is exactly ["get"]: the server goes on stdin
    call = json.loads(env.log.read_text().splitlines()[0])
    assert call["argv"] == ["get"]


@pytest.mark.parametrize(
    ("registry", "asked"),
    [("quay.io", "quay.io"), ("https://quay.io/v2/", "quay.io"), (HUB_KEY, HUB_KEY),
     ("docker.io", HUB_KEY), ("index.docker.io", HUB_KEY), ("localhost:5000", "localhost:5000")],
)
def test_registry_credentials_ask_helper_with_registry(
    env: Env, registry: str, asked: str
) -> None:
    env.helper("h", {asked: ("u", "s")})
    env.docker({"credsStore": "h"})
    creds = get_registry_credentials(registry)
    assert creds is not None
    assert creds.server == asked
    assert env.calls() == [("h", asked)]


def test_registry_credentials_ignore_namespaces(env: Env) -> None:
    path = write_json(
        env.tmp / "c.json",
        {"auths": {"quay.io/org": entry("u", "ns"), "https://quay.io/v2/": entry("u", "host")}},
    )
    assert secret_of(get_registry_credentials("quay.io", config=path)) == "host"
    assert secret_of(get_registry_credentials("Quay.IO", config=path)) == "host"
    assert get_registry_credentials("quay.io:443", config=path) is None


# --------------------------------------------------------------------------- sources


def test_docker_auth_config_comes_first(env: Env) -> None:
    env.mp.setenv("DOCKER_AUTH_CONFIG", json.dumps({"auths": {"quay.io": entry("u", "env")}}))
    env.docker({"auths": {"quay.io": entry("u", "file"), "gcr.io": entry("u", "file-gcr")}})
    creds = get_credentials("quay.io/x")
    assert creds is not None
    assert (creds.password, creds.source) == ("env", "env:DOCKER_AUTH_CONFIG")
    # a registry the env does not know: the file answers
    gcr = get_credentials("gcr.io/x")
    assert gcr is not None
    assert (gcr.password, gcr.source) == ("file-gcr", f"file:{env.docker_file}")


def test_docker_auth_config_honours_auths_only(env: Env) -> None:
    env.mp.setenv(
        "DOCKER_AUTH_CONFIG",
        json.dumps({"credsStore": "not-installed", "credHelpers": {"quay.io": "not-installed"}}),
    )
    assert get_credentials("quay.io/x") is None  # no helper run, no error


def test_docker_config_dir_beats_home(env: Env) -> None:
    write_json(env.home_docker_file, {"auths": {"quay.io": entry("u", "home"),
                                                "gcr.io": entry("u", "home")}})
    env.docker({"auths": {"quay.io": entry("u", "docker-config")}})
    assert secret_of(get_credentials("quay.io/x")) == "docker-config"
    # one Docker file only: no fall-through to ~/.docker
    assert get_credentials("gcr.io/x") is None


@pytest.mark.parametrize("value", [None, ""])
def test_home_docker_config_without_docker_config(env: Env, value: Optional[str]) -> None:
    if value is None:
        env.mp.delenv("DOCKER_CONFIG")
    else:
        env.mp.setenv("DOCKER_CONFIG", value)
    write_json(env.home_docker_file, {"auths": {"quay.io": entry("u", "home")}})
    creds = get_credentials("quay.io/x")
    assert secret_of(creds) == "home"
    assert creds is not None
    assert creds.source == f"file:{env.home_docker_file}"
    assert load_config().path == str(env.home_docker_file)


def test_containers_files_only_when_asked(env: Env) -> None:
    raf = env.auth_file({"auths": {"quay.io": entry("u", "raf")}})
    assert get_credentials("quay.io/x") is None
    assert get_credentials("quay.io/x", sources="docker") is None
    for sources in ("containers", "all"):
        creds = get_credentials("quay.io/x", sources=sources)
        assert secret_of(creds) == "raf"
        assert creds is not None
        assert creds.source == f"file:{raf}"


def test_all_sources_order(env: Env) -> None:
    env.mp.setenv("DOCKER_AUTH_CONFIG", json.dumps({"auths": {"a.io": entry("u", "env")}}))
    env.docker({"auths": {"a.io": entry("u", "docker"), "b.io": entry("u", "docker")}})
    env.auth_file({"auths": {k: entry("u", "raf") for k in ("a.io", "b.io", "c.io")}})
    write_json(env.runtime_file, {"auths": {k: entry("u", "runtime") for k in
                                            ("a.io", "b.io", "c.io", "d.io")}})
    write_json(env.config_home_file, {"auths": {k: entry("u", "config-home") for k in
                                                ("a.io", "b.io", "c.io", "d.io", "e.io")}})
    got = {h: secret_of(get_registry_credentials(h, sources="all"))
           for h in ("a.io", "b.io", "c.io", "d.io", "e.io", "f.io")}
    # REGISTRY_AUTH_FILE replaces the runtime file (containers/image): d.io not "runtime"
    assert got == {"a.io": "env", "b.io": "docker", "c.io": "raf", "d.io": "config-home",
                   "e.io": "config-home", "f.io": None}


def test_containers_order_without_registry_auth_file(env: Env) -> None:
    write_json(env.runtime_file, {"auths": {"a.io": entry("u", "runtime")}})
    write_json(env.config_home_file, {"auths": {"a.io": entry("u", "config-home"),
                                                "b.io": entry("u", "config-home")}})
    creds = get_registry_credentials("a.io", sources="containers")
    assert creds is not None
    assert (creds.password, creds.source) == ("runtime", f"file:{env.runtime_file}")
    creds = get_registry_credentials("b.io", sources="containers")
    assert creds is not None
    assert (creds.password, creds.source) == ("config-home", f"file:{env.config_home_file}")


def test_creds_store_ignored_in_containers_files(env: Env) -> None:
    # containers/image ignores credsStore (container-libs#278); credHelpers count
    env.helper("h", {"gcr.io": ("u", "helper")})
    env.auth_file({
        "credsStore": "not-installed",
        "credHelpers": {"gcr.io": "h"},
        "auths": {"quay.io": entry("u", "raf")},
    })
    assert secret_of(get_credentials("quay.io/x", sources="containers")) == "raf"
    assert secret_of(get_credentials("gcr.io/x", sources="containers")) == "helper"
    assert env.calls() == [("h", "gcr.io")]


def test_explicit_path_is_the_only_source(env: Env) -> None:
    env.mp.setenv("DOCKER_AUTH_CONFIG", json.dumps({"auths": {"quay.io": entry("u", "env")}}))
    env.docker({"auths": {"quay.io": entry("u", "docker")}})
    env.auth_file({"auths": {"quay.io": entry("u", "raf")}})
    explicit = write_json(env.tmp / "explicit.json", {"auths": {"gcr.io": entry("u", "x")}})
    for config in (explicit, str(explicit)):
        assert get_credentials("quay.io/x", config=config) is None
        assert get_credentials("quay.io/x", config=config, sources="all") is None
        assert secret_of(get_credentials("gcr.io/x", config=config)) == "x"


def test_loaded_config_is_accepted(env: Env) -> None:
    env.mp.setenv("DOCKER_AUTH_CONFIG", json.dumps({"auths": {"quay.io": entry("u", "env")}}))
    path = write_json(env.tmp / "c.json", {"auths": {"quay.io": entry("u", "loaded")}})
    loaded = load_config(path)
    assert isinstance(loaded, DockerConfig)
    assert isinstance(dockercreds.load_config(path), DockerConfig)
    creds = get_credentials("quay.io/x", config=loaded)
    assert creds is not None
    assert (creds.password, creds.source) == ("loaded", f"file:{path}")
    assert get_registry_credentials("quay.io", config=loaded) == creds
    # the default: the Docker config file
    env.docker({"auths": {"quay.io": entry("u", "default")}})
    assert secret_of(get_credentials("quay.io/x", config=load_config())) == "default"


# --------------------------------------------------------------------------- values


def test_credentials_repr_hides_secrets(env: Env) -> None:
    env.helper("h", {"quay.io": ("<token>", "tok-SECRET-1")})
    path = write_json(env.tmp / "c.json", {
        "credsStore": "h",
        "auths": {"gcr.io": {"auth": b64("gu:pw-SECRET-2"), "identitytoken": "id-SECRET-3",
                             "registrytoken": "rt-SECRET-4"}},
    })
    values = [get_credentials("quay.io/x", config=path), get_credentials("gcr.io/x", config=path)]
    for creds in values:
        assert creds is not None
        for text in (repr(creds), str(creds), f"{creds}", f"{creds!r}"):
            assert "SECRET" not in text
    assert "gu" in repr(values[1])  # the username is not a secret


def test_trace_never_holds_a_secret(env: Env) -> None:
    env.helper("h", {"quay.io": ("hu", "helper-SECRET")})
    env.docker({"credsStore": "h", "auths": {
        "gcr.io": entry("gu", "file-SECRET"),
        "https://gcr.io": entry("gu", "other-SECRET"),
        "bad.io/x:tag": entry("bu", "bad-SECRET"),
    }})
    trace = Trace()
    assert resolve("quay.io", "x", trace=trace) is not None
    assert resolve("gcr.io", "x", trace=trace) is not None
    text = "\n".join(trace.steps)
    assert "SECRET" not in text
    assert b64("gu:file-SECRET") not in text
    assert "gcr.io" in text


def test_trace_hides_user_info_of_ignored_keys(env: Env) -> None:
    env.docker({
        "auths": {"https://user:url-SECRET@quay.io": entry("u", "p")},
        "credHelpers": {"https://user:helper-SECRET@gcr.io": "h"},
    })
    trace = Trace()
    assert resolve("quay.io", "x", trace=trace) is None
    text = "\n".join(trace.steps)
    assert "SECRET" not in text
    assert "ignored key 'https://***@quay.io'" in text
    assert "ignored key 'https://***@gcr.io'" in text


def test_list_registries(env: Env) -> None:
    env.helper("h", {"https://index.docker.io/v1/": ("u", "s"), "Store.IO": ("u", "s")})
    env.docker({
        "credsStore": "h",
        "credHelpers": {"helper.io": "h"},
        "auths": {"quay.io/org": {}, "https://Quay.io/v2/": {}, "localhost:5000": {},
                  "bad.io/x:tag": {}},
    })
    assert list_registries() == ["docker.io", "helper.io", "localhost:5000", "quay.io",
                                 "store.io"]


# ------------------------------------------------- secrets in keys and targets (issue 10 #11)

DISTINCT = "Zq9-DISTINCT-s3cr3t"

SECRET_TARGETS = [
    f"{DISTINCT}@quay.io/app",
    f"{DISTINCT}@quay.io",
    f"{DISTINCT}@localhost:5000/app",
    f"https://u:{DISTINCT}@quay.io",
    f"quay.io/app?token={DISTINCT}",
    f"quay.io?access_token={DISTINCT}",
    f"https://{DISTINCT}@quay.io/v2/",
]


@pytest.mark.parametrize("target", SECRET_TARGETS)
def test_targets_carrying_a_secret_are_refused_masked(env: Env, target: str) -> None:
    from dockercreds.errors import DockerCredsError
    from dockercreds.resolver import parse_target

    calls = [
        lambda: get_credentials(target),
        lambda: get_registry_credentials(target),
        lambda: parse_target(target),
    ]
    for call in calls:
        try:
            call()
        except DockerCredsError as error:
            exc = error
        else:
            # a namespace key may contain '?': nothing to quote, nothing found
            assert call is calls[1] and "?" in target
            continue
        for text in (str(exc), repr(exc), repr(exc.args), repr(vars(exc))):
            assert DISTINCT not in text
        assert "***" in str(exc)


def test_trace_masks_secret_query_parameters_of_keys(env: Env) -> None:
    env.helper("h", {})
    env.docker({
        "auths": {f"https://quay.io/v2/?token={DISTINCT}": entry("u", "p")},
        "credHelpers": {f"https://gcr.io/?access_token={DISTINCT}": "h"},
    })
    trace = Trace()
    assert resolve("quay.io", "x", trace=trace) is not None
    assert resolve("gcr.io", "x", trace=trace) is None
    text = "\n".join(trace.steps)
    assert DISTINCT not in text
    assert "auths key 'https://quay.io/v2/?token=***' matches" in text
    assert "credHelpers['https://gcr.io/?access_token=***'] = 'h'" in text


# ------------------------------------------- a helper that is not installed (issue 11 #3)


@pytest.fixture
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget which helpers were warned about (the warning comes once per process)."""
    from dockercreds import resolver

    monkeypatch.setattr(resolver, "_MISSING_WARNED", set())


MISSING_CONFIGS = [
    # (id, config, image, expected secret or None)
    ("credHelpers-to-auths", {"credHelpers": {"quay.io": "desktop"},
                              "auths": {"quay.io": entry("u", "plain")}}, "quay.io/x", "plain"),
    ("credsStore-to-auths", {"credsStore": "desktop",
                             "auths": {"quay.io": entry("u", "plain")}}, "quay.io/x", "plain"),
    ("credsStore-anonymous", {"credsStore": "desktop"}, "quay.io/x", None),
    ("marker-only", {"credsStore": "desktop", "auths": {"quay.io": {}}}, "quay.io/x", None),
    ("hub", {"credsStore": "osxkeychain",
             "auths": {HUB_KEY: entry("hu", "hub-plain")}}, "ubuntu", "hub-plain"),
]


@pytest.mark.parametrize(
    ("data", "image", "expected"), [c[1:] for c in MISSING_CONFIGS],
    ids=[c[0] for c in MISSING_CONFIGS],
)
@pytest.mark.usefixtures("fresh_warnings")
def test_missing_helper_is_skipped_with_one_warning(
    env: Env, data: Any, image: str, expected: Optional[str]
) -> None:
    from dockercreds.errors import HelperNotInstalledWarning

    env.docker(data)
    name = data.get("credsStore") or data["credHelpers"]["quay.io"]
    with pytest.warns(HelperNotInstalledWarning) as caught:
        assert secret_of(get_credentials(image)) == expected
        for _ in range(3):  # once per helper per process
            assert secret_of(get_credentials(image)) == expected
            assert secret_of(get_credentials(image, config=load_config())) == expected
    assert len(caught) == 1
    warning = caught[0]
    assert warning.message.helper == name  # type: ignore[union-attr]
    assert f"docker-credential-{name} is not installed" in str(warning.message)
    assert str(env.docker_file) in str(warning.message)
    assert warning.filename == __file__  # points at the caller, not at dockercreds
    with pytest.raises(HelperNotInstalled):
        get_credentials(image, strict=True)
    with pytest.raises(HelperNotInstalled):
        get_registry_credentials(image.partition("/")[0] if "/" in image else "docker.io",
                                 strict=True)


@pytest.mark.usefixtures("fresh_warnings")
def test_missing_helpers_warn_once_each(env: Env) -> None:
    from dockercreds.errors import HelperNotInstalledWarning

    env.docker({"credsStore": "desktop", "credHelpers": {"gcr.io": "not-here"}})
    with pytest.warns(HelperNotInstalledWarning) as caught:
        for image in ("quay.io/a", "gcr.io/b", "ghcr.io/c", "gcr.io/d"):
            assert get_credentials(image) is None
    helpers = sorted(w.message.helper for w in caught)  # type: ignore[union-attr]
    assert helpers == ["desktop", "not-here"]


@pytest.mark.usefixtures("fresh_warnings")
def test_installed_helper_that_fails_is_still_an_error(env: Env) -> None:
    env.helper("h", {}, mode="fail")
    env.docker({"credsStore": "h", "auths": {"quay.io": entry("u", "plain")}})
    with pytest.raises(HelperFailed):
        get_credentials("quay.io/x")


@pytest.mark.usefixtures("fresh_warnings")
def test_trace_shows_the_missing_helper(env: Env) -> None:
    env.docker({"credsStore": "desktop", "auths": {"quay.io": entry("u", "plain")}})
    trace = Trace()
    with pytest.warns(UserWarning):
        assert secret_of(resolve("quay.io", "x", trace=trace)) == "plain"
    text = "\n".join(trace.steps)
    assert "docker-credential-desktop is not installed (not on PATH): skipped" in text
    assert "auths['quay.io']: username 'u'" in text


# ----------------------------------------------------------- helper answers reused (issue 11 #4)

COUNTED_REGISTRIES = [f"r{i}.example.com" for i in range(10)]


def _counting_env(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCKERCREDS_HELPER_CACHE_TTL", raising=False)
    # five registries the helper knows, five it answers "not found" for
    env.helper("count", {r: ("u", f"s-{r}") for r in COUNTED_REGISTRIES[:5]})
    env.docker({"credsStore": "count"})


def test_100_lookups_on_10_registries_run_the_helper_10_times(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    _counting_env(env, monkeypatch)
    config = load_config()
    for i in range(100):
        registry = COUNTED_REGISTRIES[i % 10]
        creds = get_credentials(f"{registry}/team/app{i}:v1", config=config)
        assert secret_of(creds) == (f"s-{registry}" if i % 10 < 5 else None)
    assert sorted(env.calls("get")) == sorted(("count", r) for r in COUNTED_REGISTRIES)


def test_helper_cache_ttl_zero_asks_every_time(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    _counting_env(env, monkeypatch)
    config = load_config(helper_cache_ttl=0)
    for _ in range(3):
        get_registry_credentials("r0.example.com", config=config)
    assert len(env.calls("get")) == 3
    monkeypatch.setenv("DOCKERCREDS_HELPER_CACHE_TTL", "0")
    config = load_config()
    for _ in range(3):
        get_registry_credentials("r0.example.com", config=config)
    assert len(env.calls("get")) == 6


@pytest.mark.parametrize("value", ["abc", "-1", "nan", "inf"])
def test_bad_helper_cache_ttl(env: Env, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    from dockercreds.errors import ConfigError, InvalidArgument

    _counting_env(env, monkeypatch)
    monkeypatch.setenv("DOCKERCREDS_HELPER_CACHE_TTL", value)
    with pytest.raises(ConfigError, match="DOCKERCREDS_HELPER_CACHE_TTL"):
        get_registry_credentials("r0.example.com", config=load_config())
    monkeypatch.delenv("DOCKERCREDS_HELPER_CACHE_TTL")
    with pytest.raises(InvalidArgument, match="helper_cache_ttl"):
        load_config(helper_cache_ttl=float(value) if value != "abc" else -1.0)


def test_helper_answers_expire(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    from dockercreds.helper_cache import HelperCache

    _counting_env(env, monkeypatch)
    now = [1000.0]
    cache = HelperCache(60, clock=lambda: now[0])
    for _ in range(3):
        get_registry_credentials("r0.example.com", helper_cache=cache)  # config=None too
        get_registry_credentials("r9.example.com", helper_cache=cache)
    assert len(env.calls("get")) == 2
    now[0] += 59.9
    get_registry_credentials("r0.example.com", helper_cache=cache)
    assert len(env.calls("get")) == 2
    now[0] += 0.2
    get_registry_credentials("r0.example.com", helper_cache=cache)
    get_registry_credentials("r9.example.com", helper_cache=cache)  # misses expire too
    assert len(env.calls("get")) == 4


def test_invalidate_drops_one_registry_everywhere(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dockercreds import helper_cache

    _counting_env(env, monkeypatch)
    config = load_config()
    other = load_config()
    for cfg in (config, other):
        for registry in ("r0.example.com", "r1.example.com"):
            get_registry_credentials(registry, config=cfg)
    assert len(env.calls("get")) == 4
    helper_cache.invalidate("https://R0.example.com/v2/")  # any spelling of the registry
    for cfg in (config, other):
        for registry in ("r0.example.com", "r1.example.com"):
            get_registry_credentials(registry, config=cfg)
    assert env.calls("get")[4:] == [("count", "r0.example.com")] * 2
    helper_cache.cache_for(config).clear()
    get_registry_credentials("r1.example.com", config=config)
    assert len(env.calls("get")) == 7


def test_helper_errors_are_not_cached(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCKERCREDS_HELPER_CACHE_TTL", raising=False)
    env.helper("h", {}, mode="fail")
    env.docker({"credsStore": "h"})
    config = load_config()
    for _ in range(2):
        with pytest.raises(HelperFailed):
            get_credentials("quay.io/x", config=config)
    assert len(env.calls("get")) == 2


def test_keyring_is_asked_in_process_every_time(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The in-process keyring store runs no program: the helper cache leaves it alone.
    from dockercreds import keyring_store
    from dockercreds.helper_cache import HelperCache

    asked: List[str] = []

    class CountingKeyring:
        def get(self, server: str) -> Credentials:
            asked.append(server)
            return Credentials.from_helper(server, "ku", "kp", source="keyring")

    monkeypatch.setattr(keyring_store, "KeyringStore", CountingKeyring)
    cache = HelperCache(60)
    env.docker({"credsStore": "keyring"})
    for _ in range(3):
        assert secret_of(get_credentials("quay.io/x", helper_cache=cache)) == "kp"
    assert asked == ["quay.io"] * 3
    assert "entries=0" in repr(cache)


# ------------------------------------------------------------------ logging (issue 11 #5)


def _records_without(caplog: pytest.LogCaptureFixture, secrets: List[str]) -> List[str]:
    messages = []
    for record in caplog.records:
        assert record.name.startswith("dockercreds.")
        texts = [record.getMessage(), repr(record.args), repr(record.msg)]
        for text in texts:
            for secret in secrets:
                assert secret not in text, (secret, text)
        messages.append(record.getMessage())
    return messages


def test_logging_shows_every_step_and_no_secret(
    env: Env, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    monkeypatch.delenv("DOCKERCREDS_HELPER_CACHE_TTL", raising=False)
    env.helper("h", {"quay.io": ("hu", f"helper-{DISTINCT}")})
    env.docker({"credsStore": "h", "auths": {
        "gcr.io": entry("gu", f"file-{DISTINCT}"),
        f"https://ghcr.io/?token={DISTINCT}": entry("tu", f"tok-{DISTINCT}"),
    }})
    config = load_config()
    trace = Trace()
    with caplog.at_level(logging.DEBUG, logger="dockercreds"):
        for image in ("quay.io/x", "gcr.io/y", "ghcr.io/z", "quay.io/x"):
            assert get_credentials(image, config=config) is not None
        traced = resolve("gcr.io", "y", config=config, trace=trace)
        assert traced is not None
    messages = _records_without(caplog, [DISTINCT, b64(f"gu:file-{DISTINCT}")])
    text = "\n".join(messages)
    for step in trace.steps:  # every step explain prints is logged
        assert step in messages
    assert "lookup of registry 'quay.io', repository 'x'" in text
    assert "asking docker-credential-h for 'quay.io'" in text
    assert "docker-credential-h get: exit 0 after" in text  # a helper run, with its duration
    assert "cached answer (username 'hu')" in text  # the second quay.io lookup
    assert "?token=***" in text
    assert len(env.calls("get")) == 3  # one run per registry: the rest are cache hits
    root = logging.getLogger("dockercreds")
    assert [type(h) for h in root.handlers] == [logging.NullHandler]


def test_lookups_do_not_import_logging() -> None:
    code = (
        "import sys, dockercreds\n"
        f"dockercreds.get_credentials('quay.io/x', config={str(EXAMPLE)!r})\n"
        "print('logging' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- oracles

_DOCKER_OK = "mediaType"


def _run(argv: List[str], extra_env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        env={**os.environ, **extra_env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _docker_pulls(docker_config: Path, registry: Registry) -> bool:
    docker = require("docker")
    out = _run([docker, "manifest", "inspect", "--insecure", str(registry.image)],
               {"DOCKER_CONFIG": str(docker_config)})
    if out.returncode == 0:
        assert _DOCKER_OK in out.stdout
        return True
    # a refusal, not a crash: the registry answered (401 or no such manifest)
    assert "no basic auth credentials" in out.stderr or "no such manifest" in out.stderr, (
        out.stderr
    )
    return False


def _skopeo_pulls(authfile: Path, registry: Registry, image: str) -> bool:
    skopeo = require("skopeo")
    out = _run([skopeo, "inspect", "--tls-verify=false", "--authfile", str(authfile),
                f"docker://{image}"], {})
    if out.returncode == 0:
        return True
    assert "unauthorized" in out.stderr.lower() or "authentication" in out.stderr.lower(), (
        out.stderr
    )
    return False


def _ours_right(creds: Optional[Credentials], registry: Registry) -> bool:
    return (
        creds is not None
        and creds.username == registry.user
        and creds.password == registry.password
    )


def _oracle_entries(registry: Registry, spec: Mapping[str, str]) -> Dict[str, Any]:
    """``spec``: key template (ADDR, PORT) -> "right" / "wrong" / "empty"."""
    result: Dict[str, Any] = {}
    for n, (template, which) in enumerate(spec.items()):
        key = template.replace("ADDR", registry.addr).replace("PORT", str(registry.port))
        if which == "right":
            result[key] = entry(registry.user, registry.password)
        elif which == "empty":
            result[key] = {}
        else:
            result[key] = entry(registry.user, f"wrong-{n}")
    return result


DECOYS = {"127.0.0.1:1": "wrong", "localhost:PORT": "wrong", "quay.io": "wrong",
          HUB_KEY: "wrong"}

# Configs where Docker's choice is deterministic: one key for our host, or the exact
# key "ADDR" present (Docker takes the exact key before scanning others by host).
DOCKER_AGREE = [
    {"ADDR": "right", **DECOYS},
    {"ADDR": "wrong", **DECOYS},
    {"http://ADDR": "right", **DECOYS},
    {"https://ADDR/v2/": "right", **DECOYS},
    {"https://ADDR/v1/": "wrong", **DECOYS},
    {"ADDR/test": "right", **DECOYS},  # namespace covering test/hello
    {"localhost:PORT": "right", "127.0.0.1:1": "wrong"},  # another host: nothing
    {"ADDR": "right", "http://ADDR": "wrong", "https://ADDR/v2/": "wrong", **DECOYS},
    {"ADDR": "wrong", "http://ADDR": "right", "https://ADDR/v2/": "right", **DECOYS},
    {"ADDR": "right", "ADDR/other": "wrong", **DECOYS},
]


@pytest.mark.peer
@pytest.mark.parametrize("spec", DOCKER_AGREE, ids=lambda s: "+".join(
    f"{k}={v}" for k, v in s.items() if v != "wrong" or "ADDR" in k))
def test_oracle_docker_agrees(
    registry: Registry, docker_config: Path, spec: Mapping[str, str]
) -> None:
    path = write_json(docker_config / "config.json",
                      {"auths": _oracle_entries(registry, spec)})
    ours = get_credentials(str(registry.image))
    assert ours is None or ours.source == f"file:{path}"
    assert _docker_pulls(docker_config, registry) == _ours_right(ours, registry)


# DIFFERENCE (DESIGN.md "Keys"): namespaces are ours; Docker reduces every key to its host.
DOCKER_DIFFER = [
    # a sibling namespace: Docker uses it, we never do
    ({"ADDR/other": "right", **DECOYS}, True, False),
    # the most specific namespace beats the host key (Docker takes the exact host key)
    ({"ADDR": "right", "ADDR/test": "wrong", **DECOYS}, True, False),
    ({"ADDR": "wrong", "ADDR/test": "right", **DECOYS}, False, True),
]


@pytest.mark.peer
@pytest.mark.parametrize(("spec", "docker_ok", "ours_ok"), DOCKER_DIFFER)
def test_oracle_docker_documented_differences(
    registry: Registry, docker_config: Path, spec: Mapping[str, str], docker_ok: bool,
    ours_ok: bool
) -> None:
    write_json(docker_config / "config.json", {"auths": _oracle_entries(registry, spec)})
    assert _docker_pulls(docker_config, registry) is docker_ok
    assert _ours_right(get_credentials(str(registry.image)), registry) is ours_ok


@pytest.mark.peer
def test_oracle_docker_creds_store(
    registry: Registry, docker_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "helper-env").mkdir()
    env = Env(tmp_path / "helper-env", monkeypatch)  # fake helpers first on PATH
    monkeypatch.setenv("DOCKER_CONFIG", str(docker_config))
    config = docker_config / "config.json"
    # the store holds the right password; the plaintext entry is {} (what docker writes)
    env.helper("oracle", {registry.addr: (registry.user, registry.password)})
    write_json(config, {"credsStore": "oracle", "auths": {registry.addr: {}}})
    ours = get_credentials(str(registry.image))
    assert _ours_right(ours, registry)
    assert ours is not None
    assert ours.source == "helper:oracle"
    assert _docker_pulls(docker_config, registry)
    # docker and we ask the store with the same server
    asked = {stdin.strip() for _, stdin in env.calls("get")}
    assert asked == {registry.addr}
    # store says "not found", plaintext has the right password: DIFFERENCE (DESIGN.md
    # "Precedence"): we use the plaintext entry, Docker refuses it.
    env.helper("oracle", {})
    write_json(config, {"credsStore": "oracle",
                        "auths": _oracle_entries(registry, {"ADDR": "right"})})
    assert _ours_right(get_credentials(str(registry.image)), registry)
    assert not _docker_pulls(docker_config, registry)


# skopeo (containers/image) is the oracle for namespaced keys: it agrees with us.
SKOPEO_AGREE = [
    {"ADDR/test": "right", "ADDR/other": "wrong"},
    {"ADDR/other": "right"},
    {"ADDR/test": "right", "ADDR": "wrong"},
    {"ADDR/test": "wrong", "ADDR": "right"},
    {"ADDR/test/hello": "right", "ADDR/test": "wrong", "ADDR": "wrong"},
    {"ADDR/test/hello": "wrong", "ADDR/test": "right"},
    {"ADDR/tes": "right"},  # a string prefix is not a path prefix
    {"ADDR/test/hello/deeper": "right"},  # below the repository
    {"ADDR/test": "empty", "ADDR": "right"},  # case 9: nothing from this file
    {"ADDR": "right", "localhost:PORT/test": "wrong"},
]


@pytest.mark.peer
@pytest.mark.parametrize("spec", SKOPEO_AGREE, ids=lambda s: "+".join(
    f"{k}={v}" for k, v in s.items()))
def test_oracle_skopeo_namespaces(
    registry: Registry, tmp_path: Path, spec: Mapping[str, str]
) -> None:
    assert registry.image == f"{registry.addr}/{IMAGE_REPO}:{IMAGE_TAG}"
    authfile = write_json(tmp_path / "auth.json", {"auths": _oracle_entries(registry, spec)})
    ours = get_credentials(registry.image, config=authfile)
    assert _skopeo_pulls(authfile, registry, registry.image) == _ours_right(ours, registry)


# ------------------------------------------------- repeated lookups on a loaded config


MEMO_KEYS = [
    "quay.io", "https://quay.io/v2/", "http://quay.io", "Quay.io", "quay.io/org",
    "https://index.docker.io/v1/", "docker.io", "registry-1.docker.io", "localhost:5000",
    "https://localhost:5000", "gcr.io", "https://gcr.io/v1/",
]
MEMO_ASKS = ["quay.io", "QUAY.IO", "https://quay.io/", "docker.io", "index.docker.io",
             "localhost:5000", "localhost", "gcr.io", "nope.io"]


@pytest.mark.parametrize("start", range(0, len(MEMO_KEYS), 3))
def test_loaded_config_answers_as_resolve_does(start: int, tmp_path: Path) -> None:
    """The memoized path (config with no store) gives what resolve() gives, every time."""
    keys = MEMO_KEYS[start:] + MEMO_KEYS[:start]
    data = {"auths": {k: entry("u", f"pw-{k}") for k in keys}}
    path = write_json(tmp_path / "c.json", data)
    cfg = load_config(path)
    fresh = load_config(path)
    for ask in MEMO_ASKS * 2:
        got = get_registry_credentials(ask, config=cfg)
        want = resolve(normalize_registry(ask), "", config=fresh)
        assert (got and (got.server, got.password, got.source)) == (
            want and (want.server, want.password, want.source)
        ), ask
    assert get_registry_credentials("quay.io", config=cfg) is get_registry_credentials(
        "quay.io", config=cfg
    )  # answered from the loaded config


_MEMO_VALUES = [
    entry("u", "p"), entry("u", ""), {"auth": b64("u:p\x00")}, {"auth": b64("u:p") + "\n"},
    {"auth": base64.b64encode(b"\xff:\xfe").decode()}, {"auth": "bm9wZQ"},  # unpadded
    {"auth": b64("u:p"), "email": "e@x"}, {"username": "u", "password": "p"},
    {"identitytoken": "tok"}, {"registrytoken": "rt"}, {}, None, {"auth": b64("nocolon")},
    {"auth": 5}, "text", {"Auth": b64("u:p")},
]


@pytest.mark.parametrize("value", _MEMO_VALUES, ids=repr)
@pytest.mark.parametrize("key", ["quay.io", "https://quay.io/v2/"])
def test_loaded_config_reads_every_entry_as_resolve_does(
    value: Any, key: str, tmp_path: Path
) -> None:
    """The quick reading of the common entry, and every other entry, as resolve() reads it."""
    auths = {key: value, "https://b.io/v2/": entry("b", "b")}
    path = write_json(tmp_path / "c.json", {"auths": auths})

    def answer(fn: Any) -> Any:
        try:
            creds = fn()
        except ConfigFormatError as exc:
            return ("error", str(exc))
        return creds and tuple(getattr(creds, name) for name in Credentials.__slots__)

    got = answer(lambda: get_registry_credentials("quay.io", config=load_config(path)))
    want = answer(lambda: resolve("quay.io", "", config=load_config(path)))
    assert got == want


def test_loaded_config_with_a_store_asks_the_store_each_time(env: Env) -> None:
    env.helper("store", {"quay.io": ("s-user", "s-secret")})
    cfg = load_config(env.docker({"credsStore": "store", "auths": {"quay.io": {}}}))
    assert cfg.answers == {}
    for _ in range(2):
        creds = get_registry_credentials("quay.io", config=cfg)
        assert creds is not None and creds.username == "s-user"
    assert cfg.answers == {}  # helper answers are never kept in the config's memo
    assert len(env.calls("get")) >= 1


def test_bad_entry_is_reported_on_every_lookup_not_memoized(tmp_path: Path) -> None:
    path = write_json(tmp_path / "c.json", {"auths": {"quay.io": {"auth": "!!"}}})
    cfg = load_config(path)
    for _ in range(2):
        with pytest.raises(ConfigFormatError, match=r"auths\['quay\.io'\]\.auth"):
            get_registry_credentials("quay.io", config=cfg)


@pytest.mark.peer
def test_oracle_docker_keeps_glob_keys(registry: Registry, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # issue 11 #2: the docker CLI reads and saves a config with credHelpers globs without
    # complaint, keeps the keys, and never routes through them (only we do)
    (tmp_path / "helper-env").mkdir()
    env = Env(tmp_path / "helper-env", monkeypatch)
    env.helper("glob", {"a.example.test": ("g", "g-secret")})
    helpers = {"*.example.test": "glob", "x.example.test": "glob", "re?.bad.test": "glob"}
    # an unrelated entry keeps docker from choosing a default credsStore (pass is on PATH)
    env.docker({"credHelpers": helpers, "auths": {"unrelated.example": entry("u", "p")}})
    docker = require("docker")
    where = {"DOCKER_CONFIG": str(env.docker_dir)}
    out = subprocess.run(
        [docker, "login", "-u", registry.user, "--password-stdin", registry.addr],
        input=registry.password + "\n", env={**os.environ, **where}, capture_output=True,
        text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    saved = json.loads(env.docker_file.read_text(encoding="utf-8"))
    assert saved["credHelpers"] == helpers
    assert registry.addr in saved["auths"]
    assert _docker_pulls(env.docker_dir, registry)
    out = _run([docker, "logout", "some.other.registry"], where)
    assert out.returncode == 0, out.stderr
    saved = json.loads(env.docker_file.read_text(encoding="utf-8"))
    assert saved["credHelpers"] == helpers
    assert env.calls() == []  # docker never matched a glob key
    # we read docker's save, and route through the glob
    assert _ours_right(get_credentials(str(registry.image)), registry)
    assert secret_of(get_credentials("a.example.test/app")) == "g-secret"
    assert env.calls("get") == [("glob", "a.example.test")]


# --------------------------------------------------------------------------- namespace accounts


@pytest.fixture
def ns_stores(monkeypatch: pytest.MonkeyPatch) -> Dict[str, Any]:
    """resolver.store_for answers with FakeStores (made on demand), one per store name."""
    from dockercreds import resolver
    from tests.fakestore import FakeStore

    made: Dict[str, Any] = {}
    monkeypatch.setattr(resolver, "store_for", lambda name: made.setdefault(name, FakeStore(name)))
    return made


def _store(stores: Dict[str, Any], name: str, data: Dict[str, Tuple[str, str]]) -> None:
    from tests.fakestore import FakeStore

    stores.setdefault(name, FakeStore(name)).data.update(data)


@pytest.mark.parametrize(
    ("settings", "image", "expected"),
    [
        # the namespace account in the keyring, most specific first, by whole segments
        ({}, "quay.io/org/app", ("robot", "quay.io/org", "keyring")),
        ({}, "quay.io/org/team/app", ("robot", "quay.io/org", "keyring")),
        ({}, "quay.io/org/team/sub/app", ("teambot", "quay.io/org/team/sub", "keyring")),
        ({}, "quay.io/other/app", ("hostuser", "quay.io", "file")),
        ({}, "quay.io/organization/app", ("hostuser", "quay.io", "file")),
        # the registry routed to the keyring: the host account comes from there
        ({"credsStore": "keyring"}, "quay.io/org/app", ("robot", "quay.io/org", "keyring")),
        ({"credsStore": "keyring"}, "quay.io/other/app", ("kruser", "quay.io", "keyring")),
        # an external helper for the registry: the namespace marker still asks the keyring
        ({"credHelpers": {"quay.io": "pass"}}, "quay.io/org/app",
         ("robot", "quay.io/org", "keyring")),
        ({"credHelpers": {"quay.io": "pass"}}, "quay.io/other/app",
         ("passuser", "quay.io", "helper:pass")),
    ],
)
def test_namespace_marker_asks_the_keyring_first(
    tmp_path: Path,
    ns_stores: Dict[str, Any],
    settings: Dict[str, Any],
    image: str,
    expected: Tuple[str, str, str],
) -> None:
    _store(ns_stores, "keyring", {
        "quay.io/org": ("robot", "r-pw"),
        "quay.io/org/team/sub": ("teambot", "t-pw"),
        "quay.io": ("kruser", "k-pw"),
    })
    _store(ns_stores, "pass", {"quay.io": ("passuser", "p-pw")})
    auths = {
        "quay.io/org": {},
        "quay.io/org/team/sub": {},
        "quay.io": {} if settings else entry("hostuser", "h-pw"),
    }
    path = write_json(tmp_path / "c.json", {"auths": auths, **settings})
    found = get_credentials(image, config=path)
    assert found is not None
    user, server, source = expected
    assert (found.username, found.server) == (user, server)
    assert found.source == (f"file:{path}" if source == "file" else source)


def test_namespace_marker_without_a_keyring_item_keeps_the_old_rule(
    tmp_path: Path, ns_stores: Dict[str, Any]
) -> None:
    # the keyring does not hold it: the registry's store, then the marker ({}: nothing)
    path = write_json(
        tmp_path / "c.json",
        {"auths": {"quay.io/org": {}, "quay.io": entry("u", "pw")}, "credsStore": "pass"},
    )
    assert get_credentials("quay.io/org/app", config=path) is None
    _store(ns_stores, "pass", {"quay.io": ("passuser", "p-pw")})
    found = get_credentials("quay.io/org/app", config=path)
    assert found is not None and found.username == "passuser"
    assert ("get", "quay.io/org") in ns_stores["keyring"].calls


@pytest.mark.parametrize("routed", [False, True])
@pytest.mark.parametrize("failing", ["none", "broken"])
def test_namespace_marker_with_no_usable_keyring(
    tmp_path: Path, ns_stores: Dict[str, Any], routed: bool, failing: str
) -> None:
    from dockercreds.errors import KeyringError, NoKeyringError

    _store(ns_stores, "keyring", {})
    error = NoKeyringError("no keyring") if failing == "none" else KeyringError("it broke")
    ns_stores["keyring"].fail[("get", "*")] = error
    settings = {"credHelpers": {"quay.io": "keyring"}} if routed else {}
    path = write_json(
        tmp_path / "c.json", {"auths": {"quay.io/org": {}, "quay.io": {}}, **settings}
    )
    if routed:  # the registry uses the keyring anyway: its error stands
        with pytest.raises(type(error)):
            get_credentials("quay.io/org/app", config=path)
    else:  # a marker alone never makes a lookup fail; explain says why
        trace = Trace()
        assert resolve("quay.io", "org/app", config=path, trace=trace) is None
        assert any("treated as 'not found'" in step for step in trace.steps)


def test_explain_says_which_account_won_and_why(
    tmp_path: Path, ns_stores: Dict[str, Any]
) -> None:
    _store(ns_stores, "keyring", {"quay.io/org": ("robot", "r-pw")})
    path = write_json(
        tmp_path / "c.json", {"auths": {"quay.io/org": {}, "quay.io": entry("hostuser", "pw")}}
    )
    trace = Trace()
    found = resolve("quay.io", "org/app", config=path, trace=trace)
    assert found is not None and found.username == "robot"
    text = "\n".join(trace.steps)
    assert "namespace marker" in text and "'quay.io/org'" in text
    assert "namespace account 'quay.io/org' wins over the registry's own account" in text
    assert trace.steps[-1] == "result: keyring ('quay.io/org')"
    other = Trace()
    found = resolve("quay.io", "other/app", config=path, trace=other)
    assert found is not None and found.username == "hostuser"
    assert not any("namespace" in step for step in other.steps)
    assert other.steps[-1] == f"result: file:{path} ('quay.io')"
