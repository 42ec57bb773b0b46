"""Self-test: ``similarity`` ranks disguised copies above independent work, finds public solutions, shows nothing raw.

The planted class (see :mod:`tests.selftest.planted_similarity`) holds three
independently written solutions filled into the skeleton, copies of two of them
disguised by renaming, new comments, reordered functions and loops rewritten as
comprehensions, and a zipped copy of a "public" solution that only ``--against``
holds.
"""

import csv
import json
import os
import subprocess
import sys

import pytest

from tests.selftest import planted_similarity
from tests.selftest.submission_files import write_tree

from convgrader import language
from convgrader.course import similarity
from convgrader.paths import PROJECT
from convgrader.report import COLUMNS

SKELETON_FILES = {relative: (PROJECT / "student_impl" / relative).read_text(encoding="utf-8")
                  for relative in ("layers.py", "classifiers/cnn.py")}


#: The command as docs/instructors.md shows it, run as written from the folder holding both folders.
DOCUMENTED = "python -m convgrader similarity submissions/ --out similarity/ --against known/"


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    root = tmp_path_factory.mktemp("planted")
    _, _, pairs, copied = planted_similarity.build(root)
    env = dict(os.environ, CONVGRADER_LANG="en", PYTHONPATH=str(PROJECT))  # this checkout's harness
    run = subprocess.run([sys.executable, *DOCUMENTED.split()[1:]], cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    out = root / "similarity"
    with open(out / "similarity.csv", newline="", encoding="utf-8-sig") as stream:
        rows = list(csv.DictReader(stream))
    return rows, pairs, copied, out


def test_every_planted_pair_ranks_above_every_independent_pair(planted):
    rows, pairs, copied, _ = planted
    students = [row for row in rows if not row["b"].startswith("known:")]
    scores = {frozenset((row["a"], row["b"])): float(row["similarity"]) for row in students}
    assert pairs <= set(scores)
    independent = [score for pair, score in scores.items() if pair not in pairs and not pair & set(copied)]
    assert independent, "the planted class has independent pairs"
    assert min(scores[pair] for pair in pairs) > max(independent)


def test_the_copy_of_a_public_solution_is_found_with_it(planted):
    rows, _, copied, _ = planted
    for student, solution in copied.items():
        best = next(row for row in rows if student in (row["a"], row["b"]))
        assert {best["a"], best["b"]} == {student, f"known:{solution}"}
        others = [float(r["similarity"]) for r in rows if r["b"].startswith("known:") and r["a"] != student]
        assert float(best["similarity"]) > max(others)


def test_the_csv_is_ranked_and_holds_shares(planted):
    rows, _, _, _ = planted
    assert list(rows[0]) == ["a", "b", "similarity"]
    values = [float(row["similarity"]) for row in rows]
    assert values == sorted(values, reverse=True)
    assert all(similarity.FLOOR <= value <= 1.0 for value in values)  # the documented command's floor
    assert not any(row["a"].startswith("known:") for row in rows), "known solutions are not compared together"


def test_the_page_opens_each_pair_side_by_side_with_the_matches_marked(planted):
    _, _, _, out = planted
    page = (out / "similarity.html").read_text(encoding="utf-8")
    assert page.count("<details") >= 3 and page.count("<mark>") > 10
    assert "never a verdict" in page


def skeleton_submission(folder, extra=""):
    files = dict(SKELETON_FILES)
    files["layers.py"] += extra
    return write_tree(folder, files)


def test_the_skeleton_never_counts(tmp_path):
    klass = tmp_path / "class"
    skeleton_submission(klass / "untouched_1")
    skeleton_submission(klass / "untouched_2")
    written = "\n\ndef helper(values):\n    total = 0\n    for value in values:\n        total += value * value\n" \
              "    return total / len(values)\n"
    skeleton_submission(klass / "own_work", extra=written)
    matches, skipped = similarity.run_similarity(klass, tmp_path / "out", floor=0.0)
    assert skipped == {}
    assert all(match.similarity == 0.0 for match in matches), [(m.a.name, m.b.name, m.similarity) for m in matches]


def notebook(cells):
    return json.dumps({"cells": [{"cell_type": "code", "source": cell, "metadata": {}, "outputs": []}
                                 for cell in cells], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def test_code_pasted_into_a_notebook_is_compared_too(tmp_path):
    solution = planted_similarity.submission("vectorized")["layers.py"]
    klass = tmp_path / "class"
    write_tree(klass / "pasted_into_notebook", {"convolutional_networks.ipynb": notebook([solution])})
    write_tree(klass / "wrote_it", planted_similarity.submission("vectorized"))
    write_tree(klass / "other", planted_similarity.submission("loops_float32"))
    matches, _ = similarity.run_similarity(klass, tmp_path / "out", floor=0.0)
    assert {matches[0].a.name, matches[0].b.name} == {"pasted_into_notebook", "wrote_it"}
    assert matches[0].similarity > 0.8


HOSTILE = "</pre><script>alert(1)</script>\x1b[2J\u202e"


def test_names_and_code_from_submissions_are_escaped_everywhere(tmp_path):
    klass = tmp_path / "class"
    body = planted_similarity.submission("answer_key")
    body["layers.py"] += f"\n# {HOSTILE}\nMESSAGE = '{HOSTILE}'\n"
    write_tree(klass / "=cmd|' -c calc'!A1 <b>", body)
    write_tree(klass / "copy", body)
    out = tmp_path / "out"
    similarity.run_similarity(klass, out, floor=0.0)
    page = (out / "similarity.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "<b>" not in page
    assert "\x1b" not in page and "\u202e" not in page
    assert "&lt;script&gt;" in page and "\\x1b" in page
    with open(out / "similarity.csv", newline="", encoding="utf-8-sig") as stream:
        cells = [cell for row in csv.reader(stream) for cell in row]
    assert "'=cmd|' -c calc'!A1 <b>" in cells  # the spreadsheet formula guard


def test_the_page_speaks_russian(tmp_path):
    klass = tmp_path / "class"
    write_tree(klass / "a", planted_similarity.submission("answer_key"))
    write_tree(klass / "b", planted_similarity.submission("answer_key"))
    language.set_current("ru")
    try:
        similarity.run_similarity(klass, tmp_path / "out")
    finally:
        language.set_current("en")
    page = (tmp_path / "out" / "similarity.html").read_text(encoding="utf-8")
    assert 'lang="ru"' in page and "никогда не вердикт" in page


def test_batch_similarity_fills_the_gradebook_columns(tmp_path):
    gradebook = tmp_path / "gradebook.csv"
    with open(gradebook, "w", newline="", encoding="utf-8-sig") as stream:
        writer = csv.DictWriter(stream, fieldnames=COLUMNS)
        writer.writeheader()
        for name in ("anna", "clara", "dmitri"):
            writer.writerow({**dict.fromkeys(COLUMNS, ""), "submission": name, "status": "graded"})
    best = {"anna": (0.94, "dmitri"), "dmitri": (0.94, "anna"), "clara": (0.31, "known:=SUM(A1)")}
    similarity.add_to_gradebook(gradebook, best)
    with open(gradebook, newline="", encoding="utf-8-sig") as stream:
        rows = {row["submission"]: row for row in csv.DictReader(stream)}
    assert rows["anna"]["similarity"] == "0.940" and rows["anna"]["similar_to"] == "dmitri"
    assert rows["clara"]["similar_to"] == "known:=SUM(A1)"  # starts with k: no formula
    assert list(rows["anna"]) == list(COLUMNS)


def test_batch_similarity_end_to_end_on_notebook_only_uploads(tmp_path):
    """Uploads without layers.py are rejected without any grading; their notebooks are still compared."""
    solution = planted_similarity.submission("vectorized")["layers.py"]
    other = planted_similarity.submission("loops_float32")["layers.py"]
    klass = tmp_path / "class"
    write_tree(klass / "ira", {"hw.ipynb": notebook([solution])})
    write_tree(klass / "oleg", {"work/hw.ipynb": notebook([solution])})
    write_tree(klass / "pavel", {"hw.ipynb": notebook([other])})
    out = tmp_path / "graded"
    run = subprocess.run([sys.executable, "-m", "convgrader", "batch", str(klass), "--out", str(out), "--similarity",
                          "--allow-weak-isolation"], cwd=PROJECT, capture_output=True, text=True, timeout=600,
                         env=dict(os.environ, CONVGRADER_LANG="en"))
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    with open(out / "gradebook.csv", newline="", encoding="utf-8-sig") as stream:
        rows = {row["submission"]: row for row in csv.DictReader(stream)}
    assert rows["ira"]["status"].startswith("rejected") and rows["ira"]["similar_to"] == "oleg"
    assert rows["oleg"]["similar_to"] == "ira" and float(rows["oleg"]["similarity"]) > 0.9
    assert float(rows["pavel"]["similarity"] or 0) < 0.5
    assert (out / "similarity.csv").exists() and (out / "similarity.html").exists()
