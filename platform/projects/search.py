"""What a project is found by: its name and code, and the pinyin of its name (full and initials).

Staff type `cyyq` or `cuiyuan` for 翠苑一区; the ledger searches this one column.
"""

from __future__ import annotations

from pypinyin import Style, lazy_pinyin


def search_text(name: str, code: str) -> str:
    """Name, code, full pinyin and pinyin initials, lower-case, space-separated."""
    syllables = lazy_pinyin(name, errors="ignore")
    initials = lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")
    return " ".join([name, code, "".join(syllables), "".join(initials)]).lower()
