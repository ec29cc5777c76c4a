from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender, **kwargs):
    from .services import roles_sync

    roles_sync()


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "用户与权限"

    def ready(self) -> None:
        from audit.models import AuditEvent

        from . import permissions
        from .models import Grant, User

        permissions.register_scoped(User, "org__path", lambda u: u.org)
        permissions.register_scoped(Grant, "org__path", lambda g: g.org)
        permissions.register_scoped(AuditEvent, "org__path", lambda e: e.org)
        post_migrate.connect(_sync_roles, sender=self)
