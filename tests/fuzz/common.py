"""Shared pieces of the fuzz suite: settings profiles, strategies, program runners.

**Settings.** Every property is decorated with :data:`FUZZ` (or ``fuzz(n)``), built on
the hypothesis profile ``dockercreds-fuzz``: deadline off (timing is not asserted),
``max_examples`` from ``DOCKERCREDS_FUZZ_EXAMPLES`` (default: each property's own
small count, so the whole suite stays near a minute in CI), database off in CI.

**Program contract** (both programs), asserted by :func:`check_program`:

- exit status 0, 1 or 2 (130 only for Ctrl-C, never produced here);
- ``dockercreds``: exit 1 ends stderr with one error line, ``dockercreds: <message>``
  (warning lines such as "Using --password via the CLI is insecure" may come first;
  ``migrate`` prints one error line per entry it could not move); exit 0 may print
  warnings; exit 2 is argparse's usage error: usage lines, then one
  ``dockercreds ...: error: ...`` line (or our own one-line usage message);
- ``docker-credential-keyring`` speaks the helper protocol: errors are one line on
  *stdout* with exit 1 (as the Go helpers), nothing on stderr;
- never ``Traceback``, never the last-resort ``internal error`` message (it means a bug
  reached cli.main's guard), never a distinctive secret on stderr (nor on stdout, except
  for the commands whose job is to print it).
"""

from __future__ import annotations

import contextlib
import io
import os
import resource
import subprocess
import sys
from dataclasses import dataclass
from typing import Any, Iterator, List, Optional, Sequence

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# --------------------------------------------------------------------------- settings

_ENV = "DOCKERCREDS_FUZZ_EXAMPLES"
_LONG = int(os.environ.get(_ENV, "0") or 0)

settings.register_profile(
    "dockercreds-fuzz",
    deadline=None,
    derandomize=False,
    database=None if os.environ.get("CI") else settings.default.database,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
_BASE = settings.get_profile("dockercreds-fuzz")


def fuzz(examples: int) -> settings:
    """Settings for one property: ``examples`` in CI, ``$DOCKERCREDS_FUZZ_EXAMPLES`` if set."""
    return settings(_BASE, max_examples=_LONG or examples)


# --------------------------------------------------------------------------- strategies

#: Distinctive secrets: if one of these shows up in a message, a secret leaked.
SECRETS = ("S3cr3t-Fz9q-p4ss", "T0ken-Fz9q-r3fr3sh", "Rg-Fz9q-b3arer")
SECRET = SECRETS[0]

# Characters that break parsers: quotes, escapes, controls, separators, non-ASCII, a
# lone surrogate, NUL.
_NASTY = "\"'\\/:@#?&=%*[]{}<>,;. \t\r\n\x00\x1b\x7f\u00e9\u2028\ufeff\ud800\udcff"
nasty_text = st.text(
    alphabet=st.one_of(st.sampled_from(_NASTY), st.characters(codec="utf-8")), max_size=40
) | st.text(max_size=20)

#: Registry-ish words that the grammar might accept or nearly accept.
hosts = st.sampled_from(
    [
        "quay.io", "docker.io", "index.docker.io", "registry-1.docker.io", "localhost",
        "localhost:5000", "127.0.0.1:5000", "[::1]:5000", "[::1", "reg.example:99999",
        "REG.EXAMPLE", "a..b", "-x.io", "xn--bcher-kva.example", "host:0", "h:65536",
        "https://index.docker.io/v1/", "http://reg.example/v2/", "quay.io/org",
        "quay.io/org/app", "*.example.com", "user:pw@reg.example", "",
    ]
)
image_words = st.one_of(
    hosts,
    st.from_regex(r"[a-z0-9.:/@_-]{1,40}", fullmatch=True),
    st.builds(
        lambda h, p: f"{h}/{p}", hosts, st.from_regex(r"[a-zA-Z0-9._/-]{0,30}", fullmatch=True)
    ),
    st.builds(
        lambda n, t: f"{n}:{t}",
        st.sampled_from(["ubuntu", "quay.io/x/y", "localhost:5000/a", "a"]),
        st.from_regex(r"[A-Za-z0-9_.-]{0,20}", fullmatch=True),
    ),
    st.builds(lambda n: f"{n}@sha256:" + "a" * 64, st.sampled_from(["ubuntu", "quay.io/x"])),
    nasty_text,
)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=10) | hosts, inner, max_size=4),
    max_leaves=12,
)


def b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode("utf-8", "surrogatepass")).decode("ascii")


_entry_fields = st.fixed_dictionaries(
    {},
    optional={
        "auth": st.one_of(
            st.sampled_from([b64(f"user:{SECRET}"), b64(SECRET), b64(f":{SECRET}"), "!!", ""]),
            json_values,
        ),
        "username": st.one_of(st.just("user"), json_values),
        "password": st.one_of(st.just(SECRET), json_values, st.just(SECRET + "\n:x")),
        "identitytoken": st.one_of(st.just(SECRETS[1]), json_values),
        "registrytoken": st.one_of(st.just(SECRETS[2]), json_values),
        "email": json_values,
    },
)
docker_configs = st.fixed_dictionaries(
    {},
    optional={
        "auths": st.one_of(
            st.dictionaries(
                hosts | st.text(max_size=12), _entry_fields | json_values, max_size=4
            ),
            json_values,
        ),
        "credHelpers": st.one_of(
            st.dictionaries(
                hosts, st.sampled_from(["nosuch", "", "a/b", "x" * 40]) | json_values, max_size=3
            ),
            json_values,
        ),
        "credsStore": st.one_of(st.sampled_from(["nosuch", "", "../x", "a b"]), json_values),
        "HttpHeaders": json_values,
    },
)

