"""Factories for tests. They create through the services, so test data obeys the same rules as real data."""

from __future__ import annotations

import factory

from accounts import services as accounts
from accounts.models import Role, User
from orgs import services as orgs
from orgs.models import Org
from projects import services as projects
from projects.models import Project

PASSWORD = "Ceshi@2026-mima"


class OrgFactory(factory.Factory):
    class Meta:
        model = Org

    parent = None
    name = factory.Sequence(lambda n: f"测试机构{n}")
    kind = "bureau"
    code = factory.Sequence(lambda n: f"org-{n}")
    division_code = ""

    @classmethod
    def _create(cls, model_class, **kwargs):
        return orgs.org_create(actor=None, **kwargs)


class UserFactory(factory.Factory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    password = PASSWORD
    display_name = factory.Sequence(lambda n: f"用户{n}")
    org = None

    @classmethod
    def _create(cls, model_class, *, roles=(), **kwargs):
        user = accounts.user_create(actor=None, **kwargs)
        for role in roles:
            accounts.grant_create(actor=None, user=user, role=Role.objects.get(code=role), org=kwargs["org"])
        return user


class ProjectFactory(factory.Factory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"测试项目{n}")
    budget = "1000000.00"
    category = "基本建设"
    description = ""

    @classmethod
    def _create(cls, model_class, *, actor=None, **kwargs):
        return projects.project_create(actor=actor, **kwargs)
