"""Self-test: the notebook's ``check("<part>")`` grades a part as ``grade`` does and shows it in the notebook.

It runs on a buggy implementation (loops_float32 without the convolution's bias),
a correct one, and the skeleton; the display is checked as JupyterLab (HTML) and
a terminal (text) would show it.
"""

import shutil
import sys

import pytest

from tests.selftest.graded_runs import IMPLEMENTATIONS

from convgrader.judging import notebook_check
from convgrader.judging.notebook_check import CheckResult, check
from convgrader.paths import PROJECT
from convgrader.report import FAILED, GRADED, PASSED, PartTotal, Report, Verdict

PART = "conv_forward_naive"


@pytest.fixture(scope="module")
def buggy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("impl") / "no_bias"
    shutil.copytree(IMPLEMENTATIONS / "loops_float32", folder)
    layers = folder / "layers.py"
    text = layers.read_text(encoding="utf-8")
    assert "np.sum(window * w[f]) + b[f]" in text
    layers.write_text(text.replace("np.sum(window * w[f]) + b[f]", "np.sum(window * w[f])"), encoding="utf-8")
    return check(PART, impl=str(folder), lang="ru")


def test_a_bug_fails_its_tests_with_the_hint_in_russian(buggy):
    assert buggy.graded and not buggy.passed and not buggy
    assert buggy.verdicts and all(outcome == FAILED for _, outcome, _ in buggy.verdicts)
    assert all(name.startswith("test_conv_forward_naive") for name, _, _ in buggy.verdicts)
    text = str(buggy)
    assert text.startswith(f"{PART}: пройдено тестов: 0 из {len(buggy.verdicts)}")
    assert "Первая ошибка:" in text and "подсказка (bias)" in text


def test_jupyter_shows_the_table_the_hint_and_three_pictures(buggy):
    page = buggy._repr_html_()
    assert page.count("<tr class=\"fail\">") == len(buggy.verdicts)
    assert "подсказка (bias)" in page
    assert page.count("<img") == 3 and "data:image/png;base64," in page  # expected, yours, difference
    assert "body {" not in page and ".convgrader-check pre {" in page  # styles its own output, not JupyterLab


def test_a_correct_part_passes():
    result = check(PART, impl=str(IMPLEMENTATIONS / "vectorized"), lang="en")
    assert result.passed and bool(result)
    assert str(result).splitlines()[0] == f"{PART}: {len(result.verdicts)} of {len(result.verdicts)} tests passed"
    assert "<tr class=\"fail\">" not in result._repr_html_()


def test_the_skeleton_says_it_is_not_written_in_one_line():
    result = check(PART, impl=str(PROJECT / "student_impl"), lang="en")
    assert result.unwritten and not result.passed
    assert str(result) == (f"{PART} is not written yet: replace its raise NotImplementedError in "
                           "student_impl/layers.py, then run this cell again")


def test_an_unknown_part_is_named_with_the_known_ones():
    with pytest.raises(ValueError, match="conv_forward_naive"):
        check("conv_forwrd_naive")


def test_what_the_submission_said_is_escaped_in_the_page():
    verdict = Verdict(nodeid="t::x", name="test_x<i>", part=PART, outcome=FAILED,
                      message="ValueError: </pre><script>alert(1)</script>\x1b[2J")
    report = Report(status=GRADED, parts={PART: PartTotal(total=1)}, tests=[verdict])
    page = CheckResult(PART, report, lang="en")._repr_html_()
    assert "<script>" not in page and "<i>" not in page and "\x1b" not in page
    assert "&lt;script&gt;" in page and "\\x1b" in page


def test_tampering_passes_nothing_and_says_what_was_touched():
    verdict = Verdict(nodeid="t::x", name="test_x", part=PART, outcome=PASSED)
    report = Report(status=GRADED, parts={PART: PartTotal(total=1)}, tests=[verdict],
                    tampering=["import of answer_key"])
    result = CheckResult(PART, report, lang="en")
    assert not result.passed and "import of answer_key" in str(result) and "import of answer_key" in result._repr_html_()


def test_a_grading_that_could_not_run_says_why_and_passes_nothing():
    result = CheckResult(PART, Report.failed("the sandbox could not start"), lang="en")
    assert not result.passed and not result.unwritten
    assert str(result) == f"{PART} could not be checked: the sandbox could not start"


def test_strict_mode_raises_on_a_part_that_does_not_pass(monkeypatch):
    monkeypatch.setenv(notebook_check.STRICT_VARIABLE, "1")
    with pytest.raises(AssertionError, match="is not written yet"):
        check(PART, impl=str(PROJECT / "student_impl"), lang="en")


def test_the_kernels_student_impl_or_the_ci_override_is_checked(monkeypatch):
    monkeypatch.delenv(notebook_check.IMPL_VARIABLE, raising=False)
    monkeypatch.delitem(sys.modules, "student_impl", raising=False)
    monkeypatch.syspath_prepend(str(PROJECT / "notebooks" / "ci_shim"))
    assert notebook_check.implementation_to_check() == str(PROJECT / "notebooks" / "ci_shim" / "student_impl")
    monkeypatch.setenv(notebook_check.IMPL_VARIABLE, "answer_key")
    assert notebook_check.implementation_to_check() == "answer_key"
