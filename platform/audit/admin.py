from django.contrib import admin

from core.admin_site import ScopedReadOnlyAdmin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ScopedReadOnlyAdmin):
    view_action = "audit.view"
    list_display = ["occurred_at", "actor_name", "action", "object_repr", "client_ip", "request_id"]
    list_filter = ["action", "channel"]
    search_fields = ["actor_name", "object_repr", "request_id", "object_id"]
