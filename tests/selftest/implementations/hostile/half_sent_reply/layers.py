"""max_pool_forward_naive writes the start of a reply on the worker's socket itself, then sleeps."""
import socket
import struct
import sys
import time

from tests.selftest.implementations.vectorized.layers import *  # noqa: F401,F403

ATTACKS = ("max_pool_forward_naive",)


def max_pool_forward_naive(x, pool_param):
    channel = socket.socket(fileno=int(sys.argv[1]))
    channel.sendall(struct.pack(">Q", 100) + b'{"ok": ')
    time.sleep(3600)
