"""``check("conv_forward_naive")``: a part's visible tests, run from the notebook on the student's current code.

The notebook's check cells call :func:`check` after each task. It grades the
part exactly as ``python -m convgrader grade -k <part>`` does (the same sandbox,
the same tests but the CIFAR-10 trainings, which carry no points and which the
notebook runs itself; messages in the same language), in a process of its own: the
student's kernel only shows the outcome. It returns a :class:`CheckResult` with
the verdict of every test; Jupyter shows it as HTML (the short table, the first
failure with its hint, the expected / yours / difference pictures drawn by
:mod:`convgrader.judging.html_report`), any other front end as plain text. A part
whose function is still the skeleton's says so in one line.

Which code is checked: the ``student_impl`` package the kernel imports (the
folder it was loaded from), or ``$CONVGRADER_CHECK_IMPL`` when set (CI runs the
notebook with the answer key standing in, ``answer_key``). With
``$CONVGRADER_CHECK_STRICT=1`` (CI) a part that does not pass raises, failing the cell.
"""

from __future__ import annotations

import argparse
import html
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from convgrader import language
from convgrader.assignment import BY_NAME, PARTS
from convgrader.judging import html_report
from convgrader.messages import say
from convgrader.paths import PROJECT
from convgrader.report import GRADED, PASSED, Report, from_results_json, to_results_json
from convgrader.untrusted import shown

#: Tests a check leaves out: the CIFAR-10 trainings (no points; the notebook runs them itself, for minutes).
NOTEBOOK_RUNS_ITSELF = "cifar10"
#: Names the implementation to check instead of the kernel's student_impl (CI: answer_key).
IMPL_VARIABLE = "CONVGRADER_CHECK_IMPL"
#: Set to 1 (CI does), a part that does not pass raises, so that nbval fails the cell.
STRICT_VARIABLE = "CONVGRADER_CHECK_STRICT"
DEFAULT_PACKAGE = "student_impl"
#: The notebook is written in Russian: where nothing chose a language (--lang, $CONVGRADER_LANG, a
#: Russian locale, the project's convgrader_lang, as for pytest), its checks speak Russian too.
NOTEBOOK_LANGUAGE = "ru"


