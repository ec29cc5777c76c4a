"""Project models, one idea per module: types (configuration), project (the ledger row), money, progress."""

from .imports import ImportJob
from .money import BudgetLine, Contract, Expenditure, FundSource
from .progress import CheckIn, DailyReport, Milestone, Task
from .project import Category, Project, ProjectFormRecord, Stage, StageChange
from .types import ProjectType, ProjectTypeVersion

__all__ = [
    "BudgetLine",
    "Category",
    "CheckIn",
    "Contract",
    "DailyReport",
    "Expenditure",
    "FundSource",
    "ImportJob",
    "Milestone",
    "Project",
    "ProjectFormRecord",
    "ProjectType",
    "ProjectTypeVersion",
    "Stage",
    "StageChange",
    "Task",
]
