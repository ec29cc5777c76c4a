"""The two kinds of problem the forms core reports: a field error (to staff) and a definition problem (to admins).

Both are plain frozen data so the Django side can serialise them for HTMX fragments, the API and the admin UI without
knowing how they were found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["DefinitionError", "DefinitionProblem", "FieldError"]


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with submitted data.

    ``path`` is the machine path staff inputs are named by: property names and 0-based indexes
    (``预算明细[2].金额``; ``""`` for the whole form). ``field_label`` is what a person reads: titles and 1-based row
    numbers (``预算明细[3].金额``, or ``预算明细第3行.金额`` — see ``docs/forms.md``). ``code`` is stable (the JSON Schema
    keyword, ``rule`` for a cross-field validation, ``required_if``, ``payload_*``) so clients can switch on it.
    """

    path: str
    field_label: str
    message: str
    code: str

    def __str__(self) -> str:
        return f"{self.field_label}：{self.message}" if self.field_label else self.message

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class DefinitionProblem:
    """One reason a form definition may not be published.

    ``path`` says where: ``schema/properties/预算金额/x-field``, ``ui_schema/fields/超支说明/visible_if``.
    DSL problems also carry the DSL error ``code`` and the ``line``/``column`` inside the expression.
    """

    path: str
    message: str
    code: str | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = f"（第{self.line}行第{self.column}列）" if self.line is not None else ""
        return f"{self.path}{where}：{self.message}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class DefinitionError(ValueError):
    """Raised when a validator is asked for a definition that does not pass :meth:`FormDefinition.check`."""

    def __init__(self, problems: Sequence[DefinitionProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("；".join(str(p) for p in self.problems[:5]) or "表单定义无效")
