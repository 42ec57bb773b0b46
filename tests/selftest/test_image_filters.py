"""Seed row 2 in numbers: what the grayscale and edge filters do to two real photos.

The fixture ``conv/image_filters`` holds two photos shipped with scikit-learn
(x (2, 3, 53, 64), values 0..255), a grayscale filter (0.3 R + 0.6 G + 0.1 B at
the centre tap), a horizontal Sobel filter on the blue channel, biases [0, 128],
stride 1, pad 1, and the frozen output. The notebook only shows these images;
here each output channel is checked against what the filter means.
"""

import numpy as np
import pytest

from convgrader.judging import fixtures

GRAY_WEIGHTS = np.array([0.3, 0.6, 0.1])
SOBEL_HORIZONTAL = np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]])
EDGE_OFFSET = 128.0


@pytest.fixture(scope="module")
def case():
    return fixtures.load("conv", "image_filters")


def inside_border(image):
    """The pixels whose 3x3 window lies fully inside the photo (no zero padding)."""
    return image[..., 1:-1, 1:-1]


def sobel_response(channel):
    """Correlation of (N, H, W) with the horizontal Sobel filter, at interior pixels: (N, H-2, W-2)."""
    rows, cols = channel.shape[1:]
    response = np.zeros((channel.shape[0], rows - 2, cols - 2))
    for p in range(3):
        for q in range(3):
            response += SOBEL_HORIZONTAL[p, q] * channel[:, p:p + rows - 2, q:q + cols - 2]
    return response


def test_inputs_are_the_two_photos_and_the_two_filters(case):
    x, w, b = case["x"], case["w"], case["b"]
    assert x.shape == (2, 3, 53, 64) and 0 <= x.min() and x.max() <= 255
    # Real photos, not noise: neighbouring pixels are strongly correlated.
    assert np.corrcoef(x[..., :-1].ravel(), x[..., 1:].ravel())[0, 1] > 0.8
    assert np.array_equal(w[0, :, 1, 1], GRAY_WEIGHTS) and np.count_nonzero(w[0]) == 3
    assert np.array_equal(w[1, 2], SOBEL_HORIZONTAL) and np.count_nonzero(w[1, :2]) == 0
    assert np.array_equal(b, [0.0, EDGE_OFFSET])
    assert case.param("conv_param") == {"stride": 1, "pad": 1}


def test_grayscale_channel_is_the_weighted_sum_of_colours(case):
    x, out = case["x"], case["out"]
    expected = np.tensordot(GRAY_WEIGHTS, x, axes=([0], [1]))
    # The filter only has a centre tap, so it is exact even at the border.
    np.testing.assert_allclose(out[:, 0], expected, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(inside_border(out[:, 0]), inside_border(expected), rtol=1e-12, atol=1e-9)


def test_edge_channel_is_the_sobel_response_of_blue_plus_128(case):
    x, out = case["x"], case["out"]
    expected = sobel_response(x[:, 2]) + EDGE_OFFSET
    np.testing.assert_allclose(inside_border(out[:, 1]), expected, rtol=1e-12, atol=1e-9)
    # Both photos have edges: the response is far from flat.
    assert np.abs(expected - EDGE_OFFSET).max() > 100


def test_answer_key_reproduces_the_frozen_output(case):
    from answer_key.layers import conv_forward_naive

    out, _ = conv_forward_naive(case["x"], case["w"], case["b"], case.param("conv_param"))
    assert out.shape == (2, 2, 53, 64)
    np.testing.assert_allclose(out, case["out"], rtol=1e-12, atol=1e-9)
