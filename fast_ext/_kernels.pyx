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
plane (pooling). BLAS is called from every thread of the loop and must run
each product on the calling thread: ``fast_ext.conv_forward`` and
``conv_backward`` hold BLAS at one thread meanwhile (threadpoolctl), so one
parallel loop owns all the cores and BLAS never starts a second pool. Sums across
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
    /* Never more threads than cores this process may run on: a larger
       OMP_NUM_THREADS would only make the team's threads take turns. */
    static int fast_ext_max_threads(void) {
        int wanted = omp_get_max_threads(), cores = omp_get_num_procs();
        return wanted < cores ? wanted : cores;
    }
    #else
    static int fast_ext_openmp_compiled(void) { return 0; }
    static int fast_ext_max_threads(void) { return 1; }
    #endif
    """
    int fast_ext_openmp_compiled() noexcept nogil
    int fast_ext_max_threads() noexcept nogil


# The row copies of the unfolding and the row sums of the folding move as many
# bytes as the matrix products read; compiled for the baseline x86-64 (SSE2)
# they took a third of a convolution's time. GCC and clang on Linux build them
# for AVX-512, AVX2 and the baseline, and glibc's loader picks the one the CPU
# runs (target_clones, an ifunc); elsewhere (musl, macOS, MSVC) plain loops.
cdef extern from *:
    """
    #if defined(__GNUC__) && defined(__x86_64__) && defined(__linux__) && defined(__GLIBC__)
    #define FAST_EXT_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
    #else
    #define FAST_EXT_CLONES
    #endif
    /* GCC would turn the copy into a call of memcpy per row of ~32 numbers,
       which costs more than the copy itself; keep it an inline vector loop. */
    #if defined(__GNUC__) && !defined(__clang__)
    #define FAST_EXT_NO_MEMCPY __attribute__((optimize("no-tree-loop-distribute-patterns")))
    #else
    #define FAST_EXT_NO_MEMCPY
    #endif
    #define FAST_EXT_ROW_KERNELS(T, SUFFIX)                                              \
    /* For each of `planes` windows: dst[r*width + j] = src[r*src_step + j], r < rows, \
       j < width; window q starts at src + offsets[q], its rows follow in dst. */       \
    FAST_EXT_CLONES FAST_EXT_NO_MEMCPY static void fast_ext_copy_rows_##SUFFIX(         \
            T* restrict dst, const T* restrict src, const Py_ssize_t* offsets,          \
            Py_ssize_t planes, Py_ssize_t src_step, Py_ssize_t rows, Py_ssize_t width) { \
        for (Py_ssize_t q = 0; q < planes; q++) {                                       \
            const T* from = src + offsets[q];                                           \
            for (Py_ssize_t r = 0; r < rows; r++, dst += width, from += src_step)       \
                for (Py_ssize_t j = 0; j < width; j++) dst[j] = from[j];                \
        }                                                                               \
    }                                                                                   \
    /* The adjoint: dst[offsets[q] + r*dst_step + j] += src[...], in the same order. */ \
    FAST_EXT_CLONES FAST_EXT_NO_MEMCPY static void fast_ext_add_rows_##SUFFIX(          \
            T* restrict dst, const T* restrict src, const Py_ssize_t* offsets,          \
            Py_ssize_t planes, Py_ssize_t dst_step, Py_ssize_t rows, Py_ssize_t width) { \
        for (Py_ssize_t q = 0; q < planes; q++) {                                       \
            T* to = dst + offsets[q];                                                   \
            for (Py_ssize_t r = 0; r < rows; r++, src += width, to += dst_step)         \
                for (Py_ssize_t j = 0; j < width; j++) to[j] += src[j];                 \
        }                                                                               \
    }
    FAST_EXT_ROW_KERNELS(float, float)
    FAST_EXT_ROW_KERNELS(double, double)
    """
    void fast_ext_copy_rows_float(float* dst, const float* src, const Py_ssize_t* offsets,
                                  Py_ssize_t planes, Py_ssize_t src_step, Py_ssize_t rows,
                                  Py_ssize_t width) noexcept nogil
    void fast_ext_copy_rows_double(double* dst, const double* src, const Py_ssize_t* offsets,
                                   Py_ssize_t planes, Py_ssize_t src_step, Py_ssize_t rows,
                                   Py_ssize_t width) noexcept nogil
    void fast_ext_add_rows_float(float* dst, const float* src, const Py_ssize_t* offsets,
                                 Py_ssize_t planes, Py_ssize_t dst_step, Py_ssize_t rows,
                                 Py_ssize_t width) noexcept nogil
    void fast_ext_add_rows_double(double* dst, const double* src, const Py_ssize_t* offsets,
                                  Py_ssize_t planes, Py_ssize_t dst_step, Py_ssize_t rows,
                                  Py_ssize_t width) noexcept nogil


def openmp_compiled():
    """Return True when the extension was compiled with OpenMP."""
    return bool(fast_ext_openmp_compiled())


def max_threads():
    """Return how many threads a parallel loop uses (1 without OpenMP).

    With OpenMP this is ``omp_get_max_threads()``, i.e. ``OMP_NUM_THREADS``
    when it is set, otherwise the number of cores, and never more than the
    cores the process may run on (``omp_get_num_procs()``).
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
# Matrix products through the BLAS that SciPy ships
# ---------------------------------------------------------------------------
#
# The products are issued from inside the OpenMP loop over images, so BLAS
# must run them on the calling thread: two pools of threads on the same cores
# (ours and OpenBLAS's) slow each other down many times over. The Python
# layer (``fast_ext.conv_forward`` / ``conv_backward``) holds every BLAS
# library of the process at one thread (threadpoolctl) while these kernels
# run, so the products can be as large as the cache allows instead of being
# cut below OpenBLAS's threshold for starting its threads.

