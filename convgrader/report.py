"""One typed report of a grading, and one writer per format.

Every producer of results (pytest's outcome log, ``grade``, ``batch``, the
Gradescope runner, and every path that could not grade) builds a
:class:`Report` made of :class:`Verdict` objects; this module alone turns one
into results.json (Gradescope's schema), JUnit XML, Markdown, a terminal
table or a gradebook row, and reads results.json back.

A report's ``status`` says whether it is a grade at all:

``graded``
    the suite ran; ``score`` is the student's.
``rejected``
    the upload cannot be graded (no ``layers.py``, a corrupt archive): the
    student's to fix, score 0, ``reason`` says why.
``grading failed``
    the grader could not finish (a worker that cannot start, pytest's own
    error, the time limit). Never the student's fault: the gradebook says
    ``grading failed: <reason>`` instead of a score, and ``batch`` retries it.

This module imports nothing from the judging, running or course packages, so
each of them may use it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
import xml.etree.ElementTree as ElementTree
from dataclasses import asdict, dataclass, field, fields

from convgrader import language, limits
from convgrader.assignment import OPTIONAL_PARTS, PARTS
from convgrader.messages import EN, Said, say
from convgrader.untrusted import shown, shown_document, shown_name, shown_tree

GRADED = "graded"
REJECTED = "rejected"
GRADING_FAILED = "grading failed"
STATUSES = (GRADED, REJECTED, GRADING_FAILED)

#: What happened to one test. ``grading failed`` (:data:`GRADING_FAILED`, the same word as a report's
#: status) is the harness's fault (the sandbox could not start, say), never charged to the student.
PASSED, FAILED, ERROR, SKIPPED = "passed", "failed", "error", "skipped"
VISIBILITY = ("hidden", "after_due_date", "after_published", "visible")

#: The gradebook's columns: a row per submission. The required points and the bonus stand apart, so a
#: missing required part is never hidden by a bonus; ``total`` is their sum.
#: ``similarity`` and ``similar_to`` (each submission's highest match) are filled by ``batch --similarity``.
COLUMNS = ("submission", "status", "required", "max_required", *PARTS, "bonus", "max_bonus", "total",
           "similarity", "similar_to")
#: A text cell starting with one of these is a formula to a spreadsheet program
#: (OWASP, "CSV Injection"): it gets a leading apostrophe. A leading
#: apostrophe is doubled too, so that unescaping is exact.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")
#: Gradebook columns holding text; the others hold numbers written by us.
TEXT_COLUMNS = ("submission", "status", "similar_to")


@dataclass
class Verdict:
    """One graded test.

    ``message`` is why it failed (empty when it passed); ``output`` is what
    the submission printed during it (at most a few KB kept) and
    ``output_bytes`` how much it printed in all. ``score``/``max_score`` are
    set by the report, not by pytest. ``tamper`` lists what the submission
    touched that it must not (any event costs the whole grade).

    With ``--hidden``, a visible test has a hidden twin: the same check on fresh
    inputs of the same shapes, parameters and dtype. ``twin_of`` (on a twin) names
    the visible tests it confirms, by node id; ``unconfirmed_by`` (on a visible
    test that passed) names the twin that failed, which withholds its points
    (see :func:`convgrader.judging.points.withhold_unconfirmed`).
    """

    nodeid: str
    name: str
    part: str | None = None
    weight: float = 1
    scored: bool = True
    hidden: bool = False
    outcome: str = PASSED
    message: str = ""
    output: str = ""
    output_bytes: int = 0
    duration: float = 0.0
    tamper: list = field(default_factory=list)
    isolation: str = ""
    #: The worst sample and channel of a failed array comparison, for the HTML report.
    figure: dict | None = None
    #: The failure as data (:meth:`convgrader.messages.Said.to_data`): its message keys and fields and
    #: its tagged hints, which each writer says in its reader's language; None when pytest's own text
    #: (``message``) is all there is.
    said: dict | None = None
    #: What makes this failure the same as another of its part (an exception and the student's frames);
    #: empty when the failure's text is what tells them apart.
    group: str = ""
    score: float = 0.0
    max_score: float = 0.0
    visibility: str = "visible"
    twin_of: list = field(default_factory=list)
    unconfirmed_by: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verdict:
        """A verdict from :meth:`to_dict`'s output; unknown keys are ignored, missing ones default."""
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})

    def failure(self) -> Said | None:
        """The failure as said (lines and tagged hints), or None when only text is known."""
        if not self.said:
            return None
        try:
            return Said.from_data(self.said)
        except (KeyError, TypeError):  # a message the harness no longer has: its text stands
            return None

    def failure_text(self, code: str | None = None) -> str:
        """Why it failed, in the language ``code`` (the current one by default)."""
        failure = self.failure()
        return failure.in_language(code or language.current()) if failure is not None else self.message

    def hint_tags(self) -> list[str]:
        """The tags of the failure's hints, in order (none when only text is known)."""
        failure = self.failure()
        return [part.tag for part in failure.parts if part.tag] if failure is not None else []

    @property
    def base_name(self) -> str:
        """The test function's name, without its parameters."""
        return self.name.split("[")[0]


