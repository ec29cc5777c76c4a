from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    name = "workflow"
    label = "workflow"
    verbose_name = "审批流程"

    def ready(self) -> None:
        from accounts import permissions

        from .models import FlowInstance

        permissions.register_scoped(FlowInstance, "project__org__path", lambda i: i.project.org)
