"""dockercreds.protocol: the helper wire format's values never show a secret."""

from __future__ import annotations

import pytest

from dockercreds.protocol import HelperCredentials, decode_credentials, encode_credentials

SECRET = "S3CR3T-xyz"


@pytest.mark.parametrize("show", [repr, str, "{}".format, lambda v: f"{v!r}"])
def test_helper_credentials_text_hides_secret(show: object) -> None:
    entry = decode_credentials(encode_credentials("quay.io", "alice", SECRET))
    text = show(entry)  # type: ignore[operator]
    assert SECRET not in text
    assert "quay.io" in text
    assert "alice" in text
    assert entry.secret == SECRET  # the value itself is untouched
    assert tuple(entry) == ("quay.io", "alice", SECRET)


def test_helper_credentials_repr_says_when_empty() -> None:
    assert "empty" in repr(HelperCredentials("quay.io", "", ""))
    assert "hidden" in repr(HelperCredentials("quay.io", "alice", SECRET))
