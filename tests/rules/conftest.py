"""Fixtures for rule and rule-pack tests."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_BUNDLES = ROOT / "examples" / "bundles"
EXAMPLE_PACKS = ROOT / "examples" / "packs"


# -- rule packs -------------------------------------------------------------------------------------------------------
@pytest.fixture
def example_types(world):
    """The four example project types (老旧小区改造, 道路新建, 中小学校舍改造, 智慧城市信息化) published at the city."""
    from bundles import bundle_load, bundle_read
    from projects.models import ProjectType

    for path in sorted(EXAMPLE_BUNDLES.glob("*.yaml")):
        bundle_load(actor=None, bundle=bundle_read(path), org=world.city)
    return {t.code: t for t in ProjectType.objects.all()}


@pytest.fixture
def signing_key(settings):
    """A fresh Ed25519 key registered as ``test-key``; returns (private PEM, key id). No org requires it yet."""
    from rules.packs_sign import keygen

    pem, public = keygen()
    settings.TAIZHANG_RULEPACK_SIGNING = {"required_for": [], "keys": {"test-key": public}}
    assert base64.b64decode(public)
    return pem, "test-key"
