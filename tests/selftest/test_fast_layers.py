"""Self-tests of the compiled fast layers (``reference.fast_layers`` on ``fast_ext``).

The fast layers must agree with the answer key's naive layers on every shape,
stride, padding and pooling window (overlapping and non-square ones included;
hand-picked cases plus seeded random ones), in float32 and float64, must send
the gradient of a window with tied maxima to the first of them in row-major
order, must not touch their inputs, must keep float32 in float32, and must give
the same results, bit for bit, whatever the OpenMP thread count.
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fast_ext
from answer_key import layers as key
from convgrader.paths import PROJECT as PROJECT_ROOT
from reference.fast_layers import (
    conv_backward_fast,
    conv_forward_fast,
    max_pool_backward_fast,
    max_pool_forward_fast,
)


# (x shape, w shape, stride, pad): square and non-square images and filters,
# 1x1 filters, strides larger than the filter (skipped pixels), padding wider
# than the filter's half, and a filter covering the whole padded image.
CONV_CASES = [
    ((2, 3, 7, 7), (4, 3, 3, 3), 1, 1),
    ((3, 2, 8, 6), (5, 2, 3, 3), 1, 0),
    ((2, 3, 9, 11), (4, 3, 3, 5), 2, 1),
    ((2, 1, 10, 10), (3, 1, 1, 1), 3, 0),
    ((1, 4, 6, 9), (2, 4, 2, 3), 3, 2),
    ((2, 3, 5, 5), (3, 3, 7, 7), 1, 3),
    ((1, 2, 4, 4), (2, 2, 6, 6), 1, 1),
    ((4, 3, 31, 31), (6, 3, 3, 3), 2, 1),
    # The row-12 network's layer (on fewer images): blocks of one output row
    # forward, six backward (the last block shorter).
    ((4, 3, 32, 32), (32, 3, 7, 7), 1, 3),
    # One output row is more work than a block may take: blocks of one row.
    ((2, 16, 20, 20), (64, 16, 5, 5), 1, 2),
]


def _random_conv_cases(count, seed):
    """Random shapes, filters, strides and paddings whose windows fit exactly."""
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < count:
        N, C, F = rng.integers(1, 5), rng.integers(1, 5), rng.integers(1, 7)
        HH, WW = rng.integers(1, 6, size=2)
        stride, pad = int(rng.integers(1, 4)), int(rng.integers(0, 4))
        # H + 2 pad - HH must be a non-negative multiple of the stride.
        H = HH - 2 * pad + stride * rng.integers(0, 6)
        W = WW - 2 * pad + stride * rng.integers(0, 6)
        if H >= 1 and W >= 1:
            cases.append(((int(N), int(C), int(H), int(W)), (int(F), int(C), int(HH), int(WW)),
                          stride, pad))
    return cases


RANDOM_CONV_CASES = _random_conv_cases(24, seed=6)

# (x shape, pool_height, pool_width, stride)
POOL_CASES = [
    ((2, 3, 8, 8), 2, 2, 2),      # the usual non-overlapping 2x2
    ((2, 2, 7, 7), 3, 3, 1),      # heavily overlapping
    ((3, 2, 9, 8), 3, 3, 2),      # overlapping by one row/column
    ((2, 3, 6, 9), 2, 3, 3),      # non-square window
    ((1, 2, 8, 5), 3, 1, 1),      # tall window, overlapping
    ((2, 1, 9, 9), 2, 2, 3),      # gaps between windows
    ((2, 2, 5, 6), 5, 6, 1),      # one window covering the whole image
    ((2, 4, 8, 8), 2, 2, 1),      # 2x2 (the unrolled scan), overlapping
    ((2, 3, 9, 7), 2, 2, 2),      # 2x2, stride 2, a last row and column no window covers
]


def _random_pool_cases(count, seed):
    """Random windows (overlapping, touching or with gaps) that fit exactly."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(count):
        ph, pw, stride = (int(v) for v in rng.integers(1, 5, size=3))
        H = ph + stride * int(rng.integers(0, 5))
        W = pw + stride * int(rng.integers(0, 5))
        cases.append(((int(rng.integers(1, 4)), int(rng.integers(1, 4)), H, W), ph, pw, stride))
    return cases


