"""ThreeLayerConvNet that draws the weights with np.random.normal(0, weight_scale ** 2), taking
weight_scale for the variance: the standard deviation is weight_scale squared.
"""
import numpy as np

from answer_key.classifiers.cnn import *  # noqa: F401,F403
from answer_key.classifiers.cnn import ThreeLayerConvNet as AnswerKeyConvNet

MUST_FAIL = ("ThreeLayerConvNet",)
MAY_FAIL = ()
HINT = "scale"


class ThreeLayerConvNet(AnswerKeyConvNet):
    """The answer key's loss, with this mutant's initialization."""

    def __init__(self, input_dim=(3, 32, 32), num_filters=32, filter_size=7,
                 hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.0,
                 dtype=np.float32):
        C, H, W = input_dim
        self.reg = reg
        self.dtype = dtype
        self.params = {}
        self.params["W1"] = np.random.normal(0, weight_scale ** 2, (num_filters, C, filter_size, filter_size))
        self.params["b1"] = np.zeros(num_filters)
        self.params["W2"] = np.random.normal(0, weight_scale ** 2, (num_filters * (H // 2) * (W // 2), hidden_dim))
        self.params["b2"] = np.zeros(hidden_dim)
        self.params["W3"] = np.random.normal(0, weight_scale ** 2, (hidden_dim, num_classes))
        self.params["b3"] = np.zeros(num_classes)
        for name, value in self.params.items():
            self.params[name] = value.astype(dtype)
