"""Layers of this mutant: the answer key's (the bug is in classifiers/cnn.py)."""
from answer_key.layers import *  # noqa: F401,F403
