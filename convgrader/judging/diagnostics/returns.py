"""Hints for what a function returned: the right values in another order, or too many or too few."""

from convgrader.messages import hint


def explain_order(shapes, wanted, what):
    """A hint when returned values have the expected shapes in another order, else None.

    Parameters
    ----------
    shapes, wanted : list of tuple
        The shapes returned and the shapes expected, position by position.
    """
    if sorted(shapes) == sorted(wanted) and shapes != wanted:
        return hint("return.order", got=", ".join(map(str, shapes)), what=what,
                    wanted=", ".join(map(str, wanted)))
    return None
