"""API plumbing shared by every endpoint: error bodies, pagination, token authentication.

Every error leaves the API as a 4xx JSON body `{code, message, fields}`; the mapping lives here once.
"""

from __future__ import annotations

import codecs
import json
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, pagination, serializers
from rest_framework.authentication import TokenAuthentication
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from .errors import ServiceError

_DRF_CODES: dict[type[exceptions.APIException], tuple[str, str]] = {
    exceptions.NotAuthenticated: ("not_authenticated", "请先登录或提供有效的访问令牌。"),
    exceptions.AuthenticationFailed: ("authentication_failed", "身份认证失败：用户名、密码或令牌无效。"),
    exceptions.PermissionDenied: ("permission_denied", "您没有执行此操作的权限。"),
    exceptions.NotFound: ("not_found", "对象不存在或您无权查看。"),
    exceptions.MethodNotAllowed: ("method_not_allowed", "不支持该请求方法。"),
    exceptions.NotAcceptable: ("not_acceptable", "无法提供所请求的响应格式。"),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", "不支持该请求内容类型，请使用 JSON。"),
    exceptions.ParseError: ("parse_error", "请求内容无法解析，请检查 JSON 格式。"),
    exceptions.Throttled: ("throttled", "请求过于频繁，请稍后再试。"),
}


def _flatten(detail) -> dict[str, list[str]]:
    """DRF's nested error detail → {"field.sub": ["message", …]}."""
    out: dict[str, list[str]] = {}

    def walk(node, prefix: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{prefix}.{key}" if prefix else str(key))
        elif isinstance(node, list):
            if all(not isinstance(v, (dict, list)) for v in node):
                out.setdefault(prefix or "non_field_errors", []).extend(str(v) for v in node)
            else:
                for i, value in enumerate(node):
                    walk(value, f"{prefix}[{i}]")
        else:
            out.setdefault(prefix or "non_field_errors", []).append(str(node))

    walk(detail, "")
    return out


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"code": code, "message": message, "fields": fields or {}}


def exception_handler(exc, context):
    """Map every expected exception to `{code, message, fields}` with a 4xx status."""
    if isinstance(exc, ServiceError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response(error_body("validation_failed", _("提交的数据未通过校验。"), fields), status=400)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.ValidationError):
        body = error_body("validation_failed", _("提交的数据未通过校验。"), _flatten(exc.detail))
        return Response(body, status=400)
    if isinstance(exc, exceptions.APIException):
        code, message = next(
            ((c, m) for cls, (c, m) in _DRF_CODES.items() if isinstance(exc, cls)),
            (exc.default_code, str(exc.detail)),
        )
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        return Response(error_body(code, _(message)), status=exc.status_code, headers=headers)
    return None


class Pagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param) or 1
        try:
            number = int(raw)
        except (TypeError, ValueError):
            raise exceptions.ValidationError({"page": ["页码必须是正整数。"]}) from None
        if number < 1:
            raise exceptions.ValidationError({"page": ["页码必须是正整数。"]})
        return number

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            raise exceptions.ValidationError({"page_size": ["每页条数必须是 1–500 的整数。"]}) from None
        if not 1 <= size <= self.max_page_size:
            raise exceptions.ValidationError({"page_size": ["每页条数必须是 1–500 的整数。"]})
        return size


class BearerTokenAuthentication(TokenAuthentication):
    """Accepts `Authorization: Bearer <token>` as well as DRF's `Token <token>`."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if header.lower().startswith("token "):
            request.META["HTTP_AUTHORIZATION"] = "Bearer " + header[6:]
        return super().authenticate(request)


class DecimalJSONParser(JSONParser):
    """Reads JSON numbers with a fraction as exact Decimals: money never passes through float."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
            return json.loads(text, parse_float=Decimal)
        except (ValueError, UnicodeDecodeError) as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None


def validated(serializer_class, data, **kwargs) -> dict:
    """Run a serializer's validation (raising the API's 400 body) and hand back plain validated data."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


@extend_schema_field({"type": "string", "format": "decimal", "example": "1280000.00"})
class MoneyField(serializers.Field):
    """An amount in 元 as a string or an exact JSON number; the service validates it and names the field.

    Reads back as a string so no client ever sees a float.
    """

    default_error_messages = {"invalid": "金额应为字符串或数字，如“1280000.00”。"}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int | Decimal):
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return None if value is None else format(value, "f")
