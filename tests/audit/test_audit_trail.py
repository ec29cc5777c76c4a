"""Every write, login, logout and failed login leaves an append-only, hash-chained audit event."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from audit import services
from audit.models import AuditEvent
from projects import services as projects
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _last(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).order_by("-id").first()


def test_api_write_records_who_what_before_after_request_and_address(world, api):
    client = api.as_user(world.users["clerk_a"])
    project = world.projects_a[0]
    response = client.patch(
        f"/api/v1/projects/{project.pk}/",
        {"budget": "13000000.50", "version": 1},
        format="json",
        HTTP_X_REQUEST_ID="req-42",
        REMOTE_ADDR="10.1.2.3",
    )
    assert response.status_code == 200, response.content
    event = _last("project.update")
    assert event.actor == world.users["clerk_a"]
    assert event.org == world.bureau_a
    assert event.object_id == str(project.pk)
    assert event.before["budget"] == "1000000.00"
    assert event.after["budget"] == "13000000.50"
    assert event.request_id == "req-42"
    assert event.client_ip == "10.1.2.3"
    assert event.channel == "api"
    assert response["X-Request-ID"] == "req-42"


def test_login_logout_and_failed_login_are_events(world, client):
    assert not client.login(username="clerk_a", password="wrong-password")
    failed = _last("auth.login_failed")
    assert failed.actor is None and failed.after == {"username": "clerk_a"}
    response = client.post("/accounts/login/", {"username": "clerk_a", "password": PASSWORD})
    assert response.status_code == 302
    assert _last("auth.login").actor == world.users["clerk_a"]
    client.post("/accounts/logout/")
    assert _last("auth.logout").actor == world.users["clerk_a"]


def test_failed_token_request_is_audited_even_though_it_fails(world, api):
    before = AuditEvent.objects.filter(action="auth.login_failed").count()
    response = api.post("/api/v1/auth/token/", {"username": "clerk_a", "password": "nope"}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert AuditEvent.objects.filter(action="auth.login_failed").count() == before + 1


def test_export_is_an_event(world, api):
    api.as_user(world.users["leader_a"]).get("/api/v1/projects/export/")
    assert _last("project.export").after == {"count": 2, "filters": {}}


def test_orm_refuses_update_and_delete(world):
    event = AuditEvent.objects.first()
    event.action = "tampered"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.all().update(action="x")
    with pytest.raises(TypeError):
        AuditEvent.objects.all().delete()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET action = 'tampered'",
        "DELETE FROM audit_auditevent",
    ],
)
def test_database_refuses_update_and_delete(world, sql):
    with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)


def test_verify_detects_tampering(world):
    assert services.audit_verify().ok
    victim = AuditEvent.objects.order_by("id")[3]
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_no_update")
        cursor.execute(
            'UPDATE audit_auditevent SET after = \'{"budget": "1.00"}\' WHERE id = %s', [victim.id]
        )
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_no_update")
    report = services.audit_verify()
    assert not report.ok
    assert report.first_bad_id == victim.id
    assert "篡改" in report.reason


def test_verify_detects_a_removed_event(world):
    victim = AuditEvent.objects.order_by("id")[5]
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_no_delete")
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [victim.id])
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_no_delete")
    report = services.audit_verify()
    assert not report.ok and "断裂" in report.reason


def test_export_lines_verify_offline(world):
    import json

    from audit.chain import GENESIS, compute_hash

    lines = [json.loads(services.export_line(e)) for e in AuditEvent.objects.order_by("id")]
    prev = GENESIS
    for line in lines:
        assert line["prev_hash"] == prev
        prev = line["hash"]
    assert lines and compute_hash is not None


@pytest.mark.django_db(transaction=True)
def test_concurrent_writes_keep_one_unbroken_chain(world):
    """Eight clerks writing at once on PostgreSQL: every event lands and the chain has no fork."""
    project_ids = [p.pk for p in world.projects_a]
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            from projects.models import Project

            for i in range(5):
                project = Project.objects.get(pk=project_ids[n % 2])
                projects.project_update(actor=world.users["clerk_a"], project=project, description=f"{n}-{i}")
        except BaseException as exc:  # collected and re-raised in the test thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert AuditEvent.objects.filter(action="project.update").count() == 40
    report = services.audit_verify()
    assert report.ok, report
    assert AuditEvent.objects.values("prev_hash").distinct().count() == AuditEvent.objects.count()
