"""Showing many small images (for example first-layer filters) at once."""

import math

import numpy as np


def visualize_grid(Xs, ubound=255.0, padding=1):
    """Tile images into one square-ish grid image.

    Each tile is rescaled on its own so that its minimum maps to 0 and its maximum
    to ``ubound`` (a constant tile becomes 0). Tiles fill the grid row by row;
    the padding between them and the unused cells are 0.

    Parameters
    ----------
    Xs : ndarray, (N, H, W, C)
    ubound : float
        Upper end of the output range.
    padding : int
        Pixels between neighbouring tiles.

    Returns
    -------
    grid : ndarray of float64, (G * H + (G - 1) * padding, G * W + (G - 1) * padding, C)
        with ``G = ceil(sqrt(N))``.
    """
    num_images, height, width, channels = Xs.shape
    grid_size = math.ceil(math.sqrt(num_images))
    grid_height = grid_size * height + (grid_size - 1) * padding
    grid_width = grid_size * width + (grid_size - 1) * padding
    grid = np.zeros((grid_height, grid_width, channels))

    for index, image in enumerate(Xs):
        row, col = divmod(index, grid_size)
        top = row * (height + padding)
        left = col * (width + padding)
        low, high = image.min(), image.max()
        span = high - low
        tile = (image - low) / span * ubound if span > 0 else np.zeros_like(image)
        grid[top:top + height, left:left + width] = tile
    return grid
