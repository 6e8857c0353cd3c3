"""Fuzz: the kubelet CredentialProviderRequest on stdin, and k8s-secret inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockercreds import kubernetes
from tests.fuzz.common import (
    SECRETS,
    assert_no_secret,
    check_program,
    fuzz,
    image_words,
    json_values,
    nasty_text,
    run_cli,
    typed_errors_only,
)

API = kubernetes.API_VERSIONS

requests_ = st.fixed_dictionaries(
    {},
    optional={
        "apiVersion": st.sampled_from(API) | json_values,
        "kind": st.just("CredentialProviderRequest") | json_values,
        "image": image_words | json_values,
        "serviceAccountToken": st.just(SECRETS[1]) | json_values,
        "serviceAccountAnnotations": json_values,
    },
)


def _dumps(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False)


request_texts = st.one_of(
    requests_.map(_dumps),
    requests_.map(json.dumps),  # \\u escapes: lone surrogates survive as escapes
    json_values.map(_dumps),
    nasty_text,
    st.integers(1, 60_000).map(lambda n: "[" * n + "]" * n),
    st.integers(1, 60_000).map(
        lambda n: '{"kind":"CredentialProviderRequest","x":' + '{"a":' * n + "1" + "}" * n + "}"
    ),
    st.integers(4000, 30_000).map(
        lambda n: '{"kind":"CredentialProviderRequest","image":"a","n":' + "9" * n + "}"
    ),
    st.sampled_from([
        '{"kind":"CredentialProviderRequest","apiVersion":"' + API[0] + '","image":"\\ud800"}',
        '{"kind":"CredentialProviderRequest","apiVersion":"' + API[0] + '","image":"quay.io"}',
        '{"kind":"CredentialProviderRequest","apiVersion":"' + API[0] + '","image":"a","x":NaN}',
        '{"kind":"CredentialProviderRequest","apiVersion":["' + API[0] + '"],"image":"a"}',
        '{"kind":{"k":1},"apiVersion":"' + API[0] + '","image":"a"}',
    ]),
)


@pytest.fixture
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("k8s") / "config.json"
    auth = "dXNlcjpTM2NyM3QtRno5cS1wNHNz"  # user:S3cr3t-Fz9q-p4ss
    path.write_text(json.dumps({"auths": {
        "quay.io": {"auth": auth}, "quay.io/org": {"auth": auth},
        "https://index.docker.io/v1/": {"auth": auth}, "localhost:5000": {"auth": auth},
    }}))
    return path


@fuzz(50)
@given(request_texts)
def test_parse_request(text: str) -> None:
    with typed_errors_only():
        request = kubernetes.parse_request(text)
        assert request.api_version in API
        assert isinstance(request.image, str) and request.image


@fuzz(60)
@given(request_texts)
def test_run_plugin(config: Path, text: str) -> None:
    with typed_errors_only():
        response = json.loads(kubernetes.run_plugin(text, config=str(config), timeout=30))
        assert response["kind"] == "CredentialProviderResponse"
        # the only secret in a response is the password itself, in auth
        body = dict(response)
        body.pop("auth")
        assert_no_secret(json.dumps(body))


@fuzz(100)
@given(request_texts.map(lambda t: t.encode("utf-8", "surrogatepass")) | st.binary(max_size=100))
def test_kubelet_plugin_program(config: Path, data: bytes) -> None:
    result = run_cli(["kubelet-plugin", "--config", str(config)], stdin=data)
    check_program(result, prints_secrets=True)
    if result.code == 0:
        assert json.loads(result.out)["kind"] == "CredentialProviderResponse"


_flag_values = nasty_text | image_words  # not secrets: messages may name the server


@fuzz(60)
@given(
    st.sampled_from(["regcred", "a", "Bad", "a..b", "x" * 300, "-a"]) | nasty_text,
    st.fixed_dictionaries({}, optional={
        "--docker-server": _flag_values,
        "--docker-username": st.just("user") | nasty_text,
        "--docker-password": st.sampled_from(SECRETS) | nasty_text,
        "--docker-email": nasty_text,
        "--namespace": st.sampled_from(["default", "kube-system", "NS"]) | nasty_text,
        "-o": st.sampled_from(["json", "yaml", "xml"]),
    }),
)
def test_k8s_secret_flags(name: str, flags: dict[str, str]) -> None:
    argv = ["k8s-secret", name]
    for flag, value in flags.items():
        argv.append(f"{flag}={value}")
    result = run_cli(argv)
    check_program(result, prints_secrets=False) if result.code else None
    if result.code == 0:
        assert "kind" in result.out
    else:
        assert_no_secret(result.err)
