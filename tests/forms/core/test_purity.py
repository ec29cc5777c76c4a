"""The forms core is pure: it imports without Django settings and never imports Django."""

from __future__ import annotations

import subprocess
import sys


def test_core_imports_without_django() -> None:
    code = (
        "import sys, forms.core, forms.core.migration, forms.core.state;"
        "bad = [m for m in sys.modules if m == 'django' or m.startswith('django.')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
