from tests.selftest.implementations.vectorized.classifiers.cnn import *  # noqa: F401,F403