@dataclass
class CheckResult:
    """What :func:`check` found: every test's verdict of one part, and how to show them.

    Attributes
    ----------
    part : str
        The part checked (``conv_forward_naive``).
    report : Report
        The grading, as ``grade`` made it (``report.tests``: the part's verdicts, in order).
    figures : dict
        Node id -> the figure of a failed array comparison (see ``html_report.figure_block``).
    lang : str
        The language it speaks (``ru`` or ``en``).
    """

    part: str
    report: Report
    figures: dict = field(default_factory=dict)
    lang: str = language.ENGLISH

    @property
    def verdicts(self):
        """The part's tests as ``(name, outcome, message)``: outcome ``passed``, ``failed`` or ``error``."""
        return [(v.name, v.outcome, v.message) for v in self._tests()]

    def _tests(self):
        return [v for v in self.report.tests if v.part == self.part]

    @property
    def graded(self):
        return self.report.status == GRADED

    @property
    def passed(self):
        """Whether the part was graded and every one of its tests passed."""
        return self.graded and bool(self._tests()) and all(self.report.credited(v) for v in self._tests())

    def __bool__(self):
        return self.passed

    @property
    def unwritten(self):
        """Whether every test failed because the function still raises the skeleton's NotImplementedError."""
        with self._speaking():  # the fixed words of the "not implemented yet" messages, in the run's language
            templates = [say(key, name="\0", file="\0").split("\0")
                         for key in ("not_implemented_function", "not_implemented_method")]

        def says_unwritten(message):
            return any(all(piece in message for piece in template if piece.strip()) for template in templates)
        return self.graded and bool(self.verdicts) and all(
            outcome != PASSED and says_unwritten(message) for _, outcome, message in self.verdicts)

    @contextmanager
    def _speaking(self):
        before = language.current()
        language.set_current(self.lang)
        try:
            yield
        finally:
            language.set_current(before)

    def _tampering(self):
        """What the submission touched that it must not (it costs every point), as lines."""
        if not self.report.tampering:
            return []
        with self._speaking():
            return [say("grade_tampering"), *[f"  - {shown(event, newlines=False)}" for event in self.report.tampering]]

    def _first_failure(self):
        return next((v for v in self.report.tests if v.part == self.part and v.outcome != PASSED), None)

    def summary(self):
        """One line: how many tests passed, not written yet, or why nothing was graded."""
        with self._speaking():
            if not self.graded:
                return say("check_not_run", part=self.part, reason=shown(self.report.reason, newlines=False))
            if self.unwritten:
                return say("check_unwritten", part=self.part, file=f"{DEFAULT_PACKAGE}/{BY_NAME[self.part].file}")
            passed = sum(outcome == PASSED for _, outcome, _ in self.verdicts)
            return say("check_summary", part=self.part, passed=passed, total=len(self.verdicts))

    def _lines(self):
        """The verdict table and the first failure, as plain text (empty when one line says it all)."""
        if not self.graded or self.unwritten:
            return []
        lines = [f"  {'✓' if self.report.credited(v) else '✗'} {shown(v.name, newlines=False)}"
                 for v in self._tests()]
        lines += self._tampering()
        first = self._first_failure()
        if first is not None:
            with self._speaking():
                lines += ["", say("check_first_failure", name=shown(first.name, newlines=False)),
                          shown(first.message)]
        return lines

    def __str__(self):
        lines = self._lines()
        if lines and self._first_failure() is not None and self.figures.get(self._first_failure().nodeid):
            with self._speaking():
                lines.append(say("check_pictures_elsewhere"))
        return "\n".join([self.summary(), *lines])

    def __repr__(self):
        return str(self)

    def _repr_pretty_(self, printer, cycle):  # IPython's plain-text display
        printer.text(str(self))

    def _repr_html_(self):
        """Jupyter's rich display: the summary, the table, the first failure and its pictures."""
        parts = [f"<style>{SCOPED_STYLE}</style><div class=\"{SCOPE}\">",
                 f"<p><b>{_escaped(self.summary())}</b></p>"]
        if self.graded and not self.unwritten:
            rows = "".join(f"<tr class=\"{'ok' if self.report.credited(v) else 'fail'}\"><td>"
                           f"{_escaped(shown(v.name, newlines=False))}</td></tr>" for v in self._tests())
            parts.append(f"<table class=\"parts\">{rows}</table>")
            if self.report.tampering:
                parts.append(f"<pre class=\"tampering\">{_escaped(chr(10).join(self._tampering()))}</pre>")
            first = self._first_failure()
            if first is not None:
                with self._speaking():
                    title = say("check_first_failure", name=shown(first.name, newlines=False))
                parts.append(f"<h4>{_escaped(title)}</h4><pre>{_escaped(shown(first.message))}</pre>")
                if self.figures.get(first.nodeid):
                    parts.append(html_report.figure_block(self.figures[first.nodeid], first.nodeid))
        return "".join(parts) + "</div>"


def scoped(style, scope):
    """The report page's CSS (one rule a line) limited to ``.scope``: a notebook's output must not restyle Jupyter."""
    rules = []
    for line in style.strip().splitlines():
        selectors, _, body = line.partition("{")
        kept = [f".{scope} {selector.strip()}" for selector in selectors.split(",")
                if selector.strip() not in PAGE_ONLY_SELECTORS]
        if kept and body:
            rules.append(", ".join(kept) + " {" + body)
    return "\n".join(rules)