@dataclass
class PartTotal:
    """Points and passed tests of one graded part."""

    score: float = 0.0
    max_score: float = 0.0
    passed: int = 0
    total: int = 0


@dataclass
class Report:
    """A whole grading: its status, the points, the tests, and what a regrade needs.

    Parameters
    ----------
    status : str
        One of :data:`STATUSES`.
    reason : str
        Why a rejected or failed grading did not give a grade.
    score, max_score : float
        Points earned (bonus included) and the points of the required parts.
    parts : dict of str to PartTotal
        Points per graded part; empty when nothing was graded.
    tests : list of Verdict
        Every scored test, in the order they ran.
    isolation : str, optional
        How the submission was kept apart: ``namespaces``, ``process`` or ``none``
        (see :mod:`convgrader.running.isolation`).
    notes : list of str
        About the upload (re-encoded files, what was ignored), shown first.
    not_run : list of str
        Tests that carry no points and did not run here (CIFAR-10 missing).
    timings : dict
        Seconds: ``execution_time`` and whatever else a producer measured.
    """

    status: str = GRADED
    reason: str = ""
    score: float = 0.0
    max_score: float = 0.0
    parts: dict = field(default_factory=dict)
    bonus_parts: list = field(default_factory=lambda: list(OPTIONAL_PARTS))
    tests: list = field(default_factory=list)
    tampering: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    not_run: list = field(default_factory=list)
    isolation: str | None = None
    harness_version: str | None = None
    impl: str | None = None
    environment: dict = field(default_factory=dict)
    seeds: dict = field(default_factory=dict)
    fixtures_sha256: str | None = None
    command: str | None = None
    graded_at: str | None = None
    timings: dict = field(default_factory=dict)

    @classmethod
    def failed(cls, reason: str, **details: Any) -> Report:
        """The report of a grading the harness could not finish: no score, the reason."""
        return cls(status=GRADING_FAILED, reason=reason, bonus_parts=[], **details)

    @classmethod
    def rejected(cls, reason: str, **details: Any) -> Report:
        """The report of an upload that cannot be graded: score 0, the reason."""
        return cls(status=REJECTED, reason=reason, bonus_parts=[], **details)

    @property
    def execution_time(self) -> float:
        return float(self.timings.get("execution_time", 0.0))

    @property
    def bonus(self) -> float:
        """Points earned in the optional parts."""
        return sum(self.parts[p].score for p in self.bonus_parts if p in self.parts)

    @property
    def bonus_max(self) -> float:
        """Points the optional parts that had tests here could give (none when a run selected none of them)."""
        return sum(self.parts[p].max_score for p in self.bonus_parts if p in self.parts and self.parts[p].total)

    @property
    def required(self) -> float:
        """Points earned in the required parts: the grade's headline (``score`` adds the bonus)."""
        return self.score - self.bonus

    @property
    def label(self) -> str:
        """The gradebook's status cell: ``graded`` (noting tampering), or the status and its reason."""
        if self.status == GRADED:
            return f"{GRADED}: tampering detected ({'; '.join(self.tampering)})" if self.tampering else GRADED
        return f"{self.status}: {self.reason}" if self.reason else self.status

    def credited(self, verdict: Verdict) -> bool:
        """Whether a test earns its points: it passed, its hidden twin (if any) passed, and nothing was
        tampered with."""
        return verdict.outcome == PASSED and not verdict.unconfirmed_by and not self.tampering


