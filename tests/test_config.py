"""dockercreds.config: reading Docker and containers config sources."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dockercreds.config as config_module
from dockercreds.config import (
    DockerConfig,
    Source,
    containers_auth_paths,
    decode_auth,
    docker_config_path,
    encode_auth,
    iter_default_sources,
    load_env,
    load_file,
    parse_config_text,
    plain_auth,
)
from dockercreds.errors import (
    ConfigError,
    ConfigFormatError,
    ConfigNotFound,
    ConfigSyntaxError,
    DockerCredsError,
    InvalidArgument,
)

SRC = Source("docker", "file:/etc/x.json", "/etc/x.json")


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def parse(obj: Any) -> Any:
    return parse_config_text(obj if isinstance(obj, str) else json.dumps(obj), SRC)


# --- empty and missing ---------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"   \n\t", None])
def test_missing_or_blank_file_is_empty(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "config.json"
    if content is not None:
        path.write_bytes(content)
    config = load_file(path)
    assert config.is_empty
    assert config.auths == {}
    assert config.source.label == f"file:{path}"


def test_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        load_file(tmp_path)


# --- syntax errors point at the line and column -------------------------------------

# (text, where the error is): the JSON decoder may point at any character of the span
# (Python 3.13 reports a trailing comma at the ',', 3.11 at the '}' after it); "$" is
# the end of the text. The expected line and column are computed from the text itself.
SYNTAX = [
    ('{"auths": {', "$"),
    ('{\n  "auths": {\n    "quay.io": {"auth": "x",}\n  }\n}', ",}"),
    ("[1, 2", "$"),
    ("nope", "nope"),
    ('{"auths": {}} {', None),  # text after the value: accepted with a warning
]


def _position(text: str, offset: int) -> Tuple[int, int]:
    """1-based (line, column) of ``offset``, counted independently of config.py."""
    before = text[:offset].split("\n")
    return len(before), len(before[-1]) + 1


@pytest.mark.parametrize(("text", "span"), SYNTAX)
def test_syntax_errors(tmp_path: Path, text: str, span: Optional[str]) -> None:
    path = tmp_path / "config.json"
    path.write_text(text)
    if span is None:
        config = load_file(path)
        line, column = _position(text, text.rindex("{"))
        assert config.warnings and f"line {line}, column {column}" in config.warnings[0]
        return
    with pytest.raises(ConfigSyntaxError) as info:
        load_file(path)
    err = info.value
    if span == "$":
        offsets = range(len(text), len(text) + 1)
    else:
        offsets = range(text.index(span), text.index(span) + len(span))
    assert (err.line, err.column) in {_position(text, offset) for offset in offsets}
    # and exactly where this Python's decoder says, converted to 1-based line/column
    with pytest.raises(json.JSONDecodeError) as decoder:
        json.loads(text)
    assert (err.line, err.column) == _position(text, decoder.value.pos)
    assert str(path) in str(err)
    assert f"line {err.line}, column {err.column}" in str(err)
    assert isinstance(err, ValueError)
    assert err.path == str(path)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_bytes(b'{\n"auths": {"\xff": {}}}')
    with pytest.raises(ConfigSyntaxError, match="not UTF-8 text at line 2"):
        load_file(path)


def test_bom_has_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_bytes(b'\xef\xbb\xbf{"auths": {}}')
    with pytest.raises(ConfigSyntaxError, match="byte-order mark"):
        load_file(path)


# --- shapes --------------------------------------------------------------------------

def parse_and_use(obj: Any) -> Any:
    """Parse, then decode every auths entry (entries are decoded when first used)."""
    config = parse(obj)
    for key in config.auths:
        config.auths[key]
    return config


# The file's shape is checked at load ...
SHAPE_ERRORS = [
    ([], "top level must be a JSON object, not array", None),
    ({"auths": []}, "auths must be an object, not array", None),
    ({"credHelpers": []}, "credHelpers must be an object", None),
    ({"credHelpers": {"q": 1}}, "credHelpers['q'] must be a string", "q"),
    ({"credsStore": {}}, "credsStore must be a string, not object", None),
]
# ... an auths entry when it is used (a lookup, explain, check)
ENTRY_ERRORS = [
    ({"auths": {"quay.io": "abc"}}, "auths['quay.io'] must be an object, not string", "quay.io"),
    ({"auths": {"quay.io": {"auth": 5}}}, "auths['quay.io'].auth must be a string", "quay.io"),
    ({"auths": {"q": {"username": []}}}, "auths['q'].username must be a string", "q"),
    # a lone surrogate escape is not text: it cannot be sent (issue 10, finding 7)
    *[
        ({"auths": {"q": {"username": "u", field: "se\ud800cret"}}},
         f"auths['q'].{field} holds a lone surrogate escape (\\ud800)", "q")
        for field in ("password", "identitytoken", "registrytoken", "email")
    ],
    ({"auths": {"q": {"username": "b\udfffob", "password": "p"}}},
     "auths['q'].username holds a lone surrogate escape (\\udfff)", "q"),
]


@pytest.mark.parametrize(("obj", "message", "key"), SHAPE_ERRORS)
def test_shape_errors_at_load(obj: Any, message: str, key: str | None) -> None:
    with pytest.raises(ConfigFormatError) as info:
        parse(obj)
    assert message in str(info.value)
    assert "file:/etc/x.json" in str(info.value)
    assert info.value.key == key


@pytest.mark.parametrize(("obj", "message", "key"), ENTRY_ERRORS)
def test_entry_errors_when_the_entry_is_used(obj: Any, message: str, key: str) -> None:
    config = parse(obj)  # loading does not decode entries
    assert key in config.auths
    for _ in range(2):  # reported every time it is asked for
        with pytest.raises(ConfigFormatError) as info:
            config.auths[key]
        assert message in str(info.value)
        assert str(info.value).startswith("file:/etc/x.json: line 1: ")
        assert (info.value.key, info.value.line, info.value.path) == (key, 1, "/etc/x.json")
    assert [(e.key, str(e)) for e in config.problems()] == [(key, str(info.value))]


AUTH_ERRORS = [
    ("!!!notbase64", "is not valid base64"),
    ("dXNlcjpwYXNz=", "is not valid base64"),  # bad padding (Go's StdEncoding is strict)
    (b64("nocolon-secretvalue"), "has no ':'"),
    (b64(":secretvalue"), "has an empty username"),
]


@pytest.mark.parametrize(("auth", "message"), AUTH_ERRORS)
def test_bad_auth_names_file_and_key_and_hides_secret(auth: str, message: str) -> None:
    with pytest.raises(ConfigFormatError) as info:
        parse_and_use({"auths": {"quay.io/org": {"auth": auth}}})
    text = str(info.value)
    assert message in text
    assert "auths['quay.io/org'].auth" in text
    assert "file:/etc/x.json" in text
    assert "secretvalue" not in text
    assert auth not in text


def test_bad_entries_do_not_fail_the_load_and_are_found_by_line() -> None:
    good, bad = b64("u:p"), "!!!"
    text = json.dumps(
        {"auths": {"a.io": {"auth": good}, "b.io": {"auth": bad}, "c.io": [], "d.io": {}}},
        indent=1,
    )
    config = parse(text)
    assert config.auths["a.io"].username == "u"
    assert config.auths["d.io"].is_empty
    problems = config.problems()
    assert [(e.key, e.line) for e in problems] == [("b.io", 6), ("c.io", 9)]
    assert "line 6: auths['b.io'].auth is not valid base64" in str(problems[0])
    assert "line 9: auths['c.io'] must be an object, not array" in str(problems[1])
    # the index is built without decoding: a lookup of another host still works
    match = config.index.lookup("a.io")
    assert match is not None and match.entry.username == "u"
    with pytest.raises(ConfigFormatError, match=r"b\.io"):
        config.index.lookup("b.io")


def test_line_of_the_last_duplicate_key() -> None:
    good = b64("u:p")
    text = '{"auths": {\n"k": {"auth": "' + good + '"},\n"k": {"auth": "!!"}\n}}'
    with pytest.raises(ConfigFormatError) as info:
        parse(text).auths["k"]
    assert info.value.line == 3


USERINFO_KEY = "https://user:S3CR3T-xyz@quay.io"


@pytest.mark.parametrize(
    "obj",
    [
        {"auths": {USERINFO_KEY: {"auth": "!!!notbase64"}}},
        {"auths": {USERINFO_KEY: {"auth": b64("nocolon")}}},
        {"auths": {USERINFO_KEY: [1]}},
        {"auths": {USERINFO_KEY: {"password": 1}}},
        {"credHelpers": {USERINFO_KEY: 1}},
    ],
)
def test_format_errors_hide_user_info_of_the_key(obj: Any) -> None:
    with pytest.raises(ConfigFormatError) as info:
        parse_and_use(obj)
    assert "S3CR3T" not in str(info.value)
    assert "https://***@quay.io" in str(info.value)
    assert info.value.key == USERINFO_KEY  # the attribute keeps the raw key


def test_auth_entry_repr_hides_user_info_of_the_key() -> None:
    entry = parse({"auths": {USERINFO_KEY: {"auth": b64("u:p")}}}).auths[USERINFO_KEY]
    assert "S3CR3T" not in repr(entry)
    assert "S3CR3T" not in str(entry)


ENTRIES = [
    # entry, (username, password, identity_token, registry_token, email)
    ({"auth": b64("u:p")}, ("u", "p", None, None, None)),
    ({"auth": b64("u:p:with:colons")}, ("u", "p:with:colons", None, None, None)),
    ({"auth": b64("u:")}, ("u", None, None, None, None)),
    ({"auth": b64("u:p\x00\x00")}, ("u", "p", None, None, None)),  # NUL trimmed (Docker)
    ({"auth": b64("ü:pä")}, ("ü", "pä", None, None, None)),
    ({"auth": b64("u:p")[:4] + "\n" + b64("u:p")[4:]}, ("u", "p", None, None, None)),
    ({"username": "u", "password": "p"}, ("u", "p", None, None, None)),
    ({"auth": b64("a:b"), "username": "u", "password": "p"}, ("a", "b", None, None, None)),
    ({"auth": b64("uuid:"), "identitytoken": "T"}, ("uuid", None, "T", None, None)),
    ({"identitytoken": "T"}, (None, None, "T", None, None)),
    ({"registrytoken": "R"}, (None, None, None, "R", None)),
    ({"auth": b64("u:p"), "email": "me@x.io"}, ("u", "p", None, None, "me@x.io")),
    ({"Auth": b64("u:p")}, ("u", "p", None, None, None)),  # Go: case-insensitive fields
    ({"auth": "", "username": "u"}, ("u", None, None, None, None)),
    ({"auth": None}, (None, None, None, None, None)),
    ({"serveraddress": "ignored", "unknown": [1]}, (None, None, None, None, None)),
    ({}, (None, None, None, None, None)),
]


@pytest.mark.parametrize(("entry", "expected"), ENTRIES)
def test_entries(entry: Dict[str, Any], expected: Any) -> None:
    config = parse({"auths": {"k": entry}})
    e = config.auths["k"]
    assert (e.username, e.password, e.identity_token, e.registry_token, e.email) == expected
    assert e.is_empty == (expected[:4] == (None, None, None, None))
    if e.password:
        assert e.password not in repr(e)


def test_null_entry_is_empty() -> None:
    assert parse('{"auths": {"k": null}}').auths["k"].is_empty


def test_top_level_fields_case_insensitive_last_wins() -> None:
    text = (
        '{"auths": {"a": {}}, "AUTHS": {"b": {}}, "credsstore": "pass",'
        ' "CredHelpers": {"q.io": "x"}, "credsStore": "secretservice"}'
    )
    config = parse(text)
    assert list(config.auths) == ["b"]
    assert config.creds_store == "secretservice"
    assert config.cred_helpers == {"q.io": "x"}


def test_duplicate_auths_key_last_wins() -> None:
    a, b = b64("a:1"), b64("b:2")
    config = parse(f'{{"auths": {{"k": {{"auth": "{a}"}}, "k": {{"auth": "{b}"}}}}}}')
    assert config.auths["k"].username == "b"


def test_empty_store_names() -> None:
    # credsStore "" is no store; credHelpers[host] "" (or null) is kept: in Docker it
    # exists, so it routes host to this file's auths instead of the credsStore
    config = parse({"credsStore": "", "credHelpers": {"q.io": "", "n.io": None}})
    assert config.creds_store is None
    assert config.cred_helpers == {"q.io": "", "n.io": ""}


def test_unknown_keys_kept_in_data() -> None:
    config = parse({"auths": {}, "psFormat": "table", "proxies": {"default": {}}})
    assert config.data["psFormat"] == "table"
    assert "proxies" in config.data


def test_legacy_dockercfg(tmp_path: Path) -> None:
    path = tmp_path / ".dockercfg"
    path.write_text(json.dumps({"quay.io/org": {"auth": b64("u:p"), "email": "e"}}))
    config = load_file(path)
    assert config.source.kind == "legacy"
    assert config.auths["quay.io/org"].username == "u"


# --- DOCKER_AUTH_CONFIG --------------------------------------------------------------


def test_env_config_only_auths() -> None:
    env = {"DOCKER_AUTH_CONFIG": json.dumps(
        {"auths": {"q.io": {"auth": b64("u:p")}}, "credsStore": "pass", "credHelpers": {"a": "b"}}
    )}
    config = load_env(env)
    assert config is not None
    assert config.source.label == "env:DOCKER_AUTH_CONFIG"
    assert config.auths["q.io"].username == "u"
    assert config.creds_store is None
    assert config.cred_helpers == {}


def test_env_config_unset_or_empty() -> None:
    assert load_env({}) is None
    assert load_env({"DOCKER_AUTH_CONFIG": ""}) is None


def test_env_config_bad_json_names_the_variable() -> None:
    with pytest.raises(ConfigSyntaxError, match="env:DOCKER_AUTH_CONFIG: not valid JSON at line 1"):
        load_env({"DOCKER_AUTH_CONFIG": "{"})


# --- paths ---------------------------------------------------------------------------


def test_docker_config_path() -> None:
    assert docker_config_path({"DOCKER_CONFIG": "/d", "HOME": "/h"}) == Path("/d/config.json")
    assert docker_config_path({"DOCKER_CONFIG": "", "HOME": "/h"}) == Path("/h/.docker/config.json")
    assert docker_config_path({"HOME": "/h"}) == Path("/h/.docker/config.json")


def test_containers_auth_paths_order() -> None:
    env = {"REGISTRY_AUTH_FILE": "/a.json", "XDG_RUNTIME_DIR": "/run/user/7",
           "XDG_CONFIG_HOME": "/cfg", "HOME": "/h"}
    # REGISTRY_AUTH_FILE replaces the primary (runtime) file, as in containers/image
    assert containers_auth_paths(env) == [Path("/a.json"), Path("/cfg/containers/auth.json")]
    del env["REGISTRY_AUTH_FILE"]
    assert containers_auth_paths(env) == [
        Path("/run/user/7/containers/auth.json"),
        Path("/cfg/containers/auth.json"),
    ]
    defaults = containers_auth_paths({"HOME": "/h"})
    assert defaults[-1] == Path("/h/.config/containers/auth.json")
    assert defaults[0].parts[:3] == ("/", "run", "containers")


def test_default_sources_order(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "config.json").write_text('{"auths": {"d.io": {}}}')
    (tmp_path / "a.json").write_text('{"auths": {"a.io": {}}, "credsStore": "pass"}')
    env = {
        "DOCKER_AUTH_CONFIG": '{"auths": {"e.io": {}}}',
        "DOCKER_CONFIG": str(tmp_path / "d"),
        "REGISTRY_AUTH_FILE": str(tmp_path / "a.json"),
        "XDG_RUNTIME_DIR": str(tmp_path / "run"),
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "HOME": str(tmp_path),
    }
    labels = [c.source.label for c in iter_default_sources("all", env)]
    assert labels == [
        "env:DOCKER_AUTH_CONFIG",
        f"file:{tmp_path / 'd' / 'config.json'}",
        f"file:{tmp_path / 'a.json'}",
        f"file:{tmp_path / 'cfg' / 'containers' / 'auth.json'}",
    ]
    docker_only = [c.source.label for c in iter_default_sources("docker", env)]
    assert docker_only == labels[:2]
    containers = list(iter_default_sources("containers", env))
    assert [c.source.label for c in containers] == labels[2:]
    assert containers[0].creds_store is None  # containers/image ignores credsStore
    with pytest.raises(InvalidArgument, match="sources must be"):
        list(iter_default_sources("podman", env))


# --- properties ----------------------------------------------------------------------

USERNAMES = st.text(min_size=1).filter(lambda s: ":" not in s and "\x00" not in s)


@given(USERNAMES, st.text().filter(lambda s: not s.startswith("\x00") and not s.endswith("\x00")))
def test_auth_round_trip(username: str, password: str) -> None:
    encoded = encode_auth(username, password)
    assert decode_auth(encoded, where="w", key="k", path=None) == (username, password)


@given(st.text(max_size=200))
def test_any_text_parses_or_raises_config_error(text: str) -> None:
    try:
        parse_config_text(text, SRC)
    except DockerCredsError as exc:
        assert isinstance(exc, ConfigError)


@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.sampled_from(["auths", "auth", "username", "credsStore", "credHelpers", "k", "q.io"]),
        children, max_size=4),
    max_leaves=12,
))
def test_any_json_parses_or_raises_config_error(obj: Any) -> None:
    try:
        parse_config_text(json.dumps(obj), SRC)
    except DockerCredsError as exc:
        assert isinstance(exc, ConfigError)


def test_entry_field_spellings_follow_document_order() -> None:
    # Go decodes fields case-insensitively, the last in the document winning; a plain
    # dict would keep "auth" at its first position and answer with "Auth".
    a, b, c = b64("a:1"), b64("b:2"), b64("c:3")
    text = f'{{"auths": {{"k": {{"auth": "{a}", "Auth": "{b}", "auth": "{c}"}}}}}}'
    assert parse(text).auths["k"].username == "c"
    text = f'{{"auths": {{"k": {{"Auth": "{a}", "auth": "{b}"}}}}}}'
    assert parse(text).auths["k"].username == "b"


def test_null_file_is_an_empty_config(tmp_path: Path) -> None:
    # json.Unmarshal of `null` into Docker's struct leaves it empty; so do we.
    path = tmp_path / "config.json"
    path.write_text("null\n")
    assert load_file(path).is_empty


# --- read_config_text: only regular files, bounded -----------------------------------

_LOAD_IN_CHILD = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from dockercreds.config import load_file
from dockercreds.errors import ConfigError
try:
    print("empty" if load_file(sys.argv[1]).is_empty else "loaded")
except ConfigError as exc:
    print("refused:", exc)
"""


