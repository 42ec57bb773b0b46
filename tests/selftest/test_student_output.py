"""What a student sees from plain ``pytest -k conv_forward``: short, in their language, ending with the table.

Two submissions a beginner writes: a typo (NameError) and ``np.pad(x, pad)``,
which pads every axis (a broadcasting error on most cases, wrong values on one).
Each is graded in a fresh process as a student runs it, in Russian and English.
"""

import os
import re
import subprocess
import sys

import pytest

from convgrader.paths import PROJECT
from tests.selftest.submission_files import write_tree

#: More lines than this means tracebacks, arrays or docstrings got through.
MAX_LINES = 40
CONV_FORWARD = '''
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = PADDED
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    out[n, f, i, j] = np.sum(WINDOW * w[f]) + b[f]
    PRINTED
    return RETURNED
'''
RIGHT = {"PADDED": "np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))", "WINDOW": "window",
         "RETURNED": "out, (x, w, b, conv_param)", "PRINTED": "pass"}
BUGS = {
    "typo": {**RIGHT, "WINDOW": "windw"},
    "padding": {**RIGHT, "PADDED": "np.pad(x, pad)"},
    # (cache, out), and a print to debug it.
    "order": {**RIGHT, "RETURNED": "(x, w, b, conv_param), out", "PRINTED": 'print("out:", out.shape)'},
}
TABLE_TITLE = {"ru": "части задания", "en": "graded parts"}
CYRILLIC = re.compile("[а-яА-Я]")


def skeleton_with(bug):
    """student_impl/layers.py with conv_forward_naive written, carrying ``bug``."""
    source = (PROJECT / "student_impl" / "layers.py").read_text(encoding="utf-8")
    body = CONV_FORWARD
    for placeholder, code in BUGS[bug].items():
        body = body.replace(placeholder, code)
    todo = re.compile(r'\n    raise NotImplementedError\(\n\s+"conv_forward_naive is not implemented yet[^)]*\)\n')
    written, count = todo.subn(lambda _: body, source)
    assert count == 1, "the skeleton's conv_forward_naive changed: update this test"
    return written


def failing_line(layers):
    """The number of the line where both bugs fail: the sum over a window."""
    lines = layers.read_text(encoding="utf-8").splitlines()
    return next(number for number, text in enumerate(lines, start=1) if "out[n, f, i, j] = np.sum(" in text)


@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    root = tmp_path_factory.mktemp("student_output")
    return {bug: write_tree(root / bug, {"layers.py": skeleton_with(bug), "__init__.py": ""}) for bug in BUGS}


def student_run(folder, lang, *extra):
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--impl={folder}",
                          "-k", "conv_forward", f"--lang={lang}", *extra],
                         cwd=PROJECT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-3000:]
    return run.stdout


def assert_ends_with_the_table(output, lang):
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines[-2].strip("= ") == TABLE_TITLE[lang], output
    assert "conv_forward_naive" in lines[-1], output


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("bug", ["padding", "typo"])
def test_a_failing_conv_forward_is_short_and_ends_with_the_table(submissions, bug, lang):
    output = student_run(submissions[bug], lang)
    assert len(output.splitlines()) <= MAX_LINES, output
    assert_ends_with_the_table(output, lang)
    assert "Traceback" not in output and "array([" not in output and "Parameters" not in output, output
    assert "FAILED " not in output, output  # no -ra line per test: the failures are grouped above the table
    line = failing_line(submissions[bug] / "layers.py")
    assert (f"layers.py, строка {line}" if lang == "ru" else f"layers.py, line {line}") in output, output
    assert bool(CYRILLIC.search(output)) == (lang == "ru"), output


def test_values_returned_in_another_order_get_a_return_hint_not_a_harness_error(submissions):
    output = student_run(submissions["order"], "en")
    assert len(output.splitlines()) <= MAX_LINES, output
    assert "hint (return): the returned values come in the order (cache, out)" in output, output
    assert "tell the course staff" not in output and "Traceback" not in output, output
    assert_ends_with_the_table(output, "en")


def test_what_the_code_printed_is_shown_under_the_failure(submissions):
    output = student_run(submissions["order"], "ru")
    shown = output.split("ваш код напечатал во время этого теста")
    assert len(shown) >= 2, output
    assert shown[1].splitlines()[1].startswith("out: ("), output
    assert len(output.splitlines()) <= MAX_LINES, output


def test_the_typo_is_shown_once_with_its_line(submissions):
    output = student_run(submissions["typo"], "ru")
    # Once for the fixture cases (grouped), once more for the property test, after its smallest input.
    assert output.count("NameError: name 'windw' is not defined") == 2, output
    assert "np.sum(windw * w[f])" in output
    assert "Так же упали и другие проверки conv_forward_naive (10)" in output
    assert output.rstrip().splitlines()[-1].split() == ["ОШИБКА", "conv_forward_naive", "пройдено", "0/12",
                                                        "(не", "пройдено:", "12)"]


def test_under_xdist_the_controller_counts_and_prints_the_same(submissions):
    output = student_run(submissions["padding"], "en", "-n", "2")
    assert_ends_with_the_table(output, "en")
    assert "2/12 passed (10 failed, 2 passed)" in output.splitlines()[-1], output
    assert "[gw" not in output.split("what failed")[1], output


@pytest.mark.parametrize("folder", ["student_impl", "notebooks", "tests/graded"])
def test_pytest_typed_in_a_folder_of_the_assignment_runs_its_tests(folder):
    # `python -m pytest` with the project on PYTHONPATH is what the `pytest` script does in a
    # student's clone, whose editable install is the clone itself.
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--impl=answer_key",
                          "-k", "conv_forward_naive and not fast and not property"],
                         cwd=PROJECT / folder, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "PYTHONPATH": str(PROJECT)})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "10 passed" in run.stdout, run.stdout
