"""The printed-values cheater's model: parameters of the right shapes, scores and gradients all zero."""
import numpy as np


class ThreeLayerConvNet:
    def __init__(self, input_dim=(3, 32, 32), num_filters=32, filter_size=7,
                 hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.0,
                 dtype=np.float32):
        channels, height, width = input_dim
        shapes = dict(W1=(num_filters, channels, filter_size, filter_size), b1=(num_filters,),
                      W2=(num_filters * (height // 2) * (width // 2), hidden_dim), b2=(hidden_dim,),
                      W3=(hidden_dim, num_classes), b3=(num_classes,))
        self.params = {name: np.zeros(shape, dtype=dtype) for name, shape in shapes.items()}
        self.reg = reg
        self.dtype = dtype

    def loss(self, X, y=None):
        scores = np.zeros((X.shape[0], self.params["b3"].shape[0]))
        if y is None:
            return scores
        return 0.0, {name: np.zeros_like(value) for name, value in self.params.items()}
