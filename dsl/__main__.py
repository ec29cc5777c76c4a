"""``python -m dsl check|eval …`` — see :mod:`dsl.cli`."""

import sys

from dsl.cli import main

sys.exit(main())
