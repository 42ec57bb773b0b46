"""Points: each part's points (from the assignment table) shared out among its tests.

Each part's points are shared by its scored tests in proportion to their
weights, so every failing test case costs its share and nothing else: partial
credit per case. A test declares its weight, or that it carries no points, on
its marker: ``@pytest.mark.grades("ThreeLayerConvNet", weight=2)``,
``@pytest.mark.grades("ThreeLayerConvNet", scored=False)`` (the CIFAR-10 rows,
since CIFAR-10 cannot be had on every machine; they have real-data stand-ins
that can). Hidden tests, when run, share their part's points with the visible ones.
"""

from convgrader.assignment import BY_NAME, MARKER, PARTS_TABLE

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
