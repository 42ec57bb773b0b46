"""Hidden twins: every scored visible test again, on fresh inputs drawn from ``--hidden-seed``.

Each twin calls the visible test's own function (or the check it is built on),
so it judges exactly what the visible test judges; only the inputs are new,
with the same shapes, parameters and dtype. A visible test scores in the grade
of record only when its twin passes (see ``tests/hidden/twins.py``). The visible
property tests' twins are the hidden property tests of the same function
(their ``twin_of`` markers are in the other hidden modules).
"""

import numpy as np
import pytest

from convgrader.judging.compare import fail
from convgrader.messages import say
from tests.graded import test_cnn as cnn
from tests.graded import test_convolution as conv
from tests.graded import test_naive_vs_fast as large
from tests.graded import test_pooling as pool
from tests.graded import test_spatial_batchnorm as batchnorm
from tests.graded import test_spatial_groupnorm as groupnorm
from tests.graded import test_training as training
from tests.graded.test_naive_vs_fast import fast_layers  # noqa: F401  (a fixture the large twins use)
from tests.hidden.twins import over_twin_cases, twin, twin_case_of, twin_rng

# -- convolution and max pooling: every frozen case ------------------------------------------------


@twin(conv.test_conv_forward_naive)
@over_twin_cases("conv")
def test_hidden_twin_conv_forward_naive(impl, twin_case):
    conv.test_conv_forward_naive(impl, twin_case)


@twin(conv.test_conv_backward_naive)
@over_twin_cases("conv", having=("dout",))
def test_hidden_twin_conv_backward_naive(impl, twin_case):
    conv.test_conv_backward_naive(impl, twin_case)


@twin(pool.test_max_pool_forward_naive)
@over_twin_cases("pool")
def test_hidden_twin_max_pool_forward_naive(impl, twin_case):
    pool.test_max_pool_forward_naive(impl, twin_case)


@twin(pool.test_max_pool_backward_naive)
@over_twin_cases("pool")
def test_hidden_twin_max_pool_backward_naive(impl, twin_case):
    pool.test_max_pool_backward_naive(impl, twin_case)


# -- the seed's large inputs against the fast layers (rows 6-7) ------------------------------------

@pytest.fixture(scope="module")
def fresh_conv_inputs(request):
    """Row 6's shapes: x (100, 3, 31, 31), w (25, 3, 3, 3), b, dout, drawn from the hidden seed."""
    rng = twin_rng(request.config, "naive_vs_fast/conv")
    return dict(x=rng.randn(100, 3, 31, 31), w=rng.randn(25, 3, 3, 3), b=rng.randn(25),
                dout=rng.randn(100, 25, 16, 16))


@pytest.fixture(scope="module")
def fresh_pool_inputs(request):
    """Row 7's shapes: x (100, 3, 32, 32) and dout, drawn from the hidden seed."""
    rng = twin_rng(request.config, "naive_vs_fast/pool")
    return dict(x=rng.randn(100, 3, 32, 32), dout=rng.randn(100, 3, 16, 16))


@pytest.mark.timeout(300)
@twin(large.test_conv_forward_naive_agrees_with_fast)
def test_hidden_twin_conv_forward_naive_agrees_with_fast(impl, fast_layers, fresh_conv_inputs):
    large.test_conv_forward_naive_agrees_with_fast(impl, fast_layers, fresh_conv_inputs)


@pytest.mark.timeout(300)
@twin(large.test_conv_backward_naive_agrees_with_fast)
def test_hidden_twin_conv_backward_naive_agrees_with_fast(impl, fast_layers, fresh_conv_inputs):
    large.test_conv_backward_naive_agrees_with_fast(impl, fast_layers, fresh_conv_inputs)


@pytest.mark.timeout(300)
@twin(large.test_max_pool_forward_naive_agrees_with_fast)
def test_hidden_twin_max_pool_forward_naive_agrees_with_fast(impl, fast_layers, fresh_pool_inputs):
    large.test_max_pool_forward_naive_agrees_with_fast(impl, fast_layers, fresh_pool_inputs)


@pytest.mark.timeout(300)
@twin(large.test_max_pool_backward_naive_agrees_with_fast)
def test_hidden_twin_max_pool_backward_naive_agrees_with_fast(impl, fast_layers, fresh_pool_inputs):
    large.test_max_pool_backward_naive_agrees_with_fast(impl, fast_layers, fresh_pool_inputs)


