"""Answer key for ``ThreeLayerConvNet`` (``student_impl/classifiers/cnn.py`` in the skeleton)."""
import numpy as np

from reference.layer_utils import (
    affine_relu_backward,
    affine_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
)
from reference.layers import affine_backward, affine_forward, softmax_loss

# The 2x2 max pool of stride 2 halves H and W.
POOL_PARAM = {"pool_height": 2, "pool_width": 2, "stride": 2}


class ThreeLayerConvNet:
    """conv - relu - 2x2 max pool - affine - relu - affine - softmax.

    Works on minibatches of shape (N, C, H, W). The convolution has stride 1 and
    padding (filter_size - 1) // 2, so an odd filter_size keeps H and W; the pooling
    then gives (F, H // 2, W // 2).

    Attributes
    ----------
    params : dict of arrays, all of dtype `dtype`:
        'W1' : (F, C, filter_size, filter_size) convolution filters,
        'b1' : (F,),
        'W2' : (F * (H // 2) * (W // 2), hidden_dim) hidden affine layer,
        'b2' : (hidden_dim,),
        'W3' : (hidden_dim, num_classes) output affine layer,
        'b3' : (num_classes,).
    reg : L2 regularization strength.
    dtype : numpy dtype of the parameters, the input and the gradients.
    """

    def __init__(self, input_dim=(3, 32, 32), num_filters=32, filter_size=7,
                 hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.0,
                 dtype=np.float32):
        """Draw the weights and zero the biases.

        Parameters
        ----------
        input_dim : (C, H, W) of one input.
        num_filters : F, the number of convolution filters.
        filter_size : height and width of the filters (odd, to keep H and W).
        hidden_dim : size of the hidden affine layer.
        num_classes : number of scores produced.
        weight_scale : standard deviation of the weights, drawn as
            weight_scale * np.random.randn(...) in the order W1, W2, W3.
        reg : L2 regularization strength.
        dtype : dtype of every parameter (float64 for gradient checks).
        """
        C, H, W = input_dim
        pooled_size = num_filters * (H // 2) * (W // 2)
        self.reg = reg
        self.dtype = dtype
        self.params = {
            "W1": weight_scale * np.random.randn(num_filters, C, filter_size, filter_size),
            "b1": np.zeros(num_filters),
            "W2": weight_scale * np.random.randn(pooled_size, hidden_dim),
            "b2": np.zeros(hidden_dim),
            "W3": weight_scale * np.random.randn(hidden_dim, num_classes),
            "b3": np.zeros(num_classes),
        }
        for name, value in self.params.items():
            self.params[name] = value.astype(dtype)

    def loss(self, X, y=None):
        """Scores, or loss and gradients, for a minibatch.

        Parameters
        ----------
        X : (N, C, H, W) input, cast to `dtype`.
        y : (N,) integer labels in [0, num_classes), or None.

        Returns
        -------
        If y is None: scores, (N, num_classes).
        Else: (loss, grads) where
            loss = softmax data loss + 0.5 * reg * (sum W1**2 + sum W2**2 + sum W3**2),
            grads : dict with the keys of `params`, each of the shape and dtype of its
                parameter (the W gradients include reg * W).
        """
        X = X.astype(self.dtype)
        W1, b1 = self.params["W1"], self.params["b1"]
        W2, b2 = self.params["W2"], self.params["b2"]
        W3, b3 = self.params["W3"], self.params["b3"]
        filter_size = W1.shape[2]
        conv_param = {"stride": 1, "pad": (filter_size - 1) // 2}

        pooled, pool_cache = conv_relu_pool_forward(X, W1, b1, conv_param, POOL_PARAM)
        # The affine layers flatten each sample themselves: (N, F, H/2, W/2) -> (N, D).
        hidden, hidden_cache = affine_relu_forward(pooled, W2, b2)
        scores, scores_cache = affine_forward(hidden, W3, b3)
        if y is None:
            return scores

        data_loss, dscores = softmax_loss(scores, y)
        weights = {"W1": W1, "W2": W2, "W3": W3}
        # vdot sums the squares in one pass without a squared copy (16 MB for W2).
        reg_loss = 0.5 * self.reg * sum(np.vdot(Wk, Wk) for Wk in weights.values())

        grads = {}
        dhidden, grads["W3"], grads["b3"] = affine_backward(dscores, scores_cache)
        dpooled, grads["W2"], grads["b2"] = affine_relu_backward(dhidden, hidden_cache)
        # The input is the data: no gradient to pass on, and skipping it halves the conv's backward.
        _, grads["W1"], grads["b1"] = conv_relu_pool_backward(dpooled, pool_cache, input_gradient=False)
        for name, Wk in weights.items():
            grads[name] = grads[name] + self.reg * Wk
        grads = {name: g.astype(self.dtype, copy=False) for name, g in grads.items()}
        return float(data_loss + reg_loss), grads
