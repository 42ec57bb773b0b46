"""Which language the harness speaks to students, and the gettext catalogue that holds Russian.

The English templates of :mod:`convgrader.messages` are the msgids; each
entry of ``locale/<lang>/LC_MESSAGES/convgrader.po`` carries the message's key as
its ``msgctxt``, so two messages with the same English text stay apart and an
English template that changes loses its (now stale) translation instead of
keeping a wrong one. The ``.po`` file is read at run time with Babel: nothing is
compiled, so an editable install and the student release zip work as they are.

The language is, in order: ``--lang``, the ``CONVGRADER_LANG`` environment
variable, a Russian locale (``LC_ALL``, ``LC_MESSAGES`` or ``LANG`` starting with
``ru``), the ``convgrader_lang`` ini option (the student release sets it to
``ru``), and English.

``python -m convgrader.messages`` rewrites the ``.pot`` template from
the English table and merges it into every ``.po``: new messages appear there
with an empty ``msgstr``, ready to be translated.
"""

import functools
import os
from pathlib import Path

LANGUAGES = ("en", "ru")
ENGLISH = "en"
ENV_VAR = "CONVGRADER_LANG"
INI_OPTION = "convgrader_lang"
DOMAIN = "convgrader"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
#: Locale variables in the order POSIX gives them precedence.
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")

_current = ENGLISH


def normalize(value, source="--lang"):
    """``"ru"``, ``"ru_RU.UTF-8"``, ``"RU"`` -> ``"ru"``; ValueError naming ``source`` otherwise."""
    code = str(value).strip().lower().replace("-", "_").split("_")[0].split(".")[0]
    if code not in LANGUAGES:
        raise ValueError(f"{source} {value!r}: the harness speaks {' and '.join(LANGUAGES)}")
    return code


def locale_language(environ=None):
    """``"ru"`` when the user's locale is Russian, else None (any other locale says nothing)."""
    environ = os.environ if environ is None else environ
    for variable in LOCALE_VARIABLES:
        value = environ.get(variable, "")
        if value:
            return "ru" if value.lower().startswith("ru") else None
    return None


def choose(option=None, configured=None, environ=None):
    """The language to speak, from the most explicit choice to the least.

    Parameters
    ----------
    option : str or None
        ``--lang`` as given on the command line.
    configured : str or None
        The project's default (the ``convgrader_lang`` ini option).
    environ : mapping, optional
        The environment (``os.environ`` by default).
    """
    environ = os.environ if environ is None else environ
    if option:
        return normalize(option)
    if environ.get(ENV_VAR):
        return normalize(environ[ENV_VAR], ENV_VAR)
    return locale_language(environ) or (normalize(configured, INI_OPTION) if configured else ENGLISH)


def configured_in(project):
    """The ``convgrader_lang`` of the project's pytest configuration (tox.ini), or None.

    For commands that run outside pytest (``python -m convgrader grade``).
    """
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(Path(project) / "tox.ini", encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return None
    return parser.get("pytest", INI_OPTION, fallback=None)


def set_current(language):
    global _current
    _current = normalize(language)


def current():
    return _current


def po_path(language):
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def pot_path():
    return LOCALE_DIR / f"{DOMAIN}.pot"


def read_catalogue(path):
    """The Babel catalogue of a ``.po`` or ``.pot`` file."""
    from babel.messages.pofile import read_po

    with open(path, "rb") as file:
        return read_po(file, charset="utf-8")


@functools.lru_cache(maxsize=None)
def translations(language):
    """``{(key, English template): translation}`` of a language: usable entries only.

    Fuzzy and empty entries are left out, so such a message falls back to English
    (and the self-test lists it).
    """
    if language == ENGLISH:
        return {}
    catalogue = read_catalogue(po_path(language))
    return {(message.context, message.id): message.string for message in catalogue
            if message.id and message.string and not message.fuzzy}


def translate(key, english, code=None):
    """The template of message ``key`` in ``code`` (the current language by default; English when it has none)."""
    code = code or _current
    if code == ENGLISH:
        return english
    return translations(code).get((key, english), english)


def template_catalogue(table):
    """A Babel catalogue with one entry per message of ``table`` ({key: English template})."""
    from babel.messages.catalog import Catalog

    catalogue = Catalog(project="convnet-grader", domain=DOMAIN, charset="utf-8", fuzzy=False)
    for key, english in table.items():
        catalogue.add(english, context=key, flags=["python-brace-format"])
    return catalogue


def update_files(table):
    """Rewrite the ``.pot`` from ``table`` and merge it into every language's ``.po``."""
    from babel.messages.pofile import write_po

    template = template_catalogue(table)
    with open(pot_path(), "wb") as file:
        write_po(file, template, width=100, omit_header=False, sort_output=False)
    for language in LANGUAGES:
        if language == ENGLISH:
            continue
        catalogue = read_catalogue(po_path(language))
        catalogue.update(template, no_fuzzy_matching=True)
        with open(po_path(language), "wb") as file:
            write_po(file, catalogue, width=100, ignore_obsolete=True)
