"""Fast convolution and max-pooling layers, with the same API as the naive ones.

Convolution is computed as matrix products (im2col) in compiled code,
``fast_ext.conv_forward`` / ``fast_ext.conv_backward``: for each image, the
receptive fields of a few output rows are unfolded into a column matrix small
enough to stay in cache, and BLAS (SciPy's) multiplies it with the filters,

    out[:, block] = w_rows @ cols + b        w_rows: (F, C*HH*WW), cols: (C*HH*WW, pixels of the block)

The backward pass unfolds the same blocks again: ``dw += dout[:, block] @ cols.T``,
and ``w_rows.T @ dout[:, block]`` folded back onto the image is ``dx``.
Images are spread over OpenMP threads (``OMP_NUM_THREADS``, default: every
core, never more than the cores), and BLAS is held at one thread meanwhile.
``conv_backward_fast(..., input_gradient=False)`` skips dx for a first layer.
Max pooling scans windows of any size and stride (overlapping ones included)
in compiled code and keeps the position of each maximum for the backward pass.

dtype policy: float32 data is processed in float32 (no silent upcast); any
other dtype is processed in float64. Inputs are never modified.

Caches are opaque and differ from the naive layers' caches: give a cache only to
the matching ``*_backward_fast`` function.

Importing this module needs the compiled ``fast_ext`` extension; without it the
ImportError names the build command (``python -m pip install -e .``).
"""

import numpy as np

import fast_ext

__all__ = [
    "conv_forward_fast",
    "conv_backward_fast",
    "max_pool_forward_fast",
    "max_pool_backward_fast",
]


def _work_dtype(*arrays):
    """float32 if every array is float32, else float64."""
    if all(np.asarray(a).dtype == np.float32 for a in arrays):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def _positive_int(params, key, where):
    """params[key] as an int >= 1, with a clear error naming the parameter."""
    if key not in params:
        raise ValueError(f"{where} is missing the key '{key}'")
    value = params[key]
    if int(value) != value or value < 1:
        raise ValueError(f"{where}['{key}'] must be a positive integer, got {value!r}")
    return int(value)


def _check_4d(name, array):
    if np.ndim(array) != 4:
        raise ValueError(f"{name} must be 4-D (N, C, H, W), got shape {np.shape(array)}")


def _conv_geometry(x, w, b, conv_param):
    """Validate the conv arguments; return (stride, pad, out_h, out_w)."""
    _check_4d("x", x)
    if np.ndim(w) != 4:
        raise ValueError(f"w must be 4-D (F, C, HH, WW), got shape {np.shape(w)}")
    _, C, H, W = x.shape
    F, w_channels, HH, WW = w.shape
    if w_channels != C:
        raise ValueError(f"x has {C} channels but w expects {w_channels} (x {x.shape}, w {w.shape})")
    if np.shape(b) != (F,):
        raise ValueError(f"b must have shape ({F},) to match w {w.shape}, got {np.shape(b)}")
    stride = _positive_int(conv_param, "stride", "conv_param")
    if "pad" not in conv_param:
        raise ValueError("conv_param is missing the key 'pad'")
    pad = conv_param["pad"]
    if int(pad) != pad or pad < 0:
        raise ValueError(f"conv_param['pad'] must be a non-negative integer, got {pad!r}")
    pad = int(pad)
    if HH > H + 2 * pad or WW > W + 2 * pad:
        raise ValueError(
            f"filter {HH}x{WW} is larger than the input {H}x{W} padded by {pad}")
    out_h = fast_ext.output_size(H, HH, stride, pad)
    out_w = fast_ext.output_size(W, WW, stride, pad)
    return stride, pad, out_h, out_w


