# cython: language_level=3
"""Compiled kernels behind ``reference.fast_layers``.

Convolution of a whole batch is lowered to one matrix product by unfolding
every receptive field into a column (``im2col``); the gradient of the columns
is folded back onto the images (``col2im``). Max pooling is a direct
sliding-window scan that remembers where each maximum came from.

Every kernel is compiled twice through the fused type ``real_t``: for float32
and for float64 arrays. Arrays must be C-contiguous; the Python wrappers in
``reference.fast_layers`` take care of that. The hot loops run without the GIL
and, when the extension was built with OpenMP, are split across threads by
(image, channel) plane: each plane is read and written by exactly one thread,
so results do not depend on the thread count.
"""

import numpy as np

cimport cython
from cython.parallel cimport prange


ctypedef fused real_t:
    float
    double


cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    static int fast_ext_openmp_compiled(void) { return 1; }
    static int fast_ext_max_threads(void) { return omp_get_max_threads(); }
    #else
    static int fast_ext_openmp_compiled(void) { return 0; }
    static int fast_ext_max_threads(void) { return 1; }
    #endif
    """
    int fast_ext_openmp_compiled() noexcept nogil
    int fast_ext_max_threads() noexcept nogil


def openmp_compiled():
    """Return True when the extension was compiled with OpenMP."""
    return bool(fast_ext_openmp_compiled())


def max_threads():
    """Return how many threads a parallel loop uses (1 without OpenMP).

    With OpenMP this is ``omp_get_max_threads()``, i.e. ``OMP_NUM_THREADS``
    when it is set, otherwise the number of cores.
    """
    return fast_ext_max_threads()


cdef inline int _team_size(int num_threads) noexcept nogil:
    """Threads for one parallel loop: ``num_threads``, or all of them when it is <= 0."""
    return num_threads if num_threads > 0 else fast_ext_max_threads()


# ---------------------------------------------------------------------------
# Geometry helpers (all operands are non-negative, so C division is exact
# floor division).
# ---------------------------------------------------------------------------

def output_size(Py_ssize_t size, Py_ssize_t field, Py_ssize_t stride, Py_ssize_t pad):
    """Output length of a sliding window: ``1 + (size + 2 pad - field) // stride``.

    Raises ValueError when the window does not fit in the padded input.
    """
    if stride < 1:
        raise ValueError(f"stride must be a positive integer, got {stride}")
    if pad < 0:
        raise ValueError(f"pad must be non-negative, got {pad}")
    if field < 1:
        raise ValueError(f"window size must be positive, got {field}")
    if field > size + 2 * pad:
        raise ValueError(
            f"window of size {field} is larger than the input of size {size}"
            f" padded by {pad} on each side")
    return 1 + (size + 2 * pad - field) // stride


@cython.cdivision(True)
cdef inline Py_ssize_t _first_inside(Py_ssize_t offset, Py_ssize_t stride) noexcept nogil:
    """Smallest o >= 0 with o * stride + offset >= 0."""
    if offset >= 0:
        return 0
    return (-offset + stride - 1) // stride


@cython.cdivision(True)
cdef inline Py_ssize_t _end_inside(Py_ssize_t offset, Py_ssize_t stride,
                                   Py_ssize_t size, Py_ssize_t count) noexcept nogil:
    """One past the largest o < count with o * stride + offset < size."""
    cdef Py_ssize_t end
    if offset > size - 1:
        return 0
    end = (size - 1 - offset) // stride + 1
    return end if end < count else count


# ---------------------------------------------------------------------------
# im2col / col2im
# ---------------------------------------------------------------------------
#
# For images x of shape (N, C, H, W) and filters of shape (C, HH, WW), the
# column matrix has one row per filter tap and one column per output pixel of
# every image, images side by side (P = H'*W'):
#
#     cols[(c*HH + di)*WW + dj, n*P + oi*W' + oj] = xpad[n, c, oi*s + di, oj*s + dj]
#
# where xpad is x zero-padded by `pad` on each side of H and W. The whole
# batch thus becomes ONE matrix product with the (F, C*HH*WW) filter matrix,
# which BLAS runs far better than N small ones. The padding is never
# materialised: entries that fall into it are written as zeros, and the valid
# output range of every (di, dj) tap is computed once, so the inner loop is a
# plain strided copy.

@cython.boundscheck(False)
@cython.wraparound(False)
@cython.initializedcheck(False)
@cython.cdivision(True)
cdef void _im2col(const real_t[:, :, :, ::1] x, real_t[:, ::1] cols,
                  Py_ssize_t field_h, Py_ssize_t field_w,
                  Py_ssize_t stride, Py_ssize_t pad,
                  Py_ssize_t out_h, Py_ssize_t out_w, int num_threads) noexcept nogil:
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t plane, n, c, di, dj, row, oi, oj, i, j0, col
    cdef Py_ssize_t oi_lo, oi_hi, oj_lo, oj_hi
    for plane in prange(N * C, schedule='static', num_threads=num_threads):
        n = plane // C
        c = plane % C
        for di in range(field_h):
            oi_lo = _first_inside(di - pad, stride)
            oi_hi = _end_inside(di - pad, stride, H, out_h)
            for dj in range(field_w):
                row = (c * field_h + di) * field_w + dj
                oj_lo = _first_inside(dj - pad, stride)
                oj_hi = _end_inside(dj - pad, stride, W, out_w)
                j0 = dj - pad
                for oi in range(out_h):
                    col = (n * out_h + oi) * out_w
                    if oi < oi_lo or oi >= oi_hi:
                        for oj in range(out_w):
                            cols[row, col + oj] = 0
                        continue
                    i = oi * stride + di - pad
                    for oj in range(oj_lo):
                        cols[row, col + oj] = 0
                    for oj in range(oj_lo, oj_hi):
                        cols[row, col + oj] = x[n, c, i, oj * stride + j0]
                    for oj in range(oj_hi, out_w):
                        cols[row, col + oj] = 0


@cython.boundscheck(False)
@cython.wraparound(False)
@cython.initializedcheck(False)
@cython.cdivision(True)
cdef void _col2im(const real_t[:, ::1] cols, real_t[:, :, :, ::1] dx,
                  Py_ssize_t field_h, Py_ssize_t field_w,
                  Py_ssize_t stride, Py_ssize_t pad,
                  Py_ssize_t out_h, Py_ssize_t out_w, int num_threads) noexcept nogil:
    # dx must be zero on entry: windows overlap (field > stride), so every
    # input pixel sums the contributions of all windows that cover it.
    # Rows of one channel c only ever touch dx[n, c], so planes are independent.
    cdef Py_ssize_t N = dx.shape[0], C = dx.shape[1], H = dx.shape[2], W = dx.shape[3]
    cdef Py_ssize_t plane, n, c, di, dj, row, oi, oj, i, j0, col
    cdef Py_ssize_t oi_lo, oi_hi, oj_lo, oj_hi
    for plane in prange(N * C, schedule='static', num_threads=num_threads):
        n = plane // C
        c = plane % C
        for di in range(field_h):
            oi_lo = _first_inside(di - pad, stride)
            oi_hi = _end_inside(di - pad, stride, H, out_h)
            for dj in range(field_w):
                row = (c * field_h + di) * field_w + dj
                oj_lo = _first_inside(dj - pad, stride)
                oj_hi = _end_inside(dj - pad, stride, W, out_w)
                j0 = dj - pad
                for oi in range(oi_lo, oi_hi):
                    i = oi * stride + di - pad
                    col = (n * out_h + oi) * out_w
                    for oj in range(oj_lo, oj_hi):
                        dx[n, c, i, oj * stride + j0] = (
                            dx[n, c, i, oj * stride + j0] + cols[row, col + oj])


def im2col(const real_t[:, :, :, ::1] x, Py_ssize_t field_height,
           Py_ssize_t field_width, Py_ssize_t stride, Py_ssize_t pad,
           int num_threads=0):
    """Unfold the zero-padded sliding windows of a batch into one column matrix.

    Parameters
    ----------
    x : (N, C, H, W) float32 or float64, C-contiguous
    field_height, field_width : window (filter) size HH, WW
    stride, pad : step between windows and zero padding on each side
    num_threads : OpenMP threads to use; 0 (default) means ``max_threads()``

    Returns
    -------
    cols : (C*HH*WW, N*H'*W'), same dtype as ``x``, with
        ``cols[(c*HH + di)*WW + dj, (n*H' + oi)*W' + oj] = xpad[n, c, oi*stride + di, oj*stride + dj]``
        and ``H' = 1 + (H + 2 pad - HH) // stride`` (likewise W').
        ``w.reshape(F, -1) @ cols`` is then the (F, N*H'*W') convolution.
    """
    cdef Py_ssize_t out_h = output_size(x.shape[2], field_height, stride, pad)
    cdef Py_ssize_t out_w = output_size(x.shape[3], field_width, stride, pad)
    dtype = np.float32 if real_t is float else np.float64
    cols = np.empty((x.shape[1] * field_height * field_width, x.shape[0] * out_h * out_w),
                    dtype=dtype)
    cdef real_t[:, ::1] cols_view = cols
    with nogil:
        _im2col(x, cols_view, field_height, field_width, stride, pad, out_h, out_w,
                _team_size(num_threads))
    return cols


def col2im(const real_t[:, ::1] cols, Py_ssize_t batch, Py_ssize_t channels,
           Py_ssize_t height, Py_ssize_t width, Py_ssize_t field_height,
           Py_ssize_t field_width, Py_ssize_t stride, Py_ssize_t pad,
           int num_threads=0):
    """Adjoint of :func:`im2col`: fold columns back onto the images, summing overlaps.

    Parameters
    ----------
    cols : (C*HH*WW, N*H'*W') float32 or float64, C-contiguous, laid out as by :func:`im2col`
    batch, channels, height, width : N, C, H, W of the unpadded input
    field_height, field_width, stride, pad, num_threads : as for :func:`im2col`

    Returns
    -------
    dx : (N, C, H, W), same dtype as ``cols``. Every entry of ``cols`` that
        came from a real (non-padding) pixel is added to that pixel; entries
        that came from the padding are dropped.
    """
    cdef Py_ssize_t out_h = output_size(height, field_height, stride, pad)
    cdef Py_ssize_t out_w = output_size(width, field_width, stride, pad)
    expected = (channels * field_height * field_width, batch * out_h * out_w)
    if (cols.shape[0], cols.shape[1]) != expected:
        raise ValueError(f"cols has shape {(cols.shape[0], cols.shape[1])}, expected {expected}")
    dtype = np.float32 if real_t is float else np.float64
    dx = np.zeros((batch, channels, height, width), dtype=dtype)
    cdef real_t[:, :, :, ::1] dx_view = dx
    with nogil:
        _col2im(cols, dx_view, field_height, field_width, stride, pad, out_h, out_w,
                _team_size(num_threads))
    return dx


# ---------------------------------------------------------------------------
# Max pooling
# ---------------------------------------------------------------------------

@cython.boundscheck(False)
@cython.wraparound(False)
@cython.initializedcheck(False)
cdef void _max_pool_forward(const real_t[:, :, ::1] x, real_t[:, :, ::1] out,
                            int[:, :, ::1] argmax,
                            Py_ssize_t pool_h, Py_ssize_t pool_w,
                            Py_ssize_t stride, int num_threads) noexcept nogil:
    # x is (planes, H, W); argmax stores the flat index i*W + j of the winner.
    cdef Py_ssize_t planes = x.shape[0], W = x.shape[2]
    cdef Py_ssize_t out_h = out.shape[1], out_w = out.shape[2]
    cdef Py_ssize_t p, oi, oj, i, j, corner, best_k, k
    cdef const real_t* plane
    cdef real_t best, value
    cdef bint wins, saw_nan
    for p in prange(planes, schedule='static', num_threads=num_threads):
        # A raw pointer to the plane keeps the hot loop free of memoryview
        # bookkeeping that the compiler would otherwise reload every step.
        plane = &x[p, 0, 0]
        for oi in range(out_h):
            for oj in range(out_w):
                corner = oi * stride * W + oj * stride
                best_k = corner
                best = plane[corner]
                saw_nan = False
                for i in range(pool_h):
                    for j in range(pool_w):
                        k = corner + i * W + j
                        value = plane[k]
                        # Strict '>' keeps the first maximum in row-major
                        # order. The winner is unpredictable on real data, so
                        # the update is written as selects and integer
                        # arithmetic, which compile without branches.
                        wins = value > best
                        best = value if wins else best
                        best_k = best_k + (k - best_k) * wins
                        saw_nan = saw_nan | (value != value)
                if saw_nan:
                    # Rare: like np.max / np.argmax, the first NaN wins.
                    best_k = _first_nan(plane, corner, W, pool_h, pool_w)
                    best = plane[best_k]
                out[p, oi, oj] = best
                argmax[p, oi, oj] = <int>best_k


cdef inline Py_ssize_t _first_nan(const real_t* plane, Py_ssize_t corner, Py_ssize_t W,
                                  Py_ssize_t pool_h, Py_ssize_t pool_w) noexcept nogil:
    """Flat index of the first NaN (row-major) in the window at ``corner``."""
    cdef Py_ssize_t i, j
    for i in range(pool_h):
        for j in range(pool_w):
            if plane[corner + i * W + j] != plane[corner + i * W + j]:
                return corner + i * W + j
    return corner


@cython.boundscheck(False)
@cython.wraparound(False)
@cython.initializedcheck(False)
cdef void _max_pool_backward(const real_t[:, :, ::1] dout, const int[:, :, ::1] argmax,
                             real_t[:, ::1] dx, int num_threads) noexcept nogil:
    # dx is (planes, H*W) and zero on entry; overlapping windows may pick the
    # same pixel, whose gradient is then the sum of theirs.
    cdef Py_ssize_t planes = dout.shape[0], out_h = dout.shape[1], out_w = dout.shape[2]
    cdef Py_ssize_t p, oi, oj, k
    for p in prange(planes, schedule='static', num_threads=num_threads):
        for oi in range(out_h):
            for oj in range(out_w):
                k = argmax[p, oi, oj]
                dx[p, k] = dx[p, k] + dout[p, oi, oj]


def max_pool_forward(const real_t[:, :, :, ::1] x, Py_ssize_t pool_height,
                     Py_ssize_t pool_width, Py_ssize_t stride, int num_threads=0):
    """Max pooling over windows of any size and stride (overlap allowed), no padding.

    Parameters
    ----------
    x : (N, C, H, W) float32 or float64, C-contiguous
    pool_height, pool_width, stride : window size and step
    num_threads : OpenMP threads to use; 0 (default) means ``max_threads()``

    Returns
    -------
    out : (N, C, H', W'), dtype of ``x``, H' = 1 + (H - pool_height) // stride
    argmax : (N, C, H', W') int32 (C ``int``), flat index ``i*W + j`` within
        the (H, W) plane of the maximum chosen for each window: the FIRST
        maximum in row-major order when several entries tie. A window holding
        NaN yields NaN and points at its first NaN.
    """
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t out_h = output_size(H, pool_height, stride, 0)
    cdef Py_ssize_t out_w = output_size(W, pool_width, stride, 0)
    if H * W > 2147483647:
        raise ValueError(f"an image plane of {H}x{W} is too large for int32 indices")
    dtype = np.float32 if real_t is float else np.float64
    out = np.empty((N, C, out_h, out_w), dtype=dtype)
    argmax = np.empty((N, C, out_h, out_w), dtype=np.intc)
    cdef const real_t[:, :, ::1] x_planes = np.asarray(x).reshape(N * C, H, W)
    cdef real_t[:, :, ::1] out_planes = out.reshape(N * C, out_h, out_w)
    cdef int[:, :, ::1] argmax_planes = argmax.reshape(N * C, out_h, out_w)
    with nogil:
        _max_pool_forward(x_planes, out_planes, argmax_planes, pool_height, pool_width, stride,
                          _team_size(num_threads))
    return out, argmax


def max_pool_backward(const real_t[:, :, :, ::1] dout, const int[:, :, :, ::1] argmax,
                      Py_ssize_t height, Py_ssize_t width, int num_threads=0):
    """Route each window's gradient to the input pixel that won its maximum.

    The gradient of window (n, c, oi, oj) goes to the pixel recorded in
    ``argmax`` by :func:`max_pool_forward`, i.e. to the FIRST maximum of the
    window in row-major order. With overlapping windows a pixel that wins
    several windows receives the sum of their gradients.

    Parameters
    ----------
    dout : (N, C, H', W') float32 or float64, C-contiguous
    argmax : (N, C, H', W') int32 from :func:`max_pool_forward`
    height, width : H, W of the pooled input
    num_threads : OpenMP threads to use; 0 (default) means ``max_threads()``

    Returns
    -------
    dx : (N, C, H, W), dtype of ``dout``
    """
    cdef Py_ssize_t N = dout.shape[0], C = dout.shape[1]
    cdef Py_ssize_t out_h = dout.shape[2], out_w = dout.shape[3]
    dout_shape = tuple([dout.shape[axis] for axis in range(4)])
    argmax_shape = tuple([argmax.shape[axis] for axis in range(4)])
    if dout_shape != argmax_shape:
        raise ValueError(
            f"dout has shape {dout_shape} but the pooling indices have shape {argmax_shape}")
    dtype = np.float32 if real_t is float else np.float64
    dx = np.zeros((N, C, height, width), dtype=dtype)
    cdef const real_t[:, :, ::1] dout_planes = np.asarray(dout).reshape(N * C, out_h, out_w)
    cdef const int[:, :, ::1] argmax_planes = np.asarray(argmax).reshape(N * C, out_h, out_w)
    cdef real_t[:, ::1] dx_planes = dx.reshape(N * C, height * width)
    with nogil:
        _max_pool_backward(dout_planes, argmax_planes, dx_planes, _team_size(num_threads))
    return dx
