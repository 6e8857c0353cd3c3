"""KeyringStore: the store contract on an in-memory backend and on the real Secret Service.

The in-memory backend has neither ``get_credential(service, None)`` nor enumeration
(like macOS). On the Secret Service the contract runs twice: through the lean D-Bus path
(no ``keyring`` import) and through keyring's own SecretService backend; both must see
each other's items.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, Iterator, Optional

import pytest
from keyring.errors import KeyringLocked

from dockercreds import secret_service
from dockercreds.errors import (
    InsecureKeyringError,
    InvalidCredentials,
    InvalidRegistry,
    KeyringError,
    KeyringLockedError,
    NoKeyringError,
)
from dockercreds.keyring_store import (
    ACCOUNT,
    ALLOW_INSECURE_ENV,
    MSG_LOCKED,
    MSG_NO_DBUS,
    KeyringStore,
    _split_payload,
    service_name,
)
from dockercreds.protocol import encode_credentials
from tests.memory_keyring import (
    MemoryKeyring,
    SizeLimitedKeyring,
    WinVaultKeyring,
    forget_backends,
)
from tests.peers import SecretService, short_tmpdir, start_secret_service
from tests.store_contract import StoreContract

SECRET = "hunter2-do-not-print"


class PlaintextKeyring(MemoryKeyring):
    priority = 0.5  # type: ignore[assignment]


class LockedKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> Optional[str]:
        raise KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("Failed to unlock the collection!")


class BrokenKeyring(MemoryKeyring):
    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError(f"backend exploded while writing {password}")


# Defining a backend registers it for keyring's discovery; keep discovery clean.
forget_backends(PlaintextKeyring, LockedKeyring, BrokenKeyring)


@pytest.fixture(autouse=True)
def fresh_keyring_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    """keyring caches its backend per process; each test resolves it again (like the helper)."""
    import keyring.core

    monkeypatch.setattr(keyring.core, "_keyring_backend", None)


# --------------------------------------------------------------------------- contract


class TestMemoryBackend(StoreContract):
    @pytest.fixture
    def backend(self) -> MemoryKeyring:
        return MemoryKeyring()

    @pytest.fixture
    def store(self, backend: MemoryKeyring, tmp_path: Path) -> KeyringStore:
        return KeyringStore(backend=backend, index_path=str(tmp_path / "index.json"))

    def test_layout_one_item_per_server(
        self, store: KeyringStore, backend: MemoryKeyring, tmp_path: Path
    ) -> None:
        store.store("quay.io", "alice", SECRET)
        assert list(backend.items) == [("dockercreds:quay.io", ACCOUNT)]
        payload = json.loads(backend.items[("dockercreds:quay.io", ACCOUNT)])
        assert payload == {"ServerURL": "quay.io", "Username": "alice", "Secret": SECRET}
        index = (tmp_path / "index.json").read_text()
        assert index == '{"quay.io":"alice"}\n'
        assert SECRET not in index

    def test_source_and_repr(self, store: KeyringStore) -> None:
        store.store("quay.io", "alice", SECRET)
        creds = store.get("quay.io")
        assert creds is not None
        assert creds.source == "keyring"
        assert SECRET not in repr(creds)
        assert SECRET not in repr(store)

    def test_empty_server(self, store: KeyringStore) -> None:
        with pytest.raises(InvalidRegistry):
            store.store("", "alice", SECRET)
        assert store.get("") is None
        store.erase("")

    def test_foreign_item_is_a_clear_error(
        self, store: KeyringStore, backend: MemoryKeyring
    ) -> None:
        backend.items[(service_name("x.example"), ACCOUNT)] = SECRET
        with pytest.raises(KeyringError) as info:
            store.get("x.example")
        assert "not a dockercreds entry" in str(info.value)
        assert SECRET not in str(info.value)

    def test_failed_keyring_write_leaves_index_alone(self, tmp_path: Path) -> None:
        store = KeyringStore(backend=BrokenKeyring(), index_path=str(tmp_path / "i.json"))
        with pytest.raises(KeyringError) as info:
            store.store("quay.io", "alice", SECRET)
        assert SECRET not in str(info.value)
        assert "BrokenKeyring" in str(info.value)
        assert store.list() == {}


# --------------------------------------------------------------------------- backend checks


def test_plaintext_backend_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ALLOW_INSECURE_ENV, raising=False)
    store = KeyringStore(backend=PlaintextKeyring(), index_path=str(tmp_path / "i.json"))
    with pytest.raises(InsecureKeyringError) as info:
        store.store("quay.io", "alice", SECRET)
    message = str(info.value)
    assert "PlaintextKeyring" in message
    assert f"{ALLOW_INSECURE_ENV}=1" in message
    assert SECRET not in message
    assert store.list() == {}


@pytest.mark.parametrize(("env", "param"), [("1", None), (None, True), ("0", True)])
def test_plaintext_backend_allowed(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    env: Optional[str],
    param: Optional[bool],
) -> None:
    if env is None:
        monkeypatch.delenv(ALLOW_INSECURE_ENV, raising=False)
    else:
        monkeypatch.setenv(ALLOW_INSECURE_ENV, env)
    store = KeyringStore(
        backend=PlaintextKeyring(), index_path=str(tmp_path / "i.json"), allow_insecure=param
    )
    store.store("quay.io", "alice", SECRET)
    creds = store.get("quay.io")
    assert creds is not None
    assert creds.password == SECRET


def test_param_false_beats_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ALLOW_INSECURE_ENV, "1")
    store = KeyringStore(
        backend=PlaintextKeyring(), index_path=str(tmp_path / "i.json"), allow_insecure=False
    )
    with pytest.raises(InsecureKeyringError):
        store.get("quay.io")


@pytest.mark.parametrize(
    ("backend_path", "needle"),
    [
        ("keyring.backends.fail.Keyring", "dbus-run-session"),
        ("keyring.backends.null.Keyring", "disabled"),
    ],
)
def test_no_usable_backend(tmp_path: Path, backend_path: str, needle: str) -> None:
    module, _, name = backend_path.rpartition(".")
    cls = getattr(__import__(module, fromlist=[name]), name)
    store = KeyringStore(backend=cls(), index_path=str(tmp_path / "i.json"))
    with pytest.raises(NoKeyringError) as info:
        store.get("quay.io")
    assert needle in str(info.value)
    assert "\n" not in str(info.value)


def test_no_dbus_message_from_discovery(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No bus: keyring finds nothing; the message says how to get a session."""
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    store = KeyringStore(index_path=str(tmp_path / "i.json"))
    with pytest.raises(NoKeyringError) as info:
        store.get("quay.io")
    assert str(info.value) == MSG_NO_DBUS


