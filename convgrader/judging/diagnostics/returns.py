"""Hints for what a function returned: the contract's values, but in another order.

A function's contract names its values in order (``(out, cache)``,
``(dx, dw, db)``). The evidence here is only each returned item's kind: an
array of some shape, or something else (a cache is any value). An order is
claimed only when one rearrangement of the returned items fits every slot of
the contract and the order as returned does not (rule 1 of the package).
"""

import itertools
from typing import Optional, Sequence

import numpy as np

from convgrader.messages import hint

#: A returned item as the rule sees it: the shape of an array, or None for anything else.
Shape = Optional[tuple]


def shape_or_none(item) -> Shape:
    """The shape of a returned array (or numpy scalar), None for anything else (a cache, a list).

    Never raises: a tuple of arrays of different shapes (a cache) is not an array.
    """
    if isinstance(item, (np.ndarray, np.generic)):
        return tuple(np.shape(item))
    return None


def _fits(found: Shape, wanted: Shape) -> bool:
    """Whether an item of kind ``found`` may fill a slot that wants ``wanted`` (None: any value)."""
    return wanted is None or found == tuple(wanted)


def returned_order(found: Sequence[Shape], wanted: Sequence[Shape]) -> Optional[tuple]:
    """For each returned position, the contract slot its item fills, when only the order is wrong.

    Parameters
    ----------
    found : sequence of (tuple of int or None)
        Per returned item, its shape, or None when it is not an array.
    wanted : sequence of (tuple of int or None)
        Per slot of the contract, the shape it wants, or None for an opaque value.

    Returns
    -------
    tuple of int or None
        ``slots[j]`` is the slot returned item ``j`` belongs in; None when the
        items fit as returned, or when no order fits them all.
    """
    if len(found) != len(wanted) or all(_fits(f, w) for f, w in zip(found, wanted)):
        return None
    for slots in itertools.permutations(range(len(wanted))):
        if all(_fits(found[item], wanted[slot]) for item, slot in enumerate(slots)):
            return slots
    return None


def explain_order(found: Sequence[Shape], wanted: Sequence[Shape], what: str) -> Optional[str]:
    """A hint when the returned values are the contract's in another order, else None.

    Parameters
    ----------
    found, wanted
        As for :func:`returned_order`.
    what : str
        The contract, e.g. ``"(out, cache)"``.
    """
    slots = returned_order(found, wanted)
    if slots is None:
        return None
    names = [name.strip() for name in what.strip("()").split(",")]
    got = "(" + ", ".join(names[slot] for slot in slots) + ")"
    return hint("return.order", got=got, what=what, example=", ".join(names))
