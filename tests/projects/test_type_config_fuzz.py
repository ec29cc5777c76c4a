"""No project-type configuration, however malformed, makes publishing fail with anything but a 4xx."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=12,
)
_keys = st.sampled_from(
    [
        "name",
        "category",
        "stages",
        "forms",
        "field_map",
        "indicators",
        "thresholds",
        "public_fields",
        "extend_forms",
        "x",
    ]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(config=st.dictionaries(_keys, _json, max_size=6))
def test_malformed_configs_get_a_4xx(world, api, config_admin, published_form, config):
    client = api.as_user(config_admin)
    code = f"fz-{uuid.uuid4().hex[:10]}"  # one type per example: examples share the test transaction
    created = client.post(
        "/api/v1/project-types/", {"org": "330100", "code": code, "config": config}, format="json"
    )
    assert created.status_code < 500, created.content
    if created.status_code == 201:
        published = client.post(f"/api/v1/project-types/{code}/publish/")
        assert published.status_code < 500, (config, published.content)
