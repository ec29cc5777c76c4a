"""The pure core of configurable forms: definitions, field types, formats, validation, live state, migration.

Nothing here imports Django: the ``forms`` Django app wraps these functions (STYLE rules 1 and 2). Re-exported names
are the public API; modules are split by idea (STYLE rule 13).
"""

from forms.core.definition import FormDefinition, canonical_json
from forms.core.errors import DefinitionError, DefinitionProblem, FieldError
from forms.core.fields import FIELD_TYPES, Coerced, FieldType, coerce, coerce_data, field_type, register
from forms.core.formats import FORMATS, format_checker
from forms.core.migration import MigrationPlan, MigrationPreview, migrate_record, plan_migration, preview
from forms.core.state import FormState, form_state
from forms.core.validation import FormValidator, clear_validator_cache, validator_for

__all__ = [
    "FIELD_TYPES",
    "FORMATS",
    "Coerced",
    "DefinitionError",
    "DefinitionProblem",
    "FieldError",
    "FieldType",
    "FormDefinition",
    "FormState",
    "FormValidator",
    "MigrationPlan",
    "MigrationPreview",
    "canonical_json",
    "clear_validator_cache",
    "coerce",
    "coerce_data",
    "field_type",
    "form_state",
    "format_checker",
    "migrate_record",
    "plan_migration",
    "preview",
    "register",
    "validator_for",
]
