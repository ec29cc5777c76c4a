"""`taizhang bundle validate|load|export|diff`: configuration bundles from the command line.

Exit codes follow the tools administrators know: 0 success; 1 problems found (validate, load) or the bundles
differ (diff, like `diff`); problems are printed one per line as `file:line: path: message`.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core import context
from core.errors import ServiceError
from orgs.models import Org


class Command(BaseCommand):
    help = "配置包：validate 校验、load 载入、export 导出、diff 比较（YAML，见 docs/bundles.md）"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="operation", required=True, parser_class=CommandParser)
        validate = sub.add_parser("validate", help="校验配置包，不写入任何内容")
        validate.add_argument("file")
        validate.add_argument("--org", help="按该机构已发布的配置校验（默认：配置包的 org）")
        load = sub.add_parser("load", help="载入配置包（全部成功或全部不写入）")
        load.add_argument("file")
        load.add_argument("--org", help="在该机构定义表单和类型（默认：配置包的 org）")
        export = sub.add_parser("export", help="导出已发布的配置为配置包（写到标准输出）")
        export.add_argument("--type", dest="type_code", help="项目类型编码：导出该类型及其使用的表单")
        export.add_argument("--org", help="机构编码：导出该机构的全部表单和类型")
        diff = sub.add_parser("diff", help="比较两个配置包（相同退出 0，不同退出 1）")
        diff.add_argument("a")
        diff.add_argument("b")

    def handle(self, *args, operation: str, **options) -> None:
        import bundles

        try:
            getattr(self, f"_{operation}")(bundles, **options)
        except bundles.BundleInvalid as error:
            self._fail(error.problems)
        except ServiceError as error:
            raise CommandError(error.message, returncode=1) from error

    def _fail(self, problems) -> None:
        for problem in problems:
            self.stderr.write(str(problem))
        raise CommandError(f"共 {len(problems)} 处问题", returncode=1)

    def _org(self, code: str | None) -> Org | None:
        if not code:
            return None
        org = Org.objects.filter(code=code).first()
        if org is None:
            raise CommandError(f"机构“{code}”不存在", returncode=1)
        return org

    def _read(self, bundles, path: str):
        try:
            return bundles.bundle_read(path)
        except OSError as error:
            raise CommandError(f"{path}: 无法读取：{error.strerror}", returncode=1) from error

    def _validate(self, bundles, *, file: str, org: str | None = None, **_) -> None:
        bundle = self._read(bundles, file)
        problems = bundles.bundle_validate(bundle, org=self._org(org))
        if problems:
            self._fail(problems)
        self.stdout.write(
            self.style.SUCCESS(
                f"{file}: 通过校验：表单 {len(bundle.forms)} 个，项目类型 {len(bundle.project_types)} 个"
            )
        )

    def _load(self, bundles, *, file: str, org: str | None = None, **_) -> None:
        bundle = self._read(bundles, file)
        ctx = context.RequestContext(request_id=context.new_request_id(), channel="cli")
        with context.bind(ctx):
            report = bundles.bundle_load(actor=None, bundle=bundle, org=self._org(org))
        for item in report.items:
            self.stdout.write(str(item))
        self.stdout.write(self.style.SUCCESS(report.summary()))

    def _export(self, bundles, *, type_code: str | None = None, org: str | None = None, **_) -> None:
        if not type_code and not org:
            raise CommandError("请指定 --type CODE 或 --org CODE", returncode=1)
        ctx = context.RequestContext(request_id=context.new_request_id(), channel="cli")
        with context.bind(ctx):
            text = bundles.bundle_export(org=self._org(org), type_code=type_code)
        self.stdout.write(text, ending="")

    def _diff(self, bundles, *, a: str, b: str, **_) -> None:
        lines = bundles.bundle_diff(self._read(bundles, a), self._read(bundles, b))
        if not lines:
            self.stdout.write("两个配置包的内容相同")
            return
        for line in lines:
            self.stdout.write(line)
        raise CommandError(f"有 {len(lines)} 处不同", returncode=1)
