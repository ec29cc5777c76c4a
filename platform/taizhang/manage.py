"""`taizhang`: the project's manage.py, installed as a console command with the settings preset."""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    """Run a Django management command (`taizhang migrate`, `taizhang runserver`, `taizhang dsl …`)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taizhang.settings.dev")
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv if argv is not None else sys.argv)


if __name__ == "__main__":
    main()
