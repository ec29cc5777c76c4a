"""Settings presets: `dev` (embedded default), `test` (PostgreSQL + Redis), `production`."""
