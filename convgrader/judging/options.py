"""The options the pytest plugin and the ``grade`` command share, defined once.

``grade`` runs pytest with the plugin and hands these options on, so each is
defined here, with its type, default and help, and added to pytest's parser
(:func:`convgrader.judging.plugin.pytest_addoption`) and to ``grade``'s
(:func:`convgrader.judging.grade.register`) by :func:`add`. Options only one of
them has stay with it.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from convgrader import language, limits

#: Seed of the hidden tests' random cases unless ``--hidden-seed`` says otherwise.
HIDDEN_SEED = 20261127


@dataclass(frozen=True)
class Option:
    """One command-line option: its flag, its argparse settings and its help."""

    flag: str
    help: str
    settings: dict[str, Any] = field(default_factory=dict)


SHARED = {
    "impl": Option("--impl", "what to grade: student_impl (default), answer_key (the answer key), another importable "
                             "package, or the path of a folder laid out like student_impl/",
                   {"metavar": "VALUE"}),
    "hidden": Option("--hidden", "also run the hidden tests (tests/hidden), which students do not receive",
                     {"action": "store_true", "default": False}),
    "hidden_seed": Option("--hidden-seed", f"seed of the hidden tests' random cases (default {HIDDEN_SEED}); "
                                           "recorded in reports", {"type": int, "default": HIDDEN_SEED, "metavar": "N"}),
    "call_timeout": Option("--call-timeout", f"CPU seconds one call of the submission may use (default {limits.CALL:g})",
                           {"type": float, "default": limits.CALL, "metavar": "SECONDS"}),
    "lang": Option("--lang", f"language of the messages and reports: ru or en (default: ${language.ENV_VAR}, a "
                             f"Russian locale, the project's {language.INI_OPTION}, then en)",
                   {"default": None, "metavar": "ru|en"}),
}


def add(add_option: Callable[..., Any], name: str, help_suffix: str = "", **overrides: Any) -> None:
    """Add the shared option ``name`` with ``add_option`` (pytest's ``addoption`` or argparse's ``add_argument``).

    ``overrides`` change its settings for this parser (the plugin's ``--impl``
    may be repeated, ``grade``'s names one submission); ``help_suffix`` adds
    to its help.
    """
    option = SHARED[name]
    add_option(option.flag, help=option.help + help_suffix, **{**option.settings, **overrides})
