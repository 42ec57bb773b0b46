"""The graded parts of the assignment, in the order the notebook introduces them.

A part is named after the function (or class) it grades, so a test belongs to
the part whose name occurs in the test's name; that is also what makes
``pytest -k conv_backward`` select exactly the tests of ``conv_backward_naive``.
"""

LAYER_FUNCTIONS = (
    "conv_forward_naive",
    "conv_backward_naive",
    "max_pool_forward_naive",
    "max_pool_backward_naive",
    "spatial_batchnorm_forward",
    "spatial_batchnorm_backward",
    "spatial_groupnorm_forward",
    "spatial_groupnorm_backward",
)
MODEL_CLASS = "ThreeLayerConvNet"
PARTS = LAYER_FUNCTIONS + (MODEL_CLASS,)

# Parts the seed marks as optional ("факультативно"): graded as bonus.
OPTIONAL_PARTS = ("spatial_groupnorm_forward", "spatial_groupnorm_backward")


def part_of(test_name):
    """Return the part a test grades, or None for a test that grades nothing.

    Parameters
    ----------
    test_name : str
        The test function's name (without parametrization), e.g.
        ``"test_conv_backward_naive_matches_fixture"``.
    """
    lowered = test_name.lower()
    matches = [part for part in PARTS if part.lower() in lowered]
    if len(matches) > 1:
        raise ValueError(f"test {test_name!r} names several parts: {matches}")
    return matches[0] if matches else None
