"""What a test tells the detectors about the call it checks, and how they judge "equal"."""

import copy
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from convgrader.assignment import AREAS


@dataclass(frozen=True)
class Window:
    """How a convolution or pooling layer slides its window over (H, W).

    Attributes
    ----------
    height, width : int
        The window (filter or pool) size, HH × WW.
    stride, pad : int
        As in ``conv_param`` / ``pool_param`` (pooling has pad 0).
    pooling : bool
        True for max pooling, whose formula has no padding.
    """

    height: int
    width: int
    stride: int
    pad: int = 0
    pooling: bool = False

    def output_size(self, h, w, *, stride=None, pad=None, height=None, width=None, plus=1):
        """(H', W') = plus + (H + 2·pad − HH) // stride, with any term replaced."""
        stride = stride or self.stride
        pad = self.pad if pad is None else pad
        height, width = height or self.height, width or self.width
        return (plus + (h + 2 * pad - height) // stride, plus + (w + 2 * pad - width) // stride)

    @property
    def formula(self):
        if self.pooling:
            return "H' = 1 + (H - pool_height) / stride, W' = 1 + (W - pool_width) / stride"
        return "H' = 1 + (H + 2·pad - HH) / stride, W' = 1 + (W + 2·pad - WW) / stride"


@dataclass
class Context:
    """What the detectors may know about the call whose result is compared.

    Attributes
    ----------
    area : str
        The fixture area (``"conv"``, ``"pool"``, ...), or ``""``.
    inputs : dict
        The forward's arguments by name, as the test passed them.
    arguments : tuple of str
        Their order in the forward's signature.
    gradient_of : dict
        Gradient name -> input name (``"dx" -> "x"``).
    window : Window or None
        For convolution and pooling.
    out, dout : ndarray or None
        The expected forward output; the upstream gradient of a backward test.
    forward, backward : callable or None
        The submission's own functions, only ever called.
    sizes : dict
        Named sizes (``N``, ``C``, ``H·W``, ...) a constant factor may be, or be one over.
    factors : dict
        Other named values a constant factor may be exactly.
    """

    area: str = ""
    inputs: dict = field(default_factory=dict)
    arguments: tuple = ()
    gradient_of: dict = field(default_factory=dict)
    window: Optional[Window] = None
    out: Optional[np.ndarray] = None
    dout: Optional[np.ndarray] = None
    forward: Optional[Callable] = None
    backward: Optional[Callable] = None
    sizes: dict = field(default_factory=dict)
    factors: dict = field(default_factory=dict)

    @classmethod
    def of(cls, case, forward=None, backward=None, **given):
        """The context of a fixture case; ``given`` overrides inputs (e.g. a prepared ``bn_param``)."""
        area = AREAS.get(case.area)
        arguments, gradient_of = (area.arguments, area.gradients) if area else ((), {})
        inputs = {}
        for name in arguments:
            if name in given:
                inputs[name] = given[name]
            else:
                inputs[name] = case[name] if name in case else case.param(name)
        window = None
        if case.area == "conv":
            conv_param, w = inputs["conv_param"], inputs["w"]
            window = Window(w.shape[2], w.shape[3], conv_param["stride"], conv_param["pad"])
        elif case.area == "pool":
            pool = inputs["pool_param"]
            window = Window(pool["pool_height"], pool["pool_width"], pool["stride"], pooling=True)
        sizes = {}
        if "x" in inputs and np.ndim(inputs["x"]) == 4:
            n, c, h, w = np.shape(inputs["x"])
            sizes = {"N": n, "H·W": h * w, "N·H·W": n * h * w, "C": c}
            if case.area == "spatial_groupnorm" and inputs["G"]:
                sizes["(C/G)·H·W"] = c // inputs["G"] * h * w
        factors = {}
        if case.area == "spatial_batchnorm":
            momentum = inputs["bn_param"].get("momentum", 0.9)
            exchanged = "momentum and 1 - momentum exchanged in the running average"
            factors = {f"(1 - momentum)/momentum: {exchanged}": (1 - momentum) / momentum,
                       f"momentum/(1 - momentum): {exchanged}": momentum / (1 - momentum)}
        return cls(area=case.area, inputs=inputs, arguments=arguments, gradient_of=gradient_of,
                   window=window, out=case["out"] if "out" in case else None,
                   dout=case["dout"] if "dout" in case else None,
                   forward=forward, backward=backward, sizes=sizes, factors=factors)

    def call_forward(self, param_overrides=None, **input_overrides):
        """Run the submission's forward on fresh copies of the inputs, some replaced.

        ``param_overrides`` changes keys of the ``*_param`` dict (e.g. ``{"stride": 1}``).
        """
        inputs = {name: copy.deepcopy(value) for name, value in self.inputs.items()}
        inputs.update(input_overrides)
        for name in self.arguments:
            if name.endswith("_param") and param_overrides:
                inputs[name] = {**inputs[name], **param_overrides}
        return self.forward(*(inputs[name] for name in self.arguments))


def close(actual, expected, tolerance):
    """Whether ``actual`` matches ``expected`` within ``tolerance`` of its scale (as assert_close judges)."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape or not np.all(np.isfinite(actual)):
        return False
    scale = max(float(np.max(np.abs(expected), initial=0.0)), 1e-12)
    return float(np.max(np.abs(actual - expected), initial=0.0)) <= tolerance * scale
