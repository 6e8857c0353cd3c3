"""Tests for dockercreds.helpers: the docker-credential-<name> client.

Unit tests run fake helper programs written into tmp_path (PATH set by monkeypatch);
the fakes record their argv and stdin. Integration tests (``peer``) run the real
docker-credential-pass and docker-credential-secretservice through the store contract.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest

from dockercreds import protocol
from dockercreds.credentials import Credentials
from dockercreds.errors import (
    ConfigError,
    ConfigFormatError,
    HelperError,
    HelperFailed,
    HelperNotInstalled,
    HelperProtocolError,
    HelperTimeout,
    InvalidArgument,
)
from dockercreds.helpers import (
    GO_HELPER_INPUT_LIMIT,
    OUTPUT_LIMIT,
    TIMEOUT_ENV,
    HelperClient,
    program_exists,
    redact,
)
from tests.peers import require
from tests.store_contract import StoreContract

SECRET = 'hunter2-p<a>"ss&\\word'  # needs Go-JSON escaping in every form

# A fake helper: records {"argv", "stdin", "probe"} as one JSON line per call, then answers
# from SPEC[action]: "out" (stdout, str with surrogateescape for raw bytes), "err",
# "rc", and "echo": "stdin" (append stdin to stdout) / "secret" (append the Secret field).
_FAKE = """#!{python}
import json, os, sys
SPEC = {spec!r}
data = sys.stdin.buffer.read()
with open({log!r}, "a", encoding="utf-8") as f:
    f.write(json.dumps({{"argv": sys.argv[1:], "stdin": data.decode("utf-8"),
                        "probe": os.environ.get("FAKE_PROBE")}}) + "\\n")
action = sys.argv[1] if len(sys.argv) == 2 else ""
spec = SPEC.get(action, {{"out": "usage: fake store|get|erase|list", "rc": 1}})
out = spec.get("out", "")
if spec.get("echo") == "stdin":
    out += data.decode("utf-8")
elif spec.get("echo") == "secret":
    out += json.loads(data)["Secret"]
