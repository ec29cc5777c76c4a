"""The exception hierarchy: every problem with a DSL expression is a :class:`DslError`.

Errors are data as much as exceptions: live editors collect them (``diagnose``), the CLI prints them as JSON, and the
admin UI underlines ``line:column``–``end_column``. Each carries a stable code from :mod:`dsl.codes` and its message
in Chinese (shown by default) and English.

Positions are 1-based and counted in characters; ``end_column`` points just past the last character, as Lark and
most editors count. :meth:`DslError.excerpt` turns them into terminal columns, where a CJK character is two wide.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

from dsl.codes import CODES, render

__all__ = [
    "DslAmbiguityError",
    "DslArityError",
    "DslError",
    "DslEvalError",
    "DslLimitError",
    "DslNameError",
    "DslSyntaxError",
    "DslTypeError",
    "display_width",
]


def display_width(text: str) -> int:
    """Columns ``text`` occupies on a terminal: wide and full-width characters count 2, combining marks 0."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


class DslError(Exception):
    """Root of all DSL errors; see the module docstring for the meaning of the attributes."""

    def __init__(
        self,
        code: str,
        fields: dict[str, Any] | None = None,
        *,
        source: str = "",
        line: int = 1,
        column: int = 1,
        end_line: int | None = None,
        end_column: int | None = None,
    ) -> None:
        if code not in CODES:  # a programming error inside dsl/, never the user's
            raise ValueError(f"unknown DSL error code {code}")
        self.code = code
        self.fields = dict(fields or {})
        self.message = render(code, "zh", self.fields)
        self.message_en = render(code, "en", self.fields)
        self.source = source
        self.line = line
        self.column = column
        self.end_line = line if end_line is None else end_line
        self.end_column = column + 1 if end_column is None else end_column
        super().__init__(self.message)

    @classmethod
    def at(cls, code: str, node_or_token: Any, source: str, **fields: Any) -> DslError:
        """Build an error positioned on anything with ``line``/``column``/``end_line``/``end_column`` attributes."""
        line = getattr(node_or_token, "line", None) or 1
        column = getattr(node_or_token, "column", None) or 1
        return cls(
            code,
            fields,
            source=source,
            line=line,
            column=column,
            end_line=getattr(node_or_token, "end_line", None) or line,
            end_column=getattr(node_or_token, "end_column", None) or column + 1,
        )

    def message_in(self, lang: str) -> str:
        return self.message_en if lang == "en" else self.message

    def __str__(self) -> str:
        return f"{self.code} 第{self.line}行第{self.column}列：{self.message}"

    def to_dict(self) -> dict[str, Any]:
        """The JSON form used by ``dsl check --json`` and the admin UI's live diagnostics."""
        return {
            "line": self.line,
            "column": self.column,
            "end_column": self.end_column,
            "code": self.code,
            "message": self.message,
            "message_en": self.message_en,
        }

    def excerpt(self, lang: str = "zh") -> str:
        """The offending source line with carets under the span, aligned for CJK text on a terminal.

        Tabs are shown as one space so the caret arithmetic stays simple. A span running past the end of its
        line is underlined to the end of that line; an error at end of input gets one caret after the text.
        """
        lines = self.source.split("\n") if self.source else [""]
        index = min(max(self.line, 1), len(lines)) - 1
        text = lines[index].replace("\t", " ").replace("\r", "")
        start = max(self.column - 1, 0)
        end = self.end_column - 1 if self.end_line == self.line else len(text)
        end = max(min(end, len(text)), start + 1) if start < len(text) else start + 1
        gutter = f"{index + 1:>3} | "
        pad = " " * display_width(text[:start])
        carets = "^" * max(display_width(text[start:end]), 1)
        blank = " " * (len(gutter) - 2) + "| "
        return f"{gutter}{text}\n{blank}{pad}{carets} {self.code} {self.message_in(lang)}"


class DslSyntaxError(DslError):
    """The text does not follow the grammar (or a lexical rule such as a well-formed date)."""


class DslNameError(DslError):
    """An unknown name, field, function or enum value; ``suggestions`` lists the closest known spellings."""

    def __init__(self, code: str, fields: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(code, fields, **kwargs)
        self.suggestions: tuple[str, ...] = tuple(self.fields.get("suggestions", ()))


class DslTypeError(DslError):
    """Operand types do not fit the operator, function or expected result type."""


class DslArityError(DslTypeError):
    """A function was called with the wrong number of arguments (a type error of the call)."""


class DslAmbiguityError(DslSyntaxError):
    """A run of characters written without spaces can be split into names and keywords in several ways."""

    def __init__(self, code: str, fields: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(code, fields, **kwargs)
        self.readings: tuple[tuple[str, ...], ...] = tuple(self.fields.get("reading_list", ()))


class DslLimitError(DslError):
    """The expression exceeds a size bound (source length, nesting, list length, digits)."""


class DslEvalError(DslError):
    """A record cannot be evaluated at all (wrong value types, out-of-range dates); SQL-null cases return None."""


def suggestion_hint(suggestions: Sequence[str], lang: str) -> str:
    """The "did you mean" tail appended to name errors, empty when there is nothing close."""
    if not suggestions:
        return ""
    quoted = (
        "、".join(f"「{s}」" for s in suggestions)
        if lang == "zh"
        else ", ".join(f"'{s}'" for s in suggestions)
    )
    return f"；是不是要写{quoted}？" if lang == "zh" else f"; did you mean {quoted}?"
