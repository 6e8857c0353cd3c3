"""The documentation: README size and links, the generated CLI reference, the mkdocs build.

Every code block is run by the snippet runner in tests/test_examples.py.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import cli_docs

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"


def test_cli_reference_is_generated_from_the_parsers() -> None:
    assert cli_docs.TARGET.read_text(encoding="utf-8") == cli_docs.generate(), (
        "docs/cli.md is out of date: run python -m tests.cli_docs"
    )


def test_cli_reference_names_every_command_and_option() -> None:
    text = cli_docs.TARGET.read_text(encoding="utf-8")
    parser = cli_docs.cli.build_parser()
    for name, sub in cli_docs._commands(parser).items():
        assert f"\n## {name}\n" in text
        for action in sub._actions:
            for flag in action.option_strings:
                if flag not in ("-h", "--help"):
                    assert f"`{flag}" in text, (name, flag)


def test_readme_is_short_and_links_exist() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.encode()) < 10_000
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text)
    local = [link for link in links if not link.startswith("https://")]
    assert local, "the README links to the docs"
    for link in local:
        assert (ROOT / link).is_file(), link


def test_quickstart_updates_apt_before_installing() -> None:
    text = README.read_text(encoding="utf-8")
    command = re.search(r"<!-- snippet: quickstart -->\n```sh\n(.*)\n```", text)
    assert command is not None
    assert command.group(1).startswith("apt-get update && apt-get install -y python3-venv")


def test_every_page_is_in_the_nav() -> None:
    import yaml

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    in_nav = {next(iter(item.values())) for item in config["nav"]}
    on_disk = {str(p.relative_to(DOCS)) for p in DOCS.glob("**/*.md")}
    assert in_nav == on_disk


def test_mkdocs_build_is_strict_clean(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs")  # in the test extra; a failure under CI=true
    site = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert (site / "cli" / "index.html").is_file()
    shutil.rmtree(site)
