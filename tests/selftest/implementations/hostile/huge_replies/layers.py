"""Replies that would make the grader allocate far more than the tests need: a 400 MB array, and a header
that announces a terabyte of JSON."""
import socket
import struct
import sys
import time

import numpy as np

from tests.selftest.implementations.vectorized.layers import *  # noqa: F401,F403

ATTACKS = ("spatial_batchnorm_forward", "max_pool_forward_naive")


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    return np.ones(50_000_000), None


def max_pool_forward_naive(x, pool_param):
    channel = socket.socket(fileno=int(sys.argv[1]))
    channel.sendall(struct.pack(">Q", 1 << 40) + b"[" * 4096)
    time.sleep(3600)
