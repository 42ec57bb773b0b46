"""spatial_groupnorm_forward asks for far more memory than the machine has, 2 GiB at a time."""
import numpy as np

from tests.selftest.implementations.vectorized.layers import *  # noqa: F401,F403

ATTACKS = ("spatial_groupnorm_forward", "spatial_groupnorm_backward")


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    hoard = []
    while True:
        hoard.append(np.empty(1 << 28))