RANDOM_POOL_CASES = _random_pool_cases(24, seed=7)

DTYPES = [np.float64, np.float32]


def _conv_id(case):
    x_shape, w_shape, stride, pad = case
    return (f"x{'x'.join(map(str, x_shape))}-w{'x'.join(map(str, w_shape))}"
            f"-s{stride}-p{pad}")


def _pool_id(case):
    x_shape, ph, pw, stride = case
    return f"x{'x'.join(map(str, x_shape))}-{ph}x{pw}-s{stride}"


def _dtype_id(dtype):
    return np.dtype(dtype).name


def rel_error(x, y):
    """The seed's elementwise relative error."""
    return np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y)))


def assert_agrees(actual, expected, dtype, name):
    """float64: the seed's rel_error <= 1e-9. float32: error <= 1e-5 of the largest entry
    (elementwise relative error is meaningless for float32 sums that nearly cancel)."""
    assert actual.shape == expected.shape, f"{name}: shape {actual.shape} != {expected.shape}"
    expected = expected.astype(np.float64)
    if dtype == np.float64:
        error = rel_error(actual, expected)
        assert error <= 1e-9, f"{name}: rel_error {error:.3g} > 1e-9"
    else:
        scale = max(np.max(np.abs(expected)), 1e-30)
        error = np.max(np.abs(actual.astype(np.float64) - expected)) / scale
        assert error <= 1e-5, f"{name}: normwise error {error:.3g} > 1e-5"


def _conv_inputs(case, dtype, seed=0):
    x_shape, w_shape, stride, pad = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    return x, w, b, {"stride": stride, "pad": pad}


# ----------------------------------------------------------------------------------------
# Convolution
# ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=_dtype_id)
@pytest.mark.parametrize("case", CONV_CASES, ids=_conv_id)
def test_conv_matches_naive(case, dtype):
    x, w, b, conv_param = _conv_inputs(case, dtype)
    # The key runs in float64 on the very same values, so float32 is judged
    # against the exact answer, not against another float32 rounding.
    out_key, cache_key = key.conv_forward_naive(
        x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), conv_param)
    out, cache = conv_forward_fast(x, w, b, conv_param)
    assert out.dtype == dtype
    assert_agrees(out, out_key, dtype, "out")

    dout = np.random.default_rng(1).standard_normal(out_key.shape).astype(dtype)
    grads_key = key.conv_backward_naive(dout.astype(np.float64), cache_key)
    grads = conv_backward_fast(dout, cache)
    for name, grad, grad_key, like in zip(("dx", "dw", "db"), grads, grads_key, (x, w, b)):
        assert grad.shape == like.shape, f"{name} shape"
        assert grad.dtype == dtype, f"{name} dtype {grad.dtype}"
        assert_agrees(grad, grad_key, dtype, name)


@pytest.mark.parametrize("dtype", DTYPES, ids=_dtype_id)
@pytest.mark.parametrize("case", RANDOM_CONV_CASES, ids=_conv_id)
def test_conv_matches_naive_on_random_shapes(case, dtype):
    test_conv_matches_naive(case, dtype)


def test_conv_seed_check_6():
    """The notebook's fast-vs-naive check, with its tolerance (~1e-9)."""
    rng = np.random.RandomState(231)
    x = rng.randn(100, 3, 31, 31)
    w = rng.randn(25, 3, 3, 3)
    b = rng.randn(25,)
    dout = rng.randn(100, 25, 16, 16)
    conv_param = {"stride": 2, "pad": 1}
    out_key, cache_key = key.conv_forward_naive(x, w, b, conv_param)
    out, cache = conv_forward_fast(x, w, b, conv_param)
    assert rel_error(out, out_key) < 1e-9
    for grad, grad_key in zip(conv_backward_fast(dout, cache),
                              key.conv_backward_naive(dout, cache_key)):
        assert rel_error(grad, grad_key) < 1e-9


