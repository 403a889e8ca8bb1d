"""The one set of width and wording helpers every renderer uses (dogxray.render):
`width`, `cut`, `wrap`, `pack`, `labelled`, `plural`."""

from __future__ import annotations

import pytest

from dogxray import render


def test_width_is_columns_else_none_when_piped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    assert render.width() == 80
    monkeypatch.delenv("COLUMNS")
    assert render.width() is None  # CliRunner's stdout is no terminal: never cut


def test_cut_keeps_short_text_and_ends_long_text_with_an_ellipsis() -> None:
    assert render.cut("dog-photo-function", 30) == "dog-photo-function"
    assert render.cut("dog-photo-function", 10) == "dog-photo…"
    assert render.cut("dog photo function", 11) == "dog photo…"  # no space before it
    assert render.cut("anything", None) == "anything"


def test_wrap_between_words_with_a_hanging_indent() -> None:
    text = "  InjectedFailure on injected_fault x3: injected failure before call_dog_api"
    assert render.wrap(text, 40, "     ") == [
        "  InjectedFailure on injected_fault x3:",
        "     injected failure before",
        "     call_dog_api",
    ]
    assert render.wrap(text, None) == [text]


def test_a_long_token_stays_whole_unless_hard() -> None:
    arn = "arn:aws:iam::123456789012:role/a-rather-long-lab-name-function-role-us-east-1"
    assert render.wrap(f"role {arn}", 40) == ["role", f"  {arn}"]
    hard = render.wrap(f"role {arn}", 40, hard=True)
    assert all(len(line) <= 40 for line in hard)
    assert "".join(line.strip() for line in hard) == f"role {arn}"  # nothing lost


def test_an_indent_always_leaves_a_third_of_the_line() -> None:
    lines = render.wrap(" " * 45 + "word " * 12, 50, " " * 47)
    assert all(len(line) <= 50 and len(line) - len(line.lstrip()) <= 34 for line in lines)


def test_pack_moves_whole_parts_and_wraps_only_a_part_longer_than_a_line() -> None:
    lead = "2025-11-24 16:00:00.002  c0ffee00  "
    parts = ["REPORT 12.3 ms", "billed 13 ms", "memory 70/128 MB", "init 250.1 ms"]
    assert render.pack(parts, 70, " " * 37, lead=lead) == [
        f"{lead}REPORT 12.3 ms  billed 13 ms",
        " " * 37 + "memory 70/128 MB  init 250.1 ms",
    ]
    assert render.pack(parts, None, lead=lead) == [lead + "  ".join(parts)]
    message = "error: NoSuchBucket: The specified bucket does not exist"
    assert render.pack(["ERROR", message], 50, "    ") == [
        "ERROR",
        "    error: NoSuchBucket: The specified bucket does",
        "    not exist",
    ]


def test_labelled_puts_a_value_that_does_not_fit_on_its_own_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = "http://127.0.0.1:49152/us-east-1/dog-photo-function/"
    monkeypatch.setenv("COLUMNS", "80")
    assert render.labelled("Function URL:", url) == [f"Function URL: {url}"]
    monkeypatch.setenv("COLUMNS", "60")
    assert render.labelled("Function URL:", url) == ["Function URL:", f"  {url}"]
    aws_url = "https://f7e742247eb442c1b8c7ed74959f98aa.lambda-url.us-east-1.on.aws/"
    assert render.labelled("Function URL:", aws_url) == ["Function URL:", aws_url]  # never cut


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, "0 faults"), (1, "1 fault"), (2, "2 faults"), (1191, "1191 faults")],
)
def test_plural(count: int, expected: str) -> None:
    assert render.plural(count, "fault") == expected


def test_plural_irregular() -> None:
    assert render.plural(1, "entry", "entries") == "1 entry"
    assert render.plural(3, "entry", "entries") == "3 entries"