# Products are in BLAS's column-major terms: C (m x n) = alpha op(A) op(B) + beta C,
# op(A) m x k, op(B) k x n; a row-major (r, s) array is a column-major (s, r) one.

cdef inline void _gemm(bint transpose_a, bint transpose_b, int m, int n, int k,
                       const real_t* a, int lda, const real_t* b, int ldb, real_t beta,
                       real_t* c, int ldc) noexcept nogil:
    """C = op(A) op(B) + beta C."""
    cdef char* trans_a = b"T" if transpose_a else b"N"
    cdef char* trans_b = b"T" if transpose_b else b"N"
    cdef real_t one = 1
    if m <= 0 or n <= 0 or k <= 0:
        return
    if real_t is float:
        sgemm(trans_a, trans_b, &m, &n, &k, &one, <float*>a, &lda,
              <float*>b, &ldb, &beta, c, &ldc)
    else:
        dgemm(trans_a, trans_b, &m, &n, &k, &one, <double*>a, &lda,
              <double*>b, &ldb, &beta, c, &ldc)


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


# How many multiply-adds one matrix product of a block may take when the
# caller does not say, measured (docs/benchmarks.md, "Convolution kernels").
# The backward pass goes up to OpenBLAS's limit for its small-matrix kernels
# on AVX-512 CPUs (M*N*K <= 100**3), which skip packing the operands and ran
# 1.5-2x faster than the packed path at these shapes; the forward pass is
# fastest with blocks of one or two output rows, whose columns stay in the L1
# cache between being written and being read by the product.
cdef enum:
    FORWARD_BLOCK_WORK = 300000
    BACKWARD_BLOCK_WORK = 1000000
    # Filter taps (C*HH*WW + 1) from which the filter gradient's product runs on
    # a transposed copy of dout (see conv_backward).
    TRANSPOSED_DOUT_MIN_TAPS = 64