def _load_in_child(path: Path) -> str:
    """load_file in a child (1 GiB address space, 60 s): a hang or an endless read fails."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _LOAD_IN_CHILD, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-500:]
    return done.stdout.strip()


@pytest.mark.parametrize("kind", ["fifo", "socket", "zero-device"])
def test_special_files_are_refused_without_reading(tmp_path: Path, kind: str) -> None:
    import os
    import socket
    import stat

    path = tmp_path / "config.json"
    if kind == "fifo":
        os.mkfifo(path)  # reading it used to block forever
    elif kind == "socket":
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(path))
        sock.close()
    else:  # a twin of /dev/zero: reading it used to fill the memory
        if os.geteuid() != 0:
            pytest.skip("creating a device node needs root")
        os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 5))
    out = _load_in_child(path)
    assert out.startswith(f"refused: file:{path}: is a "), out
    assert "not a regular file" in out


def test_null_device_reads_as_no_config() -> None:
    assert load_file("/dev/null").is_empty


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    from dockercreds.config import MAX_CONFIG_BYTES

    path = tmp_path / "config.json"
    with path.open("wb") as fh:  # sparse: costs no disk
        fh.write(b"{")
        fh.truncate(MAX_CONFIG_BYTES + 1)
    with pytest.raises(ConfigError, match="larger than 16 MiB") as info:
        load_file(path)
    assert info.value.path == str(path)
    path.write_bytes(b'{"auths": {}}'.ljust(MAX_CONFIG_BYTES))  # at the limit: read
    assert load_file(path).is_empty


# --- JSON limits: a typed error naming the source, never another exception (issue 10 #7) --

DEEP = "[" * 100_000 + "]" * 100_000
BIG_INT = "1" * 5_000

LIMITS = [
    # text, what the message says, (line, column) of the culprit
    ('{"auths": {}, "x": NaN}', "NaN is not a JSON value", (1, 20)),
    ('{"x": [1,\n  Infinity]}', "Infinity is not a JSON value", (2, 3)),
    ('{"x": -Infinity}', "-Infinity is not a JSON value", (1, 7)),
    ('{"auths": {"q": {"x": ' + DEEP + "}}}", "nested 100,002 levels deep", None),
    ('{"x":\n ' + BIG_INT + "}", "5,000 digits (the limit is 4,300)", (2, 2)),
]


@pytest.mark.parametrize(("text", "message", "where"), LIMITS)
def test_json_limits_are_syntax_errors(
    tmp_path: Path, text: str, message: str, where: Any
) -> None:
    if "nested" in message:
        message = "levels deep, too deep to read"
    path = tmp_path / "config.json"
    path.write_text(text)
    loads: List[Callable[[], Optional[DockerConfig]]] = [
        lambda: load_file(path),
        lambda: load_env({"DOCKER_AUTH_CONFIG": text}),
    ]
    for load in loads:
        with pytest.raises(ConfigSyntaxError) as info:
            load()
        assert message in str(info.value)
        assert str(info.value).startswith((f"file:{path}: ", "env:DOCKER_AUTH_CONFIG: "))
        if where is not None:
            assert (info.value.line, info.value.column) == where
            assert f"at line {where[0]}, column {where[1]}" in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        '{"auths": {"q": {"auth": "NaN Infinity"}}, "x": "NaN"}',  # in strings: just text
        '{"x": "\\ud83d\\ude00 is one character"}',  # a surrogate pair
        '{"x": "\\\\ud800 is a backslash and text"}',
        '{"x": ' + "9" * 4_300 + "}",  # at the limit
        '{"x": 1e400, "y": ' + "[" * 200 + "]" * 200 + "}",  # 1e400 is a number (Go too)
    ],
)
def test_json_at_the_limits_is_read(text: str) -> None:
    assert isinstance(parse(text), DockerConfig)


def test_env_with_bytes_that_are_not_utf8() -> None:
    # os.environ hands invalid UTF-8 over as lone surrogates (surrogateescape)
    text = b'{"auths": {"q\xff": {}}}'.decode("utf-8", "surrogateescape")
    with pytest.raises(ConfigSyntaxError, match="env:DOCKER_AUTH_CONFIG: not UTF-8 text at line 1"):
        load_env({"DOCKER_AUTH_CONFIG": text})


JSONISH = st.lists(
    st.sampled_from(
        ['{', '}', '[', ']', ',', ':', '"auths"', '"auth"', '"credHelpers"', '"credsStore"',
         '"q.io"', '"https://q.io/v2/"', '"q.io/org"', 'null', '1', '-0.5e3', 'NaN', 'Infinity',
         '-Infinity', '"\\ud800"', '"\\udc00"', '"\\ud83d\\ude00"', '"dTpw"', '"!!"', '"\\\\"',
         "9" * 4_400, "[" * 3_000, " ", "\n", "{}", '{"auth": "dTpw"}', '{"Auth": "x", "auth": 1}']
    ),
    max_size=30,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(
    JSONISH,
    st.text(alphabet=st.characters(blacklist_categories=()), max_size=60),
))
def test_any_text_gives_a_config_or_a_typed_error(text: str) -> None:
    """Loading, every entry, the index and check: a DockerConfig or a ConfigError."""
    loads: List[Callable[[], Optional[DockerConfig]]] = [
        lambda: parse_config_text(text, SRC),
        lambda: load_env({"DOCKER_AUTH_CONFIG": text}),
    ]
    for load in loads:
        try:
            config = load()
            if config is None:
                continue
            assert isinstance(config, DockerConfig)
            config.problems()
            for key in list(config.auths):
                try:
                    config.auths[key]
                except ConfigFormatError as exc:
                    assert exc.key == key
            index = config.index
            for host in list(index.hosts)[:5]:
                try:
                    index.lookup(host, "a/b")
                except ConfigFormatError:
                    pass
        except ConfigError:
            pass


# --- a config named explicitly must exist (issue 14) ------------------------------------


def test_named_config_must_exist(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "config.json"
    assert load_file(missing).is_empty  # default locations may be missing
    with pytest.raises(ConfigNotFound) as info:
        load_file(missing, must_exist=True)
    assert str(info.value).startswith(f"no such config file: {missing}")
    assert info.value.path == str(missing)
    assert isinstance(info.value, ConfigError)
    empty = tmp_path / "empty.json"
    empty.write_text("")
    assert load_file(empty, must_exist=True).is_empty  # exists: 0 bytes is empty, as Docker
    if Path(os.devnull).exists():
        assert load_file(os.devnull, must_exist=True).is_empty  # "no config", named


# ------------------------------------ the common entry, read without the general rules

_AUTH_BYTES = st.one_of(
    st.builds(lambda u, p: f"{u}:{p}".encode(), st.text(max_size=8), st.text(max_size=8)),
    st.binary(max_size=24),
    st.sampled_from([b"u:p", b":p", b"u:", b"u", b"u:p\x00", b"u:\x00p", b"\xff:\xfe", b"u:p:q"]),
)
_AUTH_TEXT = st.one_of(
    _AUTH_BYTES.map(lambda b: base64.b64encode(b).decode()),
    _AUTH_BYTES.map(lambda b: base64.b64encode(b).decode().rstrip("=")),  # no padding
    _AUTH_BYTES.map(lambda b: base64.b64encode(b).decode() + "\n"),
    _AUTH_BYTES.map(lambda b: base64.b64encode(b).decode() + "="),  # one "=" too many
    st.text(max_size=12),
)
_ENTRY_VALUES = st.one_of(
    st.builds(lambda a: {"auth": a}, _AUTH_TEXT),
    st.builds(lambda a, e: {"auth": a, "email": e}, _AUTH_TEXT, st.text(max_size=4)),
    st.builds(lambda a: {"Auth": a}, _AUTH_TEXT),
    st.sampled_from([None, {}, [], "x", 1, {"auth": None}, {"auth": 1}, {"auth": ""}]),
)


@settings(max_examples=500, deadline=None)
@given(_ENTRY_VALUES)
def test_plain_auth_reads_what_the_general_decoder_reads(value: Any) -> None:
    """The quick reading of ``{"auth": ...}`` answers only when the full rules agree."""
    pair = plain_auth(value)
    config = parse_config_text(json.dumps({"auths": {"k": value}}), Source("docker", "file:/x",
                                                                         "/x"))
    try:
        general = config_module._decode_entry("k", value, "file:/x", "/x")
    except ConfigFormatError:
        assert pair is None
        with pytest.raises(ConfigFormatError):
            config.auths["k"]
        return
    assert config.auths["k"] == general  # the config's decoder: quick path or not
    if pair is not None:
        assert (general.username, general.password) == (pair[0], pair[1] or None)
        assert (general.identity_token, general.registry_token, general.email) == (None,) * 3


def test_a_loaded_config_is_freed_without_the_garbage_collector(tmp_path: Path) -> None:
    """No reference cycle: a config (index and answers built) goes with its last user,
    so its cost is paid where it is used, not at some later collection. (A bad entry's
    error holds the frames it was raised in, as every Python exception does.)"""
    import gc
    import weakref

    import dockercreds

    path = tmp_path / "config.json"
    keys = [f"https://h{i}.example.com/v2/" for i in range(50)] + ["quay.io/org", "Bad.io"]
    auths: Dict[str, Any] = {k: {"auth": base64.b64encode(b"u:p").decode()} for k in keys}
    path.write_text(json.dumps({"auths": auths}))
    gc.disable()
    try:
        config = dockercreds.load_config(path)
        assert dockercreds.get_registry_credentials("h3.example.com", config=config)
        assert dockercreds.get_credentials("quay.io/org/app", config=config)
        assert config.index.hosts and not config.problems()
        ref = weakref.ref(config)
        del config
        assert ref() is None
    finally:
        gc.enable()
