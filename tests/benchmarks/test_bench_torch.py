"""Naive (the implementation under test), the provided fast layers and PyTorch, side by side.

One pytest-benchmark group per layer, pass and shape: conv forward, conv
backward, max-pool forward and max-pool backward on the seed's shapes (rows 6
and 7 of the notebook, float64 as there) and on the layers of the row-12
network (float32, as the model trains); plus forward + backward groups of that
network's layers without naive, the figures the fast layers are held to.
PyTorch's CPU functions (oneDNN) are the best a user could pick instead; they
are measured only when ``torch`` is importable -- it is never a dependency of
the project (``pip install torch==2.13.0`` for a local CPU build).

Run with ``tox -e bench`` (or ``pytest --benchmark-only tests/benchmarks --impl
reference`` to see the answer key's naive layers). The summary ends with each
group's time relative to PyTorch, as medians from this one run. PyTorch gets as
many threads as the fast layers (``OMP_NUM_THREADS``, else every core); both
share one OpenMP runtime, as they would in a user's process.

What each PyTorch member does, to match the fast layers' work: forward passes
run without autograd; backward passes call ATen's backward kernels directly
(``convolution_backward``, ``max_pool2d_with_indices_backward``), on the
indices of a forward that computed them, as the fast pooling keeps its argmax;
the forward + backward groups use autograd, as a user would.
"""

import numpy as np
import pytest

import fast_ext
from reference import fast_layers
from tests.benchmarks.test_bench_layers import NotWritten, naive_function

# Collected only where PyTorch is installed (tests/benchmarks/conftest.py); named on the
# command line without it, the whole file is one skip.
torch = pytest.importorskip("torch", reason="PyTorch is not installed (pip install torch==2.13.0)")
import torch.nn.functional as torch_functional  # noqa: E402  (after the skip above)

MEMBERS = ["naive", "fast", "torch"]

# name: (x shape, w shape, stride, pad, dtype)
CONV_CASES = {
    "seed": ((100, 3, 31, 31), (25, 3, 3, 3), 2, 1, np.float64),
    "training layer": ((50, 3, 32, 32), (32, 3, 7, 7), 1, 3, np.float32),
}
# name: (x shape, pool size, stride, dtype)
POOL_CASES = {
    "seed": ((100, 3, 32, 32), 2, 2, np.float64),
    "training layer": ((50, 32, 32, 32), 2, 2, np.float32),
}

# Naive code may take seconds per call on the training layer's shapes: a few rounds do.
NAIVE_ROUNDS = 3

_medians = {}  # group -> {member: median seconds}


def _conv_group(kind, case):
    x_shape, w_shape, stride, pad, dtype = CONV_CASES[case]
    return (f"vs torch: conv {kind} {case} (x {'x'.join(map(str, x_shape))},"
            f" w {'x'.join(map(str, w_shape))}, stride {stride}, pad {pad}, {np.dtype(dtype).name})")


def _pool_group(kind, case):
    x_shape, size, stride, dtype = POOL_CASES[case]
    return (f"vs torch: max pool {kind} {case} (x {'x'.join(map(str, x_shape))},"
            f" {size}x{size}, stride {stride}, {np.dtype(dtype).name})")


@pytest.fixture(scope="module", autouse=True)
def report_ratios_to_torch(request):
    """Print every group's median relative to PyTorch's at the end of the run."""
    if not request.config.pluginmanager.has_plugin(_RatioReport.name):
        request.config.pluginmanager.register(_RatioReport(), _RatioReport.name)
    torch.set_num_threads(fast_ext.parallel_info().num_threads)


class _RatioReport:
    name = "bench-ratios-to-torch"

    @staticmethod
    def pytest_terminal_summary(terminalreporter):
        groups = {group: times for group, times in _medians.items() if "torch" in times}
        if not groups:
            return
        terminalreporter.section("time relative to PyTorch (medians of this run)")
        info = fast_ext.parallel_info()
        terminalreporter.write_line(
            f"threads: fast layers {info.num_threads} (OpenMP {'on' if info.openmp else 'off'}),"
            f" torch {torch.get_num_threads()}; torch {torch.__version__}")
        for group, times in groups.items():
            ratios = ", ".join(f"{member} {times[member] / times['torch']:.2f}x"
                               for member in MEMBERS if member in times and member != "torch")
            terminalreporter.write_line(f"{group}: {ratios}"
                                        f"  (torch {times['torch'] * 1e3:.3f} ms)")


