"""The /api/v1/ router."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from accounts.api import GrantViewSet, MeApi, RoleViewSet, TokenApi, UserViewSet
from audit.api import AuditEventViewSet
from forms.api import FormViewSet, SubmissionViewSet
from orgs.api import OrgViewSet
from projects.api import ProjectViewSet
from projects.api_work import ProjectTypeViewSet, ProjectWorkViewSet
from projects.imports.api import ProjectImportViewSet

router = DefaultRouter()
router.register("orgs", OrgViewSet, basename="org")
router.register("users", UserViewSet, basename="user")
router.register("roles", RoleViewSet, basename="role")
router.register("grants", GrantViewSet, basename="grant")
router.register("audit-events", AuditEventViewSet, basename="audit-event")
router.register("projects", ProjectViewSet, basename="project")
router.register("project-imports", ProjectImportViewSet, basename="project-import")
router.register("projects", ProjectWorkViewSet, basename="project-work")
router.register("project-types", ProjectTypeViewSet, basename="project-type")
router.register("forms", FormViewSet, basename="form")
router.register("submissions", SubmissionViewSet, basename="submission")

urlpatterns = [
    path("me/", MeApi.as_view(), name="me"),
    path("auth/token/", TokenApi.as_view(), name="token"),
    *router.urls,
]
