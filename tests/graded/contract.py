"""The documented contract of the graded layers, as Hypothesis strategies.

Each strategy draws one case anywhere in the contract that the skeleton's
docstrings state: N, C, H, W, F, kernel and pool sizes on which the windows fit
exactly, strides 1-3, pads 0-3, non-square shapes, N = 1, float32 and float64,
integer-valued inputs (with tied maxima), ReLU outputs, eps, momentum, train
and test mode, G from 1 to C. Shapes and parameters are drawn by Hypothesis, so
a failure shrinks to the smallest shapes and parameters that still fail; the
values are drawn by numpy from a seed that Hypothesis also draws.

A drawn case is a :class:`convgrader.judging.fixtures.Case`, the object the
fixture tests read, named after what it exercises.

The visible property tests (``tests/graded/test_properties.py``) and the hidden
ones (``tests/hidden/``) share these strategies; their settings differ only in
where the examples come from: fixed for the visible tests, from
``--hidden-seed`` for the hidden ones (see ``tests/hidden/conftest.py``).
"""


import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from convgrader.judging import diagnostics
from convgrader.judging.compare import fail, said_of, said_raised
from convgrader.judging.fixtures import Case
from convgrader.messages import say, together
from convgrader.running import sandbox
from convgrader.running.implementation import ImplementationUnavailable

#: Examples per property test. Each example is one call of each function the
#: test grades, through the same sandbox worker as every other test; these
#: counts keep a full grading with --hidden within 1.5 times its time before
#: the property tests (measured: see the report of issue 12).
VISIBLE_EXAMPLES = 6
HIDDEN_EXAMPLES = 8

#: No deadline: time is bounded by the sandbox's per-call timeout, not by
#: Hypothesis (whose deadline would fail a slow but correct loop-style layer).
#: No database: every run, and every submission, sees the same examples. No
#: explain phase: it reruns the submission only to annotate the report. One
#: failure per test, the simplest, rather than a group of "distinct" ones.
COMMON = dict(deadline=None, database=None, print_blob=False, report_multiple_bugs=False,
              phases=(Phase.explicit, Phase.generate, Phase.shrink),
              suppress_health_check=(HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.large_base_example, HealthCheck.differing_executors))
#: Visible tests: derandomized, the same examples on every machine and run.
VISIBLE = settings(max_examples=VISIBLE_EXAMPLES, derandomize=True, **COMMON)
#: Hidden tests: seeded from --hidden-seed by tests/hidden/conftest.py.
HIDDEN = settings(max_examples=HIDDEN_EXAMPLES, derandomize=False, **COMMON)

#: Arrays of at most this many values are printed in full in a failure message.
SMALL = 12

DTYPES = st.sampled_from((np.dtype(np.float64), np.dtype(np.float32)))
SEEDS = st.integers(0, 2 ** 32 - 1)
EPS_CHOICES = (None, 1e-4, 1e-3, 1e-2)  # None: the default, 1e-5
MOMENTUM_CHOICES = (None, 0.5, 0.8, 0.95)  # None: the default, 0.9


def fitting_size(positions, window, stride, pad=0):
    """The size along one axis on which ``positions`` windows fit exactly."""
    return (positions - 1) * stride + window - 2 * pad


def fewest_positions(window, stride, pad=0):
    """The fewest window positions that leave an input of at least one pixel."""
    positions = 1
    while fitting_size(positions, window, stride, pad) < 1:
        positions += 1
    return positions


def values(rng, kind, shape):
    """Input values: ``normal`` (continuous, no ties), ``integer`` (-3..3, many ties) or
    ``relu`` (max(randn - 1, 0): most windows tie at zero)."""
    if kind == "integer":
        return rng.randint(-3, 4, size=shape).astype(np.float64)
    if kind == "relu":
        return np.maximum(rng.randn(*shape) - 1, 0)
    return rng.randn(*shape)