#: Rules of the report page's CSS that style the page itself, not its parts.
PAGE_ONLY_SELECTORS = ("body", "h1", ".meta")
SCOPE = "convgrader-check"
SCOPED_STYLE = scoped(html_report.STYLE, SCOPE)


def _escaped(text):
    return html.escape(str(text), quote=True)


def implementation_to_check():
    """``--impl`` for the code the kernel runs: ``$CONVGRADER_CHECK_IMPL``, else student_impl's folder."""
    chosen = os.environ.get(IMPL_VARIABLE)
    if chosen:
        return chosen
    spec = importlib.util.find_spec(DEFAULT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return DEFAULT_PACKAGE
    return str(Path(list(spec.submodule_search_locations)[0]).resolve())


def check(part: str, impl: str | None = None, lang: str | None = None) -> CheckResult:
    """Run the visible tests of ``part`` on the current code; return (and show) their verdicts.

    Parameters
    ----------
    part : str
        A graded part's name, e.g. ``"conv_forward_naive"`` or ``"ThreeLayerConvNet"``.
    impl : str, optional
        What to check (an ``--impl`` value); by default the kernel's ``student_impl``.
    lang : str, optional
        ``ru`` or ``en``; by default pytest's choice here (``$CONVGRADER_LANG``, a Russian locale,
        the project's ``convgrader_lang``), else Russian, the notebook's language.

    Returns
    -------
    CheckResult
        ``.verdicts`` lists ``(test name, outcome, message)``; ``bool(result)`` is True when all passed.
    """
    if part not in BY_NAME:
        raise ValueError(f"check({part!r}): the parts are {', '.join(PARTS)}")
    lang = language.choose(lang, language.configured_in(PROJECT) or NOTEBOOK_LANGUAGE)
    with tempfile.TemporaryDirectory(prefix="convgrader-check-") as scratch:
        out = Path(scratch) / "check.json"
        command = [sys.executable, "-m", "convgrader.judging.notebook_check", part, "--out", str(out),
                   "--impl", impl or implementation_to_check(), "--lang", lang]
        run = subprocess.run(command, cwd=PROJECT, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        try:
            data = json.loads(out.read_text(encoding="utf-8"))
            report, figures = from_results_json(data["results"]), data.get("figures") or {}
        except (OSError, ValueError, KeyError):
            tail = (run.stderr or run.stdout).strip().splitlines()[-1:] or [f"exit status {run.returncode}"]
            report, figures = Report.failed(tail[0]), {}
    for verdict in report.tests:
        verdict.figure = figures.get(verdict.nodeid)
    result = CheckResult(part, report, figures, lang)
    if os.environ.get(STRICT_VARIABLE) == "1" and not result.passed:
        raise AssertionError(str(result))
    return result


# -- the grading process ------------------------------------------------------------------------

def grade_part(part, impl, lang):
    """Grade one part with ``grade``'s own machinery; return (results.json dict, figures by node id)."""
    from convgrader.judging import grade  # here, not at the top: the student's kernel never needs pytest's side

    parser = argparse.ArgumentParser()
    grade.register(parser.add_subparsers())
    args = parser.parse_args(["grade", "--impl", impl, "--lang", lang])
    language.set_current(lang)
    report = grade.grade(args, ["-k", f"{part} and not {NOTEBOOK_RUNS_ITSELF}"])
    figures = {v.nodeid: v.figure for v in report.tests if v.figure}
    return to_results_json(report), figures


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m convgrader.judging.notebook_check",
                                     description="Grade one part for the notebook's check() (JSON out).")
    parser.add_argument("part", choices=PARTS)
    parser.add_argument("--impl", required=True)
    parser.add_argument("--lang", required=True, choices=language.LANGUAGES)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    results, figures = grade_part(args.part, args.impl, args.lang)
    args.out.write_text(json.dumps({"results": results, "figures": figures}, default=_plain), encoding="utf-8")
    return 0


def _plain(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON")


if __name__ == "__main__":
    sys.exit(main())