def test_pinned_secretservice_without_bus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.SecretService.Keyring")
    store = KeyringStore(index_path=str(tmp_path / "i.json"))
    with pytest.raises(KeyringError) as info:
        store.store("quay.io", "alice", SECRET)
    assert str(info.value) == MSG_NO_DBUS


def test_bad_pin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "no.such.Backend")
    store = KeyringStore(index_path=str(tmp_path / "i.json"))
    with pytest.raises(NoKeyringError) as info:
        store.get("quay.io")
    assert "PYTHON_KEYRING_BACKEND=no.such.Backend" in str(info.value)


def test_locked_backend(tmp_path: Path) -> None:
    store = KeyringStore(backend=LockedKeyring(), index_path=str(tmp_path / "i.json"))
    for call in (lambda: store.get("quay.io"), lambda: store.store("quay.io", "a", SECRET)):
        with pytest.raises(KeyringLockedError) as info:
            call()
        assert str(info.value) == MSG_LOCKED
    assert store.list() == {}


def test_list_never_touches_the_keyring(tmp_path: Path) -> None:
    store = KeyringStore(backend=LockedKeyring(), index_path=str(tmp_path / "i.json"))
    (tmp_path / "i.json").write_text('{"quay.io":"alice"}\n')
    assert store.list() == {"quay.io": "alice"}