def make_case(area, summary, arrays, params, dtype):
    """A :class:`Case` whose floating arrays are in ``dtype`` and whose name is ``summary``."""
    arrays = {key: (value.astype(dtype) if value.dtype.kind == "f" else value) for key, value in arrays.items()}
    return Case(area, f"{summary}, {dtype.name}", arrays, params)


def in_float64(case, *names):
    """The case's arrays ``names`` in float64, in which every oracle computes expected values."""
    return [case[name].astype(np.float64) for name in names]


def dims(shape):
    return "(" + ", ".join(str(int(n)) for n in shape) + ")"


@st.composite
def conv_cases(draw):
    """x (N, C, H, W), w (F, C, HH, WW), b (F,), dout; stride 1-3, pad 0-3, windows that fit."""
    stride, pad = draw(st.integers(1, 3)), draw(st.integers(0, 3))
    n, c, f = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    rows = draw(st.integers(0, 2)) + fewest_positions(kh, stride, pad)
    cols = draw(st.integers(0, 2)) + fewest_positions(kw, stride, pad)
    h, w = fitting_size(rows, kh, stride, pad), fitting_size(cols, kw, stride, pad)
    kind, dtype = draw(st.sampled_from(("normal", "integer"))), draw(DTYPES)
    rng = np.random.RandomState(draw(SEEDS))
    arrays = dict(x=values(rng, kind, (n, c, h, w)), w=values(rng, kind, (f, c, kh, kw)),
                  b=values(rng, kind, (f,)), dout=rng.randn(n, f, rows, cols))
    summary = f"x {dims((n, c, h, w))}, w {dims((f, c, kh, kw))}, stride {stride}, pad {pad}, {say('values_' + kind)}"
    return make_case("conv", summary, arrays, {"conv_param": {"stride": stride, "pad": pad}}, dtype)


@st.composite
def pool_cases(draw):
    """x (N, C, H, W) and dout; windows 1-4 by 1-4 (never 1x1), stride 1-3 (overlaps, gaps), ties."""
    ph, pw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    ph = max(ph, 2) if pw == 1 else ph
    stride = draw(st.integers(1, 3))
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    rows, cols = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    h, w = fitting_size(rows, ph, stride), fitting_size(cols, pw, stride)
    kind, dtype = draw(st.sampled_from(("integer", "normal", "relu"))), draw(DTYPES)
    rng = np.random.RandomState(draw(SEEDS))
    arrays = dict(x=values(rng, kind, (n, c, h, w)), dout=rng.randn(n, c, rows, cols))
    pool_param = {"pool_height": ph, "pool_width": pw, "stride": stride}
    summary = f"x {dims((n, c, h, w))}, pool {ph}x{pw}, stride {stride}, {say('values_' + kind)}"
    return make_case("pool", summary, arrays, {"pool_param": pool_param}, dtype)


