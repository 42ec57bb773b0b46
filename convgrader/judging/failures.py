"""Exceptions of the code under test made failures: short, the student's frames, a hint, as data.

The plugin's call wrapper (:func:`convgrader.judging.plugin.pytest_runtest_call`) uses these to
turn what the submission raised into a failure (:func:`convgrader.judging.compare.failure`).
"""

import importlib.util
import re
import sys
import traceback
from pathlib import Path

from convgrader.judging.keys import IMPLS
from convgrader.messages import Said, say
from convgrader.untrusted import shown, shown_name

#: The skeleton's text in each ``raise NotImplementedError(...)``.
SKELETON_TODO = re.compile(r"(\S+) is not implemented yet: write it in (\S+)$")


def said_of_error(error):
    """What an exception of the harness says: its Said when it was raised with one, else its text verbatim."""
    first = error.args[0] if error.args else ""
    return first if isinstance(first, Said) else say("verbatim", text=str(error))


def implementation_folders(config):
    """The folders holding the code of the implementations under test (not their sandboxes)."""
    folders = []
    for impl in config.stash.get(IMPLS, []):
        module = sys.modules.get(getattr(impl, "package", None) or "")
        locations = getattr(module, "__path__", None)
        if locations is None and getattr(impl, "package", None):
            spec = importlib.util.find_spec(impl.package)
            locations = spec.submodule_search_locations if spec else None
        folders += [Path(location).resolve() for location in locations or []]
    return folders


def student_frames(error, folders):
    """``(frame, lineno, folder)`` of the traceback's frames that run the submission's files, outermost first."""
    found = []
    for frame, lineno in traceback.walk_tb(error.__traceback__):
        path = Path(frame.f_code.co_filename).resolve()
        folder = next((f for f in folders if path.is_relative_to(f)), None)
        if folder is not None:
            found.append((frame, lineno, folder))
    return found


def shown_path(frame, folder):
    """``student_impl/layers.py``: the file as the student knows it."""
    return Path(frame.f_code.co_filename).resolve().relative_to(folder.parent).as_posix()


def frame_line(found):
    import linecache

    frame, lineno, folder = found
    code = linecache.getline(frame.f_code.co_filename, lineno).strip()
    return say("frame", file=shown_name(shown_path(frame, folder)), line=lineno, function=frame.f_code.co_name,
               code=shown(code, newlines=False))  # the submission's text


def not_implemented(error, folders):
    """What is not written yet and where, said once, in the run's language.

    Found from the frame that raised; with --isolate (no frames here) from the
    skeleton's own English text, which names both.
    """
    frames = student_frames(error, folders)
    if frames:
        frame, _, folder = frames[-1]
        name, file = getattr(frame.f_code, "co_qualname", frame.f_code.co_name), shown_path(frame, folder)
    else:
        found = SKELETON_TODO.match(str(error).strip())
        if found is None:
            text = str(error).strip()
            return say("not_implemented_saying", text=text) if text else say("not_implemented")
        name, file = found.groups()
    key = "not_implemented_method" if "." in name else "not_implemented_function"
    return say(key, name=name, file=file)
