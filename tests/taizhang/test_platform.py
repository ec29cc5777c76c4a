"""The platform shell: health, OpenAPI, settings, demo data, the Celery broker, i18n."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import uuid

import pytest
from django.core.management import call_command
from django.test import override_settings

from accounts.models import User
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
DEMO_PASSWORD = "Taizhang@2026"


def test_healthz_reports_postgres_and_redis(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == {"ok": True, "vendor": "postgresql"}
    assert body["broker"]["ok"] is True and body["broker"]["url"].startswith("redis://")


@override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0")
def test_healthz_fails_when_broker_is_down(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"]["ok"] is False


def test_openapi_schema_lists_the_api(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/projects/", "/api/v1/orgs/", "/api/v1/audit-events/", "/api/v1/auth/token/"} <= set(
        schema["paths"]
    )


def test_api_docs_page_uses_local_assets_only(client):
    html = client.get("/api/docs/").content.decode()
    assert "swagger" in html.lower()
    assert "cdn" not in html and "unpkg" not in html and "jsdelivr" not in html


def test_demo_loads_idempotently_and_every_role_can_sign_in(client):
    out = io.StringIO()
    call_command("demo_load", stdout=out)
    call_command("demo_load", stdout=out)
    assert "演示数据已存在" in out.getvalue()
    assert User.objects.count() == 12
    from rules.models import Alert, RulePack
    from workflow.models import ApprovalTask

    assert RulePack.objects.filter(status="active").count() == 2
    assert Alert.objects.filter(rule__code="CZ-01", project__name="西湖区智慧住建监管平台（一期）").exists()
    assert ApprovalTask.objects.filter(assignee__username="approver", status="open").count() == 1
    for user in User.objects.all():
        assert client.login(username=user.username, password=DEMO_PASSWORD), user.username
        page = client.get("/").content.decode()
        assert user.display_name in page
        assert "我可以做什么" in page
        client.logout()


def test_home_lists_what_the_user_may_do(world, client):
    client.force_login(world.users["clerk_a"])
    page = client.get("/").content.decode()
    assert "统一项目台账" in page and "审计日志" not in page
    client.force_login(world.users["auditor"])
    page = client.get("/").content.decode()
    assert "审计日志" in page and "统一项目台账" not in page


def test_english_is_available(world, client):
    client.force_login(world.users["clerk_a"])
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "What I can do" in page
    assert "我可以做什么" in client.get("/").content.decode()


def test_pages_turn_service_errors_into_403(world, client):
    client.force_login(world.users["auditor"])
    response = client.get("/projects/")
    assert response.status_code == 403
    assert "您没有“查看项目”的权限" in response.content.decode()


def test_login_page_is_chinese_by_default(client):
    page = client.get("/accounts/login/").content.decode()
    assert "登录台账" in page and 'lang="zh-hans"' in page


def test_admin_is_read_only_and_scoped(world, client):
    client.force_login(world.users["sysadmin_a"])
    assert client.get("/admin/").status_code == 200
    page = client.get("/admin/orgs/org/").content.decode()
    assert "西湖区" in page and "上城区" not in page
    assert client.get("/admin/orgs/org/add/").status_code == 403
    client.force_login(world.users["clerk_a"])
    assert client.get("/admin/").status_code == 302


@pytest.mark.django_db(transaction=True)
def test_celery_task_round_trips_through_redis(world):
    """A real worker consumes from the machine's Redis and runs the task against PostgreSQL."""
    from celery import Celery
    from celery.contrib.testing.worker import start_worker

    import audit.tasks  # noqa: F401  (registers the shared task)
    from taizhang.celery import app as main_app

    app = Celery(
        "taizhang-test",
        broker=os.environ["CELERY_BROKER_URL"],
        backend="redis://127.0.0.1:6379/1",
        set_as_current=False,
    )
    app.conf.task_always_eager = False
    queue = f"test-{uuid.uuid4().hex}"  # private queue: another run on this machine cannot take the task
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10, queues=[queue]):
            result = app.send_task("audit.verify", queue=queue).get(timeout=30)
    finally:
        main_app.set_current()  # the test worker made its app current; later tests use the project's app
        main_app.set_default()
    assert result["ok"] is True and result["checked"] > 0


def test_production_settings_pass_check_deploy():
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "taizhang.settings.production",
        "SECRET_KEY": "k" * 20 + "-prod-secret-" + "x9Z#" * 10,
        "ALLOWED_HOSTS": "taizhang.example.gov.cn",
    }
    result = subprocess.run(
        [sys.executable, "-m", "taizhang.manage", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_password_fixture_is_valid():
    assert len(PASSWORD) >= 10
