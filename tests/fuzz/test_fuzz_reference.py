"""Fuzz: image references, registry keys and CLI targets."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dockercreds import reference
from dockercreds.config import Source, parse_config_text
from dockercreds.registry import normalize_registry, parse_key
from dockercreds.resolver import get_credentials, get_registry_credentials, parse_target
from tests.fuzz.common import fuzz, image_words, typed_errors_only

CONFIG = parse_config_text(
    '{"auths": {"quay.io": {"auth": "dXNlcjpTM2NyM3QtRno5cS1wNHNz"},'
    ' "quay.io/org": {"auth": "dXNlcjpTM2NyM3QtRno5cS1wNHNz"},'
    ' "https://index.docker.io/v1/": {"auth": "dXNlcjpTM2NyM3QtRno5cS1wNHNz"},'
    ' "localhost:5000": {}}}',
    Source("docker", "file:/fuzz/config.json", "/fuzz/config.json"),
)
PARSERS = [
    reference.parse,
    reference.parse_normalized,
    reference.parse_docker_ref,
    reference.parse_any,
    reference.parse_named,
]


@fuzz(200)
@given(image_words)
def test_reference_parsers(text: str) -> None:
    for parse in PARSERS:
        with typed_errors_only():
            ref = parse(text)
            str(ref)
            ref.familiar_string  # noqa: B018 - the property must not raise
            hash(ref)


@fuzz(200)
@given(image_words)
def test_targets_and_keys(text: str) -> None:
    with typed_errors_only():
        parse_target(text)
    with typed_errors_only():
        parse_key(text)
    with typed_errors_only():
        normalize_registry(text)
    with typed_errors_only():
        get_credentials(text, config=CONFIG)
    with typed_errors_only():
        get_registry_credentials(text, config=CONFIG)


@fuzz(50)
@given(st.text(max_size=300))
def test_reference_any_text(text: str) -> None:
    for parse in PARSERS:
        with typed_errors_only():
            parse(text)