# -- results.json (Gradescope) --------------------------------------------------------------------

def test_output(verdict: Verdict) -> str:
    """The text a student reads for one test: the failure, then what their code printed."""
    text = verdict.failure_text() if verdict.outcome != PASSED else ""
    if verdict.unconfirmed_by:
        text = say("twin_failed", twin=verdict.unconfirmed_by)
    cap = limits.MESSAGE_CHARACTERS  # the one place a failure's text is cut
    if len(text) > cap:
        text = text[:cap] + "\n" + say("cut_characters", count=len(text) - cap)
    if verdict.output_bytes:
        note = (say("printed_bytes", size=verdict.output_bytes, shown=len(verdict.output)) + "\n"
                + verdict.output[:limits.PRINTED_SHOWN_CHARACTERS])
        text = f"{text}\n{note}" if text else note
    return text.strip()


def overall_output(report: Report) -> str:
    """The top-level ``output``: notes on the upload, why there is no grade, tampering, what did not run."""
    lines = []
    if report.notes:
        lines += [say("report_notes"), *[f"  - {note}" for note in report.notes]]
    if report.status == REJECTED:
        lines.append(say("report_rejected", reason=report.reason))
    elif report.status == GRADING_FAILED:
        lines.append(say("report_grading_failed", reason=report.reason))
    if report.tampering:
        lines.append(say("grade_tampering"))
        lines += [f"  - {event}" for event in report.tampering]
    if report.not_run:
        lines.append(say("grade_not_run", names=", ".join(report.not_run)))
    return "\n".join(lines)


def to_results_json(report: Report) -> dict[str, Any]:
    """Gradescope's results.json as a dict; ``extra_data`` carries the rest of the report."""
    tests = []
    for number, verdict in enumerate(report.tests, start=1):
        output = test_output(verdict)
        extra = {"nodeid": verdict.nodeid, "outcome": verdict.outcome, "duration": round(verdict.duration, 3),
                 "hidden": verdict.hidden}
        if verdict.output_bytes:
            extra.update(message=verdict.message, printed=verdict.output, printed_bytes=verdict.output_bytes)
        if verdict.tamper:
            extra["tamper"] = list(verdict.tamper)
        if verdict.said and verdict.outcome != PASSED:  # the failure as data: a reader may say it in its language
            extra.update(failure=verdict.said, hints=verdict.hint_tags())
        if verdict.group and verdict.outcome != PASSED:
            extra["group"] = verdict.group
        if verdict.unconfirmed_by:
            extra["unconfirmed_by"] = verdict.unconfirmed_by
        if verdict.twin_of:
            extra["twin_of"] = list(verdict.twin_of)
        tests.append({
            "name": verdict.name, "number": str(number),
            "score": round(verdict.score, 4), "max_score": round(verdict.max_score, 4),
            "status": "passed" if report.credited(verdict) else "failed",
            "output": output, "output_format": "text", "visibility": verdict.visibility,
            "tags": [verdict.part] if verdict.part else [], "extra_data": extra,
        })
    return {
        "score": round(report.score, 2),
        "max_score": round(report.max_score, 2),
        "execution_time": round(report.execution_time, 1),
        "output": overall_output(report), "output_format": "text",
        "visibility": "visible", "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {
            "status": report.status, "reason": report.reason, "label": report.label,
            "parts": {name: {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(total).items()}
                      for name, total in report.parts.items()},
            "bonus_parts": list(report.bonus_parts), "required": round(report.required, 4),
            "max_required": round(report.max_score, 4), "bonus": round(report.bonus, 4),
            "max_bonus": round(report.bonus_max, 4),
            "tampering": list(report.tampering), "notes": list(report.notes), "not_run": list(report.not_run),
            "isolation": report.isolation, "harness_version": report.harness_version, "impl": report.impl,
            **report.environment,
            "seeds": dict(report.seeds), "fixtures_sha256": report.fixtures_sha256,
            "command": report.command, "graded_at": report.graded_at, "timings": dict(report.timings),
        },
    }


