"""Running work at the same moment in several threads, each with its own database connection (PostgreSQL tests)."""

from __future__ import annotations

import threading
from collections.abc import Callable


def race(*workers: Callable[[], object]) -> tuple[list, list[BaseException]]:
    """Start every worker at the same moment; return (results, errors) once all have finished."""
    from django.db import connection

    barrier = threading.Barrier(len(workers))
    results: list = []
    errors: list[BaseException] = []

    def run(work: Callable[[], object]) -> None:
        try:
            barrier.wait()
            results.append(work())
        except BaseException as exc:  # reported in the test thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors
