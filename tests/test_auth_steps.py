"""dockercreds.auth_steps: the values the token flow and its drivers exchange."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, Dict

import pytest

from dockercreds import auth_steps
from dockercreds.auth_steps import (
    MAX_TOKEN_BODY,
    Fetch,
    FlowResponse,
    RequestInfo,
    SendRequest,
    Step,
)

SECRET = "s3cr3t-Zq9"
AUTH = f"Basic {SECRET}"


def test_max_token_body_is_one_mebibyte() -> None:
    assert MAX_TOKEN_BODY == 1024 * 1024


def test_step_is_send_request_or_fetch() -> None:
    assert set(typing.get_args(Step)) == {SendRequest, Fetch}


def test_exports() -> None:
    assert sorted(auth_steps.__all__) == sorted(
        ["MAX_TOKEN_BODY", "CredentialsFn", "Fetch", "FlowResponse", "RequestInfo",
         "SendRequest", "Step"]
    )
    for name in auth_steps.__all__:
        assert hasattr(auth_steps, name)


def test_defaults() -> None:
    fetch = Fetch("GET", "https://auth.example.com/token")
    assert (fetch.headers, fetch.body, fetch.deadline) == ((), None, None)
    assert (fetch.purpose, fetch.timeout) == ("token request", 0.0)
    assert SendRequest().authorization is None
    response = FlowResponse(200, "https://r.example.com/v2/")
    assert (response.www_authenticate, response.body, response.location) == ((), b"", None)


@pytest.mark.parametrize(
    "value",
    [
        RequestInfo("GET", "https://r.example.com/v2/"),
        SendRequest(AUTH),
        Fetch("GET", "https://a/t"),
        FlowResponse(200, "https://a/t"),
    ],
)
def test_frozen(value: Any) -> None:
    field = dataclasses.fields(value)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(value, field, "changed")


# what is sent is compared; the limits and the wording are not
@pytest.mark.parametrize(
    ("changes", "equal"),
    [
        ({}, True),
        ({"deadline": 99.0}, True),
        ({"purpose": "ping of quay.io"}, True),
        ({"timeout": 30.0}, True),
        ({"method": "POST"}, False),
        ({"url": "https://a/other"}, False),
        ({"headers": (("Accept", "application/json"),)}, False),
        ({"body": b"grant_type=refresh_token"}, False),
    ],
)
def test_fetch_equality(changes: Dict[str, Any], equal: bool) -> None:
    base = Fetch(
        "GET", "https://a/t", (("Authorization", AUTH),), None, 10.0, "token request", 5.0
    )
    other = dataclasses.replace(base, **changes)
    assert (base == other) is equal
    if equal:
        assert hash(base) == hash(other)


@pytest.mark.parametrize(
    "value",
    [
        SendRequest(authorization=AUTH),
        Fetch(
            "POST", "https://a/t", (("Authorization", AUTH),), f"refresh_token={SECRET}".encode()
        ),
        FlowResponse(200, "https://a/t", body=f'{{"token": "{SECRET}"}}'.encode()),
    ],
)
def test_repr_hides_secrets(value: Any) -> None:
    text = repr(value)
    assert SECRET not in text
    assert type(value).__name__ in text


def test_repr_shows_what_is_not_secret() -> None:
    text = repr(Fetch("GET", "https://a/t", deadline=12.5, purpose="ping of quay.io"))
    assert "'GET'" in text
    assert "'https://a/t'" in text
    assert "12.5" in text
    assert "ping of quay.io" in text
    response = repr(FlowResponse(302, "https://a/t", ('Bearer realm="r"',), location="/x"))
    assert "302" in response
    assert "'/x'" in response
