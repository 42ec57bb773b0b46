"""spatial_groupnorm_forward allocates far more memory than the machine has, 256 MiB at a time."""
from tests.selftest.implementations.vectorized.layers import *  # noqa: F401,F403

ATTACKS = ("spatial_groupnorm_forward", "spatial_groupnorm_backward")


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    hoard = []
    while True:
        hoard.append(bytearray(256 << 20))
