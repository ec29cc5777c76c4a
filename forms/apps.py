from django.apps import AppConfig


class FormsConfig(AppConfig):
    name = "forms"
    label = "forms"
    verbose_name = "表单"

    def ready(self) -> None:
        from accounts import permissions

        from .models import Form, Submission

        permissions.register_scoped(Form, "org__path", lambda f: f.org)
        permissions.register_scoped(Submission, "org__path", lambda s: s.org)
