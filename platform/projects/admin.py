from django.contrib import admin

from core.admin_site import ScopedReadOnlyAdmin

from .models import Project


@admin.register(Project)
class ProjectAdmin(ScopedReadOnlyAdmin):
    view_action = "project.view"
    list_display = ["code", "name", "org", "stage", "budget"]
    search_fields = ["code", "name"]
    list_filter = ["stage", "category"]
