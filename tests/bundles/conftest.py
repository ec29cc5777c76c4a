"""Helpers for bundle tests: the example files and a way to read and break them."""

from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "bundles"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))


@pytest.fixture
def laojiu_text() -> str:
    return (EXAMPLES / "laojiu.yaml").read_text(encoding="utf-8")


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the first occurrence of ``needle`` (to assert that problems point at it)."""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in text")
