"""Error pages and bodies: JSON `{code, message, fields}` under /api/, a Chinese page elsewhere."""

from django.http import JsonResponse
from django.shortcuts import render

_BODIES = {
    400: ("bad_request", "请求有误。"),
    403: ("permission_denied", "您没有执行此操作的权限。"),
    404: ("not_found", "页面或对象不存在。"),
    500: ("server_error", "服务器内部错误，已记录，请稍后重试。"),
}


def _respond(request, status: int):
    code, message = _BODIES[status]
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"code": code, "message": message, "fields": {}},
            status=status,
            json_dumps_params={"ensure_ascii": False},
        )
    return render(
        request, "taizhang/error.html", {"error": {"status": status, "message": message}}, status=status
    )


def bad_request(request, exception=None):
    return _respond(request, 400)


def forbidden(request, exception=None):
    return _respond(request, 403)


def not_found(request, exception=None):
    return _respond(request, 404)


def server_error(request):
    return _respond(request, 500)
