"""Self-test of ``grade --html``: one self-contained page, a picture for every failed comparison.

A submission with a padding bug (the answer key with the one-sided padding of
the mutant ``conv_forward_pad_one_side``, copied so that nothing imports the
answer key) is graded for real, in the sandbox, on the convolution forward
tests; the page it gets is parsed with ``html.parser`` and checked against the
results.json of the same run: a row per graded part, one figure block per
failed test, each with three PNG pictures, no external URL. The pictures
themselves are checked pixel by pixel on a known array.
"""

import base64
import io
import json
import subprocess
import sys
from html.parser import HTMLParser

import numpy as np
import pytest

from convgrader import limits
from convgrader.judging import compare, html_report
from convgrader.paths import ANSWER_KEY, PROJECT
from tests.selftest.submission_files import write_tree

PAD_MUTANT = PROJECT / "tests" / "selftest" / "implementations" / "mutants" / "conv_forward_pad_one_side"
VOID = {"meta", "img", "br", "hr", "link", "input"}


def padding_bug_submission(folder):
    """The answer key's sources with the mutant's one-sided-padding conv_forward_naive defined last."""
    mutant = (PAD_MUTANT / "layers.py").read_text(encoding="utf-8")
    mutant = mutant.replace("from answer_key.layers import *  # noqa: F401,F403", "")
    layers = (ANSWER_KEY / "layers.py").read_text(encoding="utf-8") + "\n\n" + mutant
    return write_tree(folder, {"layers.py": layers,
                               "classifiers/cnn.py": (ANSWER_KEY / "classifiers" / "cnn.py").read_text(encoding="utf-8"),
                               "classifiers/__init__.py": "", "__init__.py": ""})


