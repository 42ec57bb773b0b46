"""ThreeLayerConvNet built on this implementation's own conv and pool layers."""
import numpy as np

from reference.layers import (affine_backward, affine_forward, relu_backward,
                              relu_forward, softmax_loss)

from ..layers import (conv_backward_naive, conv_forward_naive,
                      max_pool_backward_naive, max_pool_forward_naive)


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
        channels, height, width = input_dim
        pooled_size = num_filters * (height // 2) * (width // 2)
        self.reg = reg
        self.dtype = dtype
        # A dict literal evaluates in order: the weights draw from the global
        # generator as W1, then W2, then W3.
        self.params = {
            'W1': weight_scale * np.random.randn(num_filters, channels,
                                                 filter_size, filter_size),
            'b1': np.zeros(num_filters),
            'W2': weight_scale * np.random.randn(pooled_size, hidden_dim),
            'b2': np.zeros(hidden_dim),
            'W3': weight_scale * np.random.randn(hidden_dim, num_classes),
            'b3': np.zeros(num_classes),
        }
        self.params = {name: value.astype(dtype) for name, value in self.params.items()}

    def loss(self, X, y=None):
        """Class scores, or the loss and its gradients.

        Parameters
        ----------
        X : (N, C, H, W) images
        y : (N,) integer labels, or None

        Returns
        -------
        scores : (N, num_classes) when y is None; otherwise
        (loss, grads) with grads keyed like self.params.
        """
        p = self.params
        X = X.astype(self.dtype, copy=False)
        filter_size = p['W1'].shape[2]
        conv_param = {'stride': 1, 'pad': (filter_size - 1) // 2}
        pool_param = {'pool_height': 2, 'pool_width': 2, 'stride': 2}

        conv, conv_cache = conv_forward_naive(X, p['W1'], p['b1'], conv_param)
        activated, relu1_cache = relu_forward(conv)
        pooled, pool_cache = max_pool_forward_naive(activated, pool_param)
        flat = pooled.reshape(pooled.shape[0], -1)
        hidden, hidden_cache = affine_forward(flat, p['W2'], p['b2'])
        hidden_act, relu2_cache = relu_forward(hidden)
        scores, scores_cache = affine_forward(hidden_act, p['W3'], p['b3'])
        if y is None:
            return scores

        weights = ('W1', 'W2', 'W3')
        data_loss, dscores = softmax_loss(scores, y)
        loss = data_loss + 0.5 * self.reg * sum(np.sum(p[w] ** 2) for w in weights)

        grads = {}
        dhidden_act, grads['W3'], grads['b3'] = affine_backward(dscores, scores_cache)
        dhidden = relu_backward(dhidden_act, relu2_cache)
        dflat, grads['W2'], grads['b2'] = affine_backward(dhidden, hidden_cache)
        dpooled = dflat.reshape(pooled.shape)
        dactivated = max_pool_backward_naive(dpooled, pool_cache)
        dconv = relu_backward(dactivated, relu1_cache)
        _, grads['W1'], grads['b1'] = conv_backward_naive(dconv, conv_cache)
        for w in weights:
            grads[w] = grads[w] + self.reg * p[w]
        grads = {name: g.astype(self.dtype, copy=False) for name, g in grads.items()}
        return loss, grads
