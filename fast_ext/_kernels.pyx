# cython: language_level=3
"""Compiled kernels behind ``reference.fast_layers``.

Convolution is lowered to matrix products (im2col), but one image and a few
output rows at a time: the receptive fields of a block of output rows are
unfolded into a small column matrix that stays in the core's cache, BLAS
multiplies it with the filters, and the next block reuses the same buffer.
Unfolding the whole batch at once would build a matrix of tens of megabytes
that every pass must stream through memory. The backward pass unfolds each
block again instead of keeping the columns from the forward pass (unfolding is
cheap; keeping would cost the same tens of megabytes).

Max pooling is a direct sliding-window scan that remembers where each maximum
came from.

Every kernel is compiled twice through the fused type ``real_t``: for float32
and for float64 arrays; float32 work stays in float32 (sgemm). Arrays must be
C-contiguous; the Python wrappers in ``reference.fast_layers`` take care of
that.

Threads: the hot loops run without the GIL and, when the extension was built
with OpenMP, are split across threads image by image (convolution) or plane by
plane (pooling). Each BLAS call is kept small enough for BLAS to run it on the
calling thread (see ``SINGLE_THREADED_GEMM_WORK``), so one parallel loop owns
all the cores and BLAS never starts threads of its own inside it. Sums across
images (the filter and bias gradients) are accumulated in a fixed number of
partial sums that does not depend on the thread count, so results are
bit-for-bit the same with any number of threads.
"""

import numpy as np

cimport cython
from cython.parallel cimport parallel, prange, threadid
from scipy.linalg.cython_blas cimport dgemm, sgemm


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
# Geometry
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


# ---------------------------------------------------------------------------
# Small matrix products through the BLAS that SciPy ships
# ---------------------------------------------------------------------------
#
# OpenBLAS (the BLAS of the numpy and SciPy wheels) runs a product of
# m*n*k <= 65536 * 4 multiply-adds on the calling thread and larger ones on
# its own thread pool. Called from inside an OpenMP loop, the pool would fight
# the loop's threads for the cores (OpenBLAS even warns that it may hang), so
# every product issued here is cut into tiles below that size. MKL and
# OpenMP builds of OpenBLAS run single-threaded inside a parallel region
# anyway, so the tiling costs them nothing.

cdef enum:
    SINGLE_THREADED_GEMM_WORK = 262144

# Products are in BLAS's column-major terms: C (m x n) = alpha op(A) op(B) + beta C,
# op(A) m x k, op(B) k x n; a row-major (r, s) array is a column-major (s, r) one.

cdef inline void _blas_gemm(char* trans_a, char* trans_b, int m, int n, int k,
                            real_t alpha, const real_t* a, int lda,
                            const real_t* b, int ldb, real_t beta,
                            real_t* c, int ldc) noexcept nogil:
    if real_t is float:
        sgemm(trans_a, trans_b, &m, &n, &k, &alpha, <float*>a, &lda,
              <float*>b, &ldb, &beta, c, &ldc)
    else:
        dgemm(trans_a, trans_b, &m, &n, &k, &alpha, <double*>a, &lda,
              <double*>b, &ldb, &beta, c, &ldc)