@pytest.mark.parametrize("dtype", DTYPES + [np.int64], ids=_dtype_id)
def test_conv_does_not_modify_inputs(dtype):
    x, w, b, conv_param = _conv_inputs(CONV_CASES[2], np.float64)
    x, w, b = x.astype(dtype), w.astype(dtype), b.astype(dtype)
    originals = [a.copy() for a in (x, w, b)]
    param_copy = dict(conv_param)
    out, cache = conv_forward_fast(x, w, b, conv_param)
    dout = np.ones_like(out)
    dout_copy = dout.copy()
    conv_backward_fast(dout, cache)
    for array, original in zip((x, w, b, dout), originals + [dout_copy]):
        np.testing.assert_array_equal(array, original)
    assert conv_param == param_copy


def test_conv_backward_ignores_later_changes_to_w():
    """A gradient check perturbs w in place between forward and backward."""
    x, w, b, conv_param = _conv_inputs(CONV_CASES[0], np.float64)
    out, cache = conv_forward_fast(x, w, b, conv_param)
    dout = np.ones_like(out)
    expected = conv_backward_fast(dout, cache)
    w += 1.0
    for grad, grad_expected in zip(conv_backward_fast(dout, cache), expected):
        np.testing.assert_array_equal(grad, grad_expected)


@pytest.mark.parametrize(
    "dtypes, expected",
    [((np.float32, np.float32, np.float32), np.float32),
     ((np.float64, np.float64, np.float64), np.float64),
     ((np.float32, np.float64, np.float32), np.float64),
     ((np.int32, np.int32, np.int32), np.float64)],
    ids=["all-float32", "all-float64", "float32-x-float64-w", "int32"])
def test_conv_work_dtype(dtypes, expected):
    x, w, b, conv_param = _conv_inputs(CONV_CASES[0], np.float64)
    x, w, b = (a.astype(t) for a, t in zip((x, w, b), dtypes))
    out, cache = conv_forward_fast(x, w, b, conv_param)
    assert out.dtype == expected
    assert all(g.dtype == expected for g in conv_backward_fast(np.ones_like(out), cache))


def test_conv_accepts_non_contiguous_input():
    x, w, b, conv_param = _conv_inputs(CONV_CASES[0], np.float64)
    x_strided = np.asfortranarray(x)[:, :, ::1, :]
    out, _ = conv_forward_fast(x_strided, w, b, conv_param)
    np.testing.assert_allclose(out, conv_forward_fast(x, w, b, conv_param)[0], rtol=1e-13)


@pytest.mark.parametrize(
    "x_shape, w_shape, b_shape, conv_param, message",
    [((2, 3, 5, 5), (4, 2, 3, 3), (4,), {"stride": 1, "pad": 1}, "channels"),
     ((2, 3, 5, 5), (4, 3, 3, 3), (3,), {"stride": 1, "pad": 1}, "b must have shape"),
     ((2, 3, 5, 5), (4, 3, 8, 8), (4,), {"stride": 1, "pad": 1}, "larger than the input"),
     ((2, 3, 5, 5), (4, 3, 3, 3), (4,), {"stride": 0, "pad": 1}, "positive integer"),
     ((2, 3, 5, 5), (4, 3, 3, 3), (4,), {"stride": 1, "pad": -1}, "non-negative"),
     ((2, 3, 5, 5), (4, 3, 3, 3), (4,), {"stride": 1}, "pad"),
     ((3, 5, 5), (4, 3, 3, 3), (4,), {"stride": 1, "pad": 1}, "4-D")],
    ids=["channel-mismatch", "bias-shape", "filter-too-large", "zero-stride",
         "negative-pad", "missing-pad", "x-not-4d"])
