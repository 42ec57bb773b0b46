"""Points: the one table an instructor edits.

Each part's points are shared by its scored tests in proportion to their
weights (1 unless :data:`WEIGHTS` says otherwise), so every failing test case
costs its share and nothing else: partial credit per case. Hidden tests, when
run, share their part's points with the visible ones.
"""

#: Points of the required parts; they sum to 100.
POINTS = {
    "conv_forward_naive": 12,
    "conv_backward_naive": 14,
    "max_pool_forward_naive": 8,
    "max_pool_backward_naive": 10,
    "spatial_batchnorm_forward": 12,
    "spatial_batchnorm_backward": 12,
    "ThreeLayerConvNet": 32,
}
#: Points of the optional group-norm part, on top of the 100.
BONUS = {
    "spatial_groupnorm_forward": 5,
    "spatial_groupnorm_backward": 5,
}
#: Tests whose name contains one of these carry no points: CIFAR-10 cannot be
#: had on every machine, and its rows have real-data stand-ins that do.
UNSCORED = ("cifar10",)
#: Relative weight of a test within its part, by test function name (default 1).
WEIGHTS = {
    "test_ThreeLayerConvNet_loss_and_gradients": 2,
}


def part_points(part):
    return POINTS.get(part, BONUS.get(part, 0))


def is_scored(test_name):
    return not any(word in test_name for word in UNSCORED)


def weight(test_name):
    return WEIGHTS.get(test_name.split("[")[0], 1)


def share_out(tests):
    """Max score of each test: its part's points split by weight among the part's scored tests.

    Parameters
    ----------
    tests : list of dict
        Each with ``name`` and ``part``.

    Returns
    -------
    list of float
        The max score of each test, in order (0 for unscored ones).
    """
    totals = {}
    for test in tests:
        if test["part"] and is_scored(test["name"]):
            totals[test["part"]] = totals.get(test["part"], 0) + weight(test["name"])
    return [part_points(t["part"]) * weight(t["name"]) / totals[t["part"]]
            if t["part"] and is_scored(t["name"]) else 0.0 for t in tests]