@cython.cdivision(True)
cdef void _gemm(bint transpose_a, bint transpose_b, int m, int n, int k,
                const real_t* a, int lda, const real_t* b, int ldb, real_t beta,
                real_t* c, int ldc) noexcept nogil:
    """C = op(A) op(B) + beta C, issued as tiles that BLAS runs on this thread."""
    cdef int tile_m = m, tile_n = n, tile_k = k, i0, j0, p0, rows, cols, depth
    cdef char* trans_a = b"T" if transpose_a else b"N"
    cdef char* trans_b = b"T" if transpose_b else b"N"
    cdef Py_ssize_t a_offset, b_offset
    cdef real_t tile_beta
    if m <= 0 or n <= 0 or k <= 0:
        return
    # Halve the longest side until a tile is small enough.
    while <double>tile_m * tile_n * tile_k > SINGLE_THREADED_GEMM_WORK:
        if tile_k >= tile_m and tile_k >= tile_n:
            tile_k = (tile_k + 1) // 2
        elif tile_m >= tile_n:
            tile_m = (tile_m + 1) // 2
        else:
            tile_n = (tile_n + 1) // 2
    p0 = 0
    while p0 < k:
        depth = min(tile_k, k - p0)
        # Later slices of the inner dimension add to what the first one wrote.
        tile_beta = beta if p0 == 0 else 1
        j0 = 0
        while j0 < n:
            cols = min(tile_n, n - j0)
            b_offset = (j0 + <Py_ssize_t>p0 * ldb) if transpose_b else (p0 + <Py_ssize_t>j0 * ldb)
            i0 = 0
            while i0 < m:
                rows = min(tile_m, m - i0)
                a_offset = (p0 + <Py_ssize_t>i0 * lda) if transpose_a else (i0 + <Py_ssize_t>p0 * lda)
                _blas_gemm(trans_a, trans_b, rows, cols, depth, <real_t>1, a + a_offset, lda,
                           b + b_offset, ldb, tile_beta, c + i0 + <Py_ssize_t>j0 * ldc, ldc)
                i0 += tile_m
            j0 += tile_n
        p0 += tile_k


# ---------------------------------------------------------------------------
# Convolution
# ---------------------------------------------------------------------------
#
# Each image is first copied into a zero-padded buffer xpad (C, H + 2 pad,
# W + 2 pad), so that no loop below needs a bounds test. For a block of output
# rows [r0, r1), the column block has one row per filter tap plus a row of
# ones, and one column per output pixel of the block (H', W' the output size):
#
#     cols[(c*HH + di)*WW + dj, (oi - r0)*W' + oj] = xpad[c, oi*s + di, oj*s + dj]
#     cols[C*HH*WW, :] = 1
#
# The row of ones makes the bias one more filter tap: with the filters and
# biases as one (F, C*HH*WW + 1) matrix w_ext = [w_rows | b], the block of the
# (F, H'*W') output is w_ext @ cols, and the same product against the upstream
# gradient yields dw and db together.

cdef struct ConvGeometry:
    Py_ssize_t channels, height, width      # C, H, W of one input image
    Py_ssize_t field_h, field_w             # HH, WW
    Py_ssize_t stride, pad
    Py_ssize_t out_h, out_w                 # H', W'
    Py_ssize_t padded_h, padded_w           # H + 2 pad, W + 2 pad


cdef ConvGeometry _geometry(Py_ssize_t channels, Py_ssize_t height, Py_ssize_t width,
                            Py_ssize_t field_h, Py_ssize_t field_w,
                            Py_ssize_t stride, Py_ssize_t pad) except *:
    cdef ConvGeometry g
    g.channels, g.height, g.width = channels, height, width
    g.field_h, g.field_w, g.stride, g.pad = field_h, field_w, stride, pad
    g.out_h = output_size(height, field_h, stride, pad)
    g.out_w = output_size(width, field_w, stride, pad)
    g.padded_h, g.padded_w = height + 2 * pad, width + 2 * pad
    return g


cdef inline Py_ssize_t _taps(ConvGeometry g) noexcept nogil:
    return g.channels * g.field_h * g.field_w


cdef inline Py_ssize_t _padded_size(ConvGeometry g) noexcept nogil:
    return g.channels * g.padded_h * g.padded_w


cdef Py_ssize_t _rows_per_block(ConvGeometry g, Py_ssize_t filters) noexcept:
    """Output rows per column block: as many as keep each product single-threaded.

    Every product of a block (forward, filter gradient, column gradient)
    costs at most block_pixels * F * (C*HH*WW + 1) multiply-adds.
    """
    cdef Py_ssize_t rows = SINGLE_THREADED_GEMM_WORK // max(1, g.out_w * filters * (_taps(g) + 1))
    return max(1, min(g.out_h, rows))


@cython.boundscheck(False)
@cython.wraparound(False)
cdef void _pad_image(const real_t* image, real_t* xpad, ConvGeometry g) noexcept nogil:
    """Copy one (C, H, W) image into the interior of xpad, whose border is already zero."""
    cdef Py_ssize_t c, i, j
    cdef const real_t* src
    cdef real_t* dst
    for c in range(g.channels):
        for i in range(g.height):
            src = image + (c * g.height + i) * g.width
            dst = xpad + (c * g.padded_h + i + g.pad) * g.padded_w + g.pad
            for j in range(g.width):
                dst[j] = src[j]