# --------------------------------------------------------------------------- checks


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"secret {secret!r} in {text!r}"
        assert b64(secret) not in text
    assert b64(f"user:{SECRET}") not in text


def assert_typed(exc: BaseException) -> None:
    """``exc`` is a DockerCredsError with a non-empty message holding no secret."""
    from dockercreds.errors import DockerCredsError

    assert isinstance(exc, DockerCredsError), f"{type(exc).__name__}: {exc}"
    assert str(exc).strip(), f"empty message from {type(exc).__name__}"
    assert_no_secret(str(exc))


@contextlib.contextmanager
def typed_errors_only(*, secrets_may_be_quoted: bool = False) -> Iterator[None]:
    """Let a DockerCredsError through as a valid outcome (after checking it).

    ``secrets_may_be_quoted``: the input put a secret where the library cannot know it
    is one (a helper's stderr on ``get``), and quoting one clipped line is documented.
    """
    from dockercreds.errors import DockerCredsError

    try:
        yield
    except DockerCredsError as exc:
        if secrets_may_be_quoted:
            assert isinstance(exc, DockerCredsError), exc
            assert str(exc).strip()
        else:
            assert_typed(exc)


# --------------------------------------------------------------------------- programs


@dataclass
class Result:
    code: int
    out: str
    err: str


def _stream(data: bytes, *, errors: str = "strict") -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors=errors)


def run_cli(argv: Sequence[str], stdin: Optional[bytes] = b"") -> Result:
    """``dockercreds`` in this process, with real-looking streams (UTF-8, strict stdout);
    ``stdin=None`` is a closed stdin (``<&-``: Python's sys.stdin is None)."""
    from dockercreds import cli

    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", write_through=True)
    err = io.TextIOWrapper(
        io.BytesIO(), encoding="utf-8", errors="backslashreplace", write_through=True
    )
    old = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = (
        None if stdin is None else _stream(stdin), out, err  # type: ignore[assignment]
    )
    try:
        try:
            code: Any = cli.main(list(argv))
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else 2 if exc.code else 0
    finally:
        sys.stdin, sys.stdout, sys.stderr = old
    return Result(
        code,
        out.buffer.getvalue().decode("utf-8", "replace"),  # type: ignore[attr-defined]
        err.buffer.getvalue().decode("utf-8", "replace"),  # type: ignore[attr-defined]
    )


def run_helper(argv: Sequence[str], stdin: bytes = b"") -> Result:
    """``docker-credential-keyring`` in this process (binary streams, as main() uses)."""
    from dockercreds import helper_main

    out = io.BytesIO()
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = helper_main.run(list(argv), io.BytesIO(stdin), out)
    return Result(code, out.getvalue().decode("utf-8", "replace"), err.getvalue())


def _limits() -> None:  # pragma: no cover - runs in the child
    # 1 GiB of address space: a helper or input that makes us buffer without bound
    # fails the run instead of the machine.
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def run_subprocess(
    module: str, argv: Sequence[str], stdin: bytes = b"", *, timeout: float = 60,
    env: Optional[dict[str, str]] = None,
) -> Result:
    """A real program run (``python -m module``) with a memory limit and a timeout."""
    proc = subprocess.run(
        [sys.executable, "-m", module, *argv],
        input=stdin,
        capture_output=True,
        timeout=timeout,
        preexec_fn=_limits,  # no threads are started before this
        env=env,
        check=False,
    )
    return Result(
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
    )


def check_program(
    result: Result, *, prints_secrets: bool = False, migrate: bool = False
) -> None:
    """The ``dockercreds`` contract (see the module docstring)."""
    from dockercreds.cli import INTERNAL_ERROR

    err = result.err
    assert result.code in (0, 1, 2), result
    assert "Traceback" not in err, err
    assert INTERNAL_ERROR not in err, f"the last-resort guard was reached: {err!r}"
    assert_no_secret(err)
    if not prints_secrets:
        assert_no_secret(result.out)
    lines = err.rstrip("\n").split("\n") if err else []  # not splitlines: U+2028 is text
    if result.code == 1:
        errors = [
            line
            for line in lines
            if line.startswith("dockercreds: ")
            and not line.startswith(("dockercreds: warning: ", "dockercreds: note: "))
        ]
        # warnings (plaintext storage...) may come first; the error is the last line
        assert errors and lines[-1] == errors[-1], err
        # one error line; migrate reports one line per entry it could not move
        assert len(errors) == 1 or migrate, err
    elif result.code == 2:
        assert lines, "usage error without a message"
        last = lines[-1]
        assert last.startswith("dockercreds"), err
        assert ": error: " in last or last.startswith("dockercreds: "), err
        assert all(
            line.startswith(("usage:", " ")) or line == last for line in lines
        ), err


def check_helper(result: Result) -> None:
    """The ``docker-credential-keyring`` contract: protocol errors on stdout, one line."""
    from dockercreds.helper_main import NAME

    assert result.code in (0, 1), result
    assert result.err == "", result
    assert "Traceback" not in result.out
    assert "internal error" not in result.out, result.out
    if result.code == 1:
        assert result.out.count("\n") == 1 and result.out.endswith("\n"), result.out
        assert_no_secret(result.out)
    del NAME


def tail(lines: List[str]) -> str:
    return "\n".join(lines[-5:])
