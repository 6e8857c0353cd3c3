"""The snippet runner's parser: fenced code blocks in README.md and docs/*.md.

Every block is run or checked by ``tests/test_examples.py``, by its language:

* ``python``: executed in a fresh interpreter; it must not raise.
* ``console``: each ``$ command`` runs in bash; the lines after it are the expected
  output (stdout and stderr, as a terminal shows them). ``...`` in an expected line
  matches any text, a line of only ``...`` any number of lines.
* ``sh``: the whole block runs with ``bash -euo pipefail``; it must exit 0.
* ``json`` / ``yaml``: must parse.

A directive in an HTML comment on the line before a block changes that:

* ``<!-- snippet: skip: REASON -->``: not run; REASON says why (keep these few).
* ``<!-- snippet: quickstart -->``: an ``sh`` one-liner run in a fresh copy of the
  project, without its leading ``apt-get ... &&`` part (which needs root).
* ``<!-- snippet: registry -->``: a ``python`` block run against the test registry
  (tests/peers.py); its ``"https://registry.example.com", "team/app", "1.0"`` are
  replaced by the local registry's URL, repository and tag.
* ``<!-- snippet: secret-service -->``: an ``sh`` block that starts its own D-Bus
  session and gnome-keyring; it runs with the real Secret Service instead of the test
  keyring.

Blocks run in a temporary directory holding ``examples/`` (a link to the project's),
with HOME, DOCKER_CONFIG and the XDG directories inside it, the project's programs on
PATH and a file-backed keyring (tests/file_keyring_backend.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import List, NamedTuple, Optional

ROOT = Path(__file__).resolve().parents[1]
LANGUAGES = ("python", "console", "sh", "json", "yaml")
DIRECTIVES = ("skip", "quickstart", "registry", "secret-service")

_FENCE = re.compile(r"^```([\w-]*)\s*$")
_DIRECTIVE = re.compile(r"^<!--\s*snippet:\s*([\w-]+)(?::\s*(.*?))?\s*-->\s*$")


class Block(NamedTuple):
    path: Path
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    directive: Optional[str]
    reason: str

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}-{self.lang}"


def markdown_files() -> List[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]


def parse_blocks(path: Path) -> List[Block]:
    """The fenced blocks of one Markdown file; unclosed fences and bad directives raise."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: List[Block] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            text = lines[i].lstrip()
            if text.startswith("<!--") and "snippet" in text and not _DIRECTIVE.match(text):
                raise ValueError(f"{path}:{i + 1}: malformed snippet directive")
            i += 1
            continue
        start, lang = i, match.group(1)
        i += 1
        while i < len(lines) and lines[i].rstrip() != "```":
            i += 1
        if i == len(lines):
            raise ValueError(f"{path}:{start + 1}: unclosed code block")
        directive, reason = None, ""
        previous = lines[start - 1] if start else ""
        found = _DIRECTIVE.match(previous)
        if found:
            directive, reason = found.group(1), found.group(2) or ""
        blocks.append(
            Block(path, start + 1, lang, "\n".join(lines[start + 1 : i]) + "\n", directive, reason)
        )
        i += 1
    return blocks


def all_blocks() -> List[Block]:
    return [block for path in markdown_files() for block in parse_blocks(path)]


def console_steps(text: str) -> List[tuple[str, List[str]]]:
    """``(command, expected output lines)`` for each ``$ `` line of a console block."""
    steps: List[tuple[str, List[str]]] = []
    for line in text.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line)
        elif line.strip():
            raise ValueError(f"console block: output before the first '$ ': {line!r}")
    return steps


def output_matches(expected: List[str], actual: List[str]) -> bool:
    """Lines equal; ``...`` inside a line matches any text, a ``...`` line any lines."""
    pattern = "".join(
        r"(?:.*\n)*?" if line == "..." else ".*".join(map(re.escape, line.split("..."))) + r"\n"
        for line in expected
    )
    return re.fullmatch(pattern, "".join(f"{line}\n" for line in actual)) is not None