def test_conv_rejects_bad_arguments(x_shape, w_shape, b_shape, conv_param, message):
    with pytest.raises(ValueError, match=message):
        conv_forward_fast(np.zeros(x_shape), np.zeros(w_shape), np.zeros(b_shape), conv_param)


def test_conv_backward_rejects_wrong_dout_shape():
    x, w, b, conv_param = _conv_inputs(CONV_CASES[0], np.float64)
    out, cache = conv_forward_fast(x, w, b, conv_param)
    with pytest.raises(ValueError, match="dout must have shape"):
        conv_backward_fast(np.zeros(out.shape[:-1] + (out.shape[-1] + 1,)), cache)


# ----------------------------------------------------------------------------------------
# Max pooling
# ----------------------------------------------------------------------------------------

def _pool_param(case):
    _, ph, pw, stride = case
    return {"pool_height": ph, "pool_width": pw, "stride": stride}


@pytest.mark.parametrize("dtype", DTYPES, ids=_dtype_id)
@pytest.mark.parametrize("case", POOL_CASES, ids=_pool_id)
def test_max_pool_matches_naive(case, dtype):
    rng = np.random.default_rng(2)
    x = rng.standard_normal(case[0]).astype(dtype)
    pool_param = _pool_param(case)
    out_key, cache_key = key.max_pool_forward_naive(x, pool_param)
    out, cache = max_pool_forward_fast(x, pool_param)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, out_key)  # a maximum is exact

    dout = rng.standard_normal(out.shape).astype(dtype)
    dx = max_pool_backward_fast(dout, cache)
    assert dx.dtype == dtype and dx.shape == x.shape
    np.testing.assert_allclose(dx, key.max_pool_backward_naive(dout, cache_key),
                               rtol=1e-6 if dtype == np.float32 else 1e-14, atol=0)


@pytest.mark.parametrize("dtype", DTYPES, ids=_dtype_id)
@pytest.mark.parametrize("case", RANDOM_POOL_CASES, ids=_pool_id)
def test_max_pool_matches_naive_on_random_windows(case, dtype):
    test_max_pool_matches_naive(case, dtype)


def route_to_first_maximum(x, dout, pool_param):
    """Max-pool backward written plainly: each window's gradient goes to the first
    maximum of the window in row-major order (``np.argmax`` of the flat window)."""
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    dx = np.zeros_like(x, dtype=np.float64)
    N, C, out_h, out_w = dout.shape
    for n, c, i, j in np.ndindex(N, C, out_h, out_w):
        window = x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw]
        di, dj = np.unravel_index(np.argmax(window), window.shape)
        dx[n, c, i * stride + di, j * stride + dj] += dout[n, c, i, j]
    return dx


@pytest.mark.parametrize("dtype", DTYPES, ids=_dtype_id)
@pytest.mark.parametrize("case", POOL_CASES + RANDOM_POOL_CASES, ids=_pool_id)
def test_max_pool_ties_route_to_first_maximum_in_row_major_order(case, dtype):
    """The documented choice among tied maxima, checked against a plain loop."""
    rng = np.random.default_rng(8)
    x = rng.integers(0, 2, size=case[0]).astype(dtype)  # ties in nearly every window
    pool_param = _pool_param(case)
    out, cache = max_pool_forward_fast(x, pool_param)
    dout = rng.standard_normal(out.shape).astype(dtype)
    np.testing.assert_allclose(max_pool_backward_fast(dout, cache),
                               route_to_first_maximum(x, dout, pool_param),
                               rtol=1e-6 if dtype == np.float32 else 1e-14)


