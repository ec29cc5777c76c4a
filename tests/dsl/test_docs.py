"""The user guide's worked examples are real: each one checks against the guide's own catalogue."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

from dsl import BOOL, Catalogue, check

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "dsl.md"


def _blocks(kind: str) -> list[str]:
    text = GUIDE.read_text(encoding="utf-8")
    return [textwrap.dedent(block) for block in re.findall(rf"```{kind}\n(.*?)```", text, flags=re.S)]


def test_the_guide_has_twenty_worked_conditions_that_all_check() -> None:
    (schema,) = _blocks("json")
    catalogue = Catalogue.from_json_schema(json.loads(schema))
    sources = _blocks("dsl")
    kinds = [check(source, catalogue).type for source in sources]
    assert sum(kind == BOOL for kind in kinds) >= 20
