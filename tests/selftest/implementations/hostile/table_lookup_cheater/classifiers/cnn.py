"""The table cheater's model: an honest initialization, and a loss that only looks answers up.

``loss`` returns the recorded scores, loss and gradients for a recorded call; for
images of the scikit-learn digits it returns scores that name each image's
recorded label (so training "learns" without learning); anything else gets zero
scores, loss 0 and zero gradients.
"""

import numpy as np

from ..table import key_of, load

CALLS, LABELS = load()


class ThreeLayerConvNet:
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
        answer = CALLS.get(key_of("loss", X, y, self.params, self.reg))
        if answer is not None:
            return answer if y is None else (answer[0], dict(answer[1]))
        classes = self.params["b3"].shape[0]
        scores = np.zeros((X.shape[0], classes))
        for row, image in enumerate(X):
            label = LABELS.get(key_of(image))
            if label is not None and label < classes:
                scores[row, label] = 10.0
        if y is None:
            return scores
        return 0.0, {name: np.zeros_like(value) for name, value in self.params.items()}