@st.composite
def batchnorm_cases(draw, modes=("train", "test"), running_var_below_eps=None):
    """x (N, C, H, W) with at least 4 values per channel, gamma and beta (C,), a bn_param.

    ``running_var_below_eps`` (test mode): running variances of 0.1 to 5 times
    eps, where dividing by sqrt(var) + eps instead of sqrt(var + eps) is off by
    4% or more; None lets the strategy choose.
    """
    mode = draw(st.sampled_from(modes))
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    n = max(n, -(-4 // (h * w)))
    eps, momentum = draw(st.sampled_from(EPS_CHOICES)), draw(st.sampled_from(MOMENTUM_CHOICES))
    given_running = mode == "test" or draw(st.booleans())
    if running_var_below_eps is None:
        running_var_below_eps = mode == "test" and draw(st.booleans())
    scale, dtype = draw(st.sampled_from((0.1, 0.5, 2.0, 5.0))), draw(DTYPES)
    rng = np.random.RandomState(draw(SEEDS))
    shift = scale * rng.uniform(-8, 8, size=c)
    arrays = dict(gamma=rng.randn(c), beta=rng.randn(c), dout=rng.randn(n, c, h, w))
    if running_var_below_eps:
        # Data on the running statistics' scale, so test mode sees values of order 1, and the mean at
        # most 8 spreads away, so float32 arithmetic keeps its usual accuracy.
        arrays["running_var"] = (eps or 1e-5) * rng.choice([0.1, 0.5, 2.0, 5.0], size=c)
        spread = np.sqrt(arrays["running_var"])
        arrays["running_mean"] = spread * rng.uniform(-8, 8, size=c)
        arrays["x"] = (arrays["running_mean"].reshape(1, c, 1, 1)
                       + spread.reshape(1, c, 1, 1) * rng.randn(n, c, h, w))
    else:
        arrays["x"] = scale * rng.randn(n, c, h, w) + shift.reshape(1, c, 1, 1)
        if given_running:
            arrays["running_mean"] = shift + scale * rng.randn(c)
            arrays["running_var"] = scale ** 2 * rng.uniform(0.5, 2.0, size=c)
    bn_param = {"mode": mode}
    bn_param.update({key: value for key, value in (("eps", eps), ("momentum", momentum)) if value is not None})
    extras = "".join(f", {key} {value:g}" for key, value in bn_param.items() if key != "mode")
    running = ", " + say("running_below_eps" if running_var_below_eps else "running_given") if given_running else ""
    summary = f"x {dims((n, c, h, w))}, mode {mode}{running}{extras}"
    return make_case("spatial_batchnorm", summary, arrays, {"bn_param": bn_param}, dtype)


@st.composite
def groupnorm_cases(draw):
    """x (N, C, H, W) with C = G * (C // G), G from 1 to C, at least 4 values per group,
    gamma and beta (1, C, 1, 1), a gn_param."""
    groups, per_group = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    c = groups * per_group
    n, h, w = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    # At least 4 values per group: normalizing 2 values gives +-1 whatever they are, so dx is nearly
    # all cancellation (of order eps / var) and float32 code could not match it to 1e-4.
    h = max(h, -(-4 // (per_group * w)))
    eps, dtype = draw(st.sampled_from(EPS_CHOICES)), draw(DTYPES)
    scale = draw(st.sampled_from((0.1, 0.5, 2.0, 5.0)))
    rng = np.random.RandomState(draw(SEEDS))
    shift = scale * rng.uniform(-8, 8, size=(n, c, 1, 1))
    arrays = dict(x=scale * rng.randn(n, c, h, w) + shift, gamma=rng.randn(1, c, 1, 1),
                  beta=rng.randn(1, c, 1, 1), dout=rng.randn(n, c, h, w))
    gn_param = {} if eps is None else {"eps": eps}
    summary = f"x {dims((n, c, h, w))}, G {groups}" + (f", eps {eps:g}" if gn_param else "")
    return make_case("spatial_groupnorm", summary, arrays, {"G": groups, "gn_param": gn_param}, dtype)


def describe(case, names):
    """The case in a few words, with the arrays ``names`` printed when they are small."""
    lines = [case.name.replace(f"{case.area}/", "")]
    for name in names:
        if name in case and case[name].size <= SMALL:
            text = np.array2string(case[name], precision=4, separator=", ", max_line_width=10_000)
            lines.append(f"    {name} = {text}".replace("\n", ""))
    return "\n".join(lines)


#: (implementation, test) -> the message of the example that crashed or hung the sandbox.
STOPPED = {}


def _failure_of(check, impl, case, shown):
    """Run one example; ``(message, figure)`` of its failure (the message starts with the input), or Nones.

    A crash or a timeout of the sandbox is recorded in :data:`STOPPED`, so the
    test's further examples fail at once instead of restarting the worker.
    """
    told = say("smallest_input", input=describe(case, shown))
    try:
        check(impl, case)
    except pytest.fail.Exception as failure:
        return together(told, said_of(failure)), getattr(failure, "figure", None)
    except (NotImplementedError, ImplementationUnavailable):
        raise  # the same for every input: the plugin says it once, without an input
    except sandbox.SubmissionRaised as error:
        explained = diagnostics.explain_exception(error.type_name, error.message)
        return together(told, said_raised(error.type_name, error.message, [error.traceback_text],
                                          explained)), None
    except sandbox.SubmissionFailure as error:  # crashed, hung, too slow: not worth shrinking
        first = error.args[0] if error.args else str(error)
        STOPPED[(id(impl), check.__name__)] = together(say("failing_input", input=describe(case, shown)), first)
        return STOPPED[(id(impl), check.__name__)], None
    except Exception as error:  # raised in this process by the submission (pytest without --isolate)
        explained = diagnostics.explain_exception(type(error).__name__, str(error))
        return together(told, said_raised(type(error).__name__, str(error), (), explained)), None
    return None, None


def property_test(strategy, profile, shown=("x",)):
    """Make ``check(impl, case)`` a Hypothesis test over ``strategy``, run with ``profile``.

    A failure's message starts with the smallest failing input Hypothesis
    shrank to (the case's shapes and parameters, and the arrays ``shown`` when
    they are small), then says what went wrong, as every other test does.
    A crash or a timeout of the sandbox is not shrunk: every restart of the
    worker costs a second or more, so the first input that caused one is
    reported and the test's other examples fail at once.
    """
    def decorate(check):
        def test(impl, case):
            # Every failure is raised on the one line below: Hypothesis tells failures apart by where
            # they are raised, and an example that fails at once after a crash is the same failure.
            stopped = STOPPED.get((id(impl), check.__name__))
            message, figure = (stopped, None) if stopped else _failure_of(check, impl, case, shown)
            if message:
                fail(message, figure)
        test.__name__, test.__qualname__, test.__doc__ = check.__name__, check.__qualname__, check.__doc__
        test.__module__ = check.__module__  # where the test lives (a hidden twin names it by its module)
        return profile(given(case=strategy)(test))
    return decorate


@st.composite
def model_cases(draw):
    """ThreeLayerConvNet at fixed parameters: (C, H, W) with H and W even, filter sizes 1, 3, 5."""
    batch, channels = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    height, width = 2 * draw(st.integers(1, 4)), 2 * draw(st.integers(1, 4))
    filters, filter_size = draw(st.integers(1, 4)), draw(st.sampled_from((1, 3, 5)))
    hidden, classes = draw(st.integers(2, 8)), draw(st.integers(2, 6))
    reg, dtype = draw(st.sampled_from((0.0, 0.05, 0.3, 1.0))), draw(DTYPES)
    weight_scale = draw(st.sampled_from((0.05, 0.2, 0.5)))
    rng = np.random.RandomState(draw(SEEDS))
    shapes = dict(W1=(filters, channels, filter_size, filter_size), b1=(filters,),
                  W2=(filters * (height // 2) * (width // 2), hidden), b2=(hidden,),
                  W3=(hidden, classes), b3=(classes,))
    arrays = {name: weight_scale * rng.randn(*shape) for name, shape in shapes.items()}
    arrays["X"] = rng.randn(batch, channels, height, width)
    arrays["y"] = rng.randint(classes, size=batch)
    kwargs = dict(input_dim=(channels, height, width), num_filters=filters, filter_size=filter_size,
                  hidden_dim=hidden, num_classes=classes, reg=reg)
    summary = (f"X {dims(arrays['X'].shape)}, num_filters {filters}, filter_size {filter_size}, hidden_dim {hidden}, "
               f"num_classes {classes}, reg {reg:g}")
    return make_case("model", summary, arrays, {"model_kwargs": kwargs, "dtype": dtype.name}, dtype)