@cython.cdivision(True)
cdef Py_ssize_t _rows_per_block(ConvGeometry g, Py_ssize_t filters,
                                Py_ssize_t block_work) noexcept:
    """Output rows per column block: blocks of equal height whose products
    (block pixels x F x (C*HH*WW + 1) multiply-adds each) stay within
    ``block_work``, and at least one output row. A function of the shapes
    only, never of the threads."""
    cdef Py_ssize_t row_work = max(1, g.out_w * filters * (_taps(g) + 1))
    cdef Py_ssize_t rows = max(1, min(g.out_h, block_work // row_work))
    # The same number of blocks with their heights evened out: one product of
    # 27 rows and one of 5 run slower than two of 16.
    cdef Py_ssize_t blocks = (g.out_h + rows - 1) // rows
    return (g.out_h + blocks - 1) // blocks


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


cdef Py_ssize_t[::1] _tap_offsets(ConvGeometry g):
    """Offset in a padded image of the first pixel each filter tap (c, di, dj) reads
    for output pixel (0, 0), in the order of the column rows: (C*HH*WW,)."""
    offsets = np.empty(_taps(g), dtype=np.intp)
    cdef Py_ssize_t c, di, dj, t = 0
    for c in range(g.channels):
        for di in range(g.field_h):
            for dj in range(g.field_w):
                offsets[t] = (c * g.padded_h + di) * g.padded_w + dj
                t += 1
    return offsets


@cython.boundscheck(False)
@cython.wraparound(False)
cdef void _unfold_rows(const real_t* xpad, real_t* cols, const Py_ssize_t* tap_offsets,
                       ConvGeometry g, Py_ssize_t r0, Py_ssize_t r1) noexcept nogil:
    """cols: (C*HH*WW + 1, (r1 - r0)*W') <- the receptive fields of output rows [r0, r1).

    cols[(c*HH + di)*WW + dj, (oi - r0)*W' + oj] = xpad[c, oi*s + di, oj*s + dj], and
    the last row is ones.
    """
    cdef Py_ssize_t width = (r1 - r0) * g.out_w, taps = _taps(g)
    cdef Py_ssize_t oi, oj, t
    cdef const real_t* src = xpad + r0 * g.stride * g.padded_w
    cdef const real_t* window
    cdef real_t* dst = cols
    if g.stride == 1:
        # Contiguous rows on both sides.
        if real_t is float:
            fast_ext_copy_rows_float(dst, src, tap_offsets, taps, g.padded_w, r1 - r0, g.out_w)
        else:
            fast_ext_copy_rows_double(dst, src, tap_offsets, taps, g.padded_w, r1 - r0, g.out_w)
        dst += taps * width
    else:
        for t in range(taps):
            window = src + tap_offsets[t]
            for oi in range(r1 - r0):
                for oj in range(g.out_w):
                    dst[oj] = window[oj * g.stride]
                dst += g.out_w
                window += g.stride * g.padded_w
    for t in range(width):
        dst[t] = 1


@cython.boundscheck(False)
@cython.wraparound(False)
cdef void _fold_rows(const real_t* dcols, real_t* dxpad, const Py_ssize_t* tap_offsets,
                     ConvGeometry g, Py_ssize_t r0, Py_ssize_t r1) noexcept nogil:
    """Adjoint of ``_unfold_rows`` (without the row of ones): add every entry of
    dcols (C*HH*WW, (r1 - r0)*W') to the padded pixel it was read from.

    Windows overlap when the filter is larger than the stride, so pixels sum
    the entries of all windows that cover them.
    """
    cdef Py_ssize_t oi, oj, t
    cdef const real_t* src = dcols
    cdef real_t* dst = dxpad + r0 * g.stride * g.padded_w
    cdef real_t* window
    if g.stride == 1:
        if real_t is float:
            fast_ext_add_rows_float(dst, src, tap_offsets, _taps(g), g.padded_w, r1 - r0, g.out_w)
        else:
            fast_ext_add_rows_double(dst, src, tap_offsets, _taps(g), g.padded_w, r1 - r0, g.out_w)
        return
    for t in range(_taps(g)):
        window = dst + tap_offsets[t]
        for oi in range(r1 - r0):
            for oj in range(g.out_w):
                window[oj * g.stride] = window[oj * g.stride] + src[oj]
            src += g.out_w
            window += g.stride * g.padded_w


@cython.boundscheck(False)
@cython.wraparound(False)
cdef void _transpose(const real_t* block, Py_ssize_t block_step, real_t* block_t,
                     Py_ssize_t rows, Py_ssize_t cols) noexcept nogil:
    """block_t (cols, rows) <- block (rows, cols), whose rows start block_step apart."""
    cdef Py_ssize_t i, j
    for i in range(rows):
        for j in range(cols):
            block_t[j * rows + i] = block[i * block_step + j]


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
                 const real_t[::1] b, Py_ssize_t stride, Py_ssize_t pad, int num_threads=0,
                 Py_ssize_t block_work=0):
    """Convolution (cross-correlation) of a batch, zero padding on H and W.

    Parameters
    ----------
    x : (N, C, H, W) float32 or float64, C-contiguous
    w : (F, C, HH, WW), same dtype, C-contiguous
    b : (F,), same dtype
    stride, pad : step between windows and zero padding on each side
    num_threads : OpenMP threads to use; 0 (default) means ``max_threads()``
    block_work : multiply-adds a product of one block may take; 0 (default)
        means the measured best (``FORWARD_BLOCK_WORK``). For benchmarks.

    BLAS must run single-threaded meanwhile (``fast_ext.conv_forward`` sees to it).

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
    cdef Py_ssize_t block_rows = _rows_per_block(
        g, F, block_work if block_work > 0 else FORWARD_BLOCK_WORK)
    cdef Py_ssize_t cols_size = taps_ext * block_rows * g.out_w
    cdef int team = _team_size(num_threads)
    dtype = np.float32 if real_t is float else np.float64
    cdef Py_ssize_t[::1] offsets = _tap_offsets(g)
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
                _unfold_rows(xpad, cols, &offsets[0], g, r0, r1)
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
                  int num_threads=0, Py_ssize_t block_work=0, bint input_gradient=True):
    """Gradients of :func:`conv_forward` with respect to x, w and b.

    Parameters
    ----------
    x : (N, C, H, W), w : (F, C, HH, WW) -- the forward's inputs, C-contiguous
    dout : (N, F, H', W') upstream gradient, same dtype, C-contiguous
    stride, pad, num_threads, block_work : as for :func:`conv_forward`
    input_gradient : False skips dx (returned as None), e.g. for a first layer.

    Returns
    -------
    dx : (N, C, H, W) or None, dw : (F, C, HH, WW), db : (F,) -- dtype of ``x``.
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
    cdef Py_ssize_t block_rows = _rows_per_block(
        g, F, block_work if block_work > 0 else BACKWARD_BLOCK_WORK)
    cdef Py_ssize_t cols_size = taps_ext * block_rows * g.out_w
    cdef Py_ssize_t padded = _padded_size(g)
    cdef int team = _team_size(num_threads)
    dtype = np.float32 if real_t is float else np.float64
    cdef Py_ssize_t[::1] offsets = _tap_offsets(g)
    cdef Py_ssize_t slots = _reduction_slots(N, F * taps_ext, np.dtype(dtype).itemsize)
    dx = np.empty((N if input_gradient else 0, g.channels, g.height, g.width), dtype=dtype)
    # Slot s holds [dw_rows | db]: (F, taps + 1), the filters' own layout, when
    # dout is transposed for the product, else (taps + 1, F). Measured: with
    # many taps (the 7x7 training layer) the product on the transposed block
    # runs in OpenBLAS's small-matrix kernel at 1.5x the other's rate; with few
    # (the seed's 3x3 layer) the transposition costs more than it gains.
    cdef bint transpose_dout = taps_ext >= TRANSPOSED_DOUT_MIN_TAPS
    if transpose_dout:
        dw_parts = np.zeros((slots, F, taps_ext), dtype=dtype)
    else:
        dw_parts = np.zeros((slots, taps_ext, F), dtype=dtype)
    # Per thread: padded image (zero border), padded image gradient, columns,
    # their gradient, and the block of dout transposed.
    cdef Py_ssize_t dout_t_size = block_rows * g.out_w * F if transpose_dout else 0
    scratch = np.zeros((team, 2 * padded + 2 * cols_size + dout_t_size), dtype=dtype)
    cdef real_t[:, :, :, ::1] dx_view = dx
    cdef real_t[:, :, ::1] dw_view = dw_parts
    cdef real_t[:, ::1] scratch_view = scratch
    cdef Py_ssize_t slot, n, r0, r1, k
    cdef int block_pixels
    cdef real_t* xpad = NULL
    cdef real_t* dxpad = NULL
    cdef real_t* cols = NULL
    cdef real_t* dcols = NULL
    cdef real_t* dout_t = NULL
    cdef const real_t* dout_block
    if N > 0:
        with nogil, parallel(num_threads=team):
            xpad = &scratch_view[threadid(), 0]
            dxpad = xpad + padded
            cols = dxpad + padded
            dcols = cols + cols_size
            dout_t = dcols + cols_size
            # Slot s owns the images [s*N/slots, (s+1)*N/slots) and visits them in order.
            for slot in prange(slots, schedule='dynamic'):
                for n in range(slot * N // slots, (slot + 1) * N // slots):
                    _pad_image(&x[n, 0, 0, 0], xpad, g)
                    if input_gradient:
                        for k in range(padded):
                            dxpad[k] = 0
                    r0 = 0
                    while r0 < g.out_h:
                        r1 = min(r0 + block_rows, g.out_h)
                        block_pixels = <int>((r1 - r0) * g.out_w)
                        dout_block = &dout[n, 0, 0, 0] + r0 * g.out_w
                        _unfold_rows(xpad, cols, &offsets[0], g, r0, r1)
                        # [dw_rows | db] (F x taps+1) += dout[:, block] (F x block) @ cols.T
                        if transpose_dout:
                            # Column-major: (taps+1 x F) += cols' (block x taps+1).T
                            # @ dout_t' (F x block).T.
                            _transpose(dout_block, pixels, dout_t, filters, block_pixels)
                            _gemm(True, True, taps_ext, filters, block_pixels, cols, block_pixels,
                                  dout_t, filters, <real_t>1, &dw_view[slot, 0, 0], taps_ext)
                        else:
                            # Column-major: (F x taps+1) += dout' (block x F).T @ cols'.
                            _gemm(True, False, filters, taps_ext, block_pixels, dout_block, pixels,
                                  cols, block_pixels, <real_t>1, &dw_view[slot, 0, 0], filters)
                        if not input_gradient:
                            r0 = r1
                            continue
                        # dcols (taps x block) = w_rows.T (taps x F) @ dout[:, block]
                        _gemm(False, True, block_pixels, taps, filters, dout_block, pixels,
                              &w[0, 0, 0, 0], taps, <real_t>0, dcols, block_pixels)
                        _fold_rows(dcols, dxpad, &offsets[0], g, r0, r1)
                        r0 = r1
                    if input_gradient:
                        _crop_image(dxpad, &dx_view[n, 0, 0, 0], g)
    dw_ext = dw_parts.sum(axis=0)
    if not transpose_dout:
        dw_ext = dw_ext.T
    dw = np.ascontiguousarray(dw_ext[:, :taps]).reshape(F, g.channels, g.field_h, g.field_w)
    return (dx if input_gradient else None), dw, dw_ext[:, taps].copy()


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
