"""Configurable forms: JSON Schema + UI schema → validation, Chinese errors, pages, DSL catalogue."""
