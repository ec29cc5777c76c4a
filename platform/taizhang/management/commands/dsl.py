"""`taizhang dsl check|eval …`: the DSL's own command line (`python -m dsl`), under the project command."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "检查或求值 DSL 表达式：taizhang dsl check [--schema S.json] EXPR；taizhang dsl eval --data D.json EXPR"

    def run_from_argv(self, argv: list[str]) -> None:
        # Hand every argument after `dsl` to the DSL's own parser, untouched by Django's option handling.
        from dsl.cli import main

        sys.exit(main(argv[2:]))

    def handle(self, *args, **options):  # pragma: no cover - run_from_argv always takes over
        from dsl.cli import main

        return str(main(list(args)))
