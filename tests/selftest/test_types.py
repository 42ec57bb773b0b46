"""The boundaries' types hold: mypy over the modules [tool.mypy] of pyproject.toml names.

What crosses the sandbox (the wire, the sandbox's replies), the outcome log and
every report (``report.py``, and ``messages.py``'s ``Said``, the failure as
data) is annotated; mypy checks those annotations and every body they type.
"""

import subprocess
import sys

from convgrader.paths import PROJECT


def test_mypy_finds_no_error_on_the_boundaries():
    run = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental"], cwd=PROJECT, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