# -- spatial batch normalization -------------------------------------------------------------------

@twin(batchnorm.test_spatial_batchnorm_forward)
@over_twin_cases("spatial_batchnorm")
def test_hidden_twin_spatial_batchnorm_forward(impl, twin_case):
    batchnorm.test_spatial_batchnorm_forward(impl, twin_case)


@twin(batchnorm.test_spatial_batchnorm_forward_updates_running_averages)
@over_twin_cases("spatial_batchnorm", having=("running_mean_after",))
def test_hidden_twin_spatial_batchnorm_forward_updates_running_averages(impl, twin_case):
    batchnorm.test_spatial_batchnorm_forward_updates_running_averages(impl, twin_case)


@twin(batchnorm.test_spatial_batchnorm_forward_normalizes_each_channel)
@over_twin_cases("spatial_batchnorm", names=("seed_unit_gamma", "seed_gamma_beta"))
def test_hidden_twin_spatial_batchnorm_forward_normalizes_each_channel(impl, twin_case):
    batchnorm.check_normalizes_each_channel(impl, twin_case)


@twin(batchnorm.test_spatial_batchnorm_forward_test_mode_after_training)
def test_hidden_twin_spatial_batchnorm_forward_test_mode_after_training(impl, request):
    batchnorm.check_test_mode_after_training(impl, seed=twin_rng(request.config, "test_mode").randint(2 ** 31))


@twin(batchnorm.test_spatial_batchnorm_backward)
@over_twin_cases("spatial_batchnorm", having=("dout",))
def test_hidden_twin_spatial_batchnorm_backward(impl, twin_case):
    batchnorm.test_spatial_batchnorm_backward(impl, twin_case)


# -- spatial group normalization -------------------------------------------------------------------

@twin(groupnorm.test_spatial_groupnorm_forward)
@over_twin_cases("spatial_groupnorm")
def test_hidden_twin_spatial_groupnorm_forward(impl, twin_case):
    groupnorm.test_spatial_groupnorm_forward(impl, twin_case)


@twin(groupnorm.test_spatial_groupnorm_forward_normalizes_each_group)
def test_hidden_twin_spatial_groupnorm_forward_normalizes_each_group(impl, request):
    groupnorm.check_normalizes_each_group(impl, twin_case_of(request.config, "spatial_groupnorm", "seed_unit_gamma"))


@twin(groupnorm.test_spatial_groupnorm_backward)
@over_twin_cases("spatial_groupnorm", having=("dout",))
def test_hidden_twin_spatial_groupnorm_backward(impl, twin_case):
    groupnorm.test_spatial_groupnorm_backward(impl, twin_case)


# -- ThreeLayerConvNet -----------------------------------------------------------------------------

def fresh_model_kwargs(rng, dtype=None):
    """Constructor arguments anywhere in the contract (H and W even), with ``dtype`` when given."""
    kwargs = dict(input_dim=(int(rng.randint(1, 4)), 2 * int(rng.randint(2, 9)), 2 * int(rng.randint(2, 9))),
                  num_filters=int(rng.randint(1, 7)), filter_size=int(rng.choice([1, 3, 5, 7])),
                  hidden_dim=int(rng.randint(2, 13)), num_classes=int(rng.randint(2, 13)))
    return kwargs if dtype is None else dict(kwargs, dtype=dtype)


@twin(cnn.test_ThreeLayerConvNet_init_shapes_and_dtype)
@pytest.mark.parametrize("config", list(cnn.INIT_CONFIGS), ids=list(cnn.INIT_CONFIGS))
def test_hidden_twin_ThreeLayerConvNet_init_shapes_and_dtype(impl, config, request):
    kwargs = fresh_model_kwargs(twin_rng(request.config, f"init/{config}"), cnn.INIT_CONFIGS[config].get("dtype"))
    cnn.test_ThreeLayerConvNet_init_shapes_and_dtype(impl, kwargs)


@twin(cnn.test_ThreeLayerConvNet_init_statistics)
def test_hidden_twin_ThreeLayerConvNet_init_statistics(impl, request):
    rng = twin_rng(request.config, "init_statistics")
    cnn.check_init_statistics(impl, seed=rng.randint(2 ** 31), weight_scale=float(rng.choice([3e-3, 3e-2, 0.1])))


