from django.contrib import admin

from core.admin_site import ScopedReadOnlyAdmin

from .models import Grant, Role, User


@admin.register(User)
class UserAdmin(ScopedReadOnlyAdmin):
    view_action = "user.view"
    list_display = ["username", "display_name", "org", "is_active", "last_login"]
    search_fields = ["username", "display_name"]
    exclude = ["password"]


@admin.register(Grant)
class GrantAdmin(ScopedReadOnlyAdmin):
    view_action = "user.view"
    list_display = ["user", "role", "org", "created_at"]
    list_filter = ["role"]


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "builtin"]

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_active

    def has_module_permission(self, request) -> bool:
        return True

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
