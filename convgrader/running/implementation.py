"""Loading the implementation under test.

An implementation is a package laid out like ``student_impl/``: a module
``layers`` with the graded layer functions and a module ``classifiers.cnn``
with ``ThreeLayerConvNet``. It is named on the command line (``--impl``) by an
importable name or by the path of a folder. Each module is imported lazily and
on its own, so a syntax error in ``cnn.py`` costs only the model's tests.
"""

import hashlib
import importlib
import importlib.util
import os
import re
import sys
import traceback
import types
from pathlib import Path

from convgrader import paths
from convgrader.assignment import BY_NAME, file_of
from convgrader.messages import say, together

#: ``--impl answer_key`` grades the instructors' answer key (the folder ``answer_key/``).
ANSWER_KEY = "answer_key"
#: Former names of ``--impl`` values, still accepted with a notice.
DEPRECATED = {"reference": ANSWER_KEY}
DEFAULT = "student_impl"



class ImplementationUnavailable(Exception):
    """A graded name cannot be had from the implementation (import failed, name missing)."""


class Implementation:
    """The graded functions of one implementation, imported on first use.

    Parameters
    ----------
    label : str
        How reports name this implementation (``student_impl``, a folder name, ...).
    package : str
        The import name of its package, e.g. ``"student_impl"``.
    """

    def __init__(self, label, package):
        self.label = label
        self.package = package
        self._modules = {}
        #: name -> a callable making the exception a look-up of that name raises instead (it hung earlier)
        self.refused = {}

    def __repr__(self):
        return f"Implementation({self.label!r}, package={self.package!r})"

    def module(self, relative):
        """Import ``<package>.<relative>`` once; re-raise its failure as a short message."""
        if relative not in self._modules:
            try:
                self._modules[relative] = importlib.import_module(f"{self.package}.{relative}")
            except BaseException as error:  # SyntaxError, SystemExit, anything module code raises
                if isinstance(error, KeyboardInterrupt):
                    raise
                self._modules[relative] = ImplementationUnavailable(together(
                    say("import_failed", file=file_of(relative), label=self.label), *_short_exception(error)))
        found = self._modules[relative]
        if isinstance(found, ImplementationUnavailable):
            raise found
        return found

    def get(self, name):
        """Return the graded function or class ``name``.

        Raises
        ------
        ImplementationUnavailable
            When its module fails to import or does not define it.
        """
        if name in self.refused:
            raise self.refused[name]()
        part = BY_NAME[name]
        found = getattr(self.module(part.module), name, None)
        if found is None:
            raise ImplementationUnavailable(say("defines_no", file=part.file, label=self.label, name=name))
        return found

    def __getattr__(self, name):
        if name in BY_NAME:
            return self.get(name)
        raise AttributeError(name)


def _short_exception(error):
    """The last frames of a traceback that belong to the submission, plus the message (a list of Said)."""
    lines = traceback.format_exception_only(type(error), error)
    frames = [f for f in traceback.extract_tb(error.__traceback__) if "importlib" not in f.filename]
    where = [say("frame_at", file=Path(f.filename).name, line=f.lineno, function=f.name) for f in frames[-3:]]
    return where + [say("verbatim", text="  " + "".join(lines).strip().replace("\n", "\n  "))]


def locate(value, cwd=None):
    """Where an ``--impl`` value points, without running any of its code.

    Returns
    -------
    ("package", import_name) or ("folder", absolute_path)

    Raises
    ------
    ValueError
        With a message for the user when ``value`` names neither.
    """
    cwd = Path(cwd or os.getcwd())
    path = Path(value).expanduser()
    path = path if path.is_absolute() else cwd / path
    looks_like_path = os.sep in value or "/" in value or value.startswith(".")
    if value in DEPRECATED:
        _note_once(f"note: --impl {value} is now called --impl {DEPRECATED[value]}")
        value = DEPRECATED[value]
    if value == ANSWER_KEY:
        return "folder", str(paths.ANSWER_KEY)
    if not looks_like_path and _importable(value.split(".")[0]):
        return "package", value
    if path.is_dir():
        return "folder", str(path.resolve())
    if looks_like_path:
        raise ValueError(f"--impl {value}: no such folder ({path})")
    raise ValueError(f"--impl {value}: neither a folder nor an importable package")


_NOTED = set()


def _note_once(text):
    if text not in _NOTED:
        _NOTED.add(text)
        print(text, file=sys.stderr)


def resolve(value, cwd=None):
    """Turn an ``--impl`` value into an :class:`Implementation` (see :func:`locate`)."""
    kind, where = locate(value, cwd)
    return Implementation(value, where) if kind == "package" else load_folder(where)


def label_of(value):
    """How reports name an implementation: the folder's name, or the value as given."""
    kind, where = locate(value)
    return Path(where).name if kind == "folder" else value


def _importable(package):
    try:
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):
        return False


def load_folder(folder):
    """An :class:`Implementation` for a folder, imported under a name of its own.

    The folder becomes a package named after its path, never ``student_impl``,
    so it cannot clash with the installed skeleton and several folders can be
    graded in one run. Its ``__init__.py`` is not executed: only the graded
    modules are, each on first use.
    """
    folder = Path(folder).resolve()
    if not (folder / "layers.py").exists() and not (folder / "classifiers").is_dir():
        raise ValueError(f"--impl {folder}: expected a folder laid out like student_impl/ "
                         "(layers.py and classifiers/cnn.py)")
    slug = re.sub(r"\W", "_", folder.name)
    digest = hashlib.sha1(str(folder).encode()).hexdigest()[:8]
    package = f"_graded_{slug}_{digest}"
    if package not in sys.modules:
        module = types.ModuleType(package)
        module.__path__ = [str(folder)]
        module.__file__ = str(folder / "__init__.py")
        sys.modules[package] = module
    return Implementation(folder.name, package)
