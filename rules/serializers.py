"""Serializers of the rules API: alerts with their explanation and timeline, notifications, rule packs with their
rules' verdicts, and the policy library."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from . import selectors
from .models import (
    Alert,
    AlertEvent,
    Article,
    Notification,
    Regulation,
    Rule,
    RulePack,
)

ARTICLE_REF = inline_serializer(
    "ArticleRef",
    fields={
        "id": serializers.IntegerField(),
        "regulation": serializers.CharField(),
        "regulation_id": serializers.IntegerField(),
        "number": serializers.CharField(),
        "url": serializers.CharField(help_text="法规政策库中该条款的地址"),
    },
    allow_null=True,
)


class AlertEventSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    actor = serializers.CharField(source="actor.username", default=None, read_only=True)

    class Meta:
        model = AlertEvent
        fields = ["kind", "kind_display", "actor", "note", "at"]
        read_only_fields = fields


class AlertSerializer(serializers.ModelSerializer):
    """One alert in a list: what fired, where, how severe, where it stands in the closed loop."""

    status = serializers.CharField(
        read_only=True,
        help_text="open 待确认 / acknowledged 已确认 / rectifying 整改中 / closed 已核销 / resolved 已自动解除",
    )
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    project_code = serializers.CharField(source="project.code", read_only=True)
    project_name = serializers.CharField(source="project.name", read_only=True)
    org = serializers.CharField(
        source="org.code", read_only=True, help_text="当前责任单位机构编码（升级后为上级）"
    )
    org_name = serializers.CharField(source="org.name", read_only=True)
    rule = serializers.CharField(source="rule.code", read_only=True)
    rule_name = serializers.CharField(source="rule.name", read_only=True)
    pack = serializers.CharField(source="rule.pack.code", read_only=True)
    pack_version = serializers.CharField(source="rule.pack.version", read_only=True)
    url = serializers.SerializerMethodField(help_text="预警页面")

    class Meta:
        model = Alert
        fields = [
            "id",
            "project",
            "project_code",
            "project_name",
            "org",
            "org_name",
            "severity",
            "status",
            "status_display",
            "message",
            "rule",
            "rule_name",
            "pack",
            "pack_version",
            "fired_at",
            "last_fired_at",
            "fire_count",
            "escalation_level",
            "version",
            "url",
        ]
        read_only_fields = fields

    def get_url(self, alert: Alert) -> str:
        return reverse("rules:alert-show", args=[alert.pk])


class AlertDetailSerializer(AlertSerializer):
    """An alert with its explanation (``trace``: ``{text, value, evaluated, children}``, decimals as strings), the
    quoted values, the versions in force, the 整改 record, its timeline and the steps the caller may take now."""

    trace = serializers.JSONField(read_only=True)
    values = serializers.JSONField(read_only=True)
    versions = serializers.JSONField(read_only=True)
    events = AlertEventSerializer(many=True, read_only=True)
    condition = serializers.CharField(source="rule.condition", read_only=True)
    pack_name = serializers.CharField(source="rule.pack.name", read_only=True)
    pack_issuer = serializers.CharField(source="rule.pack.issuer", read_only=True)
    article = serializers.SerializerMethodField()
    evidence = serializers.SerializerMethodField(help_text="整改佐证材料的下载地址")
    acknowledged_by = serializers.CharField(source="acknowledged_by.username", default=None, read_only=True)
    closed_by = serializers.CharField(source="closed_by.username", default=None, read_only=True)
    actions = serializers.SerializerMethodField(help_text="当前用户此刻可执行的操作")

    class Meta(AlertSerializer.Meta):
        fields = [
            *AlertSerializer.Meta.fields,
            "condition",
            "pack_name",
            "pack_issuer",
            "article",
            "trace",
            "values",
            "versions",
            "acknowledged_by",
            "acknowledged_at",
            "cause",
            "action",
            "deadline",
            "evidence",
            "closed_by",
            "closed_at",
            "events",
            "actions",
        ]
        read_only_fields = fields

    @extend_schema_field(ARTICLE_REF)
    def get_article(self, alert: Alert) -> dict | None:
        return _article(alert.rule.article)

    @extend_schema_field(OpenApiTypes.STR)
    def get_evidence(self, alert: Alert) -> str | None:
        return reverse("rules:alert-evidence", args=[alert.pk]) if alert.evidence else None

    def get_actions(self, alert: Alert) -> list[str]:
        request = self.context.get("request")
        return selectors.alert_actions(request.user, alert) if request else []


def _article(article: Article | None) -> dict | None:
    if article is None:
        return None
    return {
        "id": article.pk,
        "regulation": str(article.regulation),
        "regulation_id": article.regulation_id,
        "number": article.number,
        "url": reverse("rules:regulation-show", args=[article.regulation_id]) + f"#article-{article.pk}",
    }


class AlertStepSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    expected_version = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="乐观锁：预警的当前版本号，不一致时返回 409"
    )


class AlertRejectSerializer(AlertStepSerializer):
    note = serializers.CharField(allow_blank=True, max_length=2000, help_text="退回原因（必填）")


class AlertRectifySerializer(serializers.Serializer):
    cause = serializers.CharField(allow_blank=True, max_length=4000, help_text="原因分析")
    action = serializers.CharField(allow_blank=True, max_length=4000, help_text="整改措施")
    deadline = serializers.CharField(allow_blank=True, help_text="整改期限 YYYY-MM-DD")
    evidence = serializers.FileField(required=False, allow_null=True, help_text="整改佐证材料（≤ 20MB）")
    expected_version = serializers.IntegerField(required=False, allow_null=True, default=None)


class NotificationSerializer(serializers.ModelSerializer):
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "text", "alert", "created_at", "read_at", "read"]
        read_only_fields = fields

    def get_read(self, n: Notification) -> bool:
        return n.read_at is not None


class NotificationReadSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        allow_null=True,
        default=None,
        help_text="要标为已读的通知编号；省略则全部标为已读",
    )


class RuleSerializer(serializers.ModelSerializer):
    article = serializers.SerializerMethodField()
    in_database = serializers.SerializerMethodField(
        help_text="巡检是否在数据库中执行（否则见 verdict 说明的原因）"
    )

    class Meta:
        model = Rule
        fields = [
            "code",
            "name",
            "condition",
            "severity",
            "message",
            "types",
            "on_save",
            "on_schedule",
            "raise_alert",
            "block",
            "notify",
            "email",
            "escalate_after_days",
            "verdict",
            "in_database",
            "article",
        ]
        read_only_fields = fields

    @extend_schema_field(ARTICLE_REF)
    def get_article(self, rule: Rule) -> dict | None:
        return _article(rule.article)

    def get_in_database(self, rule: Rule) -> bool:
        text = (rule.verdict or "").strip()
        return text == "" or text.startswith("在数据库中执行")


class RulePackSerializer(serializers.ModelSerializer):
    status = serializers.CharField(
        read_only=True, help_text="active 生效中 / superseded 已被新版本取代 / withdrawn 已停用"
    )
    org = serializers.CharField(source="org.code", read_only=True)
    org_name = serializers.CharField(source="org.name", read_only=True)
    regulation = serializers.CharField(source="regulation.__str__", default=None, read_only=True)
    loaded_by = serializers.CharField(source="loaded_by.username", default=None, read_only=True)
    supersedes = serializers.IntegerField(source="supersedes_id", read_only=True, allow_null=True)

    class Meta:
        model = RulePack
        fields = [
            "id",
            "org",
            "org_name",
            "code",
            "version",
            "name",
            "issuer",
            "effective_on",
            "status",
            "checksum",
            "signed_by",
            "regulation",
            "citation",
            "tests_passed",
            "supersedes",
            "loaded_by",
            "loaded_at",
        ]
        read_only_fields = fields


class RulePackDetailSerializer(RulePackSerializer):
    rules = RuleSerializer(many=True, read_only=True)

    class Meta(RulePackSerializer.Meta):
        fields = [*RulePackSerializer.Meta.fields, "description", "source", "rules"]
        read_only_fields = fields


class PackSourceSerializer(serializers.Serializer):
    file = serializers.FileField(required=False, help_text="规则包文件（YAML，≤ 1MB）")
    source = serializers.CharField(required=False, allow_blank=True, help_text="或直接提交规则包文本")
    filename = serializers.CharField(required=False, allow_blank=True, default="")
    org = serializers.CharField(required=False, allow_blank=True, default="", help_text="适用机构编码")


class PackLoadSerializer(PackSourceSerializer):
    org = serializers.CharField(help_text="适用机构编码（须有“管理政策规则包”权限）")
    signature = serializers.FileField(required=False, allow_null=True, help_text="签名文件（.sig）")


class ArticleSerializer(serializers.ModelSerializer):
    anchor = serializers.SerializerMethodField()

    class Meta:
        model = Article
        fields = ["id", "number", "text", "anchor"]
        read_only_fields = fields

    def get_anchor(self, article: Article) -> str:
        return f"article-{article.pk}"


class RegulationSerializer(serializers.ModelSerializer):
    articles = ArticleSerializer(many=True, read_only=True)
    source = serializers.CharField(source="url", read_only=True, help_text="原文来源")
    page = serializers.SerializerMethodField(help_text="政策库页面")

    class Meta:
        model = Regulation
        fields = [
            "id",
            "title",
            "issuer",
            "number",
            "issued_on",
            "effective_on",
            "source",
            "page",
            "articles",
        ]
        read_only_fields = fields

    def get_page(self, regulation: Regulation) -> str:
        return reverse("rules:regulation-show", args=[regulation.pk])
