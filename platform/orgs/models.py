"""Org: one node of the tree of localities and departments."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node


class OrgKind(models.TextChoices):
    PROVINCE = "province", _("省")
    CITY = "city", _("市")
    COUNTY = "county", _("区县")
    BUREAU = "bureau", _("委办局")
    SECTION = "section", _("科室")


REGION_KINDS = (OrgKind.PROVINCE, OrgKind.CITY, OrgKind.COUNTY)
# Which kinds may stand directly below which (None: a root).
ALLOWED_PARENTS: dict[str, tuple[str | None, ...]] = {
    OrgKind.PROVINCE: (None,),
    OrgKind.CITY: (OrgKind.PROVINCE,),
    OrgKind.COUNTY: (OrgKind.CITY, OrgKind.PROVINCE),
    OrgKind.BUREAU: REGION_KINDS,
    OrgKind.SECTION: (OrgKind.BUREAU, OrgKind.SECTION),
}


class Org(MP_Node):
    """A locality (province, city, county) or a department (bureau, section) in the tree.

    The materialised `path` makes "this node and everything below it" one indexed prefix query,
    which is how every permission scope is applied.
    """

    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("级别"), max_length=16, choices=OrgKind.choices)
    code = models.CharField(_("机构编码"), max_length=32, unique=True)
    division_code = models.CharField(_("行政区划代码"), max_length=6, blank=True)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    steplen = 4

    class Meta:
        verbose_name = _("机构")
        verbose_name_plural = _("机构")

    def __str__(self) -> str:
        return self.name

    @property
    def region_code(self) -> str:
        """The division code of this node, or of the nearest locality above a department."""
        if self.division_code:
            return self.division_code
        ancestor = Org.objects.get_ancestors(self).exclude(division_code="").order_by("-depth").first()
        return ancestor.division_code if ancestor else ""

    def contains(self, other: Org) -> bool:
        return other.path.startswith(self.path)