def conv_forward_fast(x, w, b, conv_param):
    """Forward pass of a convolutional layer (cross-correlation), im2col + BLAS.

    out[n, f, i, j] = b[f] + sum_{c, p, q} w[f, c, p, q] * x_pad[n, c, i*stride + p, j*stride + q]

    Parameters
    ----------
    x : (N, C, H, W) input.
    w : (F, C, HH, WW) filters.
    b : (F,) biases.
    conv_param : dict with 'stride' (>= 1) and 'pad' (zeros added on every side of H and W).

    Returns
    -------
    out : (N, F, H', W'), H' = 1 + (H + 2 pad - HH) // stride, W' likewise;
          float32 when x and w are float32, float64 otherwise.
    cache : opaque, for ``conv_backward_fast`` only.
    """
    x, w, b = np.asarray(x), np.asarray(w), np.asarray(b)
    stride, pad, _, _ = _conv_geometry(x, w, b, conv_param)
    dtype = _work_dtype(x, w)
    # The cache keeps x itself, as the naive layers do (copying a batch costs
    # as much as a fifth of the forward pass), but a private copy of the small
    # w: a gradient check or an update rule may change w in place before the
    # backward pass.
    x_work = np.ascontiguousarray(x, dtype=dtype)
    w_work = np.array(w, dtype=dtype, order="C")
    out = fast_ext.conv_forward(x_work, w_work, np.ascontiguousarray(b, dtype=dtype), stride, pad)
    return out, (x_work, w_work, stride, pad)


def conv_backward_fast(dout, cache, *, input_gradient=True):
    """Backward pass of ``conv_forward_fast``.

    Parameters
    ----------
    dout : (N, F, H', W') upstream gradient.
    cache : the cache returned by ``conv_forward_fast``.
    input_gradient : keyword only; False skips dx (returned as None), about
        half the work, for a layer whose input is the data (nothing to pass
        the gradient on to).

    Returns
    -------
    dx : (N, C, H, W) or None, dw : (F, C, HH, WW), db : (F,) -- in the forward's dtype.
    """
    x, w, stride, pad = cache
    N, _, H, W = x.shape
    F, _, HH, WW = w.shape
    expected = (N, F, fast_ext.output_size(H, HH, stride, pad),
                fast_ext.output_size(W, WW, stride, pad))
    if np.shape(dout) != expected:
        raise ValueError(f"dout must have shape {expected} (the forward output), got {np.shape(dout)}")
    dout = np.ascontiguousarray(dout, dtype=x.dtype)
    return fast_ext.conv_backward(x, w, dout, stride, pad, input_gradient=input_gradient)


def _pool_geometry(x, pool_param):
    """Validate the pooling arguments; return (pool_height, pool_width, stride)."""
    _check_4d("x", x)
    ph = _positive_int(pool_param, "pool_height", "pool_param")
    pw = _positive_int(pool_param, "pool_width", "pool_param")
    stride = _positive_int(pool_param, "stride", "pool_param")
    H, W = x.shape[2:]
    if ph > H or pw > W:
        raise ValueError(f"pooling window {ph}x{pw} is larger than the input {H}x{W}")
    return ph, pw, stride


def max_pool_forward_fast(x, pool_param):
    """Forward pass of a max-pooling layer, for any window and stride (overlap allowed).

    out[n, c, i, j] = max_{p, q} x[n, c, i*stride + p, j*stride + q]   (no padding)

    Parameters
    ----------
    x : (N, C, H, W) input.
    pool_param : dict with 'pool_height', 'pool_width' and 'stride'.

    Returns
    -------
    out : (N, C, H', W'), H' = 1 + (H - pool_height) // stride, W' likewise;
          float32 for float32 x, float64 otherwise.
    cache : opaque, for ``max_pool_backward_fast`` only.
    """
    x = np.asarray(x)
    ph, pw, stride = _pool_geometry(x, pool_param)
    dtype = _work_dtype(x)
    out, argmax = fast_ext.max_pool_forward(np.ascontiguousarray(x, dtype=dtype), ph, pw, stride)
    return out, (x.shape, argmax, dtype)


def max_pool_backward_fast(dout, cache):
    """Backward pass of ``max_pool_forward_fast``.

    Each window's upstream value goes to the FIRST maximum of that window in
    row-major order (the ``np.argmax`` choice) when several entries tie; with
    overlapping windows, a pixel that is the maximum of several windows gets
    the sum of their values.

    Parameters
    ----------
    dout : (N, C, H', W') upstream gradient.
    cache : the cache returned by ``max_pool_forward_fast``.

    Returns
    -------
    dx : (N, C, H, W), in the forward's dtype.
    """
    x_shape, argmax, dtype = cache
    if np.shape(dout) != argmax.shape:
        raise ValueError(
            f"dout must have shape {argmax.shape} (the forward output), got {np.shape(dout)}")
    dout = np.ascontiguousarray(dout, dtype=dtype)
    return fast_ext.max_pool_backward(dout, argmax, x_shape[2], x_shape[3])
