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
from rules.api import AlertViewSet, NotificationViewSet, RegulationViewSet, RulePackViewSet
from workflow.api import (
    ApprovalTaskViewSet,
    ApprovalViewSet,
    DelegationViewSet,
    FlowViewSet,
    ProjectChangeViewSet,
    TypeFlowViewSet,
)

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
router.register("alerts", AlertViewSet, basename="alert")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("rule-packs", RulePackViewSet, basename="rule-pack")
router.register("regulations", RegulationViewSet, basename="regulation")
router.register("project-types", TypeFlowViewSet, basename="project-type-flow")
router.register("flows", FlowViewSet, basename="flow")
router.register("approvals", ApprovalViewSet, basename="approval")
router.register("approval-tasks", ApprovalTaskViewSet, basename="approval-task")
router.register("projects", ProjectChangeViewSet, basename="project-change")
router.register("delegations", DelegationViewSet, basename="delegation")

urlpatterns = [
    path("me/", MeApi.as_view(), name="me"),
    path("auth/token/", TokenApi.as_view(), name="token"),
    *router.urls,
]
