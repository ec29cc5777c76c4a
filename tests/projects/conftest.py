"""The project-type fixture is shared with browser tests; see tests/project_fixtures.py."""

from tests.project_fixtures import ACCEPTANCE, DAILY, TYPE_CONFIG

__all__ = ["ACCEPTANCE", "DAILY", "TYPE_CONFIG"]
