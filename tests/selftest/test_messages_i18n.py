"""Every message a student reads exists in Russian, with the same placeholders as the English one.

A message added to ``convgrader/messages.py`` without its ``.po`` entry makes
the first test fail with the list of what is missing (``python -m
convgrader.language`` adds empty entries to fill in).
"""

import re
import string

import numpy as np
import pytest

from convgrader import language, messages
from convgrader.judging import compare
from convgrader.messages import EN

#: Messages whose Russian text is the English one by design (nothing in them is English prose).
SAME_IN_BOTH = {"raised", "verbatim", "factor_named"}  # verbatim: data (a traceback); factor_named: " (= {name})"


def placeholders(template):
    """The ``{name!conversion:spec}`` fields of a template, as a sorted list."""
    return sorted((name, conversion or "", spec or "")
                  for _, name, spec, conversion in string.Formatter().parse(template) if name is not None)


def sample_fields(template):
    """Values that fill every field of ``template`` (numbers where a format spec asks for one)."""
    return {name: (1.5 if spec else "X") for _, name, spec, _ in string.Formatter().parse(template)
            if name is not None}


@pytest.fixture(scope="module")
def russian():
    return {message.context: message for message in language.read_catalogue(language.po_path("ru"))
            if message.id}


@pytest.fixture
def speaking_russian():
    before = language.current()
    language.set_current("ru")
    yield
    language.set_current(before)


def test_every_message_has_a_russian_translation(russian):
    missing = [key for key, english in EN.items()
               if key not in russian or russian[key].id != english or not russian[key].string]
    assert not missing, ("messages without a Russian translation (add them to "
                         f"{language.po_path('ru').relative_to(language.LOCALE_DIR.parents[2])}): {missing}")


def test_translations_keep_the_placeholders(russian):
    wrong = {key: (placeholders(EN[key]), placeholders(message.string))
             for key, message in russian.items()
             if key in EN and message.string and placeholders(EN[key]) != placeholders(message.string)}
    assert not wrong, f"placeholders differ (English, Russian): {wrong}"


def test_catalogue_has_no_fuzzy_obsolete_or_unknown_entries(russian):
    catalogue = language.read_catalogue(language.po_path("ru"))
    assert not catalogue.obsolete, f"obsolete entries: {list(catalogue.obsolete)}"
    assert not [key for key, message in russian.items() if message.fuzzy], "fuzzy entries"
    assert sorted(set(russian) - set(EN)) == [], "entries of messages that no longer exist"


def test_template_lists_every_message():
    template = {message.context: message.id for message in language.read_catalogue(language.pot_path())
                if message.id}
    assert template == EN, "the .pot is stale: run python -m convgrader.messages"


def test_every_message_renders_differently_in_russian(speaking_russian):
    same = [key for key, english in EN.items()
            if key not in SAME_IN_BOTH and messages.say(key, **sample_fields(english))
            == english.format(**sample_fields(english))]
    assert not same, f"rendered in English although the language is Russian: {same}"


def english_fragments():
    """The literal words of every English template (pieces of 3 words or more)."""
    pieces = set()
    for key, template in EN.items():
        if key in SAME_IN_BOTH:
            continue
        for literal, *_ in string.Formatter().parse(template):
            pieces |= {p.strip() for p in re.split(r"[:;,()\n]", literal) if len(p.split()) >= 3}
    return pieces


def test_a_rendered_failure_in_russian_has_no_english_template(speaking_russian):
    expected = np.arange(24, dtype=float).reshape(1, 2, 3, 4)
    actual = expected.copy()
    actual[0, 0, 0, 1] += 3.0
    with pytest.raises(pytest.fail.Exception) as failure:
        compare.assert_close(actual, expected, "out")
    text = str(failure.value)
    assert "отличается от ожидаемых значений" in text
    leaked = [piece for piece in english_fragments() if piece in text]
    assert not leaked, f"English left in a Russian failure: {leaked}\n{text}"


def test_a_hint_starts_with_its_russian_marker(speaking_russian):
    assert messages.hint("nan.found").startswith("подсказка (nan): ")
    assert messages.marker("nan") == "подсказка (nan):"


@pytest.mark.parametrize("option, environ, configured, expected", [
    ("en", {"CONVGRADER_LANG": "ru", "LANG": "ru_RU.UTF-8"}, "ru", "en"),   # --lang wins
    (None, {"CONVGRADER_LANG": "en", "LANG": "ru_RU.UTF-8"}, "ru", "en"),   # then the variable
    (None, {"LANG": "ru_RU.UTF-8"}, None, "ru"),                           # then a Russian locale
    (None, {"LC_ALL": "C.UTF-8", "LANG": "ru_RU.UTF-8"}, None, "en"),       # LC_ALL overrides LANG
    (None, {"LANG": "C.UTF-8"}, "ru", "ru"),                               # then the release's ini
    (None, {"LANG": "en_US.UTF-8"}, None, "en"),                           # then English
    ("RU", {}, None, "ru"),
])
def test_language_choice_order(option, environ, configured, expected):
    assert language.choose(option, configured, environ) == expected


def test_an_unknown_language_is_refused():
    with pytest.raises(ValueError, match="en and ru"):
        language.choose("de", None, {})
