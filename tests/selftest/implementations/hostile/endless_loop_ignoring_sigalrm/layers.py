"""conv_forward_naive never returns: it ignores SIGALRM and swallows every exception."""
import signal

from tests.selftest.implementations.vectorized.layers import *  # noqa: F401,F403

ATTACKS = ("conv_forward_naive",)


def conv_forward_naive(x, w, b, conv_param):
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    while True:
        try:
            pass
        except BaseException:
            pass
