"""`taizhang audit verify` and `taizhang audit export`: check the hash chain; write it out as JSON Lines."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from audit import services
from audit.models import AuditEvent
from core import context


class Command(BaseCommand):
    help = "审计日志：verify 核验哈希链；export 导出为 JSON Lines（导出本身记入日志）。"

    def add_arguments(self, parser):
        parser.add_argument("operation", choices=["verify", "export"])
        parser.add_argument("--json", action="store_true", help="verify 的结果以 JSON 输出")

    def handle(self, *args, operation: str, **options):
        if operation == "verify":
            report = services.audit_verify()
            if options["json"]:
                self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
            elif report.ok:
                self.stdout.write(self.style.SUCCESS(f"哈希链完整：已核验 {report.checked} 条事件"))
            if not report.ok:
                raise CommandError(f"哈希链断裂：事件 #{report.first_bad_id}：{report.reason}")
            return
        ctx = context.RequestContext(request_id=context.new_request_id(), channel="cli")
        with context.bind(ctx), transaction.atomic():
            services.audit_record(
                actor=None,
                actor_name="cli",
                action="audit.export",
                object_type="audit.auditevent",
                after={"count": AuditEvent.objects.count()},
            )
        for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
            self.stdout.write(services.export_line(event), ending="")
