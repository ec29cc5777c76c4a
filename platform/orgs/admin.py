from django.contrib import admin

from core.admin_site import ScopedReadOnlyAdmin

from .models import Org


@admin.register(Org)
class OrgAdmin(ScopedReadOnlyAdmin):
    view_action = "org.view"
    list_display = ["name", "kind", "code", "division_code", "depth", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "code", "division_code"]
    ordering = ["path"]
