"""dockercreds.netfail: one line for any network failure, whatever library wrapped it."""

from __future__ import annotations

import socket
import ssl

import httpx
import pytest
import requests
import urllib3

from dockercreds.netfail import reason, unreachable


def _wrapped(inner: BaseException) -> BaseException:
    """The layers requests puts around an OS error (urllib3 2.x)."""
    conn = urllib3.exceptions.NewConnectionError(None, f"Failed to establish: {inner}")  # type: ignore[arg-type]
    conn.__cause__ = inner
    retry = urllib3.exceptions.MaxRetryError(None, "/v2/", conn)  # type: ignore[arg-type]
    return requests.exceptions.ConnectionError(retry)


def _httpx(inner: BaseException) -> BaseException:
    outer = httpx.ConnectError(str(inner))
    outer.__cause__ = inner
    return outer


CASES = [
    (socket.gaierror(-2, "Name or service not known"), "name resolution failed"),
    (ConnectionRefusedError(111, "Connection refused"), "connection refused"),
    (ConnectionResetError(104, "Connection reset by peer"), "connection reset by the server"),
    (socket.timeout("timed out"), "timed out"),
    (OSError(101, "Network is unreachable"), "network is unreachable"),
    (ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"), "TLS failure"),
]


@pytest.mark.parametrize(("inner", "cause"), CASES)
@pytest.mark.parametrize("wrap", [lambda e: e, _wrapped, _httpx])
def test_reason_names_the_cause(inner: BaseException, cause: str, wrap: object) -> None:
    exc = wrap(inner)  # type: ignore[operator]
    text = reason(exc)
    assert text.startswith(cause)
    assert "Pool" not in text and "object at" not in text and "\n" not in text


def test_name_resolution_error_of_urllib3() -> None:
    exc = urllib3.exceptions.NameResolutionError("quay.io", None, socket.gaierror(-2, "x"))  # type: ignore[arg-type]
    assert unreachable("quay.io", requests.exceptions.ConnectionError(exc)) == (
        "cannot reach quay.io: name resolution failed"
    )


def test_certificate_failure() -> None:
    err = ssl.SSLCertVerificationError(1, "certificate verify failed")
    err.verify_message = "self-signed certificate"
    assert reason(requests.exceptions.SSLError(err)) == (
        "TLS failure: certificate verify failed (self-signed certificate)"
    )


def test_refused_wins_over_urllib3s_timeout_class() -> None:
    # urllib3's NewConnectionError subclasses ConnectTimeoutError, even when refused
    assert reason(_wrapped(ConnectionRefusedError(111, "refused"))) == "connection refused"


def test_unknown_failure_names_the_class_only() -> None:
    assert reason(RuntimeError("<pool object at 0x1>")) == "connection failed (RuntimeError)"


def test_cycles_are_bounded() -> None:
    a, b = RuntimeError("a"), RuntimeError("b")
    a.__context__, b.__context__ = b, a
    assert reason(a) == "connection failed (RuntimeError)"
