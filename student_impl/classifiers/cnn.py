"""A three-layer convolutional network: the class you write in this assignment.

Build it from the provided fast and "sandwich" layers imported below
(conv_relu_pool_forward/backward, affine_relu_forward/backward, affine_forward/backward,
softmax_loss); it does not need your naive layers.

What you may import: numpy, the Python standard library and the provided course code
(``reference``), nothing else (no scipy, torch or ``fast_ext`` directly). Unlike the naive
functions of layers.py, the model may use the provided fast and sandwich layers.
"""
import numpy as np

from reference.layers import *  # noqa: F401,F403
from reference.fast_layers import *  # noqa: F401,F403
from reference.layer_utils import *  # noqa: F401,F403


class ThreeLayerConvNet:
    """conv - relu - 2x2 max pool - affine - relu - affine - softmax.

    The network works on minibatches of shape (N, C, H, W), where H and W are even (so the
    2x2 pooling with stride 2 fits exactly: H // 2 is H / 2).

    - conv: F filters of size filter_size x filter_size, stride 1,
      pad (filter_size - 1) // 2, so that H and W are kept (filter_size is odd);
    - max pool: 2x2 windows, stride 2, giving (N, F, H // 2, W // 2);
    - affine + relu: to hidden_dim values;
    - affine: to num_classes scores, then the softmax loss.

    Attributes
    ----------
    params : dict of arrays, every one of dtype `dtype`, with exactly these keys:
        'W1' : (F, C, filter_size, filter_size) convolution weights,
        'b1' : (F,) convolution biases,
        'W2' : (F * (H // 2) * (W // 2), hidden_dim) hidden affine weights,
        'b2' : (hidden_dim,) hidden affine biases,
        'W3' : (hidden_dim, num_classes) output affine weights,
        'b3' : (num_classes,) output affine biases.
    reg : L2 regularization strength (may be changed after construction).
    dtype : numpy dtype of the parameters and gradients.
    """

    def __init__(self, input_dim=(3, 32, 32), num_filters=32, filter_size=7,
                 hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.0,
                 dtype=np.float32):
        """Initialize the parameters.

        Draw each weight matrix as weight_scale * np.random.randn(*shape) (normal, mean 0,
        standard deviation weight_scale), in the order W1, W2, W3. Set every bias to zero.
        Store everything in self.params (keys and shapes in the class docstring), cast
        to `dtype`. Store reg in self.reg and dtype in self.dtype.

        Parameters
        ----------
        input_dim : (C, H, W), the shape of one input; H and W are even.
        num_filters : F, the number of convolution filters.
        filter_size : height and width of each filter.
        hidden_dim : number of units of the hidden affine layer.
        num_classes : number of scores produced.
        weight_scale : standard deviation of the initial weights.
        reg : L2 regularization strength.
        dtype : numpy dtype of every parameter (np.float64 for gradient checks).
        """
        raise NotImplementedError(
            "ThreeLayerConvNet.__init__ is not implemented yet: "
            "write it in student_impl/classifiers/cnn.py")

    def loss(self, X, y=None):
        """Compute the class scores, or the loss and the gradients, for a minibatch.

        Cast X to self.dtype first.

        Parameters
        ----------
        X : (N, C, H, W) input.
        y : (N,) integer labels, y[i] in [0, num_classes), or None.

        Returns
        -------
        If y is None (test time): scores, an array (N, num_classes).
        Otherwise: (loss, grads) where
            loss : the softmax loss averaged over the minibatch, plus the L2 term
                   0.5 * self.reg * (sum(W1**2) + sum(W2**2) + sum(W3**2))
                   (biases are not regularized; note the factor 0.5);
            grads : dict with the same keys as self.params; grads[k] is the gradient of
                   the loss with respect to self.params[k], with its shape and dtype
                   (so the W gradients include self.reg * W).
        """
        raise NotImplementedError(
            "ThreeLayerConvNet.loss is not implemented yet: "
            "write it in student_impl/classifiers/cnn.py")
