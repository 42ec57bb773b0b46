"""ThreeLayerConvNet built from the provided fast sandwich layers, as the notebook allows."""
import numpy as np

from reference.layer_utils import conv_relu_pool_backward, conv_relu_pool_forward
from reference.layers import (affine_backward, affine_forward, relu_backward,
                              relu_forward, softmax_loss)


class ThreeLayerConvNet:
    """conv - relu - 2x2 max pool - affine - relu - affine - softmax.

    Parameters
    ----------
    input_dim : (C, H, W) of one input image
    num_filters : F, number of convolution filters
    filter_size : side of the square filters (odd, so 'same' padding keeps H, W)
    hidden_dim : width of the hidden affine layer
    num_classes : number of scores per image
    weight_scale : standard deviation of the initial weights
    reg : L2 strength; the penalty is 0.5 * reg * sum of squared weights
    dtype : dtype of the parameters, their gradients and the computation
    """

    def __init__(self, input_dim=(3, 32, 32), num_filters=32, filter_size=7,
                 hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.0,
                 dtype=np.float32):
        self.params = {}
        self.reg = reg
        self.dtype = dtype

        C, H, W = input_dim
        self.params['W1'] = weight_scale * np.random.randn(num_filters, C, filter_size, filter_size)
        self.params['b1'] = np.zeros(num_filters)
        # 'same' convolution keeps H x W; the 2x2 pool halves both.
        self.params['W2'] = weight_scale * np.random.randn(num_filters * (H // 2) * (W // 2), hidden_dim)
        self.params['b2'] = np.zeros(hidden_dim)
        self.params['W3'] = weight_scale * np.random.randn(hidden_dim, num_classes)
        self.params['b3'] = np.zeros(num_classes)

        for k, v in self.params.items():
            self.params[k] = v.astype(dtype)

    def loss(self, X, y=None):
        """Class scores, or the loss and its gradients.

        Parameters
        ----------
        X : (N, C, H, W) images
        y : (N,) integer labels, or None

        Returns
        -------
        scores : (N, num_classes) when y is None; otherwise
        (loss, grads) with grads keyed like self.params, in self.dtype.
        """
        X = X.astype(self.dtype)
        W1, b1 = self.params['W1'], self.params['b1']
        W2, b2 = self.params['W2'], self.params['b2']
        W3, b3 = self.params['W3'], self.params['b3']

        filter_size = W1.shape[2]
        conv_param = {'stride': 1, 'pad': (filter_size - 1) // 2}
        pool_param = {'pool_height': 2, 'pool_width': 2, 'stride': 2}

        pooled, cache1 = conv_relu_pool_forward(X, W1, b1, conv_param, pool_param)
        N = pooled.shape[0]
        a2, cache2 = affine_forward(pooled.reshape(N, -1), W2, b2)
        h2, cache_relu2 = relu_forward(a2)
        scores, cache3 = affine_forward(h2, W3, b3)

        if y is None:
            return scores

        loss, dscores = softmax_loss(scores, y)
        loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2) + np.sum(W3 * W3))

        grads = {}
        dh2, grads['W3'], grads['b3'] = affine_backward(dscores, cache3)
        da2 = relu_backward(dh2, cache_relu2)
        dpooled, grads['W2'], grads['b2'] = affine_backward(da2, cache2)
        _, grads['W1'], grads['b1'] = conv_relu_pool_backward(dpooled.reshape(pooled.shape), cache1)

        grads['W1'] += self.reg * W1
        grads['W2'] += self.reg * W2
        grads['W3'] += self.reg * W3

        # The provided layers may widen float32 to float64; the contract wants dtype back.
        for k in grads:
            grads[k] = grads[k].astype(self.dtype)
        return loss, grads
