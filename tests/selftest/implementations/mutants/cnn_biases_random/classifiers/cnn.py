"""ThreeLayerConvNet that draws the biases like the weights (weight_scale * randn) instead of
starting them at zero.
"""
import numpy as np

from answer_key.classifiers.cnn import *  # noqa: F401,F403
from answer_key.classifiers.cnn import ThreeLayerConvNet as AnswerKeyConvNet

MUST_FAIL = ("ThreeLayerConvNet",)
MAY_FAIL = ()
HINT = "logic"


class ThreeLayerConvNet(AnswerKeyConvNet):
    """The answer key's loss, with this mutant's initialization."""

    def __init__(self, input_dim=(3, 32, 32), num_filters=32, filter_size=7,
                 hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.0,
                 dtype=np.float32):
        C, H, W = input_dim
        self.reg = reg
        self.dtype = dtype
        self.params = {}
        self.params["W1"] = weight_scale * np.random.randn(num_filters, C, filter_size, filter_size)
        self.params["b1"] = weight_scale * np.random.randn(num_filters)
        self.params["W2"] = weight_scale * np.random.randn(num_filters * (H // 2) * (W // 2), hidden_dim)
        self.params["b2"] = weight_scale * np.random.randn(hidden_dim)
        self.params["W3"] = weight_scale * np.random.randn(hidden_dim, num_classes)
        self.params["b3"] = weight_scale * np.random.randn(num_classes)
        for name, value in self.params.items():
            self.params[name] = value.astype(dtype)
