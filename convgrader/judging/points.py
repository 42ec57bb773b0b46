"""Points: each part's points (from the assignment table) shared out among its tests.

Each part's points are shared by its scored tests in proportion to their
weights, so every failing test case costs its share and nothing else: partial
credit per case. A test declares its weight, or that it carries no points, on
its marker: ``@pytest.mark.grades("ThreeLayerConvNet", weight=2)``,
``@pytest.mark.grades("ThreeLayerConvNet", scored=False)`` (the CIFAR-10 rows,
since CIFAR-10 cannot be had on every machine; they have real-data stand-ins
that can). Hidden tests, when run, share their part's points with the visible ones.

The grade of record (``--hidden``: ``grade --hidden``, ``batch --hidden``, the
Gradescope bundle) does not pay for memorized answers. Every scored visible
test has a hidden twin (``tests/hidden/twins.py``): the same check on fresh
inputs of the same shapes, parameters and dtype, drawn from ``--hidden-seed``,
its expected values from the answer key. A twin declares the visible tests it
confirms on its ``twin_of`` marker, and a visible test scores only when every
twin of it passed as well (:func:`withhold_unconfirmed`). Twins carry no
points of their own, so a bug costs what it costs without ``--hidden``; a
submission that only looks its answers up in the visible cases scores 0.
Without ``--hidden`` no twin runs, and points are what they always were.
"""

from convgrader.assignment import BY_NAME, MARKER, PARTS_TABLE

#: The marker a hidden twin names the visible tests it confirms with: ``@pytest.mark.twin_of(test, ...)``.
TWIN_MARKER = "twin_of"

#: Points of the required parts (they sum to 100) and of the bonus parts, on top.
POINTS = {part.name: part.points for part in PARTS_TABLE if not part.optional}
BONUS = {part.name: part.points for part in PARTS_TABLE if part.optional}


def part_points(name):
    return BY_NAME[name].points if name in BY_NAME else 0


def declared(item):
    """``(part, weight, scored)`` as a collected test declares them on its marker."""
    marker = item.get_closest_marker(MARKER)
    if marker is None:
        return None, 1, False
    return marker.args[0], marker.kwargs.get("weight", 1), marker.kwargs.get("scored", True)


def share_out(tests):
    """Max score of each test: its part's points split by weight among the part's scored tests.

    Parameters
    ----------
    tests : list of dict
        Each with ``part``, ``weight`` and ``scored`` (as :func:`declared` gives them).

    Returns
    -------
    list of float
        The max score of each test, in order (0 for unscored ones).
    """
    counted = [bool(t["part"]) and t.get("scored", True) for t in tests]
    totals = {}
    for test, counts in zip(tests, counted):
        if counts:
            totals[test["part"]] = totals.get(test["part"], 0) + test.get("weight", 1)
    return [part_points(t["part"]) * t.get("weight", 1) / totals[t["part"]] if counts else 0.0
            for t, counts in zip(tests, counted)]


def withhold_unconfirmed(verdicts):
    """Withhold the points of every passed visible test whose hidden twin did not pass.

    Parameters
    ----------
    verdicts : list of Verdict
        One run's verdicts; a twin's ``twin_of`` lists the node ids of the tests it confirms.

    Returns
    -------
    list of Verdict
        The visible tests withheld; each now has ``unconfirmed_by`` set to the name of a twin that
        failed (or was skipped), which reports render as the reason they score 0.
    """
    twins = {}
    for verdict in verdicts:
        for nodeid in verdict.twin_of:
            twins.setdefault(nodeid, []).append(verdict)
    withheld = []
    for verdict in verdicts:
        failed = [twin for twin in twins.get(verdict.nodeid, ()) if twin.outcome != "passed"]
        if verdict.outcome == "passed" and failed:
            verdict.unconfirmed_by = failed[0].name
            withheld.append(verdict)
    return withheld
