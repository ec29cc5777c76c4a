"""Size bounds that keep parsing, checking and evaluation cheap and total whatever text is submitted.

The language has no loops or recursion, so bounding the input bounds the work: evaluation is linear in the size of
the expression plus the size of the lists read from the record. The values are generous for real rules (the longest
rule in the reference packs is under 400 characters and 12 levels deep).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LIMITS", "Limits"]


@dataclass(frozen=True, slots=True)
class Limits:
    """``max_source`` characters; ``max_depth`` levels of nesting (brackets or operators); ``max_list`` items in a
    list literal; ``max_digits`` significant digits in a number literal; ``max_days`` in a duration literal."""

    max_source: int = 10_000
    max_depth: int = 100
    max_list: int = 1_000
    max_digits: int = 28
    max_days: int = 3_650_000


LIMITS = Limits()