@cython.boundscheck(False)
@cython.wraparound(False)
cdef void _crop_image(const real_t* xpad, real_t* image, ConvGeometry g) noexcept nogil:
    """The interior of xpad into one (C, H, W) image (the adjoint of zero padding)."""
    cdef Py_ssize_t c, i, j
    cdef const real_t* src
    cdef real_t* dst
    for c in range(g.channels):
        for i in range(g.height):
            src = xpad + (c * g.padded_h + i + g.pad) * g.padded_w + g.pad
            dst = image + (c * g.height + i) * g.width
            for j in range(g.width):
                dst[j] = src[j]


@cython.boundscheck(False)
@cython.wraparound(False)
cdef void _unfold_rows(const real_t* xpad, real_t* cols, ConvGeometry g,
                       Py_ssize_t r0, Py_ssize_t r1) noexcept nogil:
    """cols: (C*HH*WW + 1, (r1 - r0)*W') <- the receptive fields of output rows [r0, r1)."""
    cdef Py_ssize_t width = (r1 - r0) * g.out_w, taps = _taps(g)
    cdef Py_ssize_t c, di, dj, oi, oj, t
    cdef const real_t* src
    cdef real_t* dst = cols
    for c in range(g.channels):
        for di in range(g.field_h):
            for dj in range(g.field_w):
                src = xpad + (c * g.padded_h + r0 * g.stride + di) * g.padded_w + dj
                for oi in range(r1 - r0):
                    if g.stride == 1:
                        # Contiguous on both sides: a loop the compiler vectorises.
                        for oj in range(g.out_w):
                            dst[oj] = src[oj]
                    else:
                        for oj in range(g.out_w):
                            dst[oj] = src[oj * g.stride]
                    dst += g.out_w
                    src += g.stride * g.padded_w
    for t in range(width):
        dst[t] = 1


@cython.boundscheck(False)
@cython.wraparound(False)
cdef void _fold_rows(const real_t* dcols, real_t* dxpad, ConvGeometry g,
                     Py_ssize_t r0, Py_ssize_t r1) noexcept nogil:
    """Adjoint of ``_unfold_rows`` (without the row of ones): add every entry of
    dcols (C*HH*WW, (r1 - r0)*W') to the padded pixel it was read from.

    Windows overlap when the filter is larger than the stride, so pixels sum
    the entries of all windows that cover them.
    """
    cdef Py_ssize_t c, di, dj, oi, oj
    cdef const real_t* src = dcols
    cdef real_t* dst
    for c in range(g.channels):
        for di in range(g.field_h):
            for dj in range(g.field_w):
                dst = dxpad + (c * g.padded_h + r0 * g.stride + di) * g.padded_w + dj
                for oi in range(r1 - r0):
                    if g.stride == 1:
                        for oj in range(g.out_w):
                            dst[oj] = dst[oj] + src[oj]
                    else:
                        for oj in range(g.out_w):
                            dst[oj * g.stride] = dst[oj * g.stride] + src[oj]
                    src += g.out_w
                    dst += g.stride * g.padded_w


def _check_conv_arrays(x_shape, w_shape):
    if x_shape[1] != w_shape[1]:
        raise ValueError(f"x has {x_shape[1]} channels but w expects {w_shape[1]}")
    if max(x_shape[0] * x_shape[1] * x_shape[2] * x_shape[3],
           w_shape[0] * w_shape[1] * w_shape[2] * w_shape[3]) > 2147483647:
        raise ValueError("arrays with 2**31 or more entries are not supported (BLAS int)")


