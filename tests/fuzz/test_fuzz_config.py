"""Fuzz: config text (config.json, containers auth.json, DOCKER_AUTH_CONFIG)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockercreds.config import Source, load_env, load_file, parse_config_text
from dockercreds.resolver import get_registry_credentials, resolve
from tests.fuzz.common import (
    SECRETS,
    assert_no_secret,
    docker_configs,
    fuzz,
    hosts,
    json_values,
    nasty_text,
    typed_errors_only,
)

SOURCE = Source("docker", "file:/fuzz/config.json", "/fuzz/config.json")

# Text mutations of a valid config: cut it, insert junk, duplicate keys, change case.
def _mutate(text: str, cut: int, junk: str, where: int) -> str:
    where = where % (len(text) + 1)
    return (text[: cut % (len(text) + 1)] if cut < 0 else text[:where] + junk + text[where:])


config_texts = st.one_of(
    docker_configs.map(json.dumps),
    st.builds(_mutate, docker_configs.map(json.dumps), st.integers(-100, 100), nasty_text,
              st.integers(0, 400)),
    json_values.map(json.dumps),
    nasty_text,
    st.sampled_from([
        '{"auths": {"quay.io": {"auth": "dXNlcjpTM2NyM3QtRno5cS1wNHNz"}}, "auths": {}}',
        '{"Auths": {"quay.io": {}}, "auths": {"QUAY.io": {}}}',
        '{"auths": {"quay.io": {"Auth": 1, "auth": "dXNlcjpTM2NyM3QtRno5cS1wNHNz"}}}',
        '\ufeff{"auths": {}}',
        '{"auths": {}} trailing',
        '{"credsStore": null, "credHelpers": null, "auths": null}',
    ]),
)


def _use(config: object) -> None:
    """Everything a caller does with a loaded config: index, lookups, repr."""
    for host in ("quay.io", "docker.io", "localhost:5000", "reg.example"):
        with typed_errors_only():
            creds = resolve(host, "", config=config)  # type: ignore[arg-type]
            if creds is not None:
                assert_no_secret(repr(creds) + str(creds))
    assert_no_secret(repr(config))


@fuzz(150)
@given(config_texts)
def test_config_text(text: str) -> None:
    with typed_errors_only():
        config = parse_config_text(text, SOURCE)
        for warning in config.warnings:
            assert_no_secret(warning)
        _use(config)


@fuzz(60)
@given(config_texts)
def test_docker_auth_config(text: str) -> None:
    with typed_errors_only():
        config = load_env({"DOCKER_AUTH_CONFIG": text})
        if config is not None:
            _use(config)


@fuzz(40)
@given(st.binary(max_size=200) | config_texts.map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_config_file_bytes(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("cfg") / "config.json"
    path.write_bytes(data)
    with typed_errors_only():
        config = load_file(path)
        _use(config)
    with typed_errors_only():
        get_registry_credentials("quay.io", config=str(path))


# --- JSON limits (issue 10 finding 7, config.py): deep nesting, huge ints, surrogates,
# NaN/Infinity. Kept apart so the classes above stay strict.
limit_texts = st.one_of(
    st.integers(1, 100_000).map(lambda n: "[" * n + "]" * n),
    st.integers(1, 100_000).map(lambda n: '{"auths":' + '{"a":' * n + "1" + "}" * n + "}"),
    st.integers(4000, 20_000).map(lambda n: '{"auths": {}, "x": ' + "9" * n + "}"),
    st.sampled_from([
        '{"auths": {"quay.io": {"auth": "\\ud800"}}}',
        '{"auths": {"\\udcff": {"auth": "dXNlcjpTM2NyM3QtRno5cS1wNHNz"}}}',
        '{"auths": {"quay.io": {"username": "u\\ud800", "password": "p"}}}',
        '{"auths": {}, "x": NaN}',
        '{"auths": {}, "x": -Infinity}',
        '{"auths": {}, "x": 1e400}',
    ]),
)


@fuzz(15)
@given(limit_texts)
def test_config_json_limits(text: str) -> None:
    with typed_errors_only():
        config = parse_config_text(text, SOURCE)
        _use(config)
    with typed_errors_only():
        config = load_env({"DOCKER_AUTH_CONFIG": text})
        if config is not None:
            _use(config)


@fuzz(60)
@given(st.dictionaries(hosts, st.sampled_from(SECRETS), min_size=1, max_size=3))
def test_secrets_never_in_errors_about_entries(entries: dict[str, str]) -> None:
    """An ``auth`` value that is a bare secret (no ':') is reported without the secret."""
    import base64

    auths = {k: {"auth": base64.b64encode(v.encode()).decode()} for k, v in entries.items()}
    with typed_errors_only():
        _use(parse_config_text(json.dumps({"auths": auths}), SOURCE))
