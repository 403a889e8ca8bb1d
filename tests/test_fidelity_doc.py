"""docs/fidelity.md names the test behind each emulated behaviour: every test it names
exists, so the table cannot point at a renamed or deleted test."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_test_the_fidelity_table_names_exists() -> None:
    text = (ROOT / "docs" / "fidelity.md").read_text()
    # `tests/x.py::test_a`, `::test_b` (b in the same file as a), `tests/y.py`: in order
    pattern = r"`(tests/[^`:]+\.py)?(?:::(test_\w+))?`"
    named = [(m[1] or "", m[2] or "") for m in re.finditer(pattern, text) if m[1] or m[2]]
    assert len(named) >= 15
    last = ""
    missing = []
    for path, test in named:
        path = path or last
        last = path
        source = ROOT / path
        if not source.is_file() or (test and f"def {test}(" not in source.read_text()):
            missing.append(f"{path}::{test}")
    assert missing == []
