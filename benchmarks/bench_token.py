"""5. Token flow: one manifest and 50 blobs from a local registry in token mode.

A real docker-registry 2.8 on 127.0.0.1 trusts the token server of the project's own
integration tests (tests/test_auth_registry.py: ES256 JWTs, Basic users). One image with
a config blob and 49 layers (50 blobs) is pushed, then pulled:

* dockercreds: a fresh ``requests.Session`` with ``RegistryAuth(config=...)`` (the
  credentials come from a config.json), so each round pays the first 401 and one token.
* the minimum: a hand-written client that knows the flow in advance: the 401 for the
  manifest, one token request, then every request with that bearer token.

Requests are counted at the transport adapter (every send, retries and token fetches
included) and at the token server; wall times are medians of alternating rounds.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

from .common import Options, Row, SectionResult, fmt_ratio, fmt_time, median, paired

REPO = "bench/fifty"
BLOBS = 50
MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _image() -> Tuple[List[bytes], bytes]:
    """(blobs: config then 49 layers, manifest)."""
    layers = [b"layer-%d-" % i + secrets.token_bytes(256) for i in range(BLOBS - 1)]
    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST_V2,
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": len(config),
                "digest": _sha256(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": len(layer),
                    "digest": _sha256(layer),
                }
                for layer in layers
            ],
        }
    ).encode()
    return [config, *layers], manifest


class _Counter:
    def __init__(self) -> None:
        self.by_port: Dict[int, int] = {}

    def reset(self) -> None:
        self.by_port.clear()


def _session(counter: _Counter, auth: Any = None) -> Any:
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util import parse_url

    class Counting(HTTPAdapter):
        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            port = parse_url(request.url).port or 80
            counter.by_port[port] = counter.by_port.get(port, 0) + 1
            return super().send(request, *args, **kwargs)

    s = requests.Session()
    s.trust_env = False
    s.mount("http://", Counting())
    s.auth = auth
    return s


def _pull(s: Any, url: str, digests: List[str]) -> None:
    r = s.get(f"{url}/v2/{REPO}/manifests/v1", headers={"Accept": MANIFEST_V2})
    if r.status_code != 200:
        raise RuntimeError(f"manifest GET: HTTP {r.status_code}")
    for digest in digests:
        blob = s.get(f"{url}/v2/{REPO}/blobs/{digest}")
        if blob.status_code != 200 or _sha256(blob.content) != digest:
            raise RuntimeError(f"blob {digest}: HTTP {blob.status_code}")


def _minimal_pull(s: Any, url: str, digests: List[str], user: str, password: str) -> None:
    """The least a client can do: one 401, one token, then bearer on every request."""
    from dockercreds.auth import parse_www_authenticate

    r = s.get(f"{url}/v2/{REPO}/manifests/v1", headers={"Accept": MANIFEST_V2})
    challenge = parse_www_authenticate(r.headers["WWW-Authenticate"])[0]
    basic = base64.b64encode(f"{user}:{password}".encode()).decode()
    tok = s.get(
        challenge.realm,
        params={"service": challenge.service, "scope": challenge.get("scope")},
        headers={"Authorization": f"Basic {basic}"},
    )
    token = tok.json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    r = s.get(f"{url}/v2/{REPO}/manifests/v1", headers={"Accept": MANIFEST_V2, **bearer})
    if r.status_code != 200:
        raise RuntimeError(f"manifest GET with token: HTTP {r.status_code}")
    for digest in digests:
        blob = s.get(f"{url}/v2/{REPO}/blobs/{digest}", headers=bearer)
        if blob.status_code != 200 or _sha256(blob.content) != digest:
            raise RuntimeError(f"blob {digest}: HTTP {blob.status_code}")


def _push(url: str, user: str, password: str) -> List[str]:
    from dockercreds.auth import RegistryAuth
    from dockercreds.credentials import Credentials

    def creds(registry: str) -> Credentials:
        return Credentials(registry, username=user, password=password, source="bench")

    s = _session(_Counter(), RegistryAuth(credentials=creds))
    blobs, manifest = _image()
    for blob in blobs:
        start = s.post(f"{url}/v2/{REPO}/blobs/uploads/", data=b"")
        if start.status_code != 202:
            raise RuntimeError(f"upload start: HTTP {start.status_code}")
        location = start.headers["Location"]
        if not location.startswith("http"):
            location = url + location
        sep = "&" if "?" in location else "?"
        put = s.put(
            f"{location}{sep}digest={_sha256(blob)}",
            data=blob,
            headers={"Content-Type": "application/octet-stream"},
        )
        if put.status_code != 201:
            raise RuntimeError(f"blob upload: HTTP {put.status_code}")
    put = s.put(
        f"{url}/v2/{REPO}/manifests/v1", data=manifest, headers={"Content-Type": MANIFEST_V2}
    )
    if put.status_code != 201:
        raise RuntimeError(f"manifest PUT: HTTP {put.status_code}")
    return [_sha256(b) for b in blobs]


def _skip(res: SectionResult, why: str) -> SectionResult:
    res.rows.append(Row("token", "token flow", "", note=f"skipped: {why}"))
    return res


def run(opts: Options) -> SectionResult:
    res = SectionResult("token", "5. Token flow (1 manifest + 50 blobs, token mode)")
    try:
        import cryptography  # noqa: F401
        import requests  # noqa: F401

        from tests import peers
        from tests import test_auth_registry as tar
    except ImportError as exc:
        return _skip(res, f"{exc} (needs the test extra and tests/test_auth_registry.py)")
    except BaseException as exc:  # pytest.skip from tests.peers.require
        return _skip(res, f"{type(exc).__name__}: {exc}")
    from http.server import ThreadingHTTPServer

    from dockercreds.auth import RegistryAuth

    tmp = Path(tempfile.mkdtemp(prefix="dcbench-token-"))
    key, der, pem = tar._self_signed()
    (tmp / "root.pem").write_bytes(pem)
    server = tar.TokenServer(key, der)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), tar._handler(server))
    server.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    auth = {
        "token": {
            "realm": server.realm,
            "service": tar.SERVICE,
            "issuer": tar.ISSUER,
            "rootcertbundle": str(tmp / "root.pem"),
        }
    }
    reg = None
    try:
        try:
            reg = peers.start_registry(tmp / "reg", auth=auth)
        except BaseException as exc:  # PeerError, or pytest.skip when the binary is missing
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            return _skip(res, f"docker-registry: {type(exc).__name__}: {exc}")
        url = reg.url
        digests = _push(url, tar.USER, tar.PASSWORD)
        config_path = tmp / "config.json"
        b64 = base64.b64encode(f"{tar.USER}:{tar.PASSWORD}".encode()).decode()
        config_path.write_text(json.dumps({"auths": {reg.addr: {"auth": b64}}}))

        ours_counter, min_counter = _Counter(), _Counter()
        counts: Dict[str, Dict[str, int]] = {}

        def measure(
            name: str, counter: _Counter, body: Callable[[Any], None], auth: Any = None
        ) -> Callable[[], float]:
            def run_once() -> float:
                counter.reset()
                server.reset()
                s = _session(counter, auth() if auth else None)
                start = time.perf_counter()
                body(s)
                elapsed = time.perf_counter() - start
                s.close()
                counts[name] = {
                    "registry": counter.by_port.get(reg.port, 0) if reg else 0,
                    "token": len(server.seen),
                }
                return elapsed

            return run_once

        ours = measure(
            "ours",
            ours_counter,
            lambda s: _pull(s, url, digests),
            lambda: RegistryAuth(config=str(config_path)),
        )
        minimum = measure(
            "minimum",
            min_counter,
            lambda s: _minimal_pull(s, url, digests, tar.USER, tar.PASSWORD),
        )
        ours()  # warm-up
        minimum()
        a, b = paired(ours, minimum, opts.rounds(11, 3))
        mo, mm = median(a), median(b)
        c_ours, c_min = counts["ours"], counts["minimum"]
        res.rows.append(
            Row(
                "token",
                "token requests",
                str(c_ours["token"]),
                str(c_min["token"]),
                "",
                "= minimum (1)",
                c_ours["token"] == c_min["token"] == 1,
            )
        )
        res.rows.append(
            Row(
                "token",
                "registry requests (incl. the first 401)",
                str(c_ours["registry"]),
                str(c_min["registry"]),
                "",
                f"= minimum ({BLOBS + 2})",
                c_ours["registry"] == c_min["registry"],
            )
        )
        res.rows.append(
            Row(
                "token",
                f"wall time, fresh session (n={len(a)})",
                fmt_time(mo),
                fmt_time(mm),
                fmt_ratio(mo, mm),
            )
        )
        res.notes.append(
            "peer column = the minimal hand-written client (one 401, one token, bearer on"
            " every request) over the same requests.Session transport; dockercreds ="
            " requests.Session + RegistryAuth(config=config.json); registry and token server"
            " from tests/peers.py and tests/test_auth_registry.py on 127.0.0.1."
        )
    finally:
        if reg is not None:
            reg.stop()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    return res
