"""How close the fast convolution comes to this machine's limit, pass by pass.

``tox -e bench`` names this file (``pytest --benchmark-only`` alone leaves it out,
like ``test_bench_batch.py``). In one run it measures

- the peak: a large matrix product (``PEAK_SIZE`` squared, numpy's BLAS held at
  as many threads as the fast layers use), in float32 and float64;
- each pass of the fast convolution on the row-12 network's layer (float32) and
  on the seed's shapes (float64): forward, backward with and without dx, and
  forward + backward;
- the same passes in PyTorch when it is installed (never a dependency),

and ends with a table: GFLOP per pass, median time, the fraction of the peak
measured in this run, and the ratio to PyTorch. A pass's work is counted as
2 N F H' W' C HH WW floating-point operations for each product (forward, dW,
dX), bias and padding not counted.
"""

import importlib.util

import numpy as np
import pytest

import fast_ext
from reference import fast_layers

#: Side of the square matrices of the peak measurement: large enough for BLAS's
#: best rate (2 x 2048**3 operations, about 0.1 s on one core).
PEAK_SIZE = 2048

# name: (x shape, w shape, stride, pad, dtype)
SHAPES = {
    "training layer": ((50, 3, 32, 32), (32, 3, 7, 7), 1, 3, np.float32),
    "seed": ((100, 3, 31, 31), (25, 3, 3, 3), 2, 1, np.float64),
}
# pass: (products counted, PyTorch's output mask for convolution_backward or None)
PASSES = {
    "forward": (1, None),
    "backward": (2, [True, True, True]),
    "backward without dx": (1, [False, True, True]),
    "forward + backward": (3, None),
}

HAVE_TORCH = importlib.util.find_spec("torch") is not None

_peaks = {}    # dtype name -> GFLOP/s
_medians = {}  # (shape, pass, member) -> seconds


def _threads():
    return fast_ext.parallel_info().num_threads


def conv_flops(shape):
    """Floating-point operations of one product of the convolution at ``shape``."""
    x_shape, w_shape, stride, pad, _ = SHAPES[shape]
    N, C, H, W = x_shape
    F, _, HH, WW = w_shape
    out_h = fast_ext.output_size(H, HH, stride, pad)
    out_w = fast_ext.output_size(W, WW, stride, pad)
    return 2.0 * N * F * out_h * out_w * C * HH * WW


@pytest.fixture(scope="module", autouse=True)
def report_fraction_of_peak(request):
    """Print the table at the end of the run."""
    if not request.config.pluginmanager.has_plugin(_PeakReport.name):
        request.config.pluginmanager.register(_PeakReport(), _PeakReport.name)


class _PeakReport:
    name = "bench-fraction-of-peak"

    @staticmethod
    def pytest_terminal_summary(terminalreporter):
        if not _peaks or not _medians:
            return
        write = terminalreporter.write_line
        terminalreporter.section("fast convolution against this machine's peak (medians of this run)")
        write(f"peak: {PEAK_SIZE}x{PEAK_SIZE} matrix product with {_threads()} threads: "
              + ", ".join(f"{name} {rate:.0f} GFLOP/s" for name, rate in _peaks.items()))
        write(f"{'shape, pass':<40}{'GFLOP':>7}{'fast':>10}{'% peak':>8}{'torch':>10}{'fast/torch':>11}")
        for shape, (*_, dtype) in SHAPES.items():
            peak = _peaks.get(np.dtype(dtype).name)
            for pass_name, (products, _) in PASSES.items():
                fast = _medians.get((shape, pass_name, "fast"))
                if fast is None or peak is None:
                    continue
                gflop = products * conv_flops(shape) / 1e9
                torch_time = _medians.get((shape, pass_name, "torch"))
                torch_text = f"{torch_time * 1e3:8.2f}ms" if torch_time else f"{'-':>10}"
                ratio = f"{fast / torch_time:10.2f}x" if torch_time else f"{'-':>11}"
                write(f"{shape + ', ' + pass_name:<40}{gflop:7.3f}{fast * 1e3:8.2f}ms"
                      f"{100 * gflop / fast / peak:7.0f}%{torch_text}{ratio}")
        write("(backward without dx: what a first layer needs, input_gradient=False;"
              " torch: its backward asked for the same outputs)")


