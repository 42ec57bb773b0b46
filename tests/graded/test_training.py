"""Training ThreeLayerConvNet (seed rows 11-12): overfitting a small set, one epoch on CIFAR-10.

The CIFAR-10 rows run when the data set is on this machine (see
``reference.data_utils.get_CIFAR10_data``) and skip, saying how to get it,
when it is not.
"""

import numpy as np
import pytest

from convgrader.compare import fail

@pytest.fixture(scope="module")
def cifar10():
    from reference.data_utils import CIFAR10NotFoundError, get_CIFAR10_data

    try:
        return get_CIFAR10_data()
    except CIFAR10NotFoundError as error:
        pytest.skip(f"CIFAR-10 is not on this machine: {error}")


def train(impl, data, num_epochs, print_every, **model_kwargs):
    from reference.solver import Solver

    np.random.seed(231)
    model = impl.ThreeLayerConvNet(**model_kwargs)
    solver = Solver(model, data, num_epochs=num_epochs, batch_size=50, update_rule="adam",
                    optim_config={"learning_rate": 1e-3}, verbose=False, print_every=print_every)
    solver.train()
    return solver


@pytest.mark.timeout(1800)
def test_ThreeLayerConvNet_overfits_100_cifar10_images(impl, cifar10):
    """Row 11: 15 epochs on 100 images reach high training and low validation accuracy."""
    small = dict(X_train=cifar10["X_train"][:100], y_train=cifar10["y_train"][:100],
                 X_val=cifar10["X_val"], y_val=cifar10["y_val"])
    solver = train(impl, small, num_epochs=15, print_every=1, weight_scale=1e-2)
    train_acc, val_acc = solver.train_acc_history[-1], solver.val_acc_history[-1]
    # A correct model memorizes 100 images (train accuracy 0.8-1.0) and
    # generalizes little (validation 0.15-0.3).
    if train_acc < 0.7 or val_acc > 0.4:
        fail(f"expected clear overfitting: train accuracy >= 0.7 and validation <= 0.4; "
             f"got {train_acc:.2f} and {val_acc:.2f}")


@pytest.mark.timeout(3600)
def test_ThreeLayerConvNet_one_epoch_cifar10_train_accuracy(impl, cifar10):
    """Row 12: one epoch on CIFAR-10 reaches more than 40% training accuracy."""
    solver = train(impl, cifar10, num_epochs=1, print_every=20, weight_scale=1e-3,
                   hidden_dim=500, reg=1e-3)
    train_acc = solver.train_acc_history[-1]
    if train_acc <= 0.40:
        fail(f"training accuracy after one epoch is {train_acc:.3f}; the seed expects more than 0.40")
