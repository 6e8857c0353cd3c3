"""``dockercreds token IMAGE``: prints a bearer token (HTTP mocked with `responses`)."""

from __future__ import annotations

import base64
import json
import socket
from pathlib import Path
from typing import List
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from dockercreds.cli import main
from tests.hostile_server import HostileServer

REALM = "https://auth.example/token"
PASSWORD = "s3cret-password"


def _config(tmp_path: Path, registry: str) -> str:
    b64 = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"auths": {registry: {"auth": b64}}}))
    return str(path)


def _bearer_ping(url: str) -> None:
    responses.add(
        "GET",
        url,
        status=401,
        headers={"WWW-Authenticate": f'Bearer realm="{REALM}",service="svc"'},
    )


@pytest.mark.parametrize(
    ("image", "api", "flags", "scope"),
    [
        ("quay.io/org/app:1", "https://quay.io", [], "repository:org/app:pull"),
        ("quay.io/org/app", "https://quay.io", ["--push"], "repository:org/app:pull,push"),
        ("alpine", "https://registry-1.docker.io", [], "repository:library/alpine:pull"),
    ],
)
@responses.activate
def test_token(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    image: str,
    api: str,
    flags: List[str],
    scope: str,
) -> None:
    registry = "https://index.docker.io/v1/" if "quay" not in image else "quay.io"
    _bearer_ping(f"{api}/v2/")
    responses.add("GET", REALM, json={"token": "THE-TOKEN"})
    assert main(["token", image, "--config", _config(tmp_path, registry), *flags]) == 0
    out, err = capsys.readouterr()
    assert (out, err) == ("THE-TOKEN\n", "")
    query = parse_qs(urlsplit(responses.calls[1].request.url).query)
    assert query["scope"] == [scope]
    assert query["account"] == ["alice"]


@responses.activate
def test_token_loopback_falls_back_to_http(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    responses.add(
        "GET", "https://127.0.0.1:5000/v2/", body=requests.exceptions.SSLError("wrong version")
    )
    responses.add(
        "GET",
        "http://127.0.0.1:5000/v2/",
        status=401,
        headers={"WWW-Authenticate": 'Bearer realm="http://127.0.0.1:5001/token",service="s"'},
    )
    responses.add("GET", "http://127.0.0.1:5001/token", json={"access_token": "T"})
    assert (
        main(["token", "127.0.0.1:5000/app", "--config", _config(tmp_path, "127.0.0.1:5000")]) == 0
    )
    assert capsys.readouterr().out == "T\n"


@responses.activate
def test_token_remote_http_only_with_insecure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "none.json").write_text("{}")  # a --config that is named must exist
    responses.add(
        "GET", "https://reg.example:5000/v2/", body=requests.exceptions.ConnectionError("refused")
    )
    assert main(["token", "reg.example:5000/app", "--config", str(tmp_path / "none.json")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("dockercreds: cannot reach reg.example:5000: ")
    assert err.count("\n") == 1
    assert "use --insecure" in err
    assert "Traceback" not in err
    responses.add(
        "GET",
        "http://reg.example:5000/v2/",
        status=401,
        headers={"WWW-Authenticate": 'Bearer realm="http://reg.example:5000/token",service="s"'},
    )
    responses.add("GET", "http://reg.example:5000/token", json={"token": "T"})
    argv = ["token", "reg.example:5000/app", "--insecure", "--config", str(tmp_path / "none.json")]
    assert main(argv) == 0
    assert capsys.readouterr().out == "T\n"


@responses.activate
def test_token_basic_registry(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    responses.add(
        "GET", "https://quay.io/v2/", status=401, headers={"WWW-Authenticate": 'Basic realm="r"'}
    )
    assert main(["token", "quay.io/org/app", "--config", _config(tmp_path, "quay.io")]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "Basic authentication" in err
    assert PASSWORD not in err


@responses.activate
def test_token_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _bearer_ping("https://quay.io/v2/")
    responses.add("GET", REALM, status=401, json={"details": "incorrect username or password"})
    assert main(["token", "quay.io/org/app", "--config", _config(tmp_path, "quay.io")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "incorrect username or password" in err
    assert "repository:org/app:pull" in err
    assert PASSWORD not in err
    # the hint repeats the config the user named (issue 14)
    assert f"dockercreds explain quay.io --config {tmp_path / 'config.json'} shows" in err


def test_token_bad_image(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "UPPER/Case"]) == 1
    assert "Traceback" not in capsys.readouterr().err


def test_token_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["token"])
    assert info.value.code == 2


@pytest.mark.parametrize(
    "target", ["quay.io", "localhost:5000", "localhost", "https://quay.io/v2/"]
)
@responses.activate
def test_token_refuses_a_registry_target(target: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`token quay.io` once asked Docker Hub for docker.io/library/quay.io."""
    with pytest.raises(SystemExit) as info:
        main(["token", target, "--config", "/nonexistent/config.json"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "is a registry; a token is for a repository" in err
    assert len(responses.calls) == 0


@pytest.mark.parametrize(
    ("image", "api", "scope"),
    [
        ("ubuntu:22.04", "https://registry-1.docker.io", "repository:library/ubuntu:pull"),
        (
            "docker.io/library/quay.io",
            "https://registry-1.docker.io",
            "repository:library/quay.io:pull",
        ),
        ("quay.io/org/app", "https://quay.io", "repository:org/app:pull"),
    ],
)
@responses.activate
def test_token_image_targets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], image: str, api: str, scope: str
) -> None:
    _bearer_ping(f"{api}/v2/")
    responses.add("GET", REALM, json={"token": "T"})
    assert main(["token", image, "--config", _empty(tmp_path)]) == 0
    assert capsys.readouterr().out == "T\n"
    assert parse_qs(urlsplit(responses.calls[1].request.url).query)["scope"] == [scope]


def _empty(tmp_path: Path) -> str:
    path = tmp_path / "empty.json"
    path.write_text("{}")
    return str(path)


def test_token_unreachable_registry_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert main(["token", f"127.0.0.1:{port}/app", "--config", _empty(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"dockercreds: cannot reach 127.0.0.1:{port}: connection refused")
    assert err.count("\n") == 1
    assert "urllib3" not in err and "Pool" not in err


def test_token_slow_server_ends_with_timeout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with HostileServer("drip", interval=0.05, max_seconds=8) as server:
        target = f"127.0.0.1:{server.port}/app"
        assert main(["token", target, "--timeout", "0.5", "--config", _empty(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "timed out" in err and err.count("\n") == 1


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "1e400", "1e12", "86401", "x"])
def test_token_timeout_must_be_positive(capsys: pytest.CaptureFixture[str], value: str) -> None:
    """inf and 1e12 overflowed in the socket wait (OverflowError); now usage errors."""
    with pytest.raises(SystemExit) as info:
        main(["token", "quay.io/org/app", "--timeout", value])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --timeout: {value!r} is not a positive number of seconds" in err
