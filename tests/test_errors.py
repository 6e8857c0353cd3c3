"""dockercreds.errors: one tree, drawn in the module docstring."""

from __future__ import annotations

import inspect

import pytest

from dockercreds import errors

CLASSES = [
    obj
    for name, obj in vars(errors).items()
    if inspect.isclass(obj)
    and issubclass(obj, BaseException)
    and not issubclass(obj, Warning)
    and obj.__module__ == errors.__name__
]
WARNINGS = [
    obj
    for obj in vars(errors).values()
    if inspect.isclass(obj) and issubclass(obj, Warning) and obj.__module__ == errors.__name__
]

#: errors about bad input also subclass ValueError (DESIGN.md public contract)
INPUT_ERRORS = {
    "InvalidReference", "InvalidRegistry", "InvalidArgument", "ConfigSyntaxError",
    "ConfigFormatError", "ChallengeError", "KubernetesError",
}


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_error_is_a_dockercreds_error(cls: type) -> None:
    assert issubclass(cls, errors.DockerCredsError)
    assert cls.__name__ in errors.__all__


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_the_tree_in_the_docstring_lists_every_class(cls: type) -> None:
    assert errors.__doc__ is not None
    assert f" {cls.__name__}" in errors.__doc__


@pytest.mark.parametrize("cls", WARNINGS, ids=lambda c: c.__name__)
def test_warnings_are_user_warnings_in_the_tree(cls: type) -> None:
    assert issubclass(cls, UserWarning)
    assert not issubclass(cls, errors.DockerCredsError)
    assert cls.__name__ in errors.__all__
    assert errors.__doc__ is not None
    assert f" {cls.__name__}" in errors.__doc__


@pytest.mark.parametrize("name", sorted(INPUT_ERRORS))
def test_input_errors_are_value_errors(name: str) -> None:
    assert issubclass(getattr(errors, name), ValueError)


def test_all_is_sorted_and_complete() -> None:
    assert errors.__all__ == sorted(errors.__all__)
    assert set(errors.__all__) == {c.__name__ for c in CLASSES + WARNINGS}


def test_context_attributes() -> None:
    err = errors.ConfigSyntaxError("m", path="/c.json", line=3, column=7)
    assert (err.path, err.line, err.column) == ("/c.json", 3, 7)
    failed = errors.HelperFailed("m", helper="pass", action="get", returncode=1, output="o")
    assert (failed.helper, failed.action, failed.returncode, failed.output) == (
        "pass", "get", 1, "o"
    )
    ref = errors.InvalidReference("m", kind="name_empty", text="")
    assert ref.kind == "name_empty"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("plain text", "plain text"),
        ("two\nlines\r\n  and\ttabs", "two lines and tabs"),
        ("\x1b[2Jcleared", "\\x1b[2Jcleared"),
        ("title \x1b]0;pwned\x07 set", "title \\x1b]0;pwned\\x07 set"),
        ("zero\u200bwidth", "zero\\u200bwidth"),
        ("c1 \x9b31m", "c1 \\x9b31m"),
        ("lone \ud800 surrogate", "lone \\ud800 surrogate"),
        ("caf\u00e9 \u2713", "caf\u00e9 \u2713"),  # printable non-ASCII stays
    ],
)
def test_one_line(text: str, line: str) -> None:
    """Text a server or helper chose can neither break the line nor drive the terminal."""
    assert errors.one_line(text) == line
    assert errors.one_line(text).isprintable()