@pytest.mark.parametrize("case", POOL_CASES, ids=_pool_id)
def test_max_pool_ties_go_to_first_maximum(case):
    """Few distinct values make ties in almost every window; the key also routes
    the gradient to the first maximum in row-major order."""
    rng = np.random.default_rng(3)
    x = rng.integers(0, 3, size=case[0]).astype(np.float64)
    pool_param = _pool_param(case)
    out, cache = max_pool_forward_fast(x, pool_param)
    out_key, cache_key = key.max_pool_forward_naive(x, pool_param)
    np.testing.assert_array_equal(out, out_key)
    dout = rng.standard_normal(out.shape)
    np.testing.assert_allclose(max_pool_backward_fast(dout, cache),
                               key.max_pool_backward_naive(dout, cache_key), rtol=1e-14)


def test_max_pool_tie_by_hand():
    """A flat window sends its gradient to its top-left pixel; overlapping windows add up."""
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 5.0  # the maximum of all four overlapping 2x2 windows
    out, cache = max_pool_forward_fast(x, {"pool_height": 2, "pool_width": 2, "stride": 1})
    np.testing.assert_array_equal(out, np.full((1, 1, 2, 2), 5.0))
    dx = max_pool_backward_fast(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), cache)
    expected = np.zeros((1, 1, 3, 3))
    expected[0, 0, 1, 1] = 10.0
    np.testing.assert_array_equal(dx, expected)

    flat = np.ones((1, 1, 2, 4))
    out, cache = max_pool_forward_fast(flat, {"pool_height": 2, "pool_width": 2, "stride": 2})
    dx = max_pool_backward_fast(np.array([[[[7.0, 9.0]]]]), cache)
    np.testing.assert_array_equal(dx, [[[[7.0, 0.0, 9.0, 0.0], [0.0, 0.0, 0.0, 0.0]]]])


def test_max_pool_nan_propagates_like_numpy():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    x[0, 0, 0, 1] = np.nan
    out, cache = max_pool_forward_fast(x, {"pool_height": 2, "pool_width": 2, "stride": 2})
    assert np.isnan(out[0, 0, 0, 0]) and not np.isnan(out[0, 0, 1, 1])
    dx = max_pool_backward_fast(np.ones_like(out), cache)
    assert dx[0, 0, 0, 1] == 1.0 and dx[0, 0, 1, 1] == 0.0


def test_max_pool_seed_check_7():
    """The notebook's fast-vs-naive pooling check: errors exactly 0.0."""
    rng = np.random.RandomState(231)
    x = rng.randn(100, 3, 32, 32)
    dout = rng.randn(100, 3, 16, 16)
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    out_key, cache_key = key.max_pool_forward_naive(x, pool_param)
    out, cache = max_pool_forward_fast(x, pool_param)
    assert rel_error(out, out_key) == 0.0
    assert rel_error(max_pool_backward_fast(dout, cache),
                     key.max_pool_backward_naive(dout, cache_key)) == 0.0


@pytest.mark.parametrize("dtype", DTYPES + [np.int16], ids=_dtype_id)
def test_max_pool_does_not_modify_inputs_and_keeps_dtype(dtype):
    x = (np.random.default_rng(4).standard_normal((2, 3, 6, 6)) * 10).astype(dtype)
    x_copy = x.copy()
    out, cache = max_pool_forward_fast(x, {"pool_height": 3, "pool_width": 3, "stride": 1})
    dout = np.ones_like(out)
    dx = max_pool_backward_fast(dout, cache)
    np.testing.assert_array_equal(x, x_copy)
    np.testing.assert_array_equal(dout, np.ones_like(out))
    expected = dtype if dtype in DTYPES else np.float64
    assert out.dtype == expected and dx.dtype == expected


