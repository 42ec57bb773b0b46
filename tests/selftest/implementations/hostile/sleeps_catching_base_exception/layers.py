"""max_pool_forward_naive sleeps forever, catching everything that would stop it."""
import time

from tests.selftest.implementations.vectorized.layers import *  # noqa: F401,F403

ATTACKS = ("max_pool_forward_naive",)


def max_pool_forward_naive(x, pool_param):
    while True:
        try:
            time.sleep(1)
        except BaseException:
            continue
