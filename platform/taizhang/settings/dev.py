"""The embedded default: SQLite under var/, tasks in-process, DEBUG on. Zero setup."""

from taizhang import env

from .base import *  # noqa: F403

DEBUG = env.flag("DEBUG", True)
