from tests.selftest.implementations.vectorized.layers import *  # noqa: F401,F403
