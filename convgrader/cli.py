"""The ``grade`` command: run the graded suite against one implementation.

``python -m convgrader grade --impl PATH`` accepts ``--impl`` as one word or
two (it is parsed here, before pytest sees it), runs ``tests/graded`` in a
fresh pytest process, and prints the per-part summary. Its exit status says
whether grading ran (0) or not (2), not whether the submission passed.
"""

import argparse
import subprocess
import sys

from convgrader.plugin import PROJECT

GRADED_TESTS = PROJECT / "tests" / "graded"
# pytest's own exit codes: 0 all passed, 1 some failed; anything else means no verdict.
GRADED_EXIT_CODES = (0, 1)


def grade(impl, pytest_args):
    command = [sys.executable, "-m", "pytest", str(GRADED_TESTS), f"--impl={impl}",
               "-p", "no:cacheprovider", "-q", *pytest_args]
    return subprocess.call(command, cwd=PROJECT)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m convgrader", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    grade_parser = commands.add_parser("grade", help="grade one implementation")
    grade_parser.add_argument("--impl", default="student_impl",
                              help="student_impl (default), reference, or a folder laid out like student_impl/")
    args, pytest_args = parser.parse_known_args(argv)
    status = grade(args.impl, pytest_args)
    return 0 if status in GRADED_EXIT_CODES else 2
