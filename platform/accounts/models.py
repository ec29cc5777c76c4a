"""User, Role and Grant: a user holds roles at org nodes; a grant covers that node's whole subtree."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person who signs in. `org` is where they work; what they may do comes only from grants."""

    display_name = models.CharField(_("姓名"), max_length=50, blank=True)
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    org = models.ForeignKey(
        "orgs.Org",
        verbose_name=_("所属机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.username


class Role(models.Model):
    """A named bundle of actions. The built-in roles are synchronised from `accounts.roles` on migrate."""

    code = models.CharField(_("角色编码"), max_length=32, primary_key=True)
    name = models.CharField(_("角色名称"), max_length=50)
    name_en = models.CharField(_("英文名称"), max_length=50, blank=True)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    actions = models.JSONField(_("权限"), default=list)
    builtin = models.BooleanField(_("内置"), default=False)

    class Meta:
        verbose_name = _("角色")
        verbose_name_plural = _("角色")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Grant(models.Model):
    """User U holds role R at org O, and so over O's whole subtree."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="grants"
    )
    role = models.ForeignKey(Role, verbose_name=_("角色"), on_delete=models.PROTECT, related_name="grants")
    org = models.ForeignKey(
        "orgs.Org", verbose_name=_("机构"), on_delete=models.PROTECT, related_name="grants"
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("授权人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("授权时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("授权")
        verbose_name_plural = _("授权")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "org"], name="grant_unique_user_role_org")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.role} @ {self.org}"