@pytest.mark.parametrize(
    "x_shape, pool_param, message",
    [((2, 3, 4, 4), {"pool_height": 5, "pool_width": 2, "stride": 1}, "larger than the input"),
     ((2, 3, 4, 4), {"pool_height": 2, "pool_width": 2, "stride": 0}, "positive integer"),
     ((2, 3, 4, 4), {"pool_height": 2, "stride": 2}, "pool_width"),
     ((3, 4, 4), {"pool_height": 2, "pool_width": 2, "stride": 2}, "4-D")],
    ids=["window-too-large", "zero-stride", "missing-width", "x-not-4d"])
def test_max_pool_rejects_bad_arguments(x_shape, pool_param, message):
    with pytest.raises(ValueError, match=message):
        max_pool_forward_fast(np.zeros(x_shape), pool_param)


# ----------------------------------------------------------------------------------------
# Build and threads
# ----------------------------------------------------------------------------------------

def test_parallel_info_is_consistent():
    info = fast_ext.parallel_info()
    assert isinstance(info.openmp, bool)
    assert info.num_threads >= 1
    if not info.openmp:
        assert info.num_threads == 1


_THREAD_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import fast_ext
    from reference.fast_layers import (conv_forward_fast, conv_backward_fast,
                                       max_pool_forward_fast, max_pool_backward_fast)
    rng = np.random.default_rng(5)
    results = {}
    # A general case in both dtypes, and the row-12 network's layers on a full batch
    # (many images per partial sum of dw, blocks of one output row).
    cases = [("small", (6, 3, 17, 15), (4, 3, 5, 3), 2, 2, 3, 2, 1, dtype)
             for dtype in (np.float32, np.float64)]
    cases.append(("train", (50, 3, 32, 32), (32, 3, 7, 7), 1, 3, 2, 2, 2, np.float32))
    for name, x_shape, w_shape, stride, pad, ph, pw, pool_stride, dtype in cases:
        x = rng.standard_normal(x_shape).astype(dtype)
        w = rng.standard_normal(w_shape).astype(dtype)
        b = rng.standard_normal(w_shape[0]).astype(dtype)
        out, cache = conv_forward_fast(x, w, b, {"stride": stride, "pad": pad})
        grads = conv_backward_fast(rng.standard_normal(out.shape).astype(dtype), cache)
        pool_param = {"pool_height": ph, "pool_width": pw, "stride": pool_stride}
        pooled, pool_cache = max_pool_forward_fast(out, pool_param)
        dx = max_pool_backward_fast(rng.standard_normal(pooled.shape).astype(dtype), pool_cache)
        for part, array in zip(("out", "dx", "dw", "db", "pooled", "pool_dx"),
                               (out, *grads, pooled, dx)):
            results[f"{name}_{np.dtype(dtype).name}_{part}"] = array
    results["threads"] = np.array(fast_ext.parallel_info().num_threads)
    np.savez(sys.argv[1], **results)
""")


def _run_with_threads(threads, output):
    """Run _THREAD_SCRIPT with OMP_NUM_THREADS=threads (None: unset)."""
    env = dict(os.environ,
               # Fix BLAS threading so that only the kernels' thread count varies.
               OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")]))
    env.pop("OMP_NUM_THREADS", None)
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)
    subprocess.run([sys.executable, "-c", _THREAD_SCRIPT, str(output)],
                   cwd=PROJECT_ROOT, env=env, check=True, timeout=300)
    with np.load(output) as data:
        return {name: data[name] for name in data.files}


def test_results_do_not_depend_on_thread_count(tmp_path):
    """Bit for bit: every image is computed by one thread, and dw/db are summed in
    partial sums fixed by the shapes, not by the threads (3 asked for: capped at the cores)."""
    if not fast_ext.parallel_info().openmp:
        pytest.skip("fast_ext was built without OpenMP: there is only one thread")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    runs = {threads: _run_with_threads(threads, tmp_path / f"{threads}.npz") for threads in (1, 2, 3)}
    for threads, results in runs.items():
        assert results.pop("threads") == min(threads, cores)
    for threads in (2, 3):
        for name in runs[1]:
            np.testing.assert_array_equal(runs[threads][name], runs[1][name],
                                          err_msg=f"{name}, {threads} threads")


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="needs os.sched_getaffinity")
def test_threads_default_to_the_available_cores(tmp_path):
    if not fast_ext.parallel_info().openmp:
        pytest.skip("fast_ext was built without OpenMP: there is only one thread")
    assert _run_with_threads(None, tmp_path / "default.npz")["threads"] == len(os.sched_getaffinity(0))


def test_missing_build_names_the_build_command():
    """Without the compiled module, importing fast_ext must fail loudly and say how to build."""
    script = textwrap.dedent("""
        import sys
        class HideKernels:
            def find_spec(self, name, path=None, target=None):
                if name == "fast_ext._kernels":
                    raise ModuleNotFoundError("No module named 'fast_ext._kernels'")
        sys.meta_path.insert(0, HideKernels())
        try:
            import reference.fast_layers
        except ImportError as error:
            print(error)
        else:
            print("IMPORTED")
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=60, check=True)
    assert "IMPORTED" not in result.stdout
    assert "python -m pip install -e ." in result.stdout


