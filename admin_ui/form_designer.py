"""Placeholder: routes are filled in by this module's editor."""

urlpatterns: list = []
