"""spatial_batchnorm_backward raises KeyboardInterrupt, which stops an unguarded pytest run."""
from tests.selftest.implementations.vectorized.layers import *  # noqa: F401,F403

ATTACKS = ("spatial_batchnorm_backward",)


def spatial_batchnorm_backward(dout, cache):
    raise KeyboardInterrupt