# ----------------------------------------------------------------------------------------
# One pool of threads at a time
# ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("kernel", ["conv_forward", "conv_backward"])
def test_blas_runs_single_threaded_inside_the_kernels_and_is_restored_after(monkeypatch, kernel):
    """The OpenMP loop calls BLAS from each of its threads: every BLAS of the process
    (numpy's and SciPy's) must be at one thread meanwhile, and as before afterwards."""
    from threadpoolctl import threadpool_info, threadpool_limits

    seen = []

    def probe(*args):
        seen.append({info["filepath"]: info["num_threads"] for info in threadpool_info()
                     if info["user_api"] == "blas"})
        return "result"

    monkeypatch.setattr(fast_ext._kernels, kernel, probe)
    with threadpool_limits(limits=2, user_api="blas"):
        before = {info["filepath"]: info["num_threads"] for info in threadpool_info()
                  if info["user_api"] == "blas"}
        assert getattr(fast_ext, kernel)(None, None, None, 1, 0) == "result"
        after = {info["filepath"]: info["num_threads"] for info in threadpool_info()
                 if info["user_api"] == "blas"}
    assert before and set(before.values()) == {2}
    assert seen == [{path: 1 for path in before}]
    assert after == before


def test_conv_backward_without_input_gradient_skips_only_dx():
    rng = np.random.default_rng(3)
    for dtype in (np.float32, np.float64):
        x = rng.standard_normal((3, 2, 9, 8)).astype(dtype)
        w = rng.standard_normal((4, 2, 3, 3)).astype(dtype)
        b = rng.standard_normal(4).astype(dtype)
        out, cache = conv_forward_fast(x, w, b, {"stride": 1, "pad": 1})
        dout = rng.standard_normal(out.shape).astype(dtype)
        dx, dw, db = conv_backward_fast(dout, cache)
        no_dx, dw_alone, db_alone = conv_backward_fast(dout, cache, input_gradient=False)
        assert no_dx is None and dx.shape == x.shape
        np.testing.assert_array_equal(dw_alone, dw)
        np.testing.assert_array_equal(db_alone, db)


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads through /proc")
@pytest.mark.parametrize("omp_threads", [None, "8"])
def test_no_more_busy_threads_than_cores(omp_threads):
    """With numpy's BLAS at one thread (as in grading), a convolution's forward and
    backward keep at most as many threads busy as there are cores, whatever
    OMP_NUM_THREADS asks for (tests/benchmarks/thread_pools.py measures every setting)."""
    from tests.benchmarks.thread_pools import run_configuration

    result = run_configuration(omp_threads, "1")
    assert result["openmp_team"] <= result["cores"]
    assert 1 <= result["busy_threads"] <= result["cores"], result
