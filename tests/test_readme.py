"""Every command the README shows is one the CLI accepts: each `dogxray ...` line of its
code blocks (and each inline sample) is parsed by the real command tree, options and
values converted, without running anything. A renamed option or command fails here
before a reader follows a stale sample."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer

from dogxray.app import app
from dogxray.cli import hoist_global_options

README = Path(__file__).resolve().parents[1] / "README.md"
# Placeholders the README uses where a reader puts a value of their own.
ACTING = {"--help", "--version", "--install-completion", "--show-completion"}
PLACEHOLDER = re.compile(r"[\[\]|<>…]|\bNAME\b|\.\.\.")


def _from_blocks(text: str) -> list[str]:
    commands: list[str] = []
    for block in re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = line.strip()
            line = re.sub(r"^\$ ", "", line)
            line = re.sub(r"^(?:\S*/)?(?:\.venv/bin/)?dogxray\b", "dogxray", line)
            match = re.match(r"(?:.*&& )?(dogxray(?: .*)?)$", line)
            if match:
                commands.append(match.group(1))
    return commands


def _inline(text: str) -> list[str]:
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    return re.findall(r"`(dogxray [^`]+)`", prose)


def _samples() -> list[str]:
    text = README.read_text(encoding="utf-8")
    found = []
    for command in _from_blocks(text) + _inline(text):
        command = command.split(" #", 1)[0].split(" | ", 1)[0].strip()
        # Options that act while parsing (print, install completion) are not samples to run.
        if PLACEHOLDER.search(command) or ACTING.intersection(command.split()):
            continue
        found.append(command)
    return sorted(set(found))


def _parse(argv: list[str]) -> None:
    group = typer.main.get_command(app)
    with group.make_context("dogxray", hoist_global_options(group, list(argv))) as ctx:
        rest = [*ctx._protected_args, *ctx.args]  # click keeps the command name apart
        assert rest, "no command"
        name, command, args = group.resolve_command(ctx, rest)
        assert command is not None, f"unknown command {name}"
        with command.make_context(name, args, parent=ctx):
            pass


def test_the_readme_has_samples() -> None:
    assert len(_samples()) > 40


@pytest.mark.parametrize("command", _samples())
def test_readme_sample_is_accepted(command: str) -> None:
    _parse(shlex.split(command)[1:])
