"""The Django admin, for reading raw data: open to holders of `system.admin`, scoped, read-only.

Every write goes through a service; the admin offers none, so nothing here can bypass a permission
check or an audit event.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class TaizhangAdminSite(admin.AdminSite):
    site_header = _("台账 · 数据后台（只读）")
    site_title = _("台账数据后台")
    index_title = _("原始数据")

    def has_permission(self, request) -> bool:
        from accounts import permissions

        return request.user.is_active and permissions.can(request.user, "system.admin")


class TaizhangAdminConfig(AdminConfig):
    default_site = "core.admin_site.TaizhangAdminSite"


class ScopedReadOnlyAdmin(admin.ModelAdmin):
    """Shows only rows inside the viewer's subtrees for `view_action`; never adds, changes or deletes."""

    view_action = ""

    def get_queryset(self, request):
        from accounts import permissions

        return permissions.visible(request.user, self.view_action, super().get_queryset(request))

    def has_view_permission(self, request, obj=None) -> bool:
        from accounts import permissions

        return permissions.can(request.user, self.view_action)

    def has_module_permission(self, request) -> bool:
        return self.has_view_permission(request)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
