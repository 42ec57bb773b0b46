"""ThreeLayerConvNet whose W2 has F * H * W rows, forgetting that the 2x2 pooling halves H and W
(F * H/2 * W/2 rows): the hidden affine layer cannot take the pooled activations.
"""
import numpy as np

from answer_key.classifiers.cnn import *  # noqa: F401,F403
from answer_key.classifiers.cnn import ThreeLayerConvNet as AnswerKeyConvNet

MUST_FAIL = ("ThreeLayerConvNet",)
MAY_FAIL = ()
HINT = "output_shape"


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
        self.params["b1"] = np.zeros(num_filters)
        self.params["W2"] = weight_scale * np.random.randn(num_filters * H * W, hidden_dim)
        self.params["b2"] = np.zeros(hidden_dim)
        self.params["W3"] = weight_scale * np.random.randn(hidden_dim, num_classes)
        self.params["b3"] = np.zeros(num_classes)
        for name, value in self.params.items():
            self.params[name] = value.astype(dtype)
