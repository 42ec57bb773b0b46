"""The ``grade`` command: run the graded suite against one implementation.

``python -m convgrader grade --impl PATH`` accepts ``--impl`` as one word or
two (it is parsed here, before pytest sees it), runs ``tests/graded`` in a
fresh pytest process, and prints the per-part summary. Its exit status says
whether grading ran (0) or not (2), not whether the submission passed.
"""

import subprocess
import sys

from convgrader.plugin import PROJECT

GRADED_TESTS = PROJECT / "tests" / "graded"
# pytest's own exit codes: 0 all passed, 1 some failed; anything else means no verdict.
GRADED_EXIT_CODES = (0, 1)


def register(commands):
    parser = commands.add_parser("grade", help="grade one implementation",
                                 description=__doc__.split("\n\n")[0])
    parser.add_argument("--impl", default="student_impl",
                        help="student_impl (default), reference, or a folder laid out like student_impl/")
    parser.set_defaults(run=run, accepts_extra=True)


def run(args, pytest_args):
    command = [sys.executable, "-m", "pytest", str(GRADED_TESTS), f"--impl={args.impl}",
               "-p", "no:cacheprovider", "-q", *pytest_args]
    status = subprocess.call(command, cwd=PROJECT)
    return 0 if status in GRADED_EXIT_CODES else 2
