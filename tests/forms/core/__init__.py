"""Tests for the pure forms core (run without Django: -p no:django)."""
