"""ThreeLayerConvNet that adds the L2 penalty to the loss but forgets reg * W in the gradients.
"""
import numpy as np

from answer_key.classifiers.cnn import *  # noqa: F401,F403
from answer_key.classifiers.cnn import ThreeLayerConvNet as AnswerKeyConvNet
from reference.layer_utils import (affine_relu_backward, affine_relu_forward,
                                   conv_relu_pool_backward, conv_relu_pool_forward)
from reference.layers import affine_backward, affine_forward, softmax_loss

MUST_FAIL = ("ThreeLayerConvNet",)
MAY_FAIL = ()
HINT = "logic"


class ThreeLayerConvNet(AnswerKeyConvNet):
    """The answer key's initialization, with this mutant's loss."""

    def loss(self, X, y=None):
        X = X.astype(self.dtype)
        W1, b1 = self.params["W1"], self.params["b1"]
        W2, b2 = self.params["W2"], self.params["b2"]
        W3, b3 = self.params["W3"], self.params["b3"]
        filter_size = W1.shape[2]
        conv_param = {"stride": 1, "pad": (filter_size - 1) // 2}
        pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}

        pooled, pool_cache = conv_relu_pool_forward(X, W1, b1, conv_param, pool_param)
        hidden, hidden_cache = affine_relu_forward(pooled, W2, b2)
        scores, scores_cache = affine_forward(hidden, W3, b3)
        if y is None:
            return scores

        loss, dscores = softmax_loss(scores, y)
        loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2) + np.sum(W3 * W3))
        grads = {}
        dhidden, grads["W3"], grads["b3"] = affine_backward(dscores, scores_cache)
        dpooled, grads["W2"], grads["b2"] = affine_relu_backward(dhidden, hidden_cache)
        _, grads["W1"], grads["b1"] = conv_relu_pool_backward(dpooled, pool_cache)
        grads = {name: grad.astype(self.dtype) for name, grad in grads.items()}
        return loss, grads