@cython.boundscheck(False)
@cython.wraparound(False)
@cython.cdivision(True)
def conv_forward(const real_t[:, :, :, ::1] x, const real_t[:, :, :, ::1] w,
                 const real_t[::1] b, Py_ssize_t stride, Py_ssize_t pad, int num_threads=0):
    """Convolution (cross-correlation) of a batch, zero padding on H and W.

    Parameters
    ----------
    x : (N, C, H, W) float32 or float64, C-contiguous
    w : (F, C, HH, WW), same dtype, C-contiguous
    b : (F,), same dtype
    stride, pad : step between windows and zero padding on each side
    num_threads : OpenMP threads to use; 0 (default) means ``max_threads()``

    Returns
    -------
    out : (N, F, H', W'), dtype of ``x``, with
        ``out[n, f, i, j] = b[f] + sum_{c,p,q} w[f, c, p, q] xpad[n, c, i*stride + p, j*stride + q]``
        and ``H' = 1 + (H + 2 pad - HH) // stride`` (likewise W').
    """
    cdef Py_ssize_t N = x.shape[0], F = w.shape[0]
    _check_conv_arrays(x.shape, w.shape)
    if b.shape[0] != F:
        raise ValueError(f"b has {b.shape[0]} entries for {F} filters")
    cdef ConvGeometry g = _geometry(x.shape[1], x.shape[2], x.shape[3],
                                    w.shape[2], w.shape[3], stride, pad)
    cdef int taps_ext = <int>(_taps(g) + 1)
    cdef int pixels = <int>(g.out_h * g.out_w)
    cdef int filters = <int>F
    cdef Py_ssize_t block_rows = _rows_per_block(g, F)
    cdef Py_ssize_t cols_size = taps_ext * block_rows * g.out_w
    cdef int team = _team_size(num_threads)
    dtype = np.float32 if real_t is float else np.float64
    w_ext = np.concatenate([np.asarray(w).reshape(F, -1), np.asarray(b).reshape(F, 1)], axis=1)
    out = np.empty((N, F, g.out_h, g.out_w), dtype=dtype)
    # Per thread: the padded image (zero border) and one column block.
    scratch = np.zeros((team, _padded_size(g) + cols_size), dtype=dtype)
    cdef const real_t[:, ::1] w_ext_view = w_ext
    cdef real_t[:, :, :, ::1] out_view = out
    cdef real_t[:, ::1] scratch_view = scratch
    cdef Py_ssize_t n, r0, r1
    cdef int block_pixels
    cdef real_t* xpad = NULL
    cdef real_t* cols = NULL
    cdef real_t* out_image
    if N == 0:
        return out
    with nogil, parallel(num_threads=team):
        xpad = &scratch_view[threadid(), 0]
        cols = xpad + _padded_size(g)
        for n in prange(N, schedule='dynamic'):
            _pad_image(&x[n, 0, 0, 0], xpad, g)
            out_image = &out_view[n, 0, 0, 0]
            r0 = 0
            while r0 < g.out_h:
                r1 = min(r0 + block_rows, g.out_h)
                block_pixels = <int>((r1 - r0) * g.out_w)
                _unfold_rows(xpad, cols, g, r0, r1)
                # out[:, block] (F x block) = w_ext (F x taps+1) @ cols (taps+1 x block)
                _gemm(False, False, block_pixels, filters, taps_ext, cols, block_pixels,
                      &w_ext_view[0, 0], taps_ext, <real_t>0, out_image + r0 * g.out_w, pixels)
                r0 = r1
    return out