_CONCURRENT = textwrap.dedent(
    """
    import sys
    from keyring.backend import KeyringBackend
    from dockercreds.keyring_store import KeyringStore

    class Mem(KeyringBackend):
        priority = 1
        items = {}
        def get_password(self, s, u): return self.items.get((s, u))
        def set_password(self, s, u, p): self.items[(s, u)] = p
        def delete_password(self, s, u): self.items.pop((s, u), None)

    backend = None if sys.argv[3] == "auto" else Mem()
    store = KeyringStore(backend=backend, index_path=sys.argv[1])
    for i in range(10):
        store.store(f"p{sys.argv[2]}-{i}.example:5000", f"user{sys.argv[2]}", f"s{i}")
    """
)


def _run_concurrent(index: Path, backend: str) -> None:
    procs = [
        subprocess.Popen([sys.executable, "-c", _CONCURRENT, str(index), str(n), backend])
        for n in range(8)
    ]
    assert [p.wait(timeout=300) for p in procs] == [0] * 8


def test_index_consistent_under_concurrent_processes(tmp_path: Path) -> None:
    index = tmp_path / "i.json"
    _run_concurrent(index, "memory")
    listed = KeyringStore(backend=MemoryKeyring(), index_path=str(index)).list()
    assert len(listed) == 80
    assert listed["p3-7.example:5000"] == "user3"


# --------------------------------------------------------------------------- Secret Service


@pytest.fixture
def ss_store(use_secret_service: SecretService, tmp_path: Path) -> KeyringStore:
    assert secret_service.usable()
    return KeyringStore(index_path=str(tmp_path / "index.json"))


@pytest.mark.peer
class TestSecretServiceLean(StoreContract):
    """The lean D-Bus path (keyring is not imported)."""

    @pytest.fixture
    def store(self, ss_store: KeyringStore) -> KeyringStore:
        return ss_store


@pytest.mark.peer
class TestSecretServiceThroughKeyring(StoreContract):
    """keyring's own SecretService backend (the lean path switched off)."""

    @pytest.fixture
    def store(
        self, use_secret_service: SecretService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> KeyringStore:
        monkeypatch.setenv("DOCKERCREDS_KEYRING_LEAN", "0")
        assert not secret_service.usable()
        return KeyringStore(index_path=str(tmp_path / "index.json"))


def _ours(attributes: Dict[str, str]) -> Dict[str, str]:
    """The attributes a client wrote: gnome-keyring adds ``xdg:schema`` (from the item
    type) to every item of a collection when it next saves it, whoever wrote the item."""
    return {k: v for k, v in attributes.items() if k != "xdg:schema"}


def _items(service: str) -> list[tuple[str, Dict[str, str], str]]:
    import secretstorage

    conn = secretstorage.dbus_init()
    try:
        coll = secretstorage.get_default_collection(conn)
        return [
            (item.get_label(), _ours(item.get_attributes()), item.get_secret_content_type())
            for item in coll.search_items({"service": service})
        ]
    finally:
        conn.close()


@pytest.mark.peer
def test_lean_items_identical_to_keyrings(ss_store: KeyringStore) -> None:
    import keyring.backends.SecretService as kss

    lean_server, kr_server = "lean.example:5000", "kr.example:5000"
    try:
        ss_store.store(lean_server, "alice", SECRET)
        kss.Keyring().set_password(service_name(kr_server), ACCOUNT, "x")
        (lean,) = _items(service_name(lean_server))
        (theirs,) = _items(service_name(kr_server))
        assert lean[0] == f"Password for '{ACCOUNT}' on '{service_name(lean_server)}'"
        assert lean[1] == {
            "service": service_name(lean_server),
            "username": ACCOUNT,
            "application": "Python keyring library",
        }
        assert (lean[1]["application"], lean[2]) == (theirs[1]["application"], theirs[2])
        assert set(lean[1]) == set(theirs[1])
    finally:
        ss_store.erase(lean_server)
        kss.Keyring().delete_password(service_name(kr_server), ACCOUNT)


@pytest.mark.peer
def test_keyring_reads_lean_and_lean_reads_keyring(ss_store: KeyringStore) -> None:
    import keyring.backends.SecretService as kss

    backend = kss.Keyring()
    try:
        ss_store.store("a.example", "<token>", SECRET)
        payload = backend.get_password(service_name("a.example"), ACCOUNT)
        assert json.loads(payload) == {
            "ServerURL": "a.example",
            "Username": "<token>",
            "Secret": SECRET,
        }
        via_keyring = KeyringStore(backend=backend, index_path=ss_store.index_path)
        via_keyring.store("b.example", "bob", "pw-b")
        creds = ss_store.get("b.example")
        assert creds is not None
        assert (creds.username, creds.password) == ("bob", "pw-b")
        ss_store.store("b.example", "carol", "pw-c")  # lean replaces keyring's item
        assert len(_items(service_name("b.example"))) == 1
        assert via_keyring.get("b.example") is not None
        assert via_keyring.get("b.example").username == "carol"  # type: ignore[union-attr]
        ss_store.erase("b.example")
        assert backend.get_password(service_name("b.example"), ACCOUNT) is None
    finally:
        ss_store.erase("a.example")
        ss_store.erase("b.example")


@pytest.mark.peer
def test_get_does_not_import_keyring(use_secret_service: SecretService, tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys
        from dockercreds.keyring_store import KeyringStore
        store = KeyringStore(index_path=sys.argv[1])
        store.store("noimport.example", "u", "p")
        assert store.get("noimport.example").password == "p"
        store.erase("noimport.example")
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("keyring", "secretstorage")))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "i.json")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert out.stdout.strip() == "[]"


