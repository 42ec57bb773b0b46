"""spatial_batchnorm_forward crashes the interpreter with a segmentation fault, as a broken C extension would."""
import faulthandler

from tests.selftest.implementations.vectorized.layers import *  # noqa: F401,F403

ATTACKS = ("spatial_batchnorm_forward", "spatial_batchnorm_backward")


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    faulthandler.disable()  # so the crash is not turned into a traceback first
    faulthandler._sigsegv()  # CPython's own deliberate segfault, for tests like this one