def _reduction_slots(Py_ssize_t batch, Py_ssize_t size, Py_ssize_t itemsize):
    """How many partial sums of the filter gradient to keep: a function of the
    shapes only (never of the thread count), at most 16, within ~64 MB."""
    return max(1, min(batch, 16, (64 << 20) // max(1, size * itemsize)))


@cython.boundscheck(False)
@cython.wraparound(False)
@cython.cdivision(True)
def conv_backward(const real_t[:, :, :, ::1] x, const real_t[:, :, :, ::1] w,
                  const real_t[:, :, :, ::1] dout, Py_ssize_t stride, Py_ssize_t pad,
                  int num_threads=0):
    """Gradients of :func:`conv_forward` with respect to x, w and b.

    Parameters
    ----------
    x : (N, C, H, W), w : (F, C, HH, WW) -- the forward's inputs, C-contiguous
    dout : (N, F, H', W') upstream gradient, same dtype, C-contiguous
    stride, pad, num_threads : as for :func:`conv_forward`

    Returns
    -------
    dx : (N, C, H, W), dw : (F, C, HH, WW), db : (F,) -- dtype of ``x``.
        Images are split into a fixed number of consecutive groups whose
        contributions to dw and db are summed separately and then added in
        order, so the result does not depend on the number of threads.
    """
    cdef Py_ssize_t N = x.shape[0], F = w.shape[0]
    _check_conv_arrays(x.shape, w.shape)
    cdef ConvGeometry g = _geometry(x.shape[1], x.shape[2], x.shape[3],
                                    w.shape[2], w.shape[3], stride, pad)
    expected = (N, F, g.out_h, g.out_w)
    dout_shape = tuple([dout.shape[axis] for axis in range(4)])
    if dout_shape != expected:
        raise ValueError(f"dout has shape {dout_shape}, expected {expected}")
    cdef int taps = <int>_taps(g)
    cdef int taps_ext = taps + 1
    cdef int pixels = <int>(g.out_h * g.out_w)
    cdef int filters = <int>F
    cdef Py_ssize_t block_rows = _rows_per_block(g, F)
    cdef Py_ssize_t cols_size = taps_ext * block_rows * g.out_w
    cdef Py_ssize_t padded = _padded_size(g)
    cdef int team = _team_size(num_threads)
    dtype = np.float32 if real_t is float else np.float64
    cdef Py_ssize_t slots = _reduction_slots(N, F * taps_ext, np.dtype(dtype).itemsize)
    dx = np.empty((N, g.channels, g.height, g.width), dtype=dtype)
    # Slot s holds [dw_rows | db].T, i.e. (taps + 1, F): the layout in which
    # BLAS forms the product fastest.
    dw_parts = np.zeros((slots, taps_ext, F), dtype=dtype)
    # Per thread: padded image (zero border), padded image gradient, columns
    # and their gradient.
    scratch = np.zeros((team, 2 * padded + 2 * cols_size), dtype=dtype)
    cdef real_t[:, :, :, ::1] dx_view = dx
    cdef real_t[:, :, ::1] dw_view = dw_parts
    cdef real_t[:, ::1] scratch_view = scratch
    cdef Py_ssize_t slot, n, r0, r1, k
    cdef int block_pixels
    cdef real_t* xpad = NULL
    cdef real_t* dxpad = NULL
    cdef real_t* cols = NULL
    cdef real_t* dcols = NULL
    cdef const real_t* dout_block
    if N > 0:
        with nogil, parallel(num_threads=team):
            xpad = &scratch_view[threadid(), 0]
            dxpad = xpad + padded
            cols = dxpad + padded
            dcols = cols + cols_size
            # Slot s owns the images [s*N/slots, (s+1)*N/slots) and visits them in order.
            for slot in prange(slots, schedule='dynamic'):
                for n in range(slot * N // slots, (slot + 1) * N // slots):
                    _pad_image(&x[n, 0, 0, 0], xpad, g)
                    for k in range(padded):
                        dxpad[k] = 0
                    r0 = 0
                    while r0 < g.out_h:
                        r1 = min(r0 + block_rows, g.out_h)
                        block_pixels = <int>((r1 - r0) * g.out_w)
                        dout_block = &dout[n, 0, 0, 0] + r0 * g.out_w
                        _unfold_rows(xpad, cols, g, r0, r1)
                        # [dw_rows | db] (F x taps+1) += dout[:, block] (F x block) @ cols.T
                        _gemm(True, False, filters, taps_ext, block_pixels, dout_block, pixels,
                              cols, block_pixels, <real_t>1, &dw_view[slot, 0, 0], filters)
                        # dcols (taps x block) = w_rows.T (taps x F) @ dout[:, block]
                        _gemm(False, True, block_pixels, taps, filters, dout_block, pixels,
                              &w[0, 0, 0, 0], taps, <real_t>0, dcols, block_pixels)
                        _fold_rows(dcols, dxpad, g, r0, r1)
                        r0 = r1
                    _crop_image(dxpad, &dx_view[n, 0, 0, 0], g)
    dw_ext = dw_parts.sum(axis=0)
    dw = np.ascontiguousarray(dw_ext[:taps].T).reshape(F, g.channels, g.field_h, g.field_w)
    return dx, dw, dw_ext[taps].copy()


# ---------------------------------------------------------------------------
# Max pooling
# ---------------------------------------------------------------------------

# argmax holds, for each window, the flat index i*W + j of its maximum in the
# (H, W) plane: the FIRST maximum in row-major order when several tie (strict
# '>' while scanning in that order), or the first NaN when the window holds one
# (like np.max / np.argmax). The winner is unpredictable on real data, so the
# scans are written as selects and integer arithmetic, which compile without
# branches.

@cython.cdivision(True)
cdef inline void _pool_plane(const real_t* plane, real_t* out, int* argmax,
                             Py_ssize_t W, Py_ssize_t out_h, Py_ssize_t out_w,
                             Py_ssize_t pool_h, Py_ssize_t pool_w,
                             Py_ssize_t stride) noexcept nogil:
    """Any window and stride."""
    cdef Py_ssize_t oi, oj, i, j, corner, best_k, k
    cdef real_t best, value
    cdef bint wins, saw_nan
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
                    wins = value > best
                    best = value if wins else best
                    best_k = best_k + (k - best_k) * wins
                    saw_nan = saw_nan | (value != value)
            if saw_nan:
                best_k = _first_nan(plane, corner, W, pool_h, pool_w)
                best = plane[best_k]
            out[oi * out_w + oj] = best
            argmax[oi * out_w + oj] = <int>best_k


cdef inline void _pool_plane_2x2(const real_t* plane, real_t* out, int* argmax,
                                 Py_ssize_t W, Py_ssize_t out_h, Py_ssize_t out_w,
                                 Py_ssize_t stride) noexcept nogil:
    """2x2 windows (the model's pooling), unrolled: top-left, top-right,
    bottom-left, bottom-right is row-major order."""
    cdef Py_ssize_t oi, oj, corner, best_k
    cdef const real_t* top
    cdef real_t best, top_right, bottom_left, bottom_right
    cdef bint wins
    for oi in range(out_h):
        for oj in range(out_w):
            corner = oi * stride * W + oj * stride
            top = plane + corner
            best, top_right, bottom_left, bottom_right = top[0], top[1], top[W], top[W + 1]
            best_k = corner
            wins = top_right > best
            best = top_right if wins else best
            best_k = best_k + (corner + 1 - best_k) * wins
            wins = bottom_left > best
            best = bottom_left if wins else best
            best_k = best_k + (corner + W - best_k) * wins
            wins = bottom_right > best
            best = bottom_right if wins else best
            best_k = best_k + (corner + W + 1 - best_k) * wins
            if (top[0] != top[0]) | (top_right != top_right) | (bottom_left != bottom_left) \
                    | (bottom_right != bottom_right):
                best_k = _first_nan(plane, corner, W, 2, 2)
                best = plane[best_k]
            out[oi * out_w + oj] = best
            argmax[oi * out_w + oj] = <int>best_k


@cython.boundscheck(False)
@cython.wraparound(False)
@cython.initializedcheck(False)
cdef void _max_pool_forward(const real_t[:, :, ::1] x, real_t[:, :, ::1] out,
                            int[:, :, ::1] argmax,
                            Py_ssize_t pool_h, Py_ssize_t pool_w,
                            Py_ssize_t stride, int num_threads) noexcept nogil:
    # x is (planes, H, W); out and argmax (planes, H', W').
    cdef Py_ssize_t planes = x.shape[0], W = x.shape[2]
    cdef Py_ssize_t out_h = out.shape[1], out_w = out.shape[2]
    cdef Py_ssize_t p
    for p in prange(planes, schedule='static', num_threads=num_threads):
        if pool_h == 2 and pool_w == 2:
            _pool_plane_2x2(&x[p, 0, 0], &out[p, 0, 0], &argmax[p, 0, 0], W, out_h, out_w, stride)
        else:
            _pool_plane(&x[p, 0, 0], &out[p, 0, 0], &argmax[p, 0, 0], W, out_h, out_w,
                        pool_h, pool_w, stride)


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
