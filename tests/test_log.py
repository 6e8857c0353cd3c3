"""dockercreds._log: a DEBUG logger only when one would emit, and no configuration."""

from __future__ import annotations

import itertools
import logging
import subprocess
import sys
from typing import Iterator, List

import pytest

from dockercreds._log import ROOT, debug_logger

_NAMES = itertools.count()


def fresh_name() -> str:
    """A logger name no test has asked for yet (debug_logger remembers the ones it made)."""
    return f"{ROOT}.test_log.n{next(_NAMES)}"


@pytest.fixture
def levels() -> Iterator[List[logging.Logger]]:
    """Loggers whose level a test changes; the global root starts at WARNING. Restored."""
    touched: List[logging.Logger] = [logging.getLogger(), logging.getLogger(ROOT)]
    saved = [(lg, lg.level) for lg in touched]
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger(ROOT).setLevel(logging.NOTSET)
    yield touched
    for lg, level in saved:
        lg.setLevel(level)
    for lg in touched[len(saved) :]:
        lg.setLevel(logging.NOTSET)


@pytest.fixture
def bare_root(monkeypatch: pytest.MonkeyPatch) -> logging.Logger:
    """The ``dockercreds`` logger without any handler (restored after the test)."""
    root = logging.getLogger(ROOT)
    monkeypatch.setattr(root, "handlers", [])
    return root


def test_root_name() -> None:
    assert ROOT == "dockercreds"


def test_none_when_logging_was_never_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "logging")
    assert debug_logger(fresh_name()) is None
    assert "logging" not in sys.modules  # it did not import logging itself


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # nothing imported logging: None, and logging stays unimported
        pytest.param(
            "import sys; from dockercreds._log import debug_logger; "
            "print(debug_logger('dockercreds.x'), 'logging' in sys.modules)",
            "None False",
            id="not-imported",
        ),
        # logging configured at DEBUG before the lookup: the logger itself
        pytest.param(
            "import logging; logging.basicConfig(level=logging.DEBUG); "
            "from dockercreds._log import debug_logger; lg = debug_logger('dockercreds.x'); "
            "print(lg.name, lg is logging.getLogger('dockercreds.x'))",
            "dockercreds.x True",
            id="configured-debug",
        ),
        # imported but not configured: the root is at WARNING, so None
        pytest.param(
            "import logging; from dockercreds._log import debug_logger; "
            "print(debug_logger('dockercreds.x'))",
            "None",
            id="imported-unconfigured",
        ),
    ],
)
def test_fresh_interpreter(code: str, expected: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == expected
    assert out.stderr == ""


@pytest.mark.parametrize(
    ("package_level", "own_level", "enabled"),
    [
        (logging.DEBUG, logging.NOTSET, True),
        (logging.INFO, logging.NOTSET, False),
        (logging.WARNING, logging.NOTSET, False),
        (logging.NOTSET, logging.NOTSET, False),  # inherits the global root's WARNING
        (logging.WARNING, logging.DEBUG, True),  # its own level wins
        (logging.DEBUG, logging.INFO, False),
        (logging.DEBUG + 1, logging.NOTSET, False),
        (logging.DEBUG - 1, logging.NOTSET, True),
    ],
)
def test_enabled_only_at_debug(
    levels: List[logging.Logger], package_level: int, own_level: int, enabled: bool
) -> None:
    name = fresh_name()
    own = logging.getLogger(name)
    levels.append(own)
    logging.getLogger(ROOT).setLevel(package_level)
    own.setLevel(own_level)
    got = debug_logger(name)
    if enabled:
        assert got is own
    else:
        assert got is None


def test_follows_level_changes_after_first_lookup(levels: List[logging.Logger]) -> None:
    name = fresh_name()
    package = logging.getLogger(ROOT)
    assert debug_logger(name) is None
    package.setLevel(logging.DEBUG)
    assert debug_logger(name) is logging.getLogger(name)
    assert debug_logger(name) is logging.getLogger(name)
    package.setLevel(logging.ERROR)
    assert debug_logger(name) is None


def test_adds_one_null_handler_and_nothing_else(
    bare_root: logging.Logger, levels: List[logging.Logger]
) -> None:
    global_handlers = list(logging.getLogger().handlers)
    first, second = fresh_name(), fresh_name()
    debug_logger(first)
    debug_logger(second)
    debug_logger(first)
    assert [type(h) for h in bare_root.handlers] == [logging.NullHandler]
    assert logging.getLogger().handlers == global_handlers
    for name in (first, second):
        child = logging.getLogger(name)
        assert child.handlers == []
        assert child.level == logging.NOTSET
        assert child.propagate is True
    assert bare_root.level == logging.NOTSET  # no level set either
    assert logging.getLogger().level == logging.WARNING


def test_keeps_an_existing_null_handler(bare_root: logging.Logger) -> None:
    mine = logging.NullHandler()
    bare_root.addHandler(mine)
    debug_logger(fresh_name())
    assert bare_root.handlers == [mine]


def test_null_handler_next_to_a_users_handler(bare_root: logging.Logger) -> None:
    users = logging.StreamHandler()
    bare_root.addHandler(users)
    debug_logger(fresh_name())
    assert bare_root.handlers[0] is users
    assert [type(h) for h in bare_root.handlers] == [logging.StreamHandler, logging.NullHandler]


def test_records_reach_the_callers_handlers(caplog: pytest.LogCaptureFixture) -> None:
    name = fresh_name()
    with caplog.at_level(logging.DEBUG, logger=ROOT):
        log = debug_logger(name)
        assert log is not None
        log.debug("looked up %s", "quay.io")
    assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
        (name, logging.DEBUG, "looked up quay.io")
    ]
