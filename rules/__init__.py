"""Alert rules and policy rule packs: DSL rules bound to project types and org scopes."""
