"""max_pool_forward_naive kills the process that called it (the grader's pytest)."""
import os
import signal

from tests.selftest.implementations.vectorized.layers import *  # noqa: F401,F403

ATTACKS = ("max_pool_forward_naive",)


def max_pool_forward_naive(x, pool_param):
    os.kill(os.getppid(), signal.SIGKILL)
    return None, None
