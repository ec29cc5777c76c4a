from django.apps import AppConfig


class RulesConfig(AppConfig):
    name = "rules"
    label = "rules"
    verbose_name = "预警规则"

    def ready(self) -> None:
        from accounts import permissions

        from .models import Alert, RulePack

        permissions.register_scoped(Alert, "project__org__path", lambda a: a.project.org)
        permissions.register_scoped(RulePack, "org__path", lambda p: p.org)
