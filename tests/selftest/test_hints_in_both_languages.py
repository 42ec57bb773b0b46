"""A Russian run says every hint an English run says, on the same failures.

A failure travels as data (message keys, fields and tagged hints), so the
language only changes how it is rendered. This self-test checks that from the
outside, as a student sees it: the same mutant is graded once in English and
once in Russian, and for every failing test the hints shown in the message
(found by their marker, ``hint (<tag>):`` / ``подсказка (<tag>):``) must be the
same tags in the same order, equal to the tags the failure carries as data, and
no English marker may appear in the Russian run.
"""

import pytest

from convgrader.messages import render
from tests.selftest.graded_runs import MUTANTS, declared, grade, mutant_names

pytestmark = pytest.mark.timeout(1800)


def one_mutant_per_hint():
    """The first mutant (by name) of every hint tag a mutant promises, plus every backward with ``also wrong``."""
    chosen = {}
    for name in mutant_names():
        tag = declared(MUTANTS / name)["HINT"]
        if tag not in (None, "logic"):
            chosen.setdefault(tag, name)
    # A backward whose other gradients are wrong too: their hints are merged by tag (they were lost in Russian).
    chosen.setdefault("also_wrong", "conv_backward_stride_ignored")
    return sorted(chosen.values())


def shown_tags(message, language):
    """The tags of the hint lines in ``message``, in order, found by the marker ``language`` writes."""
    tags = []
    for line in message.splitlines():
        for tag in declared_tags():
            if line.startswith(render("hint_prefix", {"tag": tag}, language)):
                tags.append(tag)
    return tags


def declared_tags():
    from convgrader.messages import HINT_TAGS

    return HINT_TAGS


@pytest.mark.parametrize("mutant", one_mutant_per_hint())
def test_the_same_hints_in_russian_as_in_english(tmp_path, mutant):
    must = set(declared(MUTANTS / mutant)["MUST_FAIL"])
    select = " or ".join(sorted(must))
    english = {v.nodeid: v for v in grade(str(MUTANTS / mutant), tmp_path, select=select, lang="en")}
    russian = {v.nodeid: v for v in grade(str(MUTANTS / mutant), tmp_path, select=select, lang="ru")}
    assert english.keys() == russian.keys()
    failed = [nodeid for nodeid, verdict in english.items() if verdict.outcome in ("failed", "error")]
    assert failed, f"{mutant}: its bug was not caught"
    hinted = 0
    for nodeid in failed:
        en, ru = english[nodeid], russian[nodeid]
        assert ru.outcome == en.outcome, nodeid
        in_english, in_russian = shown_tags(en.message, "en"), shown_tags(ru.message, "ru")
        assert in_russian == in_english, f"{nodeid}:\n{en.message}\n---\n{ru.message}"
        assert in_english == en.hint_tags() == ru.hint_tags(), nodeid  # what is shown is what the data says
        assert "hint (" not in ru.message, f"{nodeid}: an English hint in the Russian run:\n{ru.message}"
        hinted += bool(in_english)
    assert hinted, f"{mutant}: no failure carries a hint in either language"
