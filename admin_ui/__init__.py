"""The configuration studio: editors for project types, forms, flows and rules."""
