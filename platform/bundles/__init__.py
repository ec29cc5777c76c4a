"""Configuration bundles: every project type and form (later flows and rules) as one YAML file format.

Parse, check and diff need no database and import no Django (``bundle_parse``, ``bundle_check``,
``bundle_diff``, ``bundle_dump``); loading and exporting go through the forms and projects services
(``bundle_validate``, ``bundle_load``, ``bundle_export``), imported on first use so ``import bundles`` works
without Django settings. See ``docs/bundles.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .canonical import canonical_bundle
from .diff import bundle_diff
from .document import FORMAT_VERSION, RESERVED, Bundle, bundle_parse
from .problems import BundleInvalid, Problem
from .validate import Available, bundle_check
from .yamlio import dump_yaml

if TYPE_CHECKING:
    from .services import LoadItem, LoadReport, bundle_export, bundle_load, bundle_read, bundle_validate

__all__ = [
    "FORMAT_VERSION",
    "RESERVED",
    "Available",
    "Bundle",
    "BundleInvalid",
    "LoadItem",
    "LoadReport",
    "Problem",
    "bundle_check",
    "bundle_diff",
    "bundle_dump",
    "bundle_export",
    "bundle_load",
    "bundle_parse",
    "bundle_read",
    "bundle_validate",
]

_DJANGO_SIDE = {"LoadItem", "LoadReport", "bundle_export", "bundle_load", "bundle_read", "bundle_validate"}


def bundle_dump(bundle: Bundle) -> str:
    """A bundle's data as canonical YAML text (what export writes)."""
    return dump_yaml(canonical_bundle(bundle.data))


def __getattr__(name: str) -> Any:
    # Deferred: the services import Django models, which need configured settings; the pure half must not.
    if name in _DJANGO_SIDE:
        from . import services

        return getattr(services, name)
    raise AttributeError(f"module 'bundles' has no attribute {name!r}")
