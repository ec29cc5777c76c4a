"""Errors a service raises. Each maps to one HTTP status and a machine-readable body `{code, message, fields}`.

Services raise these and nothing else for expected failures, so every interface (API, pages, CLI,
tasks) reports the same thing the same way.
"""

from __future__ import annotations

from collections.abc import Mapping


class ServiceError(Exception):
    """Root of the errors a business operation reports to its caller."""

    status = 400
    code = "invalid"

    def __init__(
        self, message: str, *, code: str | None = None, fields: Mapping[str, list[str]] | None = None
    ):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields: dict[str, list[str]] = {k: list(v) for k, v in (fields or {}).items()}

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "fields": self.fields}


class ValidationFailed(ServiceError):
    """The input breaks a rule; `fields` names each offending field with messages in Chinese."""

    status = 400
    code = "validation_failed"


class Unauthenticated(ServiceError):
    """No valid credentials were given."""

    status = 401
    code = "authentication_failed"


class PermissionDenied(ServiceError):
    """The actor may not do this here."""

    status = 403
    code = "permission_denied"


class NotFound(ServiceError):
    """The object does not exist, or exists outside what the actor may see (never say which)."""

    status = 404
    code = "not_found"


class Conflict(ServiceError):
    """The object changed under the caller, or the operation clashes with its current state."""

    status = 409
    code = "conflict"
