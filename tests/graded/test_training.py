"""Training ThreeLayerConvNet (seed rows 11-12): overfitting a small set, one epoch on CIFAR-10.

The CIFAR-10 rows run when the data set is on this machine (see
``reference.data_utils.get_CIFAR10_data``; ``python -m convgrader download-cifar10``
fetches it) and skip, saying how to get it, when it is not. The same two checks
always run on real images shipped with scikit-learn, its 8x8 handwritten digits
in three channels, shape (3, 8, 8) (see ``convgrader.course.datasets.get_digits_data``), with
bounds of their own: digits are far easier than CIFAR-10. At their own 8x8 size (not
enlarged) and with accuracy measured on a few hundred images, both checks cost under a
second of CPU and still leave a model that does not learn near chance (0.1).
"""

import numpy as np
import pytest

from convgrader.judging.compare import fail
from convgrader.messages import say

@pytest.fixture(scope="module")
def cifar10():
    from reference.data_utils import CIFAR10NotFoundError, get_CIFAR10_data

    try:
        return get_CIFAR10_data()
    except CIFAR10NotFoundError:
        # The loader's long explanation (where it looked) is English and the same for both
        # tests; the message says what a student needs, once, in the run's language.
        pytest.skip(say("cifar10_missing"))


@pytest.fixture(scope="module")
def digits():
    pytest.importorskip("sklearn", reason="the digits checks need scikit-learn (pip install scikit-learn)")
    from convgrader.course.datasets import get_digits_data

    return get_digits_data(num_training=1500, image_size=8)


def train(impl, data, num_epochs, print_every, num_train_samples=1000, **model_kwargs):
    from reference.solver import Solver

    np.random.seed(231)
    model = impl.ThreeLayerConvNet(**model_kwargs)
    solver = Solver(model, data, num_epochs=num_epochs, batch_size=50, update_rule="adam",
                    optim_config={"learning_rate": 1e-3}, verbose=False, print_every=print_every,
                    num_train_samples=num_train_samples)
    solver.train()
    return solver


@pytest.mark.grades("ThreeLayerConvNet", scored=False)
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
        fail(say("overfit_cifar10", train=train_acc, val=val_acc))


@pytest.mark.grades("ThreeLayerConvNet", scored=False)
@pytest.mark.timeout(3600)
def test_ThreeLayerConvNet_one_epoch_cifar10_train_accuracy(impl, cifar10):
    """Row 12: one epoch on CIFAR-10 reaches more than 40% training accuracy."""
    solver = train(impl, cifar10, num_epochs=1, print_every=20, weight_scale=1e-3,
                   hidden_dim=500, reg=1e-3)
    train_acc = solver.train_acc_history[-1]
    if train_acc <= 0.40:
        fail(say("one_epoch_cifar10", train=train_acc))


@pytest.mark.grades("ThreeLayerConvNet")
def test_ThreeLayerConvNet_overfits_100_digits_images(impl, digits):
    """Row 11 on real digits: 15 epochs on 100 images are memorized."""
    # Only training accuracy is judged (digits generalize well even from 100
    # images), so a short validation set (measured every epoch) saves time.
    small = dict(X_train=digits["X_train"][:100], y_train=digits["y_train"][:100],
                 X_val=digits["X_val"][:20], y_val=digits["y_val"][:20])
    solver = train(impl, small, num_epochs=15, print_every=1, weight_scale=1e-2,
                   input_dim=small["X_train"].shape[1:])
    train_acc = solver.train_acc_history[-1]
    # The answer key reaches 0.97 (0.98-1.0 on images enlarged to 16x16); a model that
    # does not learn stays near chance, 0.1. (No bound on the loss: its scale is the loss
    # tests' business, and a loss summed over the batch still trains.)
    if train_acc < 0.8:
        fail(say("overfit_digits", train=train_acc))


@pytest.mark.grades("ThreeLayerConvNet")
def test_ThreeLayerConvNet_one_epoch_digits_train_accuracy(impl, digits):
    """Row 12 on real digits: one epoch over 1500 images learns most of them."""
    solver = train(impl, digits, num_epochs=1, print_every=20, weight_scale=1e-3,
                   hidden_dim=500, reg=1e-3, input_dim=digits["X_train"].shape[1:], num_train_samples=300)
    train_acc, val_acc = solver.train_acc_history[-1], solver.val_acc_history[-1]
    # The answer key reaches 0.91 (training, on 300 of the images) and 0.92 (validation);
    # models that do not learn (tests/selftest/implementations/broken_models) stay at
    # 0.07-0.11; chance is 0.1.
    if train_acc < 0.7 or val_acc < 0.6:
        fail(say("one_epoch_digits", train=train_acc, val=val_acc))
