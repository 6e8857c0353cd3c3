"""A distribution token server and a docker-registry that trusts it, on 127.0.0.1.

Used by the integration tests (tests/test_auth_registry.py) and the token-flow
benchmark (benchmarks/bench_token.py):

* :class:`TokenServer` - ES256 JWTs with an ``x5c`` header, Basic user :data:`USER` /
  :data:`PASSWORD`, anonymous pull of ``public/*``, refresh tokens
  (``offline_token=true`` and the OAuth2 POST), and a record of every request
  (:attr:`TokenServer.seen`) so callers can count token fetches.
* :func:`start_token_registry` - the token server plus docker-registry 2.8
  (:func:`tests.peers.start_registry`) in token mode; stop both with
  :meth:`TokenRegistry.stop`.
* :func:`make_image`, :func:`push_image`, :func:`pull_image`, :func:`push_blob` -
  schema2 images of random blobs, moved over any ``requests.Session``.

Needs ``cryptography`` (signing) and ``requests``; both are imported lazily.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Tuple, Union
from urllib.parse import parse_qs, urlsplit

from tests.peers import CONFIG_V1, LAYER_GZIP, MANIFEST_V2, PeerError, Registry, start_registry

if TYPE_CHECKING:
    import requests

    from dockercreds.credentials import Credentials

SERVICE = "test-registry"
ISSUER = "test-token-issuer"
USER = "alice"
PASSWORD = "alice-" + secrets.token_hex(8)
TOKEN_LIFETIME = 300  # seconds, the ``expires_in`` of every token


def b64url(data: bytes) -> str:
    """Unpadded base64url, as in a JWT."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sha256_digest(data: bytes) -> str:
    """The registry digest of ``data``: ``sha256:<hex>``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- token server


@dataclass
class Seen:
    """One request the token server received (query for GET, form for POST)."""

    method: str
    query: Dict[str, List[str]]
    form: Dict[str, List[str]]
    authorization: Optional[str]


@dataclass
class TokenServer:
    """A distribution token server: Basic users, anonymous pull of ``public/*``.

    ``key``/``cert_der`` sign the tokens (the registry trusts the certificate);
    ``port`` is set once the HTTP server listens. ``post_enabled`` False answers the
    OAuth2 POST with 404 (old servers); ``expired_next`` N issues the next N tokens
    already expired, so the registry refuses them.
    """

    key: Any
    cert_der: bytes
    port: int = 0
    seen: List[Seen] = field(default_factory=list)
    refresh_tokens: Dict[str, str] = field(default_factory=dict)  # token -> user
    post_enabled: bool = True
    expired_next: int = 0  # issue this many already-expired tokens
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def reset(self) -> None:
        """Forget the requests seen and restore the default behaviour."""
        with self.lock:
            self.seen.clear()
            self.post_enabled = True
            self.expired_next = 0

    def gets(self) -> List[Seen]:
        """The GET requests seen (token fetches; the OAuth2 POSTs left out)."""
        with self.lock:
            return [s for s in self.seen if s.method == "GET"]

    def sign(self, access: List[Dict[str, Any]], subject: str) -> Tuple[str, int]:
        """(JWT granting ``access`` to ``subject``, expires_in seconds)."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        now = int(time.time())
        exp = now + TOKEN_LIFETIME
        with self.lock:
            if self.expired_next > 0:
                self.expired_next -= 1
                exp = now - 300  # beyond the registry's 60 s leeway
        header = {"typ": "JWT", "alg": "ES256", "x5c": [base64.b64encode(self.cert_der).decode()]}
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "aud": SERVICE,
            "exp": exp,
            "nbf": min(now, exp) - 10,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        signing_input = (
            b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
        )
        der = self.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return signing_input + "." + b64url(signature), TOKEN_LIFETIME

    def grant(self, user: Optional[str], scopes: List[str]) -> List[Dict[str, Any]]:
        """The JWT ``access`` claim for ``scopes``; anonymous (None) pulls ``public/*`` only."""
        access = []
        for scope in " ".join(scopes).split():
            typ, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            wanted = [a for a in actions.split(",") if a]
            if user is None:
                wanted = [a for a in wanted if a == "pull"] if name.startswith("public/") else []
            if wanted:
                access.append({"type": typ, "name": name, "actions": wanted})
        return access


def make_handler(server: TokenServer) -> type:
    """The ``BaseHTTPRequestHandler`` class serving ``server`` (GET and POST ``/token``)."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return None

        def reply(self, status: int, body: Dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def denied(self) -> None:
            self.reply(
                401,
                {"errors": [{"code": "UNAUTHORIZED", "message": "invalid username or password"}]},
            )

        def basic_user(self) -> Tuple[bool, Optional[str]]:
            """(ok, user): no header is anonymous; a bad one is not ok."""
            header = self.headers.get("Authorization")
            if header is None:
                return True, None
            if not header.startswith("Basic "):
                return False, None
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            if user == USER and password == PASSWORD:
                return True, user
            if user == "<token>" and password in server.refresh_tokens:
                return True, server.refresh_tokens[password]
            return False, None

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            with server.lock:
                server.seen.append(Seen("GET", query, {}, self.headers.get("Authorization")))
            if url.path != "/token":
                self.reply(404, {"details": "not found"})
                return
            ok, user = self.basic_user()
            if not ok:
                self.denied()
                return
            token, expires_in = server.sign(server.grant(user, query.get("scope", [])), user or "")
            body: Dict[str, Any] = {
                "token": token,
                "expires_in": expires_in,
                "issued_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            }
            if user is not None and query.get("offline_token") == ["true"]:
                refresh = secrets.token_hex(16)
                with server.lock:
                    server.refresh_tokens[refresh] = user
                body["refresh_token"] = refresh
            self.reply(200, body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode())
            with server.lock:
                server.seen.append(Seen("POST", {}, form, self.headers.get("Authorization")))
                enabled = server.post_enabled
            if not enabled:
                self.reply(404, {"details": "no oauth endpoint"})
                return
            refresh = (form.get("refresh_token") or [""])[0]
            if form.get("grant_type") != ["refresh_token"] or not form.get("client_id"):
                self.reply(400, {"error": "invalid_request"})
                return
            with server.lock:
                user = server.refresh_tokens.get(refresh)
            if user is None:
                self.reply(401, {"error": "invalid_grant", "error_description": "unknown token"})
                return
            scopes = (form.get("scope") or [""])[0].split()
            token, expires_in = server.sign(server.grant(user, scopes), user)
            self.reply(
                200,
                {"access_token": token, "expires_in": expires_in, "refresh_token": refresh},
            )

    return Handler


def self_signed_cert() -> Tuple[Any, bytes, bytes]:
    """(EC P-256 private key, certificate DER, certificate PEM) for :data:`ISSUER`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, ISSUER)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return (
        key,
        cert.public_bytes(serialization.Encoding.DER),
        cert.public_bytes(serialization.Encoding.PEM),
    )


# --------------------------------------------------------------------------- registry


@dataclass
class TokenRegistry:
    """A running docker-registry in token mode and the token server it trusts."""

    registry: Registry
    server: TokenServer
    httpd: ThreadingHTTPServer = field(repr=False)
    thread: threading.Thread = field(repr=False)

    @property
    def url(self) -> str:
        return self.registry.url

    @property
    def addr(self) -> str:
        return self.registry.addr

    @property
    def port(self) -> int:
        return self.registry.port

    def push(self, repo: str, *, n_layers: int = 1, layer_size: int = 64, tag: str = "v1") -> str:
        """Push a new :func:`make_image` to ``repo:tag`` as :data:`USER`; its manifest digest."""
        from dockercreds.auth_requests import RegistryAuth

        with new_session(RegistryAuth(credentials=user_credentials)) as s:
            blobs, manifest = make_image(n_layers, layer_size)
            return push_image(s, self.url, repo, blobs, manifest, tag=tag)

    def stop(self) -> None:
        """Stop the registry, then the token server (idempotent)."""
        try:
            self.registry.stop()
        finally:
            stop_http_server(self.httpd, self.thread)


def start_http_server(server: TokenServer) -> Tuple[ThreadingHTTPServer, threading.Thread]:
    """Serve ``server`` on 127.0.0.1:<free port> in a daemon thread; sets ``server.port``."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(server))
    server.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    return httpd, thread


def stop_http_server(httpd: ThreadingHTTPServer, thread: threading.Thread) -> None:
    """Stop a server from :func:`start_http_server` and wait for its thread (bounded)."""
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


def start_token_registry(tmpdir: Union[str, Path]) -> TokenRegistry:
    """Start a token server and a docker-registry trusting it; files go under ``tmpdir``.

    Nothing is pushed (see :meth:`TokenRegistry.push`). The caller stops both with
    :meth:`TokenRegistry.stop` and owns ``tmpdir``. A missing ``docker-registry``
    skips (or fails under ``CI=true``) as :func:`tests.peers.require` does; a registry
    that does not start raises :class:`tests.peers.PeerError`.
    """
    directory = Path(tmpdir)
    directory.mkdir(parents=True, exist_ok=True)
    key, der, pem = self_signed_cert()
    (directory / "root.pem").write_bytes(pem)
    server = TokenServer(key, der)
    httpd, thread = start_http_server(server)
    auth = {
        "token": {
            "realm": server.realm,
            "service": SERVICE,
            "issuer": ISSUER,
            "rootcertbundle": str(directory / "root.pem"),
        }
    }
    try:
        reg = start_registry(directory / "reg", auth=auth)
    except BaseException:
        stop_http_server(httpd, thread)
        raise
    return TokenRegistry(reg, server, httpd, thread)


# --------------------------------------------------------------------------- images


def user_credentials(registry: str) -> Credentials:
    """The token server's Basic user (:data:`USER`), for ``RegistryAuth(credentials=...)``."""
    from dockercreds.credentials import Credentials

    return Credentials(registry, username=USER, password=PASSWORD, source="test")


def new_session(auth: Any = None) -> requests.Session:
    """A ``requests.Session`` that ignores proxy variables, with ``auth`` set."""
    import requests

    s = requests.Session()
    s.trust_env = False
    s.auth = auth
    return s


def make_image(n_layers: int = 1, layer_size: int = 64) -> Tuple[List[bytes], bytes]:
    """(blobs: the config then ``n_layers`` random layers, schema2 manifest) of a new image."""
    layers = [b"layer-%d-" % i + secrets.token_bytes(layer_size) for i in range(n_layers)]
    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST_V2,
            "config": {
                "mediaType": CONFIG_V1,
                "size": len(config),
                "digest": sha256_digest(config),
            },
            "layers": [
                {"mediaType": LAYER_GZIP, "size": len(layer), "digest": sha256_digest(layer)}
                for layer in layers
            ],
        }
    ).encode()
    return [config, *layers], manifest


def push_blob(s: requests.Session, url: str, repo: str, blob: bytes) -> None:
    """Monolithic upload (POST then PUT) of ``blob`` to ``repo``; PeerError unless 202/201."""
    start = s.post(f"{url}/v2/{repo}/blobs/uploads/", data=b"")
    if start.status_code != 202:
        raise PeerError(
            f"blob upload start to {url}/v2/{repo}: HTTP {start.status_code} {start.text}"
        )
    location = start.headers["Location"]
    if not location.startswith("http"):
        location = url + location
    sep = "&" if "?" in location else "?"
    put = s.put(
        f"{location}{sep}digest={sha256_digest(blob)}",
        data=blob,
        headers={"Content-Type": "application/octet-stream"},
    )
    if put.status_code != 201:
        raise PeerError(f"blob upload to {url}/v2/{repo}: HTTP {put.status_code} {put.text}")


def push_image(
    s: requests.Session,
    url: str,
    repo: str,
    blobs: List[bytes],
    manifest: bytes,
    *,
    tag: str = "v1",
) -> str:
    """Push ``blobs`` then ``manifest`` (from :func:`make_image`) to ``repo:tag``.

    Returns the manifest digest; PeerError when the registry refuses a step.
    """
    for blob in blobs:
        push_blob(s, url, repo, blob)
    put = s.put(
        f"{url}/v2/{repo}/manifests/{tag}", data=manifest, headers={"Content-Type": MANIFEST_V2}
    )
    if put.status_code != 201:
        raise PeerError(f"manifest PUT to {url}/v2/{repo}:{tag}: HTTP {put.status_code} {put.text}")
    return sha256_digest(manifest)


def pull_image(
    s: requests.Session,
    url: str,
    repo: str,
    *,
    tag: str = "v1",
    headers: Optional[Mapping[str, str]] = None,
) -> int:
    """Pull the manifest and every blob of ``repo:tag``, checking digests.

    ``headers`` go on every request (e.g. a ready-made bearer token). Returns the
    number of requests made (1 + blobs, retries inside ``s.auth`` not counted);
    PeerError on a non-200 answer or a digest mismatch.
    """
    extra = dict(headers or {})
    r = s.get(f"{url}/v2/{repo}/manifests/{tag}", headers={"Accept": MANIFEST_V2, **extra})
    if r.status_code != 200:
        raise PeerError(f"manifest GET {url}/v2/{repo}:{tag}: HTTP {r.status_code} {r.text}")
    if r.headers.get("Docker-Content-Digest") != sha256_digest(r.content):
        raise PeerError(f"manifest of {repo}:{tag}: Docker-Content-Digest does not match")
    manifest = r.json()
    digests = [manifest["config"]["digest"]] + [layer["digest"] for layer in manifest["layers"]]
    for digest in digests:
        blob = s.get(f"{url}/v2/{repo}/blobs/{digest}", headers=extra)
        if blob.status_code != 200:
            raise PeerError(f"blob GET {repo}@{digest}: HTTP {blob.status_code}")
        if sha256_digest(blob.content) != digest:
            raise PeerError(f"blob {repo}@{digest}: content does not match its digest")
    return 1 + len(digests)