#: Keys of results.json's extra_data that are environment facts (python, numpy, platform).
ENVIRONMENT_KEYS = ("python", "numpy", "platform")


def from_results_json(data: Any) -> Report:
    """The :class:`Report` a results.json (dict) describes.

    Reads what :func:`to_results_json` writes exactly, and is lenient with
    older or smaller files: a file without a ``status`` is a grade, unless it
    carries an older runner's reason (``batch_status``, ``gradescope_run``).

    Raises
    ------
    ValueError
        When ``data`` is not a results.json at all (no ``score``).
    """
    if not isinstance(data, dict) or not isinstance(data.get("score"), (int, float)):
        raise ValueError("not a results.json: no numeric score")
    extra = data.get("extra_data") or {}
    status, reason = extra.get("status"), extra.get("reason", "")
    if status not in STATUSES:
        status, reason = _older_status(extra)
    timings = dict(extra.get("timings") or {})
    timings.setdefault("execution_time", float(data.get("execution_time") or 0.0))
    return Report(
        status=status, reason=reason, score=float(data["score"]), max_score=float(data.get("max_score") or 0.0),
        parts={name: PartTotal(**{k: v for k, v in (total or {}).items() if k in PartTotal.__dataclass_fields__})
               for name, total in (extra.get("parts") or {}).items()},
        bonus_parts=list(extra.get("bonus_parts") or []),
        tests=[_verdict_from_test(test) for test in data.get("tests") or []],
        tampering=[str(event) for event in extra.get("tampering") or []],
        notes=list(extra.get("notes") or []), not_run=list(extra.get("not_run") or []),
        isolation=extra.get("isolation"), harness_version=extra.get("harness_version"), impl=extra.get("impl"),
        environment={key: extra[key] for key in ENVIRONMENT_KEYS if key in extra},
        seeds=dict(extra.get("seeds") or {}), fixtures_sha256=extra.get("fixtures_sha256"),
        command=extra.get("command"), graded_at=extra.get("graded_at"), timings=timings,
    )


def _older_status(extra: dict[str, Any]) -> tuple[str, str]:
    for key in ("batch_status", "gradescope_run"):
        if extra.get(key):
            status, _, reason = str(extra[key]).partition(": ")
            return (status, reason) if status in STATUSES else (GRADING_FAILED, str(extra[key]))
    return GRADED, ""


def _verdict_from_test(test: dict[str, Any]) -> Verdict:
    extra = test.get("extra_data") or {}
    outcome = extra.get("outcome") or ("passed" if test.get("status") == "passed" else "failed")
    tags = test.get("tags") or []
    printed_bytes = int(extra.get("printed_bytes") or 0)
    return Verdict(
        nodeid=extra.get("nodeid", test.get("name", "")), name=test.get("name", ""),
        part=tags[0] if tags else None, hidden=bool(extra.get("hidden", False)), outcome=outcome,
        message=extra["message"] if printed_bytes else ("" if outcome == PASSED else test.get("output", "")),
        output=extra.get("printed", ""), output_bytes=printed_bytes, duration=float(extra.get("duration", 0.0)),
        tamper=list(extra.get("tamper") or []), said=extra.get("failure") or None, group=str(extra.get("group") or ""),
        score=float(test.get("score") or 0.0),
        max_score=float(test.get("max_score") or 0.0), visibility=test.get("visibility", "visible"),
        twin_of=[str(nodeid) for nodeid in extra.get("twin_of") or []],
        unconfirmed_by=str(extra.get("unconfirmed_by") or ""))


def write_results_json(report: Report, path: Path) -> None:
    """Write results.json atomically: a reader never sees half a file."""
    # shown_tree: the last line of defence, so no string of the submission's is written raw (nor can
    # a lone surrogate in it stop the writing).
    _write_atomically(path, json.dumps(shown_tree(to_results_json(report)), indent=2, ensure_ascii=False) + "\n")


def read_results_json(path: Path) -> Report | None:
    """The report in a results.json file, or None when it is missing or unreadable."""
    try:
        return from_results_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.{os.getpid()}.partial")
    scratch.unlink(missing_ok=True)  # never write through a link someone left there
    handle = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.replace(scratch, path)


