"""Login, logout and failed logins are audit events too."""

from __future__ import annotations

from django.contrib.auth import signals
from django.db import transaction
from django.dispatch import receiver

from .services import audit_record


@receiver(signals.user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    with transaction.atomic():
        audit_record(actor=user, action="auth.login", obj=user)


@receiver(signals.user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        with transaction.atomic():
            audit_record(actor=user, action="auth.logout", obj=user)


@receiver(signals.user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    with transaction.atomic():
        audit_record(
            actor=None,
            actor_name=username,
            action="auth.login_failed",
            object_type="accounts.user",
            object_repr=username,
            after={"username": username},
        )
