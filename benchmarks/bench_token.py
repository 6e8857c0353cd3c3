"""5. Token flow: one manifest and 50 blobs from a local registry in token mode.

A real docker-registry 2.8 on 127.0.0.1 trusts the token server of the project's own
integration tests (tests/token_server.py: ES256 JWTs, Basic users). One image with
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
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict

from .common import Options, Row, SectionResult, fmt_ratio, fmt_time, median, paired

REPO = "bench/fifty"
BLOBS = 50


class _Counter:
    def __init__(self) -> None:
        self.by_port: Dict[int, int] = {}

    def reset(self) -> None:
        self.by_port.clear()


def _session(counter: _Counter, auth: Any = None) -> Any:
    from requests.adapters import HTTPAdapter
    from urllib3.util import parse_url

    from tests.token_server import new_session

    class Counting(HTTPAdapter):
        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            port = parse_url(request.url).port or 80
            counter.by_port[port] = counter.by_port.get(port, 0) + 1
            return super().send(request, *args, **kwargs)

    s = new_session(auth)
    s.mount("http://", Counting())
    return s


def _minimal_pull(s: Any, url: str, user: str, password: str) -> None:
    """The least a client can do: one 401, one token, then bearer on every request."""
    from dockercreds.auth import parse_www_authenticate
    from tests.peers import MANIFEST_V2
    from tests.token_server import pull_image

    r = s.get(f"{url}/v2/{REPO}/manifests/v1", headers={"Accept": MANIFEST_V2})
    challenge = parse_www_authenticate(r.headers["WWW-Authenticate"])[0]
    basic = base64.b64encode(f"{user}:{password}".encode()).decode()
    tok = s.get(
        challenge.realm,
        params={"service": challenge.service, "scope": challenge.get("scope")},
        headers={"Authorization": f"Basic {basic}"},
    )
    token = tok.json()["token"]
    pull_image(s, url, REPO, headers={"Authorization": f"Bearer {token}"})


def _skip(res: SectionResult, why: str) -> SectionResult:
    res.rows.append(Row("token", "token flow", "", note=f"skipped: {why}"))
    return res


def run(opts: Options) -> SectionResult:
    res = SectionResult("token", "5. Token flow (1 manifest + 50 blobs, token mode)")
    try:
        import cryptography  # noqa: F401
        import requests  # noqa: F401

        from tests import token_server as ts
    except ImportError as exc:
        return _skip(res, f"{exc} (needs the test extra and tests/token_server.py)")
    except BaseException as exc:  # pytest.skip from tests.peers.require
        return _skip(res, f"{type(exc).__name__}: {exc}")
    from dockercreds.auth_requests import RegistryAuth

    tmp = Path(tempfile.mkdtemp(prefix="dcbench-token-"))
    tr = None
    try:
        try:
            tr = ts.start_token_registry(tmp)
        except BaseException as exc:  # PeerError, or pytest.skip when the binary is missing
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            return _skip(res, f"docker-registry: {type(exc).__name__}: {exc}")
        server, url = tr.server, tr.url
        tr.push(REPO, n_layers=BLOBS - 1, layer_size=256)
        config_path = tmp / "config.json"
        b64 = base64.b64encode(f"{ts.USER}:{ts.PASSWORD}".encode()).decode()
        config_path.write_text(json.dumps({"auths": {tr.addr: {"auth": b64}}}))

        ours_counter, min_counter = _Counter(), _Counter()
        counts: Dict[str, Dict[str, int]] = {}

        def measure(
            name: str, counter: _Counter, body: Callable[[Any], object], auth: Any = None
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
                    "registry": counter.by_port.get(tr.port, 0) if tr else 0,
                    "token": len(server.seen),
                }
                return elapsed

            return run_once

        ours = measure(
            "ours",
            ours_counter,
            lambda s: ts.pull_image(s, url, REPO),
            lambda: RegistryAuth(config=str(config_path)),
        )
        minimum = measure(
            "minimum",
            min_counter,
            lambda s: _minimal_pull(s, url, ts.USER, ts.PASSWORD),
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
            " from tests/peers.py and tests/token_server.py on 127.0.0.1."
        )
    finally:
        if tr is not None:
            tr.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return res