# -- JUnit XML -------------------------------------------------------------------------------------

def to_junit(report: Report) -> str:
    """JUnit XML (a string): one testcase per test, classname = its part; a failed grading is one error."""
    failures = sum(not report.credited(v) and v.outcome != GRADING_FAILED for v in report.tests)
    errors = sum(v.outcome == GRADING_FAILED for v in report.tests) + (report.status == GRADING_FAILED)
    suite = ElementTree.Element("testsuite", name="convgrader", tests=str(len(report.tests)),
                                failures=str(failures), errors=str(errors), time=f"{report.execution_time:g}")
    properties = ElementTree.SubElement(suite, "properties")
    for name, value in (("status", report.label), ("score", f"{report.score:g}"),
                        ("max_score", f"{report.max_score:g}"), ("isolation", report.isolation or "")):
        ElementTree.SubElement(properties, "property", name=name, value=value)
    for verdict in report.tests:
        case = ElementTree.SubElement(suite, "testcase", classname=verdict.part or "", name=verdict.name,
                                      time=f"{verdict.duration:.3f}")
        if report.credited(verdict):
            continue
        text = test_output(verdict) or ("tampering detected" if report.tampering else verdict.outcome)
        kind = "error" if verdict.outcome == GRADING_FAILED else "failure"
        ElementTree.SubElement(case, kind, message=text.split("\n")[0][:limits.JUNIT_MESSAGE_CHARACTERS]).text = text
    if report.status != GRADED:
        case = ElementTree.SubElement(suite, "testcase", classname="convgrader", name="grading")
        ElementTree.SubElement(case, "error" if report.status == GRADING_FAILED else "failure",
                               message=report.label[:limits.JUNIT_MESSAGE_CHARACTERS]).text = overall_output(report)
    _shown_xml(suite)
    return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def _shown_xml(root: ElementTree.Element) -> None:
    """Pass every text and attribute under ``root`` through ``shown``: XML 1.0 forbids control characters."""
    for element in root.iter():
        if element.text:
            element.text = shown(element.text)
        for name, value in element.attrib.items():
            element.set(name, shown(value))


# -- Markdown and the terminal ---------------------------------------------------------------------

def part_rows(report: Report) -> Iterator[tuple[str, PartTotal]]:
    """(label, PartTotal) of each part that had tests, in the assignment's order."""
    for part in PARTS:
        total = report.parts.get(part)
        if total is not None and total.total:
            yield (say("grade_bonus", part=part) if part in report.bonus_parts else part), total


def to_markdown(report: Report) -> str:
    """A summary for a CI job page: the grade, a table of parts, the visible failures."""
    if report.status != GRADED:
        lines = [f"### {say('report_not_graded', label=_markdown_text(report.label))}"]
    else:
        lines = [f"### {headline(report)}", "",
                 f"| {say('grade_part')} | {say('grade_passed')} | {say('grade_points')} |", "|---|---|---|"]
        for name, total in part_rows(report):
            mark = "✅" if total.passed == total.total else "❌"
            lines.append(f"| {mark} `{name}` | {total.passed}/{total.total} | "
                         f"{total.score:.2f} / {total.max_score:g} |")
    failed = [v for v in report.tests if not report.credited(v) and v.visibility == "visible"]
    if failed:
        lines += ["", f"<details><summary>{say('report_failures')}</summary>", ""]
        for verdict in failed[:limits.MARKDOWN_FAILURES]:
            first = test_output(verdict).split("\n")[0]
            lines.append(f"- `{verdict.name}`: {_markdown_text(first[:limits.MARKDOWN_LINE_CHARACTERS])}")
        lines += ["", "</details>"]
    if report.isolation:
        lines += ["", say("report_isolation", level=isolation_name(report.isolation))]
    output = overall_output(report)
    if output:
        lines += ["", "```", output.replace("```", "'''"), "```"]
    return shown_document("\n".join(lines) + "\n")


def _markdown_text(text: str) -> str:
    """Text that Markdown shows as written (a student's message may hold `|`, `<` or backticks)."""
    for special in ("\\", "`", "*", "_", "|", "<", ">", "[", "]"):
        text = text.replace(special, "\\" + special)
    return text


