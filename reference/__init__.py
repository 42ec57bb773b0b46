"""Code handed to students ready-made (the earlier parts of the course).

Submodules are imported on demand; nothing is imported here so that loading
``reference.layers`` never requires the compiled ``fast_ext`` kernels:

- ``reference.layers``          affine, ReLU, softmax / SVM losses, batch normalization
- ``reference.layer_utils``     "sandwich" layers (needs ``reference.fast_layers``)
- ``reference.fast_layers``     im2col convolution and fast max pooling on ``fast_ext``
- ``reference.optim``           update rules: sgd, sgd_momentum, rmsprop, adam
- ``reference.solver``          ``Solver``, the training loop
- ``reference.gradient_check``  finite-difference gradients
- ``reference.data_utils``      the CIFAR-10 loader
- ``reference.vis_utils``       ``visualize_grid``
"""