def measure(benchmark, member, function, *args, rounds=None):
    """Benchmark ``function(*args)`` and keep its median for the ratio report."""
    if rounds is None:
        benchmark(function, *args)
    else:
        benchmark.pedantic(function, args=args, rounds=rounds, iterations=1, warmup_rounds=0)
    if benchmark.stats is not None:
        _medians.setdefault(benchmark.group, {})[member] = benchmark.stats.stats.median


def _naive(impl, name):
    try:
        return naive_function(impl, name)
    except NotWritten:
        pytest.skip(f"implement {name} first")


def _naive_rounds(case):
    return NAIVE_ROUNDS if case == "training layer" else None


# --------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------

def conv_inputs(case):
    x_shape, w_shape, stride, pad, dtype = CONV_CASES[case]
    rng = np.random.RandomState(231)
    x = rng.randn(*x_shape).astype(dtype)
    w = (rng.randn(*w_shape) / np.sqrt(np.prod(w_shape[1:]))).astype(dtype)
    b = rng.randn(w_shape[0]).astype(dtype)
    out, _ = fast_layers.conv_forward_fast(x, w, b, {"stride": stride, "pad": pad})
    dout = rng.randn(*out.shape).astype(dtype)
    return x, w, b, {"stride": stride, "pad": pad}, dout


def pool_inputs(case):
    x_shape, size, stride, dtype = POOL_CASES[case]
    rng = np.random.RandomState(231)
    x = rng.randn(*x_shape).astype(dtype)
    param = {"pool_height": size, "pool_width": size, "stride": stride}
    out, _ = fast_layers.max_pool_forward_fast(x, param)
    return x, param, rng.randn(*out.shape).astype(dtype)


CASES = pytest.mark.parametrize("case", list(CONV_CASES))


# --------------------------------------------------------------------------------------
# Convolution
# --------------------------------------------------------------------------------------

@CASES
@pytest.mark.parametrize("member", MEMBERS)
def test_conv_forward(benchmark, impl, member, case):
    benchmark.group = _conv_group("forward", case)
    x, w, b, conv_param, _ = conv_inputs(case)
    if member == "naive":
        measure(benchmark, member, _naive(impl, "conv_forward_naive"), x, w, b, conv_param,
                rounds=_naive_rounds(case))
    elif member == "fast":
        measure(benchmark, member, fast_layers.conv_forward_fast, x, w, b, conv_param)
    else:
        tx, tw, tb = map(torch.from_numpy, (x, w, b))

        def forward():
            with torch.no_grad():
                return torch_functional.conv2d(tx, tw, tb, stride=conv_param["stride"],
                                               padding=conv_param["pad"])
        measure(benchmark, member, forward)


@CASES
@pytest.mark.parametrize("member", MEMBERS)
def test_conv_backward(benchmark, impl, member, case):
    benchmark.group = _conv_group("backward", case)
    x, w, b, conv_param, dout = conv_inputs(case)
    if member == "naive":
        _, cache = _naive(impl, "conv_forward_naive")(x, w, b, conv_param)
        backward = impl.get("conv_backward_naive")
        try:
            backward(dout, cache)
        except NotImplementedError:
            pytest.skip("implement conv_backward_naive first")
        measure(benchmark, member, backward, dout, cache, rounds=_naive_rounds(case))
    elif member == "fast":
        _, cache = fast_layers.conv_forward_fast(x, w, b, conv_param)
        measure(benchmark, member, fast_layers.conv_backward_fast, dout, cache)
    else:
        tx, tw, tdout = map(torch.from_numpy, (x, w, dout))
        stride, pad = [conv_param["stride"]] * 2, [conv_param["pad"]] * 2

        def backward():
            return torch.ops.aten.convolution_backward(
                tdout, tx, tw, [w.shape[0]], stride, pad, [1, 1], False, [0, 0], 1,
                [True, True, True])
        measure(benchmark, member, backward)