@pytest.fixture(scope="module")
def fresh_batch(request):
    """A batch shaped like the visible one, X (50, 3, 32, 32), and the number of classes of its labels."""
    rng = twin_rng(request.config, "batch")
    classes = int(rng.randint(3, 21))
    return rng.randn(50, 3, 32, 32), rng.randint(classes, size=50), classes


@twin(cnn.test_ThreeLayerConvNet_initial_loss_is_log_num_classes)
def test_hidden_twin_ThreeLayerConvNet_initial_loss_is_log_num_classes(impl, fresh_batch):
    cnn.check_initial_loss(impl, *fresh_batch)


@twin(cnn.test_ThreeLayerConvNet_regularization_adds_half_reg_sum_of_squares)
def test_hidden_twin_ThreeLayerConvNet_regularization_adds_half_reg_sum_of_squares(impl, fresh_batch, request):
    """On a fresh batch, with fresh weights of the default model's shapes: weights a model leaves at zero
    would make the penalty zero whatever the loss does."""
    X, y, _ = fresh_batch
    rng = twin_rng(request.config, "regularization")
    shapes = cnn.expected_shapes(input_dim=(3, 32, 32), num_filters=32, filter_size=7, hidden_dim=100,
                                 num_classes=10)
    weights = {name: (1e-3 * rng.randn(*shape)).astype(np.float32) for name, shape in shapes.items()
               if name.startswith("W")}
    cnn.check_regularization(impl, X, y % 10, weights)


@twin(cnn.test_ThreeLayerConvNet_scores)
@over_twin_cases("model")
def test_hidden_twin_ThreeLayerConvNet_scores(impl, twin_case):
    cnn.test_ThreeLayerConvNet_scores(impl, twin_case)


@twin(cnn.test_ThreeLayerConvNet_loss_and_gradients)
@over_twin_cases("model")
def test_hidden_twin_ThreeLayerConvNet_loss_and_gradients(impl, twin_case):
    cnn.test_ThreeLayerConvNet_loss_and_gradients(impl, twin_case)


@twin(cnn.test_ThreeLayerConvNet_numerical_gradient_check)
def test_hidden_twin_ThreeLayerConvNet_numerical_gradient_check(impl, request):
    """Row 10 on fresh parameters; gradients that are all zero (a loss that never changes) do not confirm it."""
    grads = cnn.check_gradients_against_own_loss(impl, twin_case_of(request.config, "model", "seed_small"))
    if not any(np.any(np.asarray(grads[name]) != 0) for name in cnn.PARAM_NAMES):
        fail(say("twin_zero_gradients"))


# -- training on real digits (rows 11-12) ----------------------------------------------------------

@pytest.fixture(scope="module")
def relabelled_digits(request):
    """The digits in another order, every class renamed (no class keeps its label), with faint noise.

    A network learns the renamed classes as easily as the real ones; a table from the
    visible images to their labels answers wrongly, and finds no image exactly.
    """
    pytest.importorskip("sklearn", reason="the digits checks need scikit-learn (pip install scikit-learn)")
    from convgrader.course.datasets import get_digits_data

    rng = twin_rng(request.config, "digits")
    data = get_digits_data(num_training=1500, image_size=16, seed=int(rng.randint(2 ** 31)))
    renamed = rng.permutation(10)
    while np.any(renamed == np.arange(10)):
        renamed = rng.permutation(10)
    scale = 0.01 * data["X_train"].std()
    return {key: (renamed[value] if key.startswith("y") else value + scale * rng.randn(*value.shape))
            for key, value in data.items()}


@pytest.mark.timeout(1800)
@twin(training.test_ThreeLayerConvNet_overfits_100_digits_images,
      training.test_ThreeLayerConvNet_one_epoch_digits_train_accuracy)
def test_hidden_twin_ThreeLayerConvNet_learns_relabelled_digits(impl, relabelled_digits):
    """One twin for both training checks: 15 epochs on 100 relabelled digits are memorized (row 11's check)."""
    training.test_ThreeLayerConvNet_overfits_100_digits_images(impl, relabelled_digits)