def graded_in(tmp_path_factory, lang):
    folder = tmp_path_factory.mktemp(f"html-{lang}")
    submission = padding_bug_submission(folder / "student_impl")
    page, results = folder / "report.html", folder / "results.json"
    run = subprocess.run([sys.executable, "-m", "convgrader", "grade", "--impl", str(submission),
                          "--results", str(results), "--html", str(page), "-k", "conv_forward_naive",
                          f"--lang={lang}"], cwd=PROJECT, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return page.read_text(encoding="utf-8"), json.loads(results.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def graded_page(tmp_path_factory):
    return graded_in(tmp_path_factory, "en")


@pytest.fixture(scope="module")
def russian_page(tmp_path_factory):
    return graded_in(tmp_path_factory, "ru")


class PageStructure(HTMLParser):
    """Tags, classes and attributes of a page; fails on a closing tag that closes nothing open."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.open, self.errors = [], []
        self.rows, self.figures, self.images, self.urls = [], [], [], []
        self._figure = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag not in VOID:
            self.open.append(tag)
        for name in ("src", "href"):
            if name in attrs:
                self.urls.append(attrs[name])
        if tag == "tr":
            self.rows.append(attrs.get("class"))
        if tag == "figure" and attrs.get("class") == "comparison":
            self._figure = {"test": attrs.get("data-test"), "images": []}
            self.figures.append(self._figure)
        if tag == "img":
            self.images.append(attrs)
            if self._figure is not None:
                self._figure["images"].append(attrs)

    def handle_endtag(self, tag):
        if not self.open or self.open[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.open[-1:] or 'nothing'}")
            return
        self.open.pop()
        if tag == "figure":
            self._figure = None


def parsed(page):
    structure = PageStructure()
    structure.feed(page)
    structure.close()
    assert structure.errors == [] and structure.open == [], (structure.errors, structure.open)
    return structure


def test_page_has_a_row_per_part_and_a_figure_per_failed_comparison(graded_page):
    page, results = graded_page
    structure = parsed(page)
    graded_parts = [part for part, info in results["extra_data"]["parts"].items() if info["total"]]
    assert structure.rows[1:] == [("ok" if results["extra_data"]["parts"][p]["passed"]
                                   == results["extra_data"]["parts"][p]["total"] else "fail")
                                  for p in graded_parts] + ["total"] + (["total bonus"] if any(
                                      p in results["extra_data"]["bonus_parts"] for p in graded_parts) else [])
    failed = [t for t in results["tests"] if t["status"] == "failed"]
    assert len(failed) >= 5  # one-sided padding breaks every case with pad > 0
    # As on the terminal: at most three different failures of the part in full, each with its picture,
    # every other failed test named.
    shown = [figure["test"] for figure in structure.figures]
    assert 1 <= len(shown) <= limits.FAILURES_SHOWN_PER_PART
    assert set(shown) <= {t["extra_data"]["nodeid"] for t in failed}
    assert all(t["name"] in page for t in failed)
    for figure in structure.figures:
        assert [image["alt"] for image in figure["images"]] == ["expected out", "your out", "|difference|"]
    assert "Smallest failing input" in page and "Run it alone: <code>pytest" in page


def test_page_is_self_contained(graded_page):
    page, _ = graded_page
    structure = parsed(page)
    assert structure.urls and all(url.startswith("data:image/png;base64,") for url in structure.urls)
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert "<style>" in page and "<link" not in page


def test_the_difference_picture_shows_the_shift(graded_page):
    """One-sided padding moves the image by one pixel: the difference is not confined to one spot."""
    from PIL import Image

    page, _ = graded_page
    structure = parsed(page)
    difference = structure.figures[0]["images"][2]["src"].removeprefix("data:image/png;base64,")
    pixels = np.asarray(Image.open(io.BytesIO(base64.b64decode(difference))).convert("L"))
    assert (pixels < 200).mean() > 0.2  # a shift is wrong almost everywhere, not in a corner


def test_png_pixels_are_the_colour_scale():
    from PIL import Image

    values = np.array([[-2.0, 0.0], [2.0, np.nan]])
    rgb = html_report.diverging(values, 2.0)
    decoded = np.asarray(Image.open(io.BytesIO(html_report.encode_png(rgb))).convert("RGB"))
    assert decoded.tolist() == [[[0, 0, 255], [255, 255, 255]], [[255, 0, 0], list(html_report.NAN_COLOUR)]]


def test_comparison_figure_is_the_worst_sample_and_channel():
    expected = np.random.default_rng(0).standard_normal((3, 4, 50, 50))
    actual = expected.copy()
    actual[2, 1, 40, 45] += 1.0
    with pytest.raises(pytest.fail.Exception) as failure:
        compare.assert_close(actual, expected, "out")
    figure = failure.value.figure
    assert figure["index"] == (2, 1)
    rows, origin = np.array(figure["actual"]), figure["origin"]
    assert rows.shape == (compare.FIGURE_SIDE, compare.FIGURE_SIDE)
    assert rows[40 - origin[0], 45 - origin[1]] == pytest.approx(actual[2, 1, 40, 45], rel=1e-5)
    json.dumps(figure)  # travels in the outcome log


def test_a_failure_without_a_figure_gets_its_message_only():
    report = {"score": 0, "max_score": 100, "tests": [
        {"name": "test_x[a]", "status": "failed", "output": "not implemented yet", "visibility": "visible",
         "tags": ["conv_forward_naive"], "extra_data": {"nodeid": "t.py::test_x[a]"}}],
        "extra_data": {"parts": {"conv_forward_naive": {"score": 0.0, "max_score": 12.0, "passed": 0, "total": 1}}}}
    structure = parsed(html_report.page(report, {"t.py::test_x[a]": None}))
    assert structure.figures == [] and structure.rows == [None, "fail", "total"]


#: The page's own words in English: none may be left in a Russian page.
ENGLISH_WORDS = ("Grade", "Failed tests", "Smallest failing input", "expected out", "your out", "|difference|",
                 "Run it alone", "graded ", "hidden test", "(bonus)", "colours", "the slice", "hint (",
                 "differs from the expected", "required parts", "total")


def visible_text(page):
    """What a reader of the page sees: no style, no tags, no attributes."""
    import html
    import re

    return html.unescape(re.sub(r"<[^>]+>", "\n", re.sub(r"<style>.*?</style>", "", page, flags=re.S)))


def hint_tags(page):
    """The hint tags on a page, in order, whatever its language."""
    import re

    return re.findall(r"(?:hint|подсказка) \((\w+)\):", page)


def test_a_russian_page_speaks_russian_with_the_same_hints(graded_page, russian_page):
    english, _ = graded_page
    russian, results = russian_page
    assert '<html lang="ru">' in russian and '<html lang="en">' in english
    left = [word for word in ENGLISH_WORDS if word in visible_text(russian)]
    assert not left, f"English words in the Russian page: {left}"
    assert "Оценка: " in russian and "Наименьший вход" in russian
    assert hint_tags(russian) == hint_tags(english) and hint_tags(russian)
    assert results["extra_data"]["required"] <= results["max_score"]


def test_no_part_repeats_a_block(russian_page):
    page, _ = russian_page
    import re

    for section in re.findall(r"<section class=\"part\".*?</section>", page, flags=re.S):
        blocks = re.findall(r"<pre>(.*?)</pre>", section, flags=re.S)
        assert len(blocks) == len(set(blocks)), "the same failure is shown twice in one part"