@pytest.mark.parametrize("member", ["fast", "torch"])
def test_conv_forward_backward_training_layer(benchmark, member):
    benchmark.group = _conv_group("forward + backward", "training layer")
    x, w, b, conv_param, dout = conv_inputs("training layer")
    if member == "fast":
        def step():
            _, cache = fast_layers.conv_forward_fast(x, w, b, conv_param)
            return fast_layers.conv_backward_fast(dout, cache)
    else:
        tx, tw, tb = (torch.from_numpy(array).requires_grad_() for array in (x, w, b))
        tdout = torch.from_numpy(dout)

        def step():
            tx.grad = tw.grad = tb.grad = None
            torch_functional.conv2d(tx, tw, tb, stride=conv_param["stride"],
                                    padding=conv_param["pad"]).backward(tdout)
    measure(benchmark, member, step)


# --------------------------------------------------------------------------------------
# Max pooling
# --------------------------------------------------------------------------------------

def _torch_pool_forward(tx, param):
    size, stride = [param["pool_height"], param["pool_width"]], [param["stride"]] * 2
    return torch.ops.aten.max_pool2d_with_indices(tx, size, stride)


@CASES
@pytest.mark.parametrize("member", MEMBERS)
def test_max_pool_forward(benchmark, impl, member, case):
    benchmark.group = _pool_group("forward", case)
    x, param, _ = pool_inputs(case)
    if member == "naive":
        measure(benchmark, member, _naive(impl, "max_pool_forward_naive"), x, param,
                rounds=_naive_rounds(case))
    elif member == "fast":
        measure(benchmark, member, fast_layers.max_pool_forward_fast, x, param)
    else:
        tx = torch.from_numpy(x)

        def forward():
            with torch.no_grad():
                return _torch_pool_forward(tx, param)
        measure(benchmark, member, forward)


@CASES
@pytest.mark.parametrize("member", MEMBERS)
def test_max_pool_backward(benchmark, impl, member, case):
    benchmark.group = _pool_group("backward", case)
    x, param, dout = pool_inputs(case)
    if member == "naive":
        _, cache = _naive(impl, "max_pool_forward_naive")(x, param)
        backward = impl.get("max_pool_backward_naive")
        try:
            backward(dout, cache)
        except NotImplementedError:
            pytest.skip("implement max_pool_backward_naive first")
        measure(benchmark, member, backward, dout, cache, rounds=_naive_rounds(case))
    elif member == "fast":
        _, cache = fast_layers.max_pool_forward_fast(x, param)
        measure(benchmark, member, fast_layers.max_pool_backward_fast, dout, cache)
    else:
        tx, tdout = torch.from_numpy(x), torch.from_numpy(dout)
        _, indices = _torch_pool_forward(tx, param)
        size, stride = [param["pool_height"], param["pool_width"]], [param["stride"]] * 2

        def backward():
            return torch.ops.aten.max_pool2d_with_indices_backward(
                tdout, tx, size, stride, [0, 0], [1, 1], False, indices)
        measure(benchmark, member, backward)


@pytest.mark.parametrize("member", ["fast", "torch"])
def test_max_pool_forward_backward_training_layer(benchmark, member):
    benchmark.group = _pool_group("forward + backward", "training layer")
    x, param, dout = pool_inputs("training layer")
    if member == "fast":
        def step():
            _, cache = fast_layers.max_pool_forward_fast(x, param)
            return fast_layers.max_pool_backward_fast(dout, cache)
    else:
        tx, tdout = torch.from_numpy(x).requires_grad_(), torch.from_numpy(dout)

        def step():
            tx.grad = None
            torch_functional.max_pool2d(tx, param["pool_height"], param["stride"]).backward(tdout)
    measure(benchmark, member, step)
