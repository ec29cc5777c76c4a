"""What can be wrong with a bundle, said so that an administrator can find it: file, line, path, message."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["BundleInvalid", "Problem"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a bundle may not be loaded.

    ``path`` is the data path inside the bundle (``forms[0].schema.properties.项目总投资.x-field``; ``""`` for the
    whole file) and ``line`` the 1-based line of the YAML node that holds it (``None`` when the text never parsed
    that far), so the message reads like a compiler's: ``laojiu.yaml:42: forms[0]…: 未知的字段类型“monye”``.
    """

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class BundleInvalid(Exception):
    """Raised when a bundle cannot be parsed or loaded; carries every problem found, not just the first."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__(f"配置包有 {len(self.problems)} 处问题")