def headline(report: Report) -> str:
    """The grade in one line: the required points, and the bonus apart (never added into the headline)."""
    required = say("headline_required", score=report.required, max_score=report.max_score)
    if not report.bonus_max:
        return str(required)
    return say("headline_with_bonus", required=required, bonus=report.bonus, max_bonus=report.bonus_max)


def isolation_name(levels: str) -> str:
    """How the submission was kept apart, in words (``namespaces``, ``process``, ``none`` are codes)."""
    return ", ".join(str(say(f"isolation_{level}")) if f"isolation_{level}" in EN else level
                     for level in levels.split(", "))


def to_text(report: Report) -> str:
    """The table of parts ``grade`` prints, with the isolation level and why there is no grade."""
    lines = ["", f"{say('grade_part'):<36} {say('grade_passed'):>8} {say('grade_points'):>15}", "-" * 61]
    for name, total in part_rows(report):
        lines.append(f"{name:<36} {total.passed:>3}/{total.total:<4} "
                     f"{total.score:>7.2f} / {total.max_score:<5g}")
    if report.status == GRADED:
        lines += ["-" * 61, f"{say('grade_required'):<36} {'':>8} {report.required:>7.2f} / {report.max_score:g}"]
        if report.bonus_max:
            lines.append(f"{say('grade_bonus_total'):<36} {'':>8} {report.bonus:>7.2f} / {report.bonus_max:g}")
    else:
        lines += ["-" * 61, f"{say('grade_total'):<36} {'':>8} {report.label}"]
    if report.isolation:
        lines.append(say("report_isolation", level=isolation_name(report.isolation)))
    output = overall_output(report)
    if output:
        lines += ["", output]
    return shown_document("\n".join(lines))


# -- the gradebook ---------------------------------------------------------------------------------

def escape_cell(text: object) -> str:
    """A text cell a spreadsheet program shows as text, never runs as a formula (OWASP CSV injection)."""
    text = str(text)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def unescape_cell(text: str) -> str:
    """The text :func:`escape_cell` was given."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


def to_csv_row(report: Report, submission: str) -> dict[str, str]:
    """The gradebook row (a dict keyed by :data:`COLUMNS`) of one submission, text cells escaped.

    A part without tests, and every number of a submission that was not
    graded, is left blank; a failed grading has no total (it is no zero).
    """
    graded = report.status == GRADED
    row = {"submission": escape_cell(shown_name(submission)),
           "status": escape_cell(shown(report.label, newlines=False)),
           "required": _number(report.required) if report.status != GRADING_FAILED else "",
           "max_required": _number(report.max_score) if graded else ""}
    for part in PARTS:
        total = report.parts.get(part)
        row[part] = _number(total.score) if graded and total is not None else ""
    row["bonus"] = _number(report.bonus) if graded and report.parts else ""
    row["max_bonus"] = _number(report.bonus_max) if graded and report.parts else ""
    row["total"] = _number(report.score) if report.status != GRADING_FAILED else ""
    return row


def from_csv_row(row: dict[str, str]) -> tuple[str, Report]:
    """The submission's name and a (partial) :class:`Report` from a gradebook row: status, points."""
    label = unescape_cell(row.get("status", ""))
    status, _, reason = label.partition(": ")
    if status not in STATUSES:
        status, reason = GRADING_FAILED, f"unreadable status {label!r}"
    tampering = []
    if status == GRADED and reason.startswith("tampering detected ("):
        tampering, reason = reason[len("tampering detected ("):-1].split("; "), ""
    parts = {part: PartTotal(score=float(row[part])) for part in PARTS if row.get(part)}
    report = Report(status=status, reason=reason, score=float(row.get("total") or 0.0),
                    max_score=float(row.get("max_required") or row.get("max_total") or 0.0), parts=parts,
                    tampering=tampering,
                    bonus_parts=[p for p in OPTIONAL_PARTS if p in parts])
    return unescape_cell(row.get("submission", "")), report


def _number(value: float) -> str:
    return f"{round(float(value), 6):.10g}"
