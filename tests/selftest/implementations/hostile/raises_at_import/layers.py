"""layers.py raises while it is imported: every layer's tests fail, the model's don't."""
from tests.selftest.implementations.vectorized.layers import *  # noqa: F401,F403

ATTACKS = ("conv_forward_naive", "conv_backward_naive", "max_pool_forward_naive", "max_pool_backward_naive",
           "spatial_batchnorm_forward", "spatial_batchnorm_backward", "spatial_groupnorm_forward",
           "spatial_groupnorm_backward")

raise RuntimeError("a module-level bug")
