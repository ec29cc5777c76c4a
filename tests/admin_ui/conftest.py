"""Fixtures for the studio's tests: the approval world of tests/workflow (a published type with three flows)."""

from tests.workflow.conftest import flows  # noqa: F401
