"""Approval pages, included at the site root: /approvals/… (inbox, one approval and its actions, snapshots,
attachments, flow diagrams) and the 变更申请 form of a project. Names live in the ``workflow`` namespace."""

from django.urls import path

from . import views, views_delegation

app_name = "workflow"

urlpatterns = [
    path("approvals/", views.approval_inbox, name="inbox"),
    path("approvals/delegations/", views_delegation.delegation_list, name="delegations"),
    path("approvals/delegations/<int:pk>/end/", views_delegation.delegation_end, name="delegation-end"),
    path("approvals/<int:pk>/", views.approval_show, name="approval-show"),
    path("approvals/<int:pk>/<str:action>/", views.approval_act, name="approval-act"),
    path("approvals/<int:pk>/tasks/<int:task_id>/", views.task_snapshot, name="task-snapshot"),
    path(
        "approvals/<int:pk>/tasks/<int:task_id>/attachment/",
        views.task_attachment,
        name="task-attachment",
    ),
    path("approvals/flows/<str:type_code>/<str:flow_code>/", views.flow_show, name="flow-show"),
    path("approvals/changes/<int:project_pk>/", views.change_request_new, name="change-new"),
]