@pytest.mark.peer
def test_pinned_to_another_backend_goes_through_keyring(
    use_secret_service: SecretService, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    assert not secret_service.usable()
    with pytest.raises(NoKeyringError):
        KeyringStore(index_path=str(tmp_path / "i.json")).get("quay.io")


@pytest.mark.peer
def test_parallel_short_lived_stores_do_not_crash_gnome_keyring(
    use_secret_service: SecretService, tmp_path: Path
) -> None:
    """Rounds of 8 processes storing (and replacing) 10 entries each, as parallel
    ``docker login``/``pull`` calling the helper do. Before the lean client greeted the
    service (secret_service.SecretServiceClient._greet), gnome-keyring 42 aborted in
    about one round in five, and the bus started a new daemon with the keyring locked."""
    pid = use_secret_service.keyring_pid
    index = tmp_path / "i.json"
    try:
        for _round in range(6):
            _run_concurrent(index, "auto")
            assert use_secret_service.keyring_alive(), use_secret_service.keyring_log()
        assert use_secret_service.keyring_pid == pid
    finally:
        store = KeyringStore(index_path=str(index))
        for server in store.list():
            store.erase(server)


@pytest.mark.peer
def test_secret_service_concurrent_stores(
    use_secret_service: SecretService, tmp_path: Path
) -> None:
    index = tmp_path / "i.json"
    _run_concurrent(index, "auto")
    store = KeyringStore(index_path=str(index))
    listed = store.list()
    try:
        assert len(listed) == 80
        for server in ("p0-0.example:5000", "p7-9.example:5000"):
            creds = store.get(server)
            assert creds is not None
            assert creds.username == listed[server]
    finally:
        for server in listed:
            store.erase(server)
    assert store.list() == {}


@pytest.fixture
def locked_service(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SecretService]:
    """A private Secret Service whose default collection we lock (not the shared one)."""
    directory = short_tmpdir("dclk")
    svc = start_secret_service(directory)
    try:
        for name, value in svc.env.items():
            monkeypatch.setenv(name, value)
        yield svc
    finally:
        svc.stop()
        import shutil

        shutil.rmtree(directory, ignore_errors=True)


@pytest.mark.peer
def test_locked_secret_service(locked_service: SecretService, tmp_path: Path) -> None:
    import secretstorage

    store = KeyringStore(index_path=str(tmp_path / "i.json"))
    store.store("locked.example", "alice", SECRET)
    conn = secretstorage.dbus_init()
    try:
        secretstorage.get_default_collection(conn).lock()
    finally:
        conn.close()
    for call in (
        lambda: store.get("locked.example"),
        lambda: KeyringStore(index_path=str(tmp_path / "i.json")).store("x", "y", SECRET),
    ):
        with pytest.raises(KeyringLockedError) as info:
            call()
        assert str(info.value) == MSG_LOCKED
    assert store.list() == {"locked.example": "alice"}


@pytest.mark.peer
def test_dead_bus_address(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/no-bus")
    store = KeyringStore(index_path=str(tmp_path / "i.json"))
    with pytest.raises(KeyringError) as info:
        store.get("quay.io")
    assert "D-Bus" in str(info.value)
    assert "gnome-keyring-daemon" in str(info.value)


# --------------------------------------------------------------------------- all or nothing


class WritesThenFails(MemoryKeyring):
    """A backend whose ``set_password`` changes the item and then reports a failure."""

    fail = True

    def set_password(self, service: str, username: str, password: str) -> None:
        super().set_password(service, username, password)
        if self.fail:
            raise RuntimeError("the backend failed after writing")


forget_backends(WritesThenFails)

GOOD = ("quay.io", "alice", SECRET)


def _snapshot(backend: MemoryKeyring, tmp_path: Path) -> tuple[Dict[object, str], bytes]:
    return dict(backend.items), (tmp_path / "i.json").read_bytes()


def _bad_store(bad: str) -> tuple[str, str, str]:
    return {
        "username": ("quay.io", "ali\udc80ce", "new-secret"),
        "secret": ("quay.io", "alice", "new\ud800secret"),
        "server": ("quay.io\udc80", "alice", "new-secret"),
        "nul-server": ("quay.io\x00x", "alice", "new-secret"),
    }[bad]


@pytest.mark.parametrize("bad", ["username", "secret", "server", "nul-server"])
def test_invalid_store_changes_nothing(tmp_path: Path, bad: str) -> None:
    backend = MemoryKeyring()
    store = KeyringStore(backend=backend, index_path=str(tmp_path / "i.json"))
    store.store(*GOOD)
    before = _snapshot(backend, tmp_path)
    with pytest.raises((InvalidCredentials, InvalidRegistry)) as info:
        store.store(*_bad_store(bad))
    assert "nothing was changed" in str(info.value)
    assert SECRET not in str(info.value)
    assert "new" not in str(info.value)
    assert _snapshot(backend, tmp_path) == before
    creds = store.get("quay.io")
    assert creds is not None
    assert (creds.username, creds.password) == ("alice", SECRET)


def test_backend_failing_after_the_write_restores_the_old_item(tmp_path: Path) -> None:
    backend = WritesThenFails()
    backend.fail = False
    store = KeyringStore(backend=backend, index_path=str(tmp_path / "i.json"))
    store.store(*GOOD)
    before = _snapshot(backend, tmp_path)
    backend.fail = True
    with pytest.raises(KeyringError, match="WritesThenFails"):
        store.store("quay.io", "bob", "other-secret")
    backend.fail = False
    assert _snapshot(backend, tmp_path) == before
    with pytest.raises(KeyringError):  # a new server: the half-written item is removed again
        backend.fail = True
        store.store("new.example", "bob", "other-secret")
    assert _snapshot(backend, tmp_path) == before


@pytest.mark.parametrize("action", ["store", "erase"])
def test_index_failure_puts_the_old_item_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, action: str
) -> None:
    backend = MemoryKeyring()
    store = KeyringStore(backend=backend, index_path=str(tmp_path / "i.json"))
    store.store(*GOOD)
    before = _snapshot(backend, tmp_path)

    def disk_full(self: object, servers: object) -> None:
        raise KeyringError("cannot write the keyring index: No space left on device")

    monkeypatch.setattr("dockercreds.keyring_index.KeyringIndex.write", disk_full)
    with pytest.raises(KeyringError, match="No space left"):
        if action == "store":
            store.store("quay.io", "bob", "other-secret")
        else:
            store.erase("quay.io")
    assert _snapshot(backend, tmp_path) == before


@pytest.mark.parametrize("action", ["store", "erase"])
def test_unreadable_index_fails_before_the_keyring_is_touched(
    tmp_path: Path, action: str
) -> None:
    backend = MemoryKeyring()
    store = KeyringStore(backend=backend, index_path=str(tmp_path / "i.json"))
    store.store(*GOOD)
    (tmp_path / "i.json").write_text("not json")
    items = dict(backend.items)
    with pytest.raises(KeyringError, match="keyring index"):
        if action == "store":
            store.store("quay.io", "bob", "other-secret")
        else:
            store.erase("quay.io")
    assert backend.items == items


def test_failed_erase_keeps_item_and_index(tmp_path: Path) -> None:
    class DeleteFails(MemoryKeyring):
        def delete_password(self, service: str, username: str) -> None:
            raise RuntimeError("cannot delete")

    forget_backends(DeleteFails)
    backend = DeleteFails()
    store = KeyringStore(backend=backend, index_path=str(tmp_path / "i.json"))
    store.store(*GOOD)
    before = _snapshot(backend, tmp_path)
    with pytest.raises(KeyringError, match="DeleteFails"):
        store.erase("quay.io")
    assert _snapshot(backend, tmp_path) == before


@pytest.mark.peer
def test_secret_service_invalid_store_keeps_the_good_entry(
    use_secret_service: SecretService, tmp_path: Path
) -> None:
    store = KeyringStore(index_path=str(tmp_path / "i.json"))
    try:
        store.store("atomic.example", "alice", SECRET)
        index = (tmp_path / "i.json").read_bytes()
        with pytest.raises(InvalidCredentials):
            store.store("atomic.example", "\udc80", "other")
        creds = store.get("atomic.example")
        assert creds is not None
        assert (creds.username, creds.password) == ("alice", SECRET)
        assert (tmp_path / "i.json").read_bytes() == index
    finally:
        store.erase("atomic.example")


# --------------------------------------------------------------------------- size-limited backends

BIG = "t" * 6000  # a 6,000-byte token: 12,000 bytes of UTF-16, past Windows' 2,560


class TestSizeLimitedBackend(StoreContract):
    """The whole contract on a backend that refuses secrets as Windows does."""

    @pytest.fixture
    def store(self, tmp_path: Path) -> KeyringStore:
        return KeyringStore(backend=SizeLimitedKeyring(), index_path=str(tmp_path / "i.json"))


@pytest.fixture(params=[SizeLimitedKeyring, WinVaultKeyring], ids=["refuses", "windows-named"])
def limited(request: pytest.FixtureRequest) -> SizeLimitedKeyring:
    backend: SizeLimitedKeyring = request.param()
    return backend


def _other_items(backend: MemoryKeyring, server: str) -> list[str]:
    return sorted(s for s, _u in backend.items if s.startswith(service_name(server)))


@pytest.mark.parametrize(
    "secret",
    [BIG, "é" * 3000, "\U0001f512" * 1500, "x" * 1225, "x" * 1226],
    ids=["ascii-6000", "latin-6000-bytes", "astral-6000-bytes", "just-fits", "just-over"],
)
def test_big_secret_round_trips(
    limited: SizeLimitedKeyring, tmp_path: Path, secret: str
) -> None:
    store = KeyringStore(backend=limited, index_path=str(tmp_path / "i.json"))
    store.store("ecr.example", "AWS", secret)
    creds = store.get("ecr.example")
    assert creds is not None
    assert (creds.username, creds.password) == ("AWS", secret)
    for value in limited.items.values():
        assert len(value.encode("utf-16-le")) <= 2560
    payload_bytes = len(encode_credentials("ecr.example", "AWS", secret).encode("utf-16-le"))
    whole = payload_bytes <= 2560
    assert (_other_items(limited, "ecr.example") == ["dockercreds:ecr.example"]) == whole
    if isinstance(limited, WinVaultKeyring):
        assert limited.refused == 0  # known limit: split up front, no failed write


def test_normal_backend_keeps_one_item(tmp_path: Path) -> None:
    backend = MemoryKeyring()
    store = KeyringStore(backend=backend, index_path=str(tmp_path / "i.json"))
    store.store("ecr.example", "AWS", BIG)
    assert list(backend.items) == [("dockercreds:ecr.example", ACCOUNT)]


def test_split_layout(tmp_path: Path) -> None:
    backend = SizeLimitedKeyring()
    store = KeyringStore(backend=backend, index_path=str(tmp_path / "i.json"))
    store.store("ecr.example", "AWS", BIG)
    header = backend.items[("dockercreds:ecr.example", ACCOUNT)]
    name, count, digest = header.split(" ")
    assert name == "dockercreds-parts/1"
    parts = [backend.items[(f"dockercreds:ecr.example#{digest[:12]}.{n}", ACCOUNT)]
             for n in range(1, int(count) + 1)]
    assert "".join(parts) == encode_credentials("ecr.example", "AWS", BIG)
    assert len(backend.items) == int(count) + 1
    assert BIG not in (tmp_path / "i.json").read_text()


@pytest.mark.parametrize("then", ["erase", "small", "other-big", "same-big"])
def test_replacing_a_split_entry_leaves_no_fragment(
    limited: SizeLimitedKeyring, tmp_path: Path, then: str
) -> None:
    store = KeyringStore(backend=limited, index_path=str(tmp_path / "i.json"))
    store.store("ecr.example", "AWS", BIG)
    store.store("keep.example", "bob", BIG)
    kept = {k: v for k, v in limited.items.items() if k[0].startswith("dockercreds:keep.")}
    if then == "erase":
        store.erase("ecr.example")
        assert _other_items(limited, "ecr.example") == []
        assert store.get("ecr.example") is None
    else:
        secret = {"small": "s", "other-big": "u" * 7000, "same-big": BIG}[then]
        store.store("ecr.example", "AWS", secret)
        creds = store.get("ecr.example")
        assert creds is not None
        assert creds.password == secret
        count = 1 if then == "small" else 1 + -(-len(
            encode_credentials("ecr.example", "AWS", secret)) // 1024)
        assert len(_other_items(limited, "ecr.example")) == count
    rest = {k: v for k, v in limited.items.items() if k[0].startswith("dockercreds:keep.")}
    assert rest == kept


class FailsOnNthWrite(SizeLimitedKeyring):
    """Fails once, at the ``fail_at``-th change (set or delete, from 0), then works."""

    fail_at: Optional[int] = None

    def _maybe_fail(self) -> None:
        if self.fail_at is not None:
            self.fail_at -= 1
            if self.fail_at == -1:
                raise RuntimeError("backend gave up")

    def set_password(self, service: str, username: str, password: str) -> None:
        self._maybe_fail()
        super().set_password(service, username, password)

    def delete_password(self, service: str, username: str) -> None:
        self._maybe_fail()
        super().delete_password(service, username)


forget_backends(FailsOnNthWrite)


@pytest.mark.parametrize("fail_at", range(16))
@pytest.mark.parametrize("new", ["s", "u" * 7000])
def test_failed_split_store_keeps_the_old_entry(tmp_path: Path, fail_at: int, new: str) -> None:
    backend = FailsOnNthWrite()
    store = KeyringStore(backend=backend, index_path=str(tmp_path / "i.json"))
    store.store("ecr.example", "AWS", BIG)
    before = _snapshot(backend, tmp_path)
    backend.fail_at = fail_at
    try:
        store.store("ecr.example", "bob", new)
    except KeyringError:
        backend.fail_at = None
        assert _snapshot(backend, tmp_path) == before
    else:  # fail_at was past the last change
        assert backend.fail_at is not None
        assert backend.fail_at >= 0
        backend.fail_at = None
        assert _other_items(backend, "ecr.example") == (
            ["dockercreds:ecr.example"] if new == "s" else _other_items(backend, "ecr.example")
        )
        creds = store.get("ecr.example")
        assert creds is not None
        assert (creds.username, creds.password) == ("bob", new)


def test_missing_part_is_an_error_not_a_short_secret(tmp_path: Path) -> None:
    backend = SizeLimitedKeyring()
    store = KeyringStore(backend=backend, index_path=str(tmp_path / "i.json"))
    store.store("ecr.example", "AWS", BIG)
    part = next(k for k in backend.items if k[0].endswith(".2"))
    del backend.items[part]
    with pytest.raises(KeyringError, match="split into parts") as info:
        store.get("ecr.example")
    assert BIG[:100] not in str(info.value)
    store.store("ecr.example", "AWS", "fresh")  # a broken entry can be replaced ...
    assert len(backend.items) == 1
    store.store("ecr.example", "AWS", BIG)
    del backend.items[next(k for k in backend.items if k[0].endswith(".1"))]
    store.erase("ecr.example")  # ... or erased
    assert backend.items == {}


def test_old_single_item_entry_still_reads(tmp_path: Path) -> None:
    backend = SizeLimitedKeyring()
    backend.items[("dockercreds:ecr.example", ACCOUNT)] = encode_credentials(
        "ecr.example", "AWS", "short"
    )
    store = KeyringStore(backend=backend, index_path=str(tmp_path / "i.json"))
    creds = store.get("ecr.example")
    assert creds is not None
    assert creds.password == "short"


def test_part_refused_too_is_a_clear_error(tmp_path: Path) -> None:
    backend = SizeLimitedKeyring()
    backend.limit = 100
    store = KeyringStore(backend=backend, index_path=str(tmp_path / "i.json"))
    with pytest.raises(KeyringError, match="refused even") as info:
        store.store("ecr.example", "AWS", BIG)
    assert BIG[:100] not in str(info.value)
    assert backend.items == {}
    assert store.list() == {}


@pytest.mark.parametrize("fail_at", range(8))
def test_failed_split_erase_keeps_the_entry(tmp_path: Path, fail_at: int) -> None:
    backend = FailsOnNthWrite()
    store = KeyringStore(backend=backend, index_path=str(tmp_path / "i.json"))
    store.store("ecr.example", "AWS", BIG)
    before = _snapshot(backend, tmp_path)
    backend.fail_at = fail_at
    try:
        store.erase("ecr.example")
    except KeyringError:
        backend.fail_at = None
        assert _snapshot(backend, tmp_path) == before
    else:
        backend.fail_at = None
        assert backend.items == {}
        assert store.list() == {}


@pytest.mark.peer
def test_lean_path_reads_and_replaces_a_split_entry(
    ss_store: KeyringStore, tmp_path: Path
) -> None:
    """A split entry (as a size-limited backend writes it) on the Secret Service: the
    lean path and the helper's ``get`` join it; storing over it leaves no part behind."""
    import keyring.backends.SecretService as kss

    server = "split.example"
    payload = encode_credentials(server, "AWS", BIG)
    header, parts = _split_payload(server, payload)
    backend = kss.Keyring()
    try:
        for item, text in parts:
            backend.set_password(item, ACCOUNT, text)
        backend.set_password(service_name(server), ACCOUNT, header)
        creds = ss_store.get(server)
        assert creds is not None
        assert (creds.username, creds.password) == ("AWS", BIG)
        out = subprocess.run(
            [sys.executable, "-m", "dockercreds.helper_main", "get"],
            input=server.encode(), capture_output=True, timeout=60, check=False,
        )
        assert (out.returncode, out.stdout) == (0, (payload + "\n").encode())
        ss_store.store(server, "AWS", "small")
        assert [_items(item) for item, _text in parts] == [[] for _ in parts]
        creds = ss_store.get(server)
        assert creds is not None
        assert creds.password == "small"
    finally:
        ss_store.erase(server)
        for item, _text in parts:
            with contextlib.suppress(Exception):
                backend.delete_password(item, ACCOUNT)
    assert _items(service_name(server)) == []


@pytest.mark.peer
def test_helper_get_imports_little(use_secret_service: SecretService, tmp_path: Path) -> None:
    """The helper's get path stays off socket.py, urllib and contextlib (milliseconds each)."""
    script = textwrap.dedent(
        """
        import io, sys
        from dockercreds.keyring_store import KeyringStore
        KeyringStore(index_path=sys.argv[1]).store("imports.example", "u", "p")
        for name in [m for m in sys.modules if m.startswith(("dockercreds", "urllib",
                     "socket", "selectors", "contextlib", "ipaddress"))]:
            del sys.modules[name]
        from dockercreds.helper_main import run
        out = io.BytesIO()
        assert run(["get"], io.BytesIO(b"imports.example"), out) == 0, out.getvalue()
        print(sorted(m for m in sys.modules if m.split(".")[0] in
                     ("urllib", "socket", "selectors", "contextlib", "ipaddress")))
        """
    )
    try:
        out = subprocess.run(
            [sys.executable, "-c", script, str(tmp_path / "i.json")],
            capture_output=True, text=True, timeout=60, check=True,
        )
        assert out.stdout.strip() == "[]"
    finally:
        KeyringStore(index_path=str(tmp_path / "i.json")).erase("imports.example")
