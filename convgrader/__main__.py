"""Command line: ``python -m convgrader grade [--impl VALUE] [pytest options]``."""

import sys

from convgrader.cli import main

sys.exit(main())