sys.stdout.buffer.write(out.encode("utf-8", "surrogateescape"))
sys.stderr.write(spec.get("err", ""))
sys.exit(spec.get("rc", 0))
"""

# A working file-backed helper (the protocol as the Go helpers speak it), for running
# the store contract through HelperClient without any peer.
_MEMORY = """#!{python}
import json, os, sys
DB = {db!r}
NOT_FOUND = "credentials not found in native keychain"
def load():
    try:
        with open(DB, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return {{}}
def save(d):
    with open(DB, "w", encoding="utf-8") as f:
        json.dump(d, f)
def go(v):
    s = json.dumps(v, ensure_ascii=False, separators=(",", ":"))
    return s.replace("<", "\\\\u003c").replace(">", "\\\\u003e").replace("&", "\\\\u0026")
def fail(msg):
    sys.stdout.write(msg + "\\n"); sys.exit(1)
action = sys.argv[1]
data = sys.stdin.buffer.read().decode("utf-8")
db = load()
if action == "store":
    c = json.loads(data)
    db[c["ServerURL"]] = [c["Username"], c["Secret"]]
    save(db)
elif action == "get":
    url = data.strip()
    if url not in db:
        fail(NOT_FOUND)
    u, s = db[url]
    sys.stdout.write(go({{"ServerURL": url, "Username": u, "Secret": s}}) + "\\n")
elif action == "erase":
    url = data.strip()
    if url not in db:
        fail(NOT_FOUND)
    del db[url]
    save(db)
elif action == "list":
    sys.stdout.write(go({{k: v[0] for k, v in sorted(db.items())}}) + "\\n")
else:
    fail("unknown action")
"""


def _write_exe(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


class Fakes:
    """Makes fake helpers in a private bin dir that is first on PATH."""

    def __init__(self, tmp_path: Path) -> None:
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        self.log = tmp_path / "calls.jsonl"
        self.tmp = tmp_path

    def make(self, name: str = "fake", **spec: Dict[str, Any]) -> HelperClient:
        text = _FAKE.format(python=sys.executable, spec=spec, log=str(self.log))
        _write_exe(self.bin / f"docker-credential-{name}", text)
        return HelperClient(name)

    def script(self, name: str, text: str) -> HelperClient:
        _write_exe(self.bin / f"docker-credential-{name}", text)
        return HelperClient(name)

    def calls(self) -> List[Dict[str, Any]]:
        if not self.log.exists():
            return []
        lines = self.log.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines]


@pytest.fixture
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Fakes:
    f = Fakes(tmp_path)
    monkeypatch.setenv("PATH", os.pathsep.join([str(f.bin), "/usr/bin", "/bin"]))
    monkeypatch.delenv(TIMEOUT_ENV, raising=False)
    return f


def _creds_json(username: str, secret: str, server: str = "quay.io") -> str:
    return protocol.encode_credentials(server, username, secret) + "\n"


# -- get --------------------------------------------------------------------------------

GET_ANSWERS = [
    # (id, spec for get, expected (username, password, identity_token) or None)
    ("not-found-rc1", {"out": protocol.ERR_NOT_FOUND + "\n", "rc": 1}, None),
    ("not-found-no-newline", {"out": protocol.ERR_NOT_FOUND, "rc": 1}, None),
    ("not-found-rc0", {"out": protocol.ERR_NOT_FOUND + "\n"}, None),
    ("pass-empty-answer", {"out": '{"ServerURL":"quay.io","Username":"","Secret":""}'}, None),
    ("pass-empty-null", {"out": '{"ServerURL":"quay.io","Username":null,"Secret":null}'}, None),
    ("user-secret", {"out": _creds_json("alice", "pw")}, ("alice", "pw", None)),
    (
        "go-escaped-token",
        {"out": '{"ServerURL":"quay.io","Username":"\\u003ctoken\\u003e","Secret":"rt"}\n'},
        (None, None, "rt"),
    ),
    ("plain-token", {"out": _creds_json("<token>", "rt")}, (None, None, "rt")),
    ("lowercase-keys", {"out": '{"username":"bob","secret":"x"}'}, ("bob", "x", None)),
    (
        "stderr-noise",
        {"out": _creds_json("alice", "pw"), "err": "warn: slow\n"},
        ("alice", "pw", None),
    ),
    ("unicode", {"out": _creds_json("ünï", SECRET)}, ("ünï", SECRET, None)),
    ("empty-user-with-secret", {"out": _creds_json("", "pw")}, ("", "pw", None)),
]


@pytest.mark.parametrize(
    ("spec", "expected"), [c[1:] for c in GET_ANSWERS], ids=[c[0] for c in GET_ANSWERS]
)
def test_get_answers(
    fakes: Fakes, spec: Dict[str, Any], expected: Optional[Tuple[Optional[str], ...]]
) -> None:
    creds = fakes.make(get=spec).get("quay.io")
    if expected is None:
        assert creds is None
        return
    assert isinstance(creds, Credentials)
    assert (creds.username, creds.password, creds.identity_token) == expected
    assert creds.server == "quay.io"
    assert creds.source == "helper:fake"


def test_get_server_is_the_one_asked(fakes: Fakes) -> None:
    # The helper's ServerURL is not trusted; the credentials are for what we asked.
    out = _creds_json("alice", "pw", server="elsewhere.example")
    creds = fakes.make(get={"out": out}).get("https://index.docker.io/v1/")
    assert creds is not None
    assert creds.server == "https://index.docker.io/v1/"


# -- what each action sends ------------------------------------------------------------


def test_each_action_sends_one_argv_and_exact_stdin(fakes: Fakes) -> None:
    client = fakes.make(
        get={"out": _creds_json("a", "b")}, store={}, erase={}, list={"out": "{}\n"}
    )
    client.get("quay.io")
    client.store("quay.io", "alice", SECRET)
    client.erase("localhost:5000")
    assert client.list() == {}
    calls = fakes.calls()
    assert [c["argv"] for c in calls] == [["get"], ["store"], ["erase"], ["list"]]
    assert [c["stdin"] for c in calls] == [
        "quay.io",
        protocol.encode_credentials("quay.io", "alice", SECRET) + "\n",
        "localhost:5000",
        "unused",
    ]
    # Exactly docker's bytes for store: Go-JSON escapes, one trailing newline.
    assert calls[1]["stdin"] == (
        '{"ServerURL":"quay.io","Username":"alice",'
        '"Secret":"hunter2-p\\u003ca\\u003e\\"ss\\u0026\\\\word"}\n'
    )


def test_identity_token_is_stored_as_token_username(fakes: Fakes) -> None:
    client = fakes.make(store={})
    client.store("quay.io", "<token>", "rt")
    stored = json.loads(fakes.calls()[0]["stdin"])
    assert stored == {"ServerURL": "quay.io", "Username": "<token>", "Secret": "rt"}


def test_secret_never_in_argv(fakes: Fakes) -> None:
    fakes.make(store={}).store("quay.io", "alice", SECRET)
    assert all(SECRET not in arg for arg in fakes.calls()[0]["argv"])


def test_env_overlay_reaches_helper(fakes: Fakes) -> None:
    fakes.make(list={"out": "{}"})
    HelperClient("fake", env={"FAKE_PROBE": "seen"}).list()
    HelperClient("fake").list()
    assert [c["probe"] for c in fakes.calls()] == ["seen", None]


def test_env_overlay_path_finds_helper(fakes: Fakes, tmp_path: Path) -> None:
    other = tmp_path / "other-bin"
    other.mkdir()
    _write_exe(other / "docker-credential-elsewhere", "#!/bin/sh\necho '{}'\n")
    assert not program_exists("elsewhere")
    env = {"PATH": f"{other}{os.pathsep}/usr/bin{os.pathsep}/bin"}
    assert program_exists("elsewhere", env=env)
    assert HelperClient("elsewhere", env=env).list() == {}


# -- non-zero exits -----------------------------------------------------------------------

FAILURES = [
    # (id, action, spec, expected message tail, expected .output)
    ("get-message", "get", {"out": "boom\n", "rc": 1}, "boom", "boom"),
    (
        "erase-pass-missing",
        "erase",
        {"out": "exit status 1: Error: docker-credential-helpers/abc is not in the password "
         "store.\n\n", "rc": 1},
        "exit status 1: Error: docker-credential-helpers/abc is not in the password store.",
        "exit status 1: Error: docker-credential-helpers/abc is not in the password store.",
    ),
    ("store-multiline", "store", {"out": "a\n  b\n", "rc": 3}, "a", "a\n  b"),
    ("list-stderr-only", "list", {"err": "dbus down\n", "rc": 1}, "dbus down", "dbus down"),
    ("get-no-output", "get", {"rc": 2}, "no output", ""),
    ("get-both", "get", {"out": "bad\n", "err": "detail\n", "rc": 1}, "bad", "bad\ndetail"),
]


def _call(client: HelperClient, action: str) -> object:
    if action == "get":
        return client.get("quay.io")
    if action == "store":
        client.store("quay.io", "alice", "pw")
    elif action == "erase":
        client.erase("quay.io")
    else:
        return client.list()
    return None


@pytest.mark.parametrize(
    ("action", "spec", "tail", "output"), [c[1:] for c in FAILURES], ids=[c[0] for c in FAILURES]
)
def test_nonzero_exit_is_helper_failed(
    fakes: Fakes, action: str, spec: Dict[str, Any], tail: str, output: str
) -> None:
    client = fakes.make("pass", **{action: spec})
    with pytest.raises(HelperFailed) as info:
        _call(client, action)
    exc = info.value
    rc = spec["rc"]
    assert str(exc) == f"docker-credential-pass {action} failed (exit {rc}): {tail}"
    assert (exc.helper, exc.action, exc.returncode, exc.output) == ("pass", action, rc, output)


def test_failure_message_is_bounded(fakes: Fakes) -> None:
    client = fakes.make(get={"out": "x" * 5000, "rc": 1})
    with pytest.raises(HelperFailed) as info:
        client.get("quay.io")
    assert len(str(info.value)) < 600
    assert len(info.value.output) == 5000


def test_erase_not_found_is_success(fakes: Fakes) -> None:
    fakes.make(erase={"out": protocol.ERR_NOT_FOUND + "\n", "rc": 1}).erase("quay.io")


def test_list_not_found_is_empty(fakes: Fakes) -> None:
    assert fakes.make(list={"out": protocol.ERR_NOT_FOUND + "\n", "rc": 1}).list() == {}


def test_list_decodes_go_json(fakes: Fakes) -> None:
    client = fakes.make(list={"out": '{"a.io":"\\u003ctoken\\u003e","b.io":"bob"}\n'})
    assert client.list() == {"a.io": "<token>", "b.io": "bob"}


# -- secrets are redacted from echoed output -------------------------------------------------

ECHOES = [
    ("stdin-json", {"out": "cannot parse: ", "echo": "stdin", "rc": 1}),
    ("raw-secret", {"out": "bad secret ", "echo": "secret", "rc": 1}),
    ("stderr-echo", {"err": f"got {SECRET}", "rc": 1}),
]


@pytest.mark.parametrize("spec", [c[1] for c in ECHOES], ids=[c[0] for c in ECHOES])
def test_store_failure_redacts_secret(fakes: Fakes, spec: Dict[str, Any]) -> None:
    client = fakes.make(store=spec)
    with pytest.raises(HelperFailed) as info:
        client.store("quay.io", "alice", SECRET)
    exc = info.value
    texts = [str(exc), repr(exc), exc.output, repr(exc.args)]
    for text in texts:
        assert "hunter2" not in text
    if spec.get("echo") == "stdin":  # a credentials message: never quoted at all
        assert "output not shown: it may hold a secret" in str(exc)
        assert exc.output == ""
    else:
        assert "***" in exc.output


def test_get_failure_that_prints_credentials_is_not_quoted(fakes: Fakes) -> None:
    client = fakes.make(get={"out": _creds_json("alice", SECRET) + "then failed\n", "rc": 1})
    with pytest.raises(HelperFailed) as info:
        client.get("quay.io")
    assert "hunter2" not in str(info.value)
    assert "hunter2" not in info.value.output
    assert "output not shown" in str(info.value)


@pytest.mark.parametrize(
    "out",
    [
        "error: " + _creds_json("alice", SECRET) + "\n",  # after a prefix
        json.dumps(
            {"ServerURL": "quay.io", "Username": "alice", "Secret": SECRET}, indent=2
        ),  # pretty-printed over several lines
        json.dumps({"entry": {"ServerURL": "quay.io", "Secret": SECRET}}),  # nested
        # not parseable, but the shape of an answer (issue 10 #11)
        '{"ServerURL":"quay.io","Username":"u","Secret":"' + SECRET,
        f"Username: alice\nSecret: {SECRET}\n",
        f"password={SECRET}",
        json.dumps([SECRET]),
        json.dumps(SECRET),
    ],
    ids=["prefixed", "pretty", "nested", "truncated", "yaml-ish", "key-value", "array", "string"],
)
@pytest.mark.parametrize("stream", ["out", "err"])
def test_failure_never_quotes_a_credentials_answer(fakes: Fakes, out: str, stream: str) -> None:
    client = fakes.make(get={stream: out, "rc": 1})
    with pytest.raises(HelperFailed) as info:
        client.get("quay.io")
    for text in (str(info.value), info.value.output, repr(info.value.args)):
        assert "hunter2" not in text
    assert str(info.value).endswith("output not shown: it may hold a secret")


@pytest.mark.parametrize("action", ["get", "store", "erase", "list"])
def test_failure_quotes_one_clipped_line_of_stderr(fakes: Fakes, action: str) -> None:
    err = "gpg: decryption failed: " + "x" * 500 + "\nsecond line " + SECRET + "\n"
    client = fakes.make(**{action: {"err": err, "rc": 2}})
    with pytest.raises(HelperFailed) as info:
        _call(client, action)
    message = str(info.value)
    assert message.startswith(
        f"docker-credential-fake {action} failed (exit 2): gpg: decryption failed: xxx"
    )
    assert message.endswith("...")
    assert "second line" not in message
    assert len(message) < 300


@pytest.mark.parametrize(
    "secret", [SECRET, "plain", "üñï", "a\nb", "\u2028x", "<>&"], ids=repr
)
def test_redact_every_encoding(secret: str) -> None:
    encoded = protocol.encode_credentials("s", "u", secret)
    text = f"{secret} | {encoded} | {json.dumps(secret)}"
    out = redact(text, (secret,))
    assert secret not in out
    assert json.loads(encoded)["Secret"] == secret
    assert protocol.go_json(secret)[1:-1] not in out
    assert json.dumps(secret)[1:-1] not in out


def test_redact_ignores_empty_secret() -> None:
    assert redact("abc", ("",)) == "abc"


# -- unparsable output ---------------------------------------------------------------------

GARBAGE = [
    ("plain-text", "hunter2 is the password\n"),
    ("truncated-json", '{"ServerURL":"quay.io","Username":"u","Secret":"hunter2'),
    ("wrong-type", '{"Username":"u","Secret":["hunter2"]}'),
    ("not-object", '["hunter2"]'),
    ("empty", ""),
    ("not-utf8", "hunter2\udcff\udcfe"),
]


@pytest.mark.parametrize("out", [c[1] for c in GARBAGE], ids=[c[0] for c in GARBAGE])
def test_get_garbage_is_protocol_error_without_echo(fakes: Fakes, out: str) -> None:
    client = fakes.make(get={"out": out})
    with pytest.raises(HelperProtocolError) as info:
        client.get("quay.io")
    message = str(info.value)
    assert "hunter2" not in message
    assert "docker-credential-fake get" in message
    assert (info.value.helper, info.value.action) == ("fake", "get")


@pytest.mark.parametrize("out", ["nope", '{"a": 1}', "[]"])
def test_list_garbage_is_protocol_error(fakes: Fakes, out: str) -> None:
    with pytest.raises(HelperProtocolError, match="docker-credential-fake list"):
        fakes.make(list={"out": out}).list()


# -- missing / broken programs, names ------------------------------------------------------


@pytest.mark.parametrize("action", ["get", "store", "erase", "list"])
def test_missing_program(fakes: Fakes, action: str) -> None:
    client = HelperClient("nope-not-installed")
    assert client.program == "docker-credential-nope-not-installed"
    with pytest.raises(HelperNotInstalled) as info:
        _call(client, action)
    message = str(info.value)
    assert "docker-credential-nope-not-installed" in message
    assert "install" in message
    assert "credsStore/credHelpers" in message
    assert "config.json" in message
    assert (info.value.helper, info.value.action) == ("nope-not-installed", action)


def test_not_executable_is_not_installed(fakes: Fakes) -> None:
    (fakes.bin / "docker-credential-noexec").write_text("#!/bin/sh\necho {}\n")
    assert not program_exists("noexec")
    with pytest.raises(HelperNotInstalled):
        HelperClient("noexec").list()


@pytest.mark.parametrize("action", ["get", "list"])
def test_missing_interpreter_is_a_broken_helper_not_a_missing_one(
    fakes: Fakes, action: str
) -> None:
    """exec says ENOENT for a script whose #! interpreter is gone: the helper is installed
    (a lookup must not go on without it, issue 11 #3) and the message says what is missing."""
    client = fakes.script("noshebang", "#!/nonexistent/python3\nprint('{}')\n")
    assert program_exists("noshebang")
    with pytest.raises(HelperError) as info:
        _call(client, action)
    assert not isinstance(info.value, HelperNotInstalled)
    assert "interpreter on its #! line" in str(info.value)
    assert str(fakes.bin / "docker-credential-noshebang") in str(info.value)


def test_unrunnable_program_is_helper_error(fakes: Fakes) -> None:
    client = fakes.script("broken", "this is not a program\x00\x01")
    with pytest.raises(HelperError, match="docker-credential-broken list") as info:
        client.list()
    assert info.value.action == "list"


def test_program_exists(fakes: Fakes) -> None:
    fakes.make("here")
    assert program_exists("here")
    assert not program_exists("not-here-at-all")


@pytest.mark.parametrize("name", ["", "../../tmp/x", "a/b", ".", ".."])
def test_invalid_helper_name(name: str) -> None:
    with pytest.raises(ConfigFormatError, match="invalid credential helper name"):
        HelperClient(name)
    assert not program_exists(name)


# -- timeouts ------------------------------------------------------------------------------


def _sleeper(fakes: Fakes) -> Path:
    # Ignores SIGTERM (ignored signals survive exec): only a SIGKILL ends it early.
    pidfile = fakes.tmp / "sleeper.pid"
    fakes.script("sleepy", f"#!/bin/sh\ntrap '' TERM\necho $$ > {pidfile}\nexec sleep 60\n")
    return pidfile


def _running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (orphans here are reaped late)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return not any(ln.startswith("State:") and "Z" in ln for ln in status.splitlines())


def _wait_gone(pid: int) -> None:
    """``pid`` (not our child: init reaps it) stops running; bounded to 100 checks."""
    for _ in range(100):
        if not _running(pid):
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} still runs")


def _assert_gone(pid: int) -> None:
    # HelperClient kills and reaps the helper, so the pid no longer exists.
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not _running(pid)


def test_timeout_from_env_kills_helper(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    pidfile = _sleeper(fakes)
    monkeypatch.setenv(TIMEOUT_ENV, "0.5")
    with pytest.raises(HelperTimeout) as info:
        HelperClient("sleepy").get("quay.io")
    assert "docker-credential-sleepy get" in str(info.value)
    assert TIMEOUT_ENV in str(info.value)
    assert (info.value.helper, info.value.action) == ("sleepy", "get")
    _assert_gone(int(pidfile.read_text()))


def test_timeout_argument_wins_over_env(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    pidfile = _sleeper(fakes)
    monkeypatch.setenv(TIMEOUT_ENV, "600")
    with pytest.raises(HelperTimeout):
        HelperClient("sleepy", timeout=0.5).list()
    _assert_gone(int(pidfile.read_text()))


def test_timeout_kills_the_whole_process_group(
    fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The helper's child inherits stdout; the client must not wait for its EOF, and
    # the child dies with the helper (its process group is killed).
    pidfile = fakes.tmp / "parent.pid"
    childfile = fakes.tmp / "child.pid"
    fakes.script(
        "forky",
        f"#!/bin/sh\necho $$ > {pidfile}\nsleep 60 &\necho $! > {childfile}\nwait\n",
    )
    monkeypatch.setenv(TIMEOUT_ENV, "0.5")
    try:
        with pytest.raises(HelperTimeout):
            HelperClient("forky").get("quay.io")
        _assert_gone(int(pidfile.read_text()))
        _wait_gone(int(childfile.read_text()))
    finally:
        if childfile.exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(childfile.read_text()), signal.SIGKILL)


@pytest.mark.parametrize("value", ["abc", "0", "-1", "nan", "inf", "30s", "1e12", "1e400"])
def test_invalid_timeout_env(fakes: Fakes, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    client = fakes.make(list={"out": "{}"})
    monkeypatch.setenv(TIMEOUT_ENV, value)
    with pytest.raises(ConfigError) as info:
        client.list()
    assert TIMEOUT_ENV in str(info.value)
    assert "docker-credential-fake list" in str(info.value)
    assert fakes.calls() == []  # the helper was not run


@pytest.mark.parametrize("value", [" 2 ", "0.75", "", "1e3"])
def test_valid_timeout_env(fakes: Fakes, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(TIMEOUT_ENV, value)
    assert fakes.make(list={"out": "{}"}).list() == {}


@pytest.mark.parametrize("value", [0, -1.0, float("nan"), float("inf"), 1e12])
def test_invalid_timeout_argument(value: float) -> None:
    with pytest.raises(InvalidArgument, match="timeout"):
        HelperClient("fake", timeout=value)


def test_repr_names_program() -> None:
    assert repr(HelperClient("pass")) == "<HelperClient docker-credential-pass>"


# -- the store contract ---------------------------------------------------------------------


class TestFakeHelperContract(StoreContract):
    """The contract through HelperClient against a file-backed fake helper."""

    @pytest.fixture
    def store(self, fakes: Fakes) -> HelperClient:
        db = fakes.tmp / "db.json"
        return fakes.script("memory", _MEMORY.format(python=sys.executable, db=str(db)))


# -- the real helpers (peers) ---------------------------------------------------------------


@pytest.mark.peer
class TestPassContract(StoreContract):
    """docker-credential-pass 0.6.4 (gpg + pass) through HelperClient."""

    # pass fails erasing a missing entry ("... is not in the password store.").
    erase_missing_ok = False
    # pass keeps one file per username (docker-credential-helpers/<b64 server>/<user>.gpg);
    # storing a server under another username adds a file, and get/list answer the
    # first name in sorted order. See test_pass_keeps_first_username.
    store_replaces_username = False
    # Both Go helpers read the store message as one line of at most 64 KiB (bufio.Scanner;
    # 65535 bytes + newline were accepted, 65536 + newline gave "bufio.Scanner: token too
    # long"). The contract's 60 KiB secret (61440 chars, 62400 UTF-8 bytes) fits, so the
    # default big_secret stands; test_secret_over_input_limit covers the ceiling.
    big_secret = 60 * 1024

    def test_pass_keeps_first_username(self, store: HelperClient) -> None:
        server = f"quirk-{uuid.uuid4().hex[:8]}.example.test"
        try:
            store.store(server, "bob", "one")
            store.store(server, "alice", "two")
            creds = store.get(server)
            assert creds is not None
            assert (creds.username, creds.password) == ("alice", "two")
            store.store(server, "zed", "three")
            creds = store.get(server)
            assert creds is not None
            assert (creds.username, creds.password) == ("alice", "two")
            assert store.list()[server] == "alice"
        finally:
            store.erase(server)  # removes every username's entry
        assert store.get(server) is None

    def test_secret_over_input_limit(self, store: HelperClient) -> None:
        server = f"big-{uuid.uuid4().hex[:8]}.example.test"
        secret = "hunter2" + "x" * GO_HELPER_INPUT_LIMIT
        with pytest.raises(HelperFailed) as info:
            store.store(server, "big", secret)
        message = str(info.value)
        assert "token too long" in message
        assert str(GO_HELPER_INPUT_LIMIT) in message
        assert "hunter2" not in message
        assert store.get(server) is None

    @pytest.fixture
    def store(self, pass_store: Any) -> HelperClient:
        require("docker-credential-pass")
        return HelperClient("pass", env=pass_store.env)


@pytest.mark.peer
class TestSecretServiceContract(StoreContract):
    """docker-credential-secretservice 0.6.4 (gnome-keyring on a private bus)."""

    # Items carry the username as an attribute, so storing a server under another
    # username adds a second item (same-attribute items are replaced), and get answers
    # whichever the search returns first - not always the newest. See
    # test_two_usernames_answer_a_consistent_pair.
    store_replaces_username = False
    # Same 64 KiB input line as pass (see TestPassContract); 60 KiB fits.
    big_secret = 60 * 1024

    def test_two_usernames_answer_a_consistent_pair(self, store: HelperClient) -> None:
        server = f"quirk-{uuid.uuid4().hex[:8]}.example.test"
        try:
            store.store(server, "alice", "one")
            store.store(server, "bob", "two")
            creds = store.get(server)
            assert creds is not None
            assert (creds.username, creds.password) in {("alice", "one"), ("bob", "two")}
            assert store.list()[server] in {"alice", "bob"}
        finally:
            store.erase(server)  # clears every item for the server
        assert store.get(server) is None
        assert server not in store.list()

    @pytest.fixture
    def store(self, use_secret_service: Any) -> HelperClient:
        require("docker-credential-secretservice")
        return HelperClient("secretservice", env=use_secret_service.env)

    def test_secret_over_input_limit(self, store: HelperClient) -> None:
        server = f"big-{uuid.uuid4().hex[:8]}.example.test"
        with pytest.raises(HelperFailed, match="token too long") as info:
            store.store(server, "big", "hunter2" + "x" * GO_HELPER_INPUT_LIMIT)
        assert "hunter2" not in str(info.value)
        assert store.get(server) is None

    def test_get_missing_is_not_found_message(self, store: HelperClient) -> None:
        # Unlike pass, secretservice answers a missing entry with the not-found message.
        server = f"missing-{uuid.uuid4().hex[:8]}.example.test"
        assert store.get(server) is None
        store.erase(server)  # and erasing a missing entry succeeds


# -- bounded output and process groups (issue 10 #5) -----------------------------------------

ENDLESS = [
    # (id, script body after the pid line, expected error)
    ("stdout-yes", "exec yes\n", HelperProtocolError),
    ("stdout-yes-in-child", "sh -c 'yes'\n", HelperProtocolError),
    ("stderr-yes", "exec yes >&2\n", HelperTimeout),
]


@pytest.mark.parametrize("action", ["get", "store", "erase", "list"])
@pytest.mark.parametrize(
    ("body", "error"), [c[1:] for c in ENDLESS], ids=[c[0] for c in ENDLESS]
)
def test_endless_output_is_a_typed_error_and_the_helper_dies(
    fakes: Fakes, action: str, body: str, error: type
) -> None:
    pidfile = fakes.tmp / "helper.pid"
    client = fakes.script("flood", f"#!/bin/sh\necho $$ > {pidfile}\n{body}")
    client.timeout = 1.0
    with pytest.raises(error) as info:
        _call(client, action)
    exc = info.value
    assert (exc.helper, exc.action) == ("flood", action)
    assert f"docker-credential-flood {action}" in str(exc)
    if error is HelperProtocolError:
        assert "more than 1024 KiB on stdout" in str(exc)
    _assert_gone(int(pidfile.read_text()))


# Runs one call in a child interpreter whose address space is capped at 256 MiB: reading
# an endless helper whole (the old communicate()) dies with MemoryError there.
_CAPPED = """
import resource, sys
limit = 256 << 20
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from dockercreds.helpers import HelperClient
from dockercreds.errors import HelperError
try:
    getattr(HelperClient("flood", timeout=3), sys.argv[1])(*sys.argv[2:])
except HelperError as exc:
    print(type(exc).__name__)
"""


@pytest.mark.parametrize(
    ("body", "error"), [c[1:] for c in ENDLESS], ids=[c[0] for c in ENDLESS]
)
def test_endless_output_uses_bounded_memory(fakes: Fakes, body: str, error: type) -> None:
    fakes.script("flood", f"#!/bin/sh\n{body}")
    proc = subprocess.run(
        [sys.executable, "-c", _CAPPED, "get", "quay.io"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == error.__name__


def test_stderr_past_the_limit_is_dropped(fakes: Fakes) -> None:
    # 3 MiB on stderr, then a normal failure: the message and .output stay bounded.
    client = fakes.script(
        "noisy",
        "#!/bin/sh\nhead -c 3145728 /dev/zero | tr '\\0' x >&2\necho 'gpg: no key'\nexit 2\n",
    )
    with pytest.raises(HelperFailed) as info:
        client.list()
    assert str(info.value) == "docker-credential-noisy list failed (exit 2): gpg: no key"
    assert len(info.value.output) <= OUTPUT_LIMIT + 100


def test_answer_up_to_the_limit_is_read(fakes: Fakes) -> None:
    # A long but legal answer: padding spaces before the JSON, 1 MiB in all.
    answer = _creds_json("alice", "pw")
    pad = OUTPUT_LIMIT - len(answer)
    client = fakes.script(
        "big", f"#!/bin/sh\nhead -c {pad} /dev/zero | tr '\\0' ' '\nprintf '%s' '{answer}'\n"
    )
    creds = client.get("quay.io")
    assert creds is not None and creds.password == "pw"
    client = fakes.script(
        "bigger",
        f"#!/bin/sh\nhead -c {pad + 1} /dev/zero | tr '\\0' ' '\nprintf '%s' '{answer}'\n",
    )
    with pytest.raises(HelperProtocolError, match="more than 1024 KiB"):
        client.get("quay.io")


def test_child_keeping_the_pipes_open_is_not_waited_for(
    fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The helper answers and exits; its background child keeps stdout open. The answer
    # is used (not a timeout) and the child is killed with the helper's group.
    childfile = fakes.tmp / "child.pid"
    answer = _creds_json("alice", "pw")
    fakes.script(
        "leaky",
        f"#!/bin/sh\nsleep 60 &\necho $! > {childfile}\nprintf '%s' '{answer}'\nexit 0\n",
    )
    monkeypatch.setenv(TIMEOUT_ENV, "20")
    try:
        creds = HelperClient("leaky").get("quay.io")
        assert creds is not None and creds.username == "alice"
        _wait_gone(int(childfile.read_text()))
    finally:
        if childfile.exists():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(childfile.read_text()), signal.SIGKILL)


def test_helper_that_does_not_read_a_large_store_message(fakes: Fakes) -> None:
    # More than a pipe buffer on stdin, never read: no hang, no BrokenPipeError.
    client = fakes.script("deaf", "#!/bin/sh\necho 'will not read'\nexit 1\n")
    client.timeout = 10
    with pytest.raises(HelperFailed, match="will not read"):
        client.store("quay.io", "alice", "s" * (4 * GO_HELPER_INPUT_LIMIT))
