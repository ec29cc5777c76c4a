"""`taizhang pack test|load|diff|preview|sign|keygen`: policy rule packs from the command line.

Exit codes: 0 success; 1 the pack was refused (problems, failed tests, a bad signature, no permission) or, for
`diff`, the packs differ (like `diff`); 2 a file could not be read or did not parse for `diff`. Problems are printed
one per line as `file:line: path: message`, on standard error.
"""

from __future__ import annotations

import json
import os
import unicodedata
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core import context
from core.errors import ServiceError


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    """Left-align in a terminal, where CJK characters take two columns."""
    return text + " " * max(1, width - _width(text))


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(_width(row[i]) for row in rows) + 2 for i in range(len(rows[0]))]
    return ["  " + "".join(_pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]


class Command(BaseCommand):
    help = "政策规则包：test 测试、load 载入、diff 比较、preview 影响预览、sign 签名、keygen 生成密钥（见 docs/rule-packs.md）"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="operation", required=True, parser_class=CommandParser)
        test = sub.add_parser("test", help="运行规则包内嵌的测试用例，不写入任何内容")
        test.add_argument("file")
        test.add_argument("--org", help="同时在该机构范围内的每个项目类型上运行未指定类型的测试")
        load = sub.add_parser("load", help="载入规则包（检查、测试全部通过才载入，并取代旧版本）")
        load.add_argument("file")
        load.add_argument("--org", required=True, help="在该机构载入，适用于其下辖范围")
        load.add_argument("--user", help="以该用户身份载入（检查其权限）；不写则为系统操作")
        load.add_argument("--signature", help="签名文件（默认：FILE.sig，存在时自动使用）")
        diff = sub.add_parser("diff", help="比较两个规则包（相同退出 0，不同退出 1）")
        diff.add_argument("a")
        diff.add_argument("b")
        preview = sub.add_parser("preview", help="预览载入后哪些项目新触发、哪些不再触发")
        preview.add_argument("file")
        preview.add_argument("--org", required=True)
        preview.add_argument("--user")
        preview.add_argument("--today", help="按该日期计算（默认今天），如 2026-03-01")
        sign = sub.add_parser("sign", help="用 Ed25519 私钥签名规则包，写出 FILE.sig")
        sign.add_argument("file")
        sign.add_argument("--key", required=True, help="私钥文件（taizhang pack keygen 生成）")
        sign.add_argument("--key-id", help="密钥编号（默认：由公钥计算）")
        sign.add_argument("--out", help="签名文件路径（默认：FILE.sig）")
        keygen = sub.add_parser("keygen", help="生成 Ed25519 密钥对：OUT（私钥）和 OUT.pub（公钥）")
        keygen.add_argument("out")
        keygen.add_argument("--force", action="store_true", help="覆盖已有文件")

    def handle(self, *args, operation: str, **options) -> None:
        ctx = context.RequestContext(request_id=context.new_request_id(), channel="cli")
        with context.bind(ctx):
            getattr(self, f"_{operation}")(**options)

    # -- helpers -------------------------------------------------------------------------------------------------
    def _read(self, path: str) -> bytes:
        try:
            return Path(path).read_bytes()
        except OSError as error:
            raise CommandError(f"{path}: 无法读取：{error.strerror}", returncode=2) from error

    def _org(self, code: str):
        from orgs.models import Org

        org = Org.objects.filter(code=code).first()
        if org is None:
            raise CommandError(f"机构“{code}”不存在", returncode=1)
        return org

    def _user(self, username: str | None):
        if not username:
            return None
        from accounts.models import User

        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"用户“{username}”不存在", returncode=1)
        return user

    def _refuse(self, error: ServiceError) -> None:
        for where, messages in error.fields.items():
            for message in messages:
                self.stderr.write(f"{where}: {message}")
        raise CommandError(error.message, returncode=1)

    # -- operations ----------------------------------------------------------------------------------------------
    def _test(self, *, file: str, org: str | None = None, **_) -> None:
        from rules.services.packs import pack_test

        report = pack_test(source=self._read(file), filename=file, org=self._org(org) if org else None)
        if report.problems:
            for problem in report.problems:
                self.stderr.write(str(problem))
            raise CommandError(f"规则包格式有误（{len(report.problems)} 处问题）", returncode=1)
        self.stdout.write(f"规则包 {report.code} v{report.version}（SHA-256 {report.checksum[:16]}…）")
        rows = [["测试", "适用于", "结果", "规则"]]
        for case in report.cases:
            verdicts = "、".join(
                f"{o.rule}{'触发' if o.fired else '不触发'}{'' if o.ok else '✗'}" for o in case.outcomes
            )
            rows.append([case.name, case.target, "通过" if case.ok else "失败", case.error or verdicts])
        for line in _table(rows):
            self.stdout.write(line)
        for problem in report.failures():
            self.stderr.write(str(problem))
        summary = f"共运行 {len(report.cases)} 个测试，通过 {report.passed}，失败 {report.failed}"
        if not report.ok:
            raise CommandError(summary, returncode=1)
        self.stdout.write(self.style.SUCCESS(summary))

    def _load(
        self, *, file: str, org: str, user: str | None = None, signature: str | None = None, **_
    ) -> None:
        from rules.services.packs import pack_load

        source = self._read(file)
        if signature is None and os.path.exists(f"{file}.sig"):
            signature = f"{file}.sig"
        sig = self._read(signature) if signature else None
        try:
            pack = pack_load(
                actor=self._user(user), org=self._org(org), source=source, filename=file, signature=sig
            )
        except ServiceError as error:
            self._refuse(error)
            return
        rows = [["规则", "名称", "级别", "执行方式"]]
        for rule in pack.rules.all():
            rows.append([rule.code, rule.name, rule.severity, rule.verdict or "数据库"])
        for line in _table(rows):
            self.stdout.write(line)
        replaced = f"，取代 v{pack.supersedes.version}" if pack.supersedes_id else ""
        signed = f"，签名密钥 {pack.signed_by}" if pack.signed_by else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"已在{pack.org.name}载入 {pack.name} v{pack.version}：{pack.rules.count()} 条规则，"
                f"{pack.tests_passed} 个测试全部通过{signed}{replaced}"
            )
        )

    def _diff(self, *, a: str, b: str, **_) -> None:
        from rules.services.packs import pack_diff

        try:
            changes = pack_diff(self._read(a), self._read(b), a_name=a, b_name=b)
        except ServiceError as error:
            for where, messages in error.fields.items():
                for message in messages:
                    self.stderr.write(f"{where}: {message}")
            raise CommandError(error.message, returncode=2) from error
        if not changes:
            self.stdout.write("两个规则包的内容相同")
            return
        for change in changes:
            self.stdout.write(str(change))
        raise CommandError(f"有 {len(changes)} 处不同", returncode=1)

    def _preview(
        self, *, file: str, org: str, user: str | None = None, today: str | None = None, **_
    ) -> None:
        from rules.services.packs import pack_preview

        try:
            day = date.fromisoformat(today) if today else None
        except ValueError:
            raise CommandError(f"“{today}”不是日期（应写作 2026-03-01）", returncode=2) from None
        try:
            preview = pack_preview(
                actor=self._user(user), org=self._org(org), source=self._read(file), today=day, filename=file
            )
        except ServiceError as error:
            self._refuse(error)
            return
        current = f"（现行 v{preview.active_version}）" if preview.active_version else "（尚未载入过）"
        self.stdout.write(
            f"规则包 {preview.code} v{preview.version}{current}在 {preview.org} 的影响，按 {preview.today}："
        )
        rows = [["规则", "名称", "变化", "当前触发", "新触发", "不再触发", "保持"]]
        for item in preview.rules:
            rows.append(
                [
                    item.code,
                    item.name,
                    item.change,
                    str(item.firing),
                    str(len(item.newly)),
                    str(len(item.stopping)),
                    str(item.kept),
                ]
            )
        for line in _table(rows):
            self.stdout.write(line)
        for item in preview.rules:
            for label, refs in (("新触发", item.newly), ("不再触发", item.stopping)):
                for ref in refs[:20]:
                    self.stdout.write(f"  {item.code} {label}：{ref.code} {ref.name}（{ref.org}）")
                if len(refs) > 20:
                    self.stdout.write(f"  {item.code} {label}：…… 另有 {len(refs) - 20} 个项目")
        for code, name, count in preview.removed:
            self.stdout.write(f"  {code} {name}：新版本中删除，{count} 条未关闭的预警保留，须人工处理")

    def _sign(self, *, file: str, key: str, key_id: str | None = None, out: str | None = None, **_) -> None:
        from rules.packs_sign import SignatureInvalid, sign

        try:
            document = sign(self._read(file), self._read(key), key_id=key_id)
        except SignatureInvalid as error:
            raise CommandError(error.message, returncode=1) from error
        target = Path(out or f"{file}.sig")
        target.write_bytes(document)
        used = json.loads(document)["key"]
        self.stdout.write(self.style.SUCCESS(f"已签名：{target}（密钥 {used}）"))

    def _keygen(self, *, out: str, force: bool = False, **_) -> None:
        from rules.packs_sign import key_id_of, keygen

        private, public = Path(out), Path(f"{out}.pub")
        for path in (private, public):
            if path.exists() and not force:
                raise CommandError(f"{path} 已存在；如需覆盖请加 --force", returncode=1)
        pem, public_b64 = keygen()
        private.write_bytes(pem)
        private.chmod(0o600)
        public.write_text(public_b64 + "\n", encoding="ascii")
        key_id = key_id_of(public_b64)
        self.stdout.write(self.style.SUCCESS(f"已生成密钥对：私钥 {private}（请妥善保管），公钥 {public}"))
        self.stdout.write(f"密钥编号：{key_id}")
        snippet = json.dumps({"required_for": [], "keys": {key_id: public_b64}}, ensure_ascii=False)
        self.stdout.write(f"在平台配置中登记公钥（环境变量 TAIZHANG_RULEPACK_SIGNING）：{snippet}")
