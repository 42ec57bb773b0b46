"""Command line: ``python -m convgrader COMMAND ...``.

Each command lives in a module of its own that defines ``register(commands)``
(adding its subparser, with ``set_defaults(run=...)``); this file only
gathers them.
"""

import argparse
import importlib

#: The modules that define commands, in the order ``--help`` lists them.
COMMAND_MODULES = ("convgrader.judging.grade", "convgrader.course.datasets", "convgrader.course.plots", "convgrader.course.batch",
                   "convgrader.course.similarity", "convgrader.course.release")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m convgrader",
                                     description="Grading harness of the convolutional-network assignment.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(commands)
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "accepts_extra", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args.run(args, extra)
