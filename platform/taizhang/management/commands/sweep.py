"""`taizhang sweep [--rule CODE] [--today DATE] [--escalate]`: run the rule sweep now, as celery beat would."""

from __future__ import annotations

import json
import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from core import context
from rules.models import PackStatus, Rule
from rules.services.alerts import alerts_escalate
from rules.sweep import sweep_rule


class Command(BaseCommand):
    help = "巡检：在数据库中对全部台账项目执行生效的预警规则（无法在数据库执行的规则分批在 Python 中执行）。"

    def add_arguments(self, parser):
        parser.add_argument("--rule", help="只巡检这个规则编码")
        parser.add_argument("--today", type=date.fromisoformat, help="以这一天为“今天”（YYYY-MM-DD）")
        parser.add_argument("--escalate", action="store_true", help="巡检后升级超时未确认的预警")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出结果")

    def handle(self, *args, **options):
        rules = Rule.objects.filter(pack__status=PackStatus.ACTIVE, on_schedule=True).select_related(
            "pack", "pack__org", "article"
        )
        if options["rule"]:
            rules = rules.filter(code=options["rule"])
            if not rules.exists():
                raise CommandError(f"没有生效的规则“{options['rule']}”")
        rows = []
        with context.bind(context.RequestContext(request_id=context.new_request_id(), channel="cli")):
            for rule in rules.order_by("pack_id", "position"):
                started = time.perf_counter()
                result = sweep_rule(rule, today=options["today"])
                rows.append((rule, result, time.perf_counter() - started))
            escalated = len(alerts_escalate()) if options["escalate"] else None
        if options["json"]:
            out = [{**r.as_dict(), "reasons": r.reasons, "seconds": round(s, 3)} for _, r, s in rows]
            self.stdout.write(json.dumps({"rules": out, "escalated": escalated}, ensure_ascii=False))
            return
        self._table(rows)
        if escalated is not None:
            self.stdout.write(f"升级预警：{escalated} 条")

    def _table(self, rows) -> None:
        self.stdout.write(
            f"{'规则':<24}{'执行方式':<28}{'命中':>6}{'新增':>6}{'更新':>6}{'解除':>6}{'耗时(ms)':>10}"
        )
        for _rule, result, seconds in rows:
            where = "数据库" if result.in_database else "Python：" + "；".join(dict.fromkeys(result.reasons))
            self.stdout.write(
                f"{result.rule:<24}{where:<28}{result.fired:>6}{result.opened:>6}{result.refreshed:>6}"
                f"{result.resolved:>6}{seconds * 1000:>10.1f}"
            )
        if not rows:
            self.stdout.write("没有生效的定时规则。")
