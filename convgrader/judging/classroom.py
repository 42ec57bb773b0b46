"""GitHub Classroom's autograding result (``grade --classroom FILE``).

Classroom records a score only through its reporter action,
``classroom-resources/autograding-grading-reporter``: each "runner" step sets
an output ``result``, the base64 of a JSON document, and the reporter reads it
from the environment variable ``<RUNNER ID IN CAPITALS>_RESULTS``. The format,
as the reporter's source and tests read it (``src/notify-classroom.js``,
``src/console-results.js``, ``__tests__/aggregate-results.test.js``)::

    {"version": 1, "status": "pass" | "fail" | "error", "max_score": 100,
     "tests": [{"name": ..., "status": "pass" | "fail" | "error", "message": ...,
                "line_no": 0, "execution_time": "12ms", "score": 8.5}, ...]}

The points Classroom records are the sum of the tests' ``score`` out of the
runners' ``max_score``; a runner whose ``status`` is ``fail`` or ``error`` marks
the step failed. Here one runner holds one entry per graded part, with that
part's points from the assignment table, so Classroom's points are the grade.
The reporter's own log table counts passed entries instead (a part with partial
credit counts as 0 there): Classroom's points are the sum, not that table.

A grading that failed is no zero: its document has ``max_score`` 0 (the
reporter then records nothing) and status ``error`` with the reason.
"""

import json
from pathlib import Path

from convgrader import limits
from convgrader.assignment import PARTS
from convgrader.judging.points import POINTS
from convgrader.messages import say
from convgrader.report import GRADED, GRADING_FAILED, Report, test_output
from convgrader.untrusted import shown

#: The format's version, as the reporter's tests write it.
VERSION = 1
PASS, FAIL, ERROR = "pass", "fail", "error"


def part_entry(report: Report, part: str) -> dict:
    """The reporter's test entry of one graded part: its points and, when it lost some, why."""
    total = report.parts[part]
    tests = [v for v in report.tests if v.part == part]
    failed = [v for v in tests if not report.credited(v)]
    message = say("classroom_part", passed=total.passed, total=total.total, score=round(total.score, 2),
                  max_score=total.max_score)
    if failed:
        first = failed[0]
        why = test_output(first) or first.outcome
        message += "\n" + say("classroom_first_failure", name=first.name, message=why)
    return {"name": part, "status": PASS if not failed else FAIL,
            "message": shown(message, limits.MESSAGE_CHARACTERS),
            "line_no": 0,  # the reporter prints "- line N" for any other value
            "execution_time": f"{round(sum(v.duration for v in tests) * 1000)}ms",
            "score": round(total.score, 4)}


def to_classroom(report: Report) -> dict:
    """The reporter's runner result for a :class:`~convgrader.report.Report` (a dict, before JSON and base64)."""
    if report.status == GRADING_FAILED:
        reason = say("report_grading_failed", reason=report.reason)
        return {"version": VERSION, "status": ERROR, "max_score": 0,
                "tests": [{"name": "grading", "status": ERROR, "message": shown(reason), "line_no": 0,
                           "execution_time": "0ms", "score": 0}]}
    if report.status != GRADED:  # rejected: the student's to fix, every part at 0
        reason = say("report_rejected", reason=report.reason)
        tests = [{"name": part, "status": FAIL, "message": shown(reason), "line_no": 0,
                  "execution_time": "0ms", "score": 0} for part in PARTS]
        return {"version": VERSION, "status": FAIL, "max_score": float(sum(POINTS.values())),
                "tests": tests}
    tests = [part_entry(report, part) for part in PARTS if report.parts.get(part) and report.parts[part].total]
    if report.tampering:
        tampering = say("grade_tampering") + "\n" + "\n".join(f"  - {event}" for event in report.tampering)
        for entry in tests:
            entry.update(status=FAIL, score=0, message=shown(tampering, limits.MESSAGE_CHARACTERS))
    status = PASS if tests and all(entry["status"] == PASS for entry in tests) else FAIL
    return {"version": VERSION, "status": status, "max_score": report.max_score, "tests": tests}


def write(path, report: Report) -> None:
    """Write the runner result as JSON (the workflow base64-encodes it into the step's ``result`` output)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_classroom(report), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
