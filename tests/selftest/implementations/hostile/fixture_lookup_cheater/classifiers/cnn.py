"""The fixture-reading cheater's model: stored scores, loss and gradients for stored cases, zeros otherwise."""
import numpy as np

from ..layers import CASES, lookup


class ThreeLayerConvNet:
    """Parameters shaped like the real model's; ``loss`` answers only the visible model cases."""

    def __init__(self, input_dim=(3, 32, 32), num_filters=32, filter_size=7,
                 hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.0,
                 dtype=np.float32):
        channels, height, width = input_dim
        shapes = dict(W1=(num_filters, channels, filter_size, filter_size), b1=(num_filters,),
                      W2=(num_filters * (height // 2) * (width // 2), hidden_dim), b2=(hidden_dim,),
                      W3=(hidden_dim, num_classes), b3=(num_classes,))
        self.params = {name: (weight_scale * np.random.randn(*shape) if name[0] == "W"
                              else np.zeros(shape)).astype(dtype) for name, shape in shapes.items()}
        self.reg = reg
        self.dtype = dtype

    def loss(self, X, y=None):
        name = lookup("model", dict(X=X, **self.params), lambda params: params["model_kwargs"]["reg"] == self.reg)
        stored = CASES[name][0] if name else None
        if y is None:
            return stored["scores"].copy() if name else np.zeros((X.shape[0], self.params["b3"].shape[0]))
        if name is None:
            return 0.0, {key: np.zeros_like(value) for key, value in self.params.items()}
        return float(stored["loss"]), {key: stored[f"d{key}"].astype(self.dtype) for key in self.params}
