"""The assignment, described once: every graded part and every family of fixture cases.

Everything else in the harness reads the assignment from here: which names an
implementation must define and in which file, which forward a backward takes
its cache from, the points of each part, the tiny input that tells a hung
function from a slow one, the argument order the diagnostics label inputs by,
and the folders of frozen cases. Adding a part is one :class:`Part` entry (and
an :class:`Area` when it brings a new kind of case), one test module and its
fixtures: see ``docs/adding-a-part.md``.

Tests declare the part they grade with ``@pytest.mark.grades("<part>")``; a
test's id still contains the part's name, so ``pytest -k conv_backward``
selects exactly the tests of ``conv_backward_naive``.
"""

from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np


@dataclass(frozen=True)
class Area:
    """A family of fixture cases, shared by a forward and its backward.

    Attributes
    ----------
    name : str
        The folder of its cases, ``fixtures/data/<name>/``.
    arguments : tuple of str
        The forward's arguments, in order.
    gradients : dict
        Each gradient the backward returns -> the input it belongs to (``"dx" -> "x"``).
    tiny_inputs : callable or None
        ``tiny_inputs()`` -> the forward's arguments on a tiny input, for the probe
        that tells a hung function from a slow one.
    """

    name: str
    arguments: tuple = ()
    gradients: dict = field(default_factory=dict)
    tiny_inputs: Optional[Callable] = None


@dataclass(frozen=True)
class Part:
    """One graded function or class.

    Attributes
    ----------
    name : str
        The function's (or class's) name; implementations must define it.
    module : str
        The module of an implementation that defines it, relative to its package.
    area : str
        The :class:`Area` of its fixture cases.
    returns : tuple of str
        What a call returns, in order (a class: empty).
    forward : str or None
        For a backward: the forward whose cache it takes.
    points : float
        Its share of the grade.
    optional : bool
        A bonus part (the seed marks it "факультативно"): its points come on top of the 100.
    """

    name: str
    module: str
    area: str
    returns: tuple = ()
    forward: Optional[str] = None
    points: float = 0
    optional: bool = False

    @property
    def file(self):
        """The file of an implementation that defines it (``layers.py``, ``classifiers/cnn.py``)."""
        return file_of(self.module)

    @property
    def is_class(self):
        return self.name[:1].isupper()

    @property
    def signature(self):
        """Its arguments, in order: the area's for a forward, ``(dout, cache)`` for a backward."""
        return ("dout", "cache") if self.forward else AREAS[self.area].arguments


def file_of(module):
    """The file of a module of an implementation, relative to its folder (``classifiers/cnn.py``)."""
    return module.replace(".", "/") + ".py"


def _tiny_x():
    return np.random.RandomState(0).randn(1, 2, 4, 4)


AREAS = {area.name: area for area in (
    Area("conv", ("x", "w", "b", "conv_param"), {"dx": "x", "dw": "w", "db": "b"},
         lambda: (_tiny_x(), np.random.RandomState(1).randn(2, 2, 3, 3), np.zeros(2), {"stride": 1, "pad": 1})),
    Area("pool", ("x", "pool_param"), {"dx": "x"},
         lambda: (_tiny_x(), {"pool_height": 2, "pool_width": 2, "stride": 2})),
    Area("spatial_batchnorm", ("x", "gamma", "beta", "bn_param"), {"dx": "x", "dgamma": "gamma", "dbeta": "beta"},
         lambda: (_tiny_x(), np.ones(2), np.zeros(2), {"mode": "train"})),
    Area("spatial_groupnorm", ("x", "gamma", "beta", "G", "gn_param"),
         {"dx": "x", "dgamma": "gamma", "dbeta": "beta"},
         lambda: (_tiny_x(), np.ones((1, 2, 1, 1)), np.zeros((1, 2, 1, 1)), 1, {})),
    Area("model"),
)}

#: The graded parts, in the order the notebook introduces them. Required parts sum to 100.
PARTS_TABLE = (
    Part("conv_forward_naive", "layers", "conv", ("out", "cache"), points=12),
    Part("conv_backward_naive", "layers", "conv", ("dx", "dw", "db"), forward="conv_forward_naive", points=14),
    Part("max_pool_forward_naive", "layers", "pool", ("out", "cache"), points=8),
    Part("max_pool_backward_naive", "layers", "pool", ("dx",), forward="max_pool_forward_naive", points=10),
    Part("spatial_batchnorm_forward", "layers", "spatial_batchnorm", ("out", "cache"), points=12),
    Part("spatial_batchnorm_backward", "layers", "spatial_batchnorm", ("dx", "dgamma", "dbeta"),
         forward="spatial_batchnorm_forward", points=12),
    Part("spatial_groupnorm_forward", "layers", "spatial_groupnorm", ("out", "cache"), points=5, optional=True),
    Part("spatial_groupnorm_backward", "layers", "spatial_groupnorm", ("dx", "dgamma", "dbeta"),
         forward="spatial_groupnorm_forward", points=5, optional=True),
    Part("ThreeLayerConvNet", "classifiers.cnn", "model", points=32),
)

BY_NAME = {part.name: part for part in PARTS_TABLE}
PARTS = tuple(BY_NAME)
LAYER_FUNCTIONS = tuple(part.name for part in PARTS_TABLE if not part.is_class)
MODEL_CLASS = next(part.name for part in PARTS_TABLE if part.is_class)
OPTIONAL_PARTS = tuple(part.name for part in PARTS_TABLE if part.optional)
#: Forwards whose cache a backward takes: the sandbox keeps those caches on its side.
FORWARDS = tuple(part.forward for part in PARTS_TABLE if part.forward)
#: The files an implementation consists of.
FILES = tuple(dict.fromkeys(part.file for part in PARTS_TABLE))
#: The marker a graded test declares its part with.
MARKER = "grades"


def part(name):
    """The :class:`Part` called ``name``."""
    return BY_NAME[name]


def part_of(item):
    """The part a collected test grades (its ``grades`` marker), or None for a test that grades nothing."""
    marker = item.get_closest_marker(MARKER)
    return marker.args[0] if marker else None