def _median(benchmark):
    return benchmark.stats.stats.median if benchmark.stats is not None else None


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_peak_matrix_product(benchmark, dtype):
    from threadpoolctl import threadpool_limits

    benchmark.group = "peak: large matrix product"
    rng = np.random.default_rng(0)
    a = rng.standard_normal((PEAK_SIZE, PEAK_SIZE)).astype(dtype)
    b = rng.standard_normal((PEAK_SIZE, PEAK_SIZE)).astype(dtype)
    with threadpool_limits(limits=_threads(), user_api="blas"):
        benchmark.pedantic(np.matmul, args=(a, b), rounds=7, iterations=1, warmup_rounds=1)
    median = _median(benchmark)
    if median is not None:
        _peaks[np.dtype(dtype).name] = 2.0 * PEAK_SIZE**3 / median / 1e9


def _inputs(shape):
    x_shape, w_shape, stride, pad, dtype = SHAPES[shape]
    rng = np.random.default_rng(231)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = (rng.standard_normal(w_shape) / np.sqrt(np.prod(w_shape[1:]))).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    conv_param = {"stride": stride, "pad": pad}
    out, cache = fast_layers.conv_forward_fast(x, w, b, conv_param)
    dout = rng.standard_normal(out.shape).astype(dtype)
    return x, w, b, conv_param, cache, dout


def _fast_pass(shape, pass_name):
    x, w, b, conv_param, cache, dout = _inputs(shape)
    if pass_name == "forward":
        return lambda: fast_layers.conv_forward_fast(x, w, b, conv_param)
    if pass_name == "backward":
        return lambda: fast_layers.conv_backward_fast(dout, cache)
    if pass_name == "backward without dx":
        return lambda: fast_layers.conv_backward_fast(dout, cache, input_gradient=False)

    def forward_backward():
        _, step_cache = fast_layers.conv_forward_fast(x, w, b, conv_param)
        return fast_layers.conv_backward_fast(dout, step_cache)
    return forward_backward


def _torch_pass(shape, pass_name):
    import torch
    import torch.nn.functional as functional

    torch.set_num_threads(_threads())
    x, w, b, conv_param, _, dout = _inputs(shape)
    stride, pad = [conv_param["stride"]] * 2, [conv_param["pad"]] * 2
    tx, tw, tb, tdout = map(torch.from_numpy, (x, w, b, dout))
    mask = PASSES[pass_name][1]
    if pass_name == "forward":
        def forward():
            with torch.no_grad():
                return functional.conv2d(tx, tw, tb, stride=stride, padding=pad)
        return forward
    if mask is not None:
        return lambda: torch.ops.aten.convolution_backward(
            tdout, tx, tw, [w.shape[0]], stride, pad, [1, 1], False, [0, 0], 1, mask)
    gx, gw, gb = (tensor.clone().requires_grad_() for tensor in (tx, tw, tb))

    def forward_backward():
        gx.grad = gw.grad = gb.grad = None
        functional.conv2d(gx, gw, gb, stride=stride, padding=pad).backward(tdout)
    return forward_backward


@pytest.mark.parametrize("member", ["fast", "torch"])
@pytest.mark.parametrize("pass_name", list(PASSES))
@pytest.mark.parametrize("shape", list(SHAPES))
def test_conv_pass(benchmark, shape, pass_name, member):
    if member == "torch" and not HAVE_TORCH:
        pytest.skip("PyTorch is not installed (pip install torch==2.13.0)")
    benchmark.group = f"peak fraction: conv {pass_name}, {shape}"
    function = _fast_pass(shape, pass_name) if member == "fast" else _torch_pass(shape, pass_name)
    benchmark(function)
    median = _median(benchmark)
    if median is not None:
        _medians[(shape, pass_name, member)] = median
