"""What a submission may import, checked inside the worker.

The assignment's rule (the students' README.ru.md, "Правила"; docs/threat-model.md): a submission
imports numpy, the Python standard library and the provided course code
(``reference``), nothing else: not scipy or torch, not the answer key, not
``fast_ext`` directly, not the harness or its test implementations. A
forbidden import at module level does not fail the whole file: the name it
binds refuses to work when used, so only the functions that use it lose
points (:class:`ImportRuleBroken`).

This check runs in the submission's own process, so a determined submission
can undo it; it names the rule for the honest mistake. What holds whatever the
submission does is the operating system's: the layer functions' worker has no
fast code in its file system, no new native code (scipy's, a copied kernel) can
load once the submission runs (:mod:`convgrader.running.native_code`), and the
answer key, the harness and other submissions are out of reach
(:mod:`convgrader.running.isolation`). See ``docs/threat-model.md``.
"""

import builtins
import importlib
import sys

#: Top-level modules a submission may import, besides the standard library and its own package.
ALLOWED_PACKAGES = frozenset({"numpy", "reference", "__future__"})
#: Imports that reach for the grader's secrets: refused at once and recorded as tampering.
SECRET_PACKAGES = frozenset({"answer_key", "fixtures"})
IMPORT_RULE = ("may import numpy, the Python standard library and the provided course code (reference) "
               "only")


class RuleBroken(Exception):
    """The submission broke one of the assignment's rules; the message names it."""


class ImportRuleBroken(RuleBroken, ImportError):
    """A forbidden import (also an ImportError, so ``except ImportError`` fallbacks keep working)."""


class ForbiddenModule:
    """Stands for a module the submission may not use; every use raises :class:`ImportRuleBroken`."""

    def __init__(self, module, importer):
        object.__setattr__(self, "_module", module)
        object.__setattr__(self, "_importer", importer)

    def _refuse(self, *args, **kwargs):
        raise ImportRuleBroken(f"{self._importer} {IMPORT_RULE}; it imported {self._module}")

    def __getattr__(self, name):
        if name.startswith("__") and name != "__call__":
            raise AttributeError(name)
        return ForbiddenModule(f"{self._module}.{name}", self._importer)

    __call__ = __setattr__ = __getitem__ = __iter__ = _refuse

    def __repr__(self):
        return f"<forbidden {self._module}>"


class ImportRule:
    """Checks every import made by the submission's own modules (see the module docstring).

    Parameters
    ----------
    package : str
        The import name of the submission's package; its modules are the ones checked.
    label : str
        How messages name the submission's files' owner, e.g. ``layers.py``.
    events : list of str
        Receives a line for each attempt on the grader's secrets (tampering).
    """

    def __init__(self, package, events):
        self.package, self.events = package, events
        self.stdlib = frozenset(getattr(sys, "stdlib_module_names", ())) or frozenset(sys.builtin_module_names)
        self.original_import = builtins.__import__
        self.original_import_module = importlib.import_module

    def install(self):
        builtins.__import__ = self.checked_import
        importlib.import_module = self.checked_import_module
        importlib.__import__ = self.checked_import

    def is_submission(self, module_globals):
        """True for code of the submission (or code it made up without a module name)."""
        name = (module_globals or {}).get("__name__")
        return name is None or name == self.package or name.startswith(self.package + ".")

    def allowed(self, top):
        return top in ALLOWED_PACKAGES or top in self.stdlib or top == self.package

    def importer_name(self, module_globals):
        name = (module_globals or {}).get("__name__") or "the submission"
        relative = name[len(self.package) + 1:] if name.startswith(self.package + ".") else name
        return relative.replace(".", "/") + ".py" if relative != name else name

    def verdict(self, name, module_globals, star):
        """None to let the import run, else what to return instead (or raise)."""
        top = name.split(".")[0]
        if self.allowed(top):
            return None
        importer = self.importer_name(module_globals)
        if top in SECRET_PACKAGES:
            self.events.append(f"import of {name} by {importer}")
            raise ImportRuleBroken(f"{name} is not available to submissions ({importer} tried to import it)")
        if star:  # the names a star import would bind are unknown: the file cannot load
            raise ImportRuleBroken(f"{importer} {IMPORT_RULE}; it imported * from {name}")
        return ForbiddenModule(name, importer)

    def bound_name(self, name, fromlist):
        """What ``import a.b`` binds (``a``) or ``from a.b import c`` takes names from (``a.b``)."""
        return name if fromlist else name.split(".")[0]

    def checked_import(self, name, globals=None, locals=None, fromlist=(), level=0):
        module_globals = globals if globals is not None else sys._getframe(1).f_globals
        if level == 0 and self.is_submission(module_globals):
            instead = self.verdict(name, module_globals, star="*" in (fromlist or ()))
            if instead is not None:
                return ForbiddenModule(self.bound_name(name, fromlist), instead._importer)
        return self.original_import(name, globals, locals, fromlist, level)

    def checked_import_module(self, name, package=None):
        module_globals = sys._getframe(1).f_globals
        if not name.startswith(".") and self.is_submission(module_globals):
            instead = self.verdict(name, module_globals, star=False)
            if instead is not None:
                return instead
        return self.original_import_module(name, package)
