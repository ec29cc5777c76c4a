"""The one place that reads the process environment.

Every setting that an operator may change comes from here, with the embedded defaults
(SQLite, in-process tasks) that make a fresh checkout run with no services at all.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = Path(os.environ.get("TAIZHANG_VAR_DIR", BASE_DIR / "var"))


def text(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def flag(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def integer(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return default if raw in (None, "") else int(raw)


def items(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


def json_value(name: str, default: Any) -> Any:
    """A setting given as JSON text (``{"required_for": ["330100"], "keys": {…}}``); ``default`` when unset."""
    raw = os.environ.get(name)
    return default if raw in (None, "") else json.loads(raw)
