"""Business operations on project types and projects, one module per idea; re-exported here for callers."""

from .lifecycle import project_create, project_export, project_update
from .money import (
    budget_line_add,
    contract_record,
    expenditure_approve,
    expenditure_record,
    expenditure_withdraw,
    recompute_totals,
)
from .progress import (
    checkin_record,
    daily_report_submit,
    days_late,
    milestone_add,
    milestone_complete,
    planned_progress,
    progress_rollup,
    task_save,
)
from .typed import (
    project_create_from_type,
    project_form_submit,
    project_stage_move,
    project_stages,
    stage_missing_forms,
)
from .types import (
    project_type_create,
    project_type_draft_from,
    project_type_draft_save,
    project_type_override,
    project_type_publish,
    published_form_schemas,
)

__all__ = [
    "budget_line_add",
    "checkin_record",
    "contract_record",
    "daily_report_submit",
    "days_late",
    "expenditure_approve",
    "expenditure_record",
    "expenditure_withdraw",
    "milestone_add",
    "milestone_complete",
    "planned_progress",
    "progress_rollup",
    "project_create",
    "project_create_from_type",
    "project_export",
    "project_form_submit",
    "project_stage_move",
    "project_stages",
    "project_type_create",
    "project_type_draft_from",
    "project_type_draft_save",
    "project_type_override",
    "project_type_publish",
    "project_update",
    "published_form_schemas",
    "recompute_totals",
    "stage_missing_forms",
    "task_save",
]
