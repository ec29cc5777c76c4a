from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = "项目"

    def ready(self) -> None:
        from accounts import permissions

        from .models import ImportJob, Project

        permissions.register_scoped(Project, "org__path", lambda p: p.org)
        permissions.register_scoped(ImportJob, "org__path", lambda j: j.org)
