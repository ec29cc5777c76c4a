"""What the studio's tests share: a signed-in client and a JSON post."""

from __future__ import annotations

import json

from django.test import Client

from tests.factories import PASSWORD


def client_for(user, lang: str = "zh-hans") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=lang)
    assert client.login(username=user.username, password=PASSWORD)
    return client


def post_json(client: Client, url: str, body, **extra):
    """POST ``body`` as JSON (a str or bytes body is sent as it is, to test malformed input)."""
    data = body if isinstance(body, str | bytes) else json.dumps(body, ensure_ascii=False)
    return client.post(url, data=data, content_type="application/json", **extra)
