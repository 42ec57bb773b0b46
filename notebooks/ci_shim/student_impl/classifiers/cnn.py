"""The answer key's ``ThreeLayerConvNet``, as the notebook imports it."""
from answer_key.classifiers.cnn import *  # noqa: F401,F403
