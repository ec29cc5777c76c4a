"""Tests for forms/."""
