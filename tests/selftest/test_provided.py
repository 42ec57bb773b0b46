"""Self-tests of the code students are given ready-made (``reference/``).

Run: ``python -m pytest tests/selftest/test_provided.py -q -p no:cacheprovider``.

The sandwich-layer checks (seed row 8) need ``reference.fast_layers`` and the
compiled ``fast_ext`` kernels; they skip, saying why, until those import.
"""

import importlib
import pickle
import re

import numpy as np
import pytest

from reference import data_utils, layers, optim
from reference.data_utils import (
    CIFAR10NotFoundError,
    get_CIFAR10_data,
    load_CIFAR10,
    load_CIFAR_batch,
    write_CIFAR10_like,
)
from reference.gradient_check import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    grad_check_sparse,
)
from reference.solver import Solver, _format_seconds
from reference.vis_utils import visualize_grid


def rel_error(x, y):
    """The seed's relative error: max(|x - y| / max(1e-8, |x| + |y|)), elementwise."""
    return np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y)))


@pytest.fixture
def np_random_seed_231():
    """Seed the global np.random as the notebook does, and restore it afterwards."""
    state = np.random.get_state()
    np.random.seed(231)
    yield
    np.random.set_state(state)


# ----------------------------------------------------------------------------
# Layers: gradients against finite differences
# ----------------------------------------------------------------------------

def _batchnorm_test_param():
    running = np.random.default_rng(7)
    return {
        "mode": "test",
        "running_mean": running.standard_normal(5),
        "running_var": running.uniform(0.5, 2.0, size=5),
    }


# Each case: forward(inputs) -> (out, cache), backward(dout, cache) -> gradients in
# the order of `shapes`, and the shapes of the inputs.
LAYER_CASES = {
    "affine": dict(
        forward=lambda p: layers.affine_forward(p["x"], p["w"], p["b"]),
        backward=layers.affine_backward,
        shapes={"x": (10, 2, 3), "w": (6, 5), "b": (5,)},
    ),
    "relu": dict(
        forward=lambda p: layers.relu_forward(p["x"]),
        backward=lambda dout, cache: (layers.relu_backward(dout, cache),),
        shapes={"x": (10, 7)},
    ),
    "batchnorm-train": dict(
        forward=lambda p: layers.batchnorm_forward(p["x"], p["gamma"], p["beta"], {"mode": "train"}),
        backward=layers.batchnorm_backward,
        shapes={"x": (8, 5), "gamma": (5,), "beta": (5,)},
    ),
    "batchnorm-test": dict(
        forward=lambda p: layers.batchnorm_forward(p["x"], p["gamma"], p["beta"], _batchnorm_test_param()),
        backward=layers.batchnorm_backward,
        shapes={"x": (8, 5), "gamma": (5,), "beta": (5,)},
    ),
}
GRADIENT_CHECKS = [(layer, name) for layer, case in LAYER_CASES.items() for name in case["shapes"]]


def _random_inputs(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return {name: rng.standard_normal(shape) for name, shape in shapes.items()}


@pytest.mark.parametrize("layer, wrt", GRADIENT_CHECKS, ids=[f"{layer}-d{wrt}" for layer, wrt in GRADIENT_CHECKS])
def test_layer_backward_matches_numerical_gradient(layer, wrt):
    case = LAYER_CASES[layer]
    inputs = _random_inputs(case["shapes"])
    out, cache = case["forward"](inputs)
    dout = np.random.default_rng(1).standard_normal(out.shape)
    analytic = dict(zip(case["shapes"], case["backward"](dout, cache)))

    numerical = eval_numerical_gradient_array(lambda _: case["forward"](inputs)[0], inputs[wrt], dout)

    assert analytic[wrt].shape == inputs[wrt].shape
    assert rel_error(numerical, analytic[wrt]) < 1e-8


LOSSES = {"softmax": layers.softmax_loss, "svm": layers.svm_loss}


@pytest.mark.parametrize("loss_name", LOSSES)
def test_loss_gradient_matches_numerical_gradient(loss_name):
    loss_fn = LOSSES[loss_name]
    rng = np.random.default_rng(2)
    # Small scores keep every SVM margin away from its kink.
    x = 1e-3 * rng.standard_normal((50, 10))
    y = rng.integers(10, size=50)

    _, dx = loss_fn(x, y)
    dx_num = eval_numerical_gradient(lambda _: loss_fn(x, y)[0], x, verbose=False)

    assert rel_error(dx_num, dx) < 1e-7


@pytest.mark.parametrize("loss_name, expected", [("softmax", np.log(10)), ("svm", 9.0)], ids=["softmax-log10", "svm-9"])
def test_loss_of_near_zero_scores_is_the_textbook_value(loss_name, expected):
    rng = np.random.default_rng(3)
    x = 1e-3 * rng.standard_normal((50, 10))
    y = rng.integers(10, size=50)

    loss, _ = LOSSES[loss_name](x, y)

    assert loss == pytest.approx(expected, rel=1e-2)


def test_softmax_loss_is_stable_for_huge_scores():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 4))
    y = rng.integers(4, size=6)

    loss, dx = layers.softmax_loss(x, y)
    shifted_loss, shifted_dx = layers.softmax_loss(x + 1e4, y)
    huge_loss, _ = layers.softmax_loss(1e3 * x, y)

    assert shifted_loss == pytest.approx(loss, rel=1e-9)
    np.testing.assert_allclose(shifted_dx, dx, atol=1e-12)
    assert np.isfinite(huge_loss)


def test_affine_forward_flattens_each_sample():
    x = np.arange(24, dtype=float).reshape(2, 3, 4)
    w = np.eye(12)[:, :5]
    b = np.array([0.0, 1, 2, 3, 4])

    out, _ = layers.affine_forward(x, w, b)

    np.testing.assert_array_equal(out, x.reshape(2, 12)[:, :5] + b)


# ----------------------------------------------------------------------------
# Batch normalization: statistics, running averages, test mode
# ----------------------------------------------------------------------------

def _batch(seed=5):
    rng = np.random.default_rng(seed)
    x = 3.0 + 2.0 * rng.standard_normal((200, 4))
    gamma = np.array([1.0, 2.0, 0.5, 3.0])
    beta = np.array([0.0, -1.0, 4.0, 0.25])
    return x, gamma, beta


def test_batchnorm_train_output_has_mean_beta_and_std_gamma():
    x, gamma, beta = _batch()

    out, _ = layers.batchnorm_forward(x, gamma, beta, {"mode": "train"})

    np.testing.assert_allclose(out.mean(axis=0), beta, atol=1e-12)
    # The biased variance plus eps is what gets divided out.
    np.testing.assert_allclose(out.std(axis=0), gamma * np.sqrt(x.var(axis=0) / (x.var(axis=0) + 1e-5)), rtol=1e-12)


def test_batchnorm_defaults_are_written_back_into_bn_param():
    x, gamma, beta = _batch()
    bn_param = {"mode": "train"}

    layers.batchnorm_forward(x, gamma, beta, bn_param)

    # Running averages start at zero, so one step leaves (1 - momentum) * batch statistic.
    np.testing.assert_allclose(bn_param["running_mean"], 0.1 * x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(bn_param["running_var"], 0.1 * x.var(axis=0), rtol=1e-12)


@pytest.mark.parametrize("momentum", [0.9, 0.5])
def test_batchnorm_running_averages_follow_the_momentum_rule(momentum):
    x, gamma, beta = _batch()
    old_mean, old_var = np.full(4, 1.5), np.full(4, 0.25)
    bn_param = {"mode": "train", "momentum": momentum, "running_mean": old_mean, "running_var": old_var}

    layers.batchnorm_forward(x, gamma, beta, bn_param)

    expected_mean = momentum * old_mean + (1 - momentum) * x.mean(axis=0)
    expected_var = momentum * old_var + (1 - momentum) * x.var(axis=0)
    np.testing.assert_allclose(bn_param["running_mean"], expected_mean, rtol=1e-12)
    np.testing.assert_allclose(bn_param["running_var"], expected_var, rtol=1e-12)


def test_batchnorm_test_mode_uses_running_statistics_and_leaves_them():
    x, gamma, beta = _batch()
    running_mean, running_var = np.array([1.0, 2, 3, 4]), np.array([0.5, 1, 2, 4])
    bn_param = {"mode": "test", "eps": 1e-3, "running_mean": running_mean.copy(), "running_var": running_var.copy()}

    out, _ = layers.batchnorm_forward(x, gamma, beta, bn_param)

    np.testing.assert_allclose(out, gamma * (x - running_mean) / np.sqrt(running_var + 1e-3) + beta, rtol=1e-12)
    np.testing.assert_array_equal(bn_param["running_mean"], running_mean)
    np.testing.assert_array_equal(bn_param["running_var"], running_var)


def test_batchnorm_test_mode_after_training_normalizes_new_batches():
    rng = np.random.default_rng(6)
    gamma, beta = np.ones(3), np.zeros(3)
    bn_param = {"mode": "train"}
    for _ in range(200):
        layers.batchnorm_forward(5.0 + 3.0 * rng.standard_normal((50, 3)), gamma, beta, bn_param)

    bn_param["mode"] = "test"
    out, _ = layers.batchnorm_forward(5.0 + 3.0 * rng.standard_normal((500, 3)), gamma, beta, bn_param)

    np.testing.assert_allclose(out.mean(axis=0), 0, atol=0.2)
    np.testing.assert_allclose(out.std(axis=0), 1, atol=0.2)


@pytest.mark.parametrize("bn_param, error", [({"mode": "predict"}, ValueError), ({}, KeyError)],
                         ids=["unknown-mode", "missing-mode"])
def test_batchnorm_rejects_a_bad_mode(bn_param, error):
    x, gamma, beta = _batch()
    with pytest.raises(error):
        layers.batchnorm_forward(x, gamma, beta, bn_param)


# ----------------------------------------------------------------------------
# dtype: float32 in, float32 out
# ----------------------------------------------------------------------------

def _float32(*shapes, seed=8):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(np.float32) for shape in shapes]


def _affine_outputs():
    x, w, b, dout = _float32((4, 2, 3), (6, 5), (5,), (4, 5))
    out, cache = layers.affine_forward(x, w, b)
    return (out, *layers.affine_backward(dout, cache))


def _relu_outputs():
    x, dout = _float32((4, 5), (4, 5))
    out, cache = layers.relu_forward(x)
    return out, layers.relu_backward(dout, cache)


def _loss_outputs(loss_fn):
    (x,) = _float32((6, 10))
    return loss_fn(x, np.arange(6) % 10)


def _batchnorm_outputs(mode):
    x, gamma, beta, dout = _float32((6, 4), (4,), (4,), (6, 4))
    bn_param = {"mode": mode}
    out, cache = layers.batchnorm_forward(x, gamma, beta, bn_param)
    return (out, *layers.batchnorm_backward(dout, cache), bn_param["running_mean"], bn_param["running_var"])


def _update_rule_outputs(rule_name):
    w, dw = _float32((3, 4), (3, 4))
    rule = getattr(optim, rule_name)
    next_w, config = rule(w, dw)
    next_w, config = rule(next_w, dw, config)
    return (next_w, *(value for value in config.values() if isinstance(value, np.ndarray)))


DTYPE_CASES = {
    "affine": _affine_outputs,
    "relu": _relu_outputs,
    "softmax_loss": lambda: _loss_outputs(layers.softmax_loss),
    "svm_loss": lambda: _loss_outputs(layers.svm_loss),
    "batchnorm-train": lambda: _batchnorm_outputs("train"),
    "batchnorm-test": lambda: _batchnorm_outputs("test"),
    **{rule: (lambda rule=rule: _update_rule_outputs(rule)) for rule in ("sgd", "sgd_momentum", "rmsprop", "adam")},
}


@pytest.mark.parametrize("case", DTYPE_CASES)
def test_float32_stays_float32(case):
    outputs = DTYPE_CASES[case]()
    assert [np.asarray(value).dtype for value in outputs] == [np.float32] * len(outputs)


# ----------------------------------------------------------------------------
# Update rules: first steps by hand
# ----------------------------------------------------------------------------

W = np.linspace(-0.4, 0.6, num=20).reshape(4, 5)
DW = np.linspace(-0.6, 0.4, num=20).reshape(4, 5)

FIRST_STEPS = {
    # From zero state every rule's first step is easy to write down.
    "sgd": W - 1e-2 * DW,
    "sgd_momentum": W - 1e-2 * DW,
    "rmsprop": W - 1e-2 * DW / (np.sqrt(0.01 * DW**2) + 1e-8),
    # m_hat = DW and v_hat = DW**2 after bias correction.
    "adam": W - 1e-3 * DW / (np.abs(DW) + 1e-8),
}
DEFAULTS = {
    "sgd": {"learning_rate": 1e-2},
    "sgd_momentum": {"learning_rate": 1e-2, "momentum": 0.9},
    "rmsprop": {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8},
    "adam": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
}


@pytest.mark.parametrize("rule_name", FIRST_STEPS)
def test_first_step_from_defaults_matches_hand_computation(rule_name):
    next_w, config = getattr(optim, rule_name)(W.copy(), DW)

    np.testing.assert_allclose(next_w, FIRST_STEPS[rule_name], rtol=1e-12, atol=1e-15)
    assert {key: config[key] for key in DEFAULTS[rule_name]} == DEFAULTS[rule_name]


def test_sgd_momentum_second_step_accumulates_velocity():
    w1, config = optim.sgd_momentum(W, DW, {"learning_rate": 0.1, "momentum": 0.5})
    w2, config = optim.sgd_momentum(w1, DW, config)

    np.testing.assert_allclose(config["velocity"], -0.1 * DW * (1 + 0.5), rtol=1e-12)
    np.testing.assert_allclose(w2, W - 0.1 * DW * (1 + 1.5), rtol=1e-12)


def test_rmsprop_second_step_uses_decayed_cache():
    w1, config = optim.rmsprop(W, DW, {"learning_rate": 0.1, "decay_rate": 0.5})
    w2, config = optim.rmsprop(w1, DW, config)

    cache = 0.5 * (0.5 * DW**2) + 0.5 * DW**2
    np.testing.assert_allclose(config["cache"], cache, rtol=1e-12)
    np.testing.assert_allclose(w2, w1 - 0.1 * DW / (np.sqrt(cache) + 1e-8), rtol=1e-12)


def test_adam_counts_steps_and_corrects_bias():
    w1, config = optim.adam(W, DW, {"learning_rate": 0.1})
    assert config["t"] == 1
    dw2 = 2 * DW
    w2, config = optim.adam(w1, dw2, config)

    m = 0.9 * (0.1 * DW) + 0.1 * dw2
    v = 0.999 * (0.001 * DW**2) + 0.001 * dw2**2
    m_hat, v_hat = m / (1 - 0.9**2), v / (1 - 0.999**2)
    assert config["t"] == 2
    np.testing.assert_allclose(config["m"], m, rtol=1e-12)
    np.testing.assert_allclose(config["v"], v, rtol=1e-12)
    np.testing.assert_allclose(w2, w1 - 0.1 * m_hat / (np.sqrt(v_hat) + 1e-8), rtol=1e-12)


@pytest.mark.parametrize("rule_name", FIRST_STEPS)
def test_update_rule_leaves_its_input_alone(rule_name):
    w = W.copy()
    getattr(optim, rule_name)(w, DW)
    np.testing.assert_array_equal(w, W)


# ----------------------------------------------------------------------------
# Gradient helpers
# ----------------------------------------------------------------------------

def _point():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((3, 4))
    return x, x.copy()


GRADIENT_HELPERS = {
    "eval_numerical_gradient": lambda f, x: eval_numerical_gradient(lambda a: np.sum(f(a)), x, verbose=False),
    "eval_numerical_gradient_array": lambda f, x: eval_numerical_gradient_array(f, x, np.ones((3, 4))),
    "grad_check_sparse": lambda f, x: grad_check_sparse(lambda a: np.sum(f(a)), x, 2 * x.copy(), num_checks=5),
}


@pytest.mark.parametrize("helper", GRADIENT_HELPERS)
def test_gradient_helper_restores_its_input_exactly(helper):
    x, original = _point()
    GRADIENT_HELPERS[helper](lambda a: a**2, x)
    np.testing.assert_array_equal(x, original)


@pytest.mark.parametrize("helper", ["eval_numerical_gradient", "eval_numerical_gradient_array"])
def test_gradient_helper_sees_perturbation_through_a_closure(helper):
    # The seed's pattern: f ignores its argument and reads the array it closes over.
    x, original = _point()
    grad = GRADIENT_HELPERS[helper](lambda _: x**2, x)

    np.testing.assert_allclose(grad, 2 * original, rtol=1e-8)
    assert grad.dtype == x.dtype


@pytest.mark.parametrize("helper", GRADIENT_HELPERS)
def test_gradient_helper_restores_its_input_when_f_raises(helper):
    x, original = _point()
    calls = []

    def failing_on_third_call(a):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("boom")
        return a**2

    with pytest.raises(RuntimeError, match="boom"):
        GRADIENT_HELPERS[helper](failing_on_third_call, x)
    np.testing.assert_array_equal(x, original)


def test_eval_numerical_gradient_array_copies_a_reused_output_buffer():
    buffer = np.empty(3)

    def into_buffer(a):
        np.multiply(a, a, out=buffer)
        return buffer

    x = np.array([1.0, -2.0, 0.5])
    grad = eval_numerical_gradient_array(into_buffer, x, np.ones(3))
    np.testing.assert_allclose(grad, 2 * x, rtol=1e-8)


def test_eval_numerical_gradient_verbose_prints_every_entry(capsys):
    eval_numerical_gradient(lambda a: np.sum(a**2), np.array([1.0, 2.0]))
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_grad_check_sparse_reports_small_errors_for_a_correct_gradient(capsys, np_random_seed_231):
    x, _ = _point()
    errors = grad_check_sparse(lambda a: np.sum(a**3), x, 3 * x**2, num_checks=7)

    assert errors.shape == (7,) and errors.max() < 1e-8
    assert len(re.findall(r"numerical: \S+ analytic: \S+, relative error: \S+", capsys.readouterr().out)) == 7


# ----------------------------------------------------------------------------
# Solver
# ----------------------------------------------------------------------------

class TwoLayerNet:
    """affine - relu - affine - softmax, built on reference.layers (test-only model)."""

    def __init__(self, input_dim, hidden_dim=50, num_classes=10, weight_scale=1e-1, seed=0):
        rng = np.random.default_rng(seed)
        self.params = {
            "W1": weight_scale * rng.standard_normal((input_dim, hidden_dim)),
            "b1": np.zeros(hidden_dim),
            "W2": weight_scale * rng.standard_normal((hidden_dim, num_classes)),
            "b2": np.zeros(num_classes),
        }

    def loss(self, X, y=None):
        hidden, affine1 = layers.affine_forward(X, self.params["W1"], self.params["b1"])
        rectified, relu = layers.relu_forward(hidden)
        scores, affine2 = layers.affine_forward(rectified, self.params["W2"], self.params["b2"])
        if y is None:
            return scores

        loss, dscores = layers.softmax_loss(scores, y)
        drectified, grads_w2, grads_b2 = layers.affine_backward(dscores, affine2)
        _, grads_w1, grads_b1 = layers.affine_backward(layers.relu_backward(drectified, relu), affine1)
        return loss, {"W1": grads_w1, "b1": grads_b1, "W2": grads_w2, "b2": grads_b2}


def _small_data(num_train=50, num_val=50, seed=10):
    rng = np.random.default_rng(seed)
    return {
        "X_train": rng.standard_normal((num_train, 3, 4, 4)),
        "y_train": rng.integers(10, size=num_train),
        "X_val": rng.standard_normal((num_val, 3, 4, 4)),
        "y_val": rng.integers(10, size=num_val),
    }


def _solver(data=None, **kwargs):
    data = _small_data() if data is None else data
    model = TwoLayerNet(input_dim=48)
    settings = dict(update_rule="adam", optim_config={"learning_rate": 1e-2},
                    batch_size=25, num_epochs=2, verbose=False)
    settings.update(kwargs)
    return Solver(model, data, **settings)


def test_solver_overfits_50_points_and_keeps_the_best_params(np_random_seed_231):
    data = _small_data()
    solver = _solver(data, num_epochs=40)

    solver.train()

    iterations = 40 * (50 // 25)
    assert len(solver.loss_history) == iterations
    assert len(solver.train_acc_history) == len(solver.val_acc_history) == 40 + 1
    assert solver.loss_history[-1] < 0.1 * solver.loss_history[0]
    assert solver.train_acc_history[-1] == 1.0
    assert solver.best_val_acc == max(solver.val_acc_history)
    for name, value in solver.model.params.items():
        np.testing.assert_array_equal(value, solver.best_params[name])
    assert solver.check_accuracy(data["X_val"], data["y_val"]) == solver.best_val_acc


def test_solver_prints_iteration_and_epoch_messages(capsys, np_random_seed_231):
    _solver(verbose=True, print_every=1).train()

    lines = capsys.readouterr().out.splitlines()
    iteration_lines = [line for line in lines if line.startswith("(Iteration")]
    epoch_lines = [line for line in lines if line.startswith("(Epoch")]
    assert len(iteration_lines) == 4
    assert all(re.fullmatch(r"\(Iteration \d / 4\) loss: \d+\.\d{6}", line) for line in iteration_lines)
    assert [line.split(")")[0] for line in epoch_lines] == ["(Epoch 0 / 2", "(Epoch 1 / 2", "(Epoch 2 / 2"]
    assert all(re.fullmatch(r"\(Epoch \d / 2\) train acc: \d\.\d{6}; val_acc: \d\.\d{6}", line)
               for line in epoch_lines)


def test_solver_shows_elapsed_and_remaining_time_on_long_runs(capsys, np_random_seed_231):
    solver = _solver(verbose=True, print_every=1)
    solver.timing_after_seconds = 0.0  # every run counts as long

    solver.train()

    first = capsys.readouterr().out.splitlines()[0]
    assert re.fullmatch(r"\(Iteration 1 / 4\) loss: \d+\.\d{6} \(\d+\.\d s, ~\d+\.\d s left\)", first)


@pytest.mark.parametrize("seconds, text", [(12.34, "12.3 s"), (89.0, "89.0 s"), (540.0, "9 min")])
def test_durations_are_short_and_readable(seconds, text):
    assert _format_seconds(seconds) == text


def test_solver_calls_progress_after_every_iteration(np_random_seed_231):
    calls = []
    _solver(progress=lambda i, n, loss: calls.append((i, n, loss))).train()

    assert [(i, n) for i, n, _ in calls] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert all(np.isfinite(loss) for _, _, loss in calls)


def test_solver_decays_the_learning_rate_every_epoch(np_random_seed_231):
    solver = _solver(num_epochs=3, lr_decay=0.5, update_rule="sgd", optim_config={"learning_rate": 0.1})
    solver.train()

    assert {config["learning_rate"] for config in solver.optim_configs.values()} == {0.1 * 0.5**3}
    assert solver.optim_config == {"learning_rate": 0.1}


def test_solver_accepts_an_update_rule_function(np_random_seed_231):
    steps = []

    def recording_sgd(w, dw, config=None):
        steps.append(w.shape)
        return optim.sgd(w, dw, config)

    _solver(update_rule=recording_sgd, num_epochs=1).train()

    assert len(steps) == 2 * 4  # two iterations, four parameters


@pytest.mark.parametrize("kwargs, error", [({"seed": 0}, TypeError), ({"update_rule": "adagrad"}, ValueError),
                                          ({"update_rule": "np"}, ValueError), ({"update_rule": 0.1}, TypeError)],
                         ids=["unknown-keyword", "unknown-rule", "module-attribute-not-a-rule", "not-callable"])
def test_solver_rejects_bad_arguments(kwargs, error):
    with pytest.raises(error):
        _solver(**kwargs)


def test_solver_writes_one_checkpoint_per_record(tmp_path, np_random_seed_231):
    _solver(checkpoint_name=str(tmp_path / "run")).train()

    names = sorted(path.name for path in tmp_path.iterdir())
    assert names == ["run_epoch_0.pkl", "run_epoch_1.pkl", "run_epoch_2.pkl"]
    with open(tmp_path / "run_epoch_2.pkl", "rb") as f:
        checkpoint = pickle.load(f)
    assert checkpoint["epoch"] == 2 and len(checkpoint["loss_history"]) == 4


def test_check_accuracy_subsamples_and_batches(np_random_seed_231):
    data = _small_data(num_train=250)
    solver = _solver(data)
    predictions = np.argmax(solver.model.loss(data["X_train"]), axis=1)
    exact = np.mean(predictions == data["y_train"])

    assert solver.check_accuracy(data["X_train"], data["y_train"], batch_size=7) == exact
    state = np.random.get_state()
    subset = np.random.choice(250, 20)
    np.random.set_state(state)
    subsampled = solver.check_accuracy(data["X_train"], data["y_train"], num_samples=20)
    assert subsampled == np.mean(predictions[subset] == data["y_train"][subset])


# ----------------------------------------------------------------------------
# CIFAR-10 loader, on files in the exact CIFAR-10 python format
# ----------------------------------------------------------------------------

@pytest.fixture
def cifar_dir(tmp_path):
    return write_CIFAR10_like(tmp_path / "cifar-10-batches-py", num_per_batch=20, seed=0)


def test_written_batches_have_the_cifar10_layout(cifar_dir):
    with open(cifar_dir / "data_batch_3", "rb") as f:
        batch = pickle.load(f, encoding="latin1")

    assert batch["data"].dtype == np.uint8 and batch["data"].shape == (20, 3072)
    assert len(batch["labels"]) == 20 and set(batch["labels"]) == set(range(10))
    assert sorted(path.name for path in cifar_dir.iterdir()) == [
        "batches.meta", "data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch",
    ]


def test_write_cifar10_like_is_deterministic_and_leaves_np_random_alone(tmp_path, np_random_seed_231):
    expected_draw = np.random.get_state()[1].copy()
    a = write_CIFAR10_like(tmp_path / "a", num_per_batch=5, seed=3)
    b = write_CIFAR10_like(tmp_path / "b", num_per_batch=5, seed=3)

    assert (a / "test_batch").read_bytes() == (b / "test_batch").read_bytes()
    np.testing.assert_array_equal(np.random.get_state()[1], expected_draw)


def test_load_cifar_batch_gives_channels_last_floats(cifar_dir):
    X, y = load_CIFAR_batch(cifar_dir / "test_batch")

    assert X.shape == (20, 32, 32, 3) and X.dtype == np.float64
    assert y.shape == (20,) and 0 <= y.min() and y.max() <= 9
    assert 0 <= X.min() and X.max() <= 255


def test_load_cifar_batch_reads_bytes_keys(tmp_path):
    images = np.arange(2 * 3072, dtype=np.uint8).reshape(2, 3072)
    with open(tmp_path / "batch", "wb") as f:
        pickle.dump({b"data": images, b"labels": [3, 7]}, f)

    X, y = load_CIFAR_batch(tmp_path / "batch")

    # Channel-major rows: the first 1024 values are red, row by row.
    np.testing.assert_array_equal(X[0, :, :, 0], images[0, :1024].reshape(32, 32))
    np.testing.assert_array_equal(y, [3, 7])


def test_load_cifar10_concatenates_the_five_training_batches(cifar_dir):
    X_train, y_train, X_test, y_test = load_CIFAR10(cifar_dir)
    X_batch2, y_batch2 = load_CIFAR_batch(cifar_dir / "data_batch_2")

    assert X_train.shape == (100, 32, 32, 3) and y_train.shape == (100,)
    assert X_test.shape == (20, 32, 32, 3) and y_test.shape == (20,)
    np.testing.assert_array_equal(X_train[20:40], X_batch2)
    np.testing.assert_array_equal(y_train[20:40], y_batch2)


def test_get_cifar10_data_splits_and_subtracts_the_training_mean(cifar_dir):
    data = get_CIFAR10_data(num_training=70, num_validation=20, num_test=10, cifar10_dir=cifar_dir)
    X_all, y_all, X_test_raw, y_test_raw = load_CIFAR10(cifar_dir)
    channels_first = (0, 3, 1, 2)
    raw_train = X_all[:70].transpose(channels_first)
    mean_image = raw_train.mean(axis=0)

    shapes = {key: value.shape for key, value in data.items()}
    assert shapes == {"X_train": (70, 3, 32, 32), "y_train": (70,), "X_val": (20, 3, 32, 32), "y_val": (20,),
                      "X_test": (10, 3, 32, 32), "y_test": (10,)}
    np.testing.assert_allclose(data["X_train"].mean(axis=0), 0, atol=1e-10)
    np.testing.assert_allclose(data["X_val"], X_all[70:90].transpose(channels_first) - mean_image, atol=1e-10)
    np.testing.assert_allclose(data["X_test"], X_test_raw[:10].transpose(channels_first) - mean_image, atol=1e-10)
    np.testing.assert_array_equal(data["y_val"], y_all[70:90])
    np.testing.assert_array_equal(data["y_test"], y_test_raw[:10])
    for key in ("y_train", "y_val", "y_test"):
        assert np.issubdtype(data[key].dtype, np.integer) and data[key].min() >= 0 and data[key].max() <= 9


def test_get_cifar10_data_without_mean_subtraction_keeps_pixels(cifar_dir):
    data = get_CIFAR10_data(num_training=10, num_validation=5, num_test=5, subtract_mean=False,
                            cifar10_dir=cifar_dir, dtype=np.float32)

    assert data["X_train"].dtype == np.float32
    assert data["X_train"].min() >= 0 and data["X_train"].max() <= 255
    np.testing.assert_array_equal(data["X_train"], np.round(data["X_train"]))


def test_get_cifar10_data_finds_the_folder_through_the_environment(cifar_dir, monkeypatch):
    monkeypatch.setenv("CIFAR10_DIR", str(cifar_dir))
    data = get_CIFAR10_data(num_training=10, num_validation=5, num_test=5)
    assert data["X_train"].shape == (10, 3, 32, 32)


def test_get_cifar10_data_refuses_a_split_larger_than_the_data(cifar_dir):
    with pytest.raises(ValueError, match="holds 100 and 20"):
        get_CIFAR10_data(num_training=90, num_validation=20, cifar10_dir=cifar_dir)


def test_missing_cifar10_raises_a_clear_error(tmp_path, monkeypatch):
    from_env = tmp_path / "from-env"
    default = tmp_path / "default" / "cifar-10-batches-py"
    monkeypatch.setenv("CIFAR10_DIR", str(from_env))
    monkeypatch.setattr(data_utils, "DEFAULT_CIFAR10_DIR", default)

    with pytest.raises(CIFAR10NotFoundError) as excinfo:
        get_CIFAR10_data()

    message = str(excinfo.value)
    assert isinstance(excinfo.value, FileNotFoundError)
    assert str(from_env) in message and str(default) in message
    for hint in ("cifar-10-python.tar.gz", "University of Toronto", "CIFAR10_DIR", "cifar-10-batches-py"):
        assert hint in message


def test_incomplete_cifar10_folder_names_the_missing_files(cifar_dir):
    (cifar_dir / "data_batch_4").unlink()
    with pytest.raises(CIFAR10NotFoundError, match="missing: data_batch_4"):
        get_CIFAR10_data(cifar10_dir=cifar_dir)


# ----------------------------------------------------------------------------
# visualize_grid
# ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    "num_images, padding, expected_shape",
    [(1, 1, (4, 3, 2)), (4, 1, (9, 7, 2)), (5, 1, (14, 11, 2)), (5, 0, (12, 9, 2)), (10, 2, (22, 18, 2))],
    ids=["one", "square", "five", "no-padding", "ten-padding-2"],
)
def test_visualize_grid_shape(num_images, padding, expected_shape):
    Xs = np.random.default_rng(11).standard_normal((num_images, 4, 3, 2))
    assert visualize_grid(Xs, padding=padding).shape == expected_shape


@pytest.mark.parametrize("ubound", [255.0, 1.0])
def test_visualize_grid_rescales_every_tile(ubound):
    Xs = np.random.default_rng(12).standard_normal((5, 4, 3, 2)) * np.arange(1, 6)[:, None, None, None]
    grid = visualize_grid(Xs, ubound=ubound)

    for index in range(5):
        row, col = divmod(index, 3)
        tile = grid[row * 5:row * 5 + 4, col * 4:col * 4 + 3]
        assert tile.min() == pytest.approx(0) and tile.max() == pytest.approx(ubound)
    # Padding rows and columns, and the unused cell, stay 0.
    assert not grid[4].any() and not grid[:, 3].any() and not grid[10:, 8:].any()


def test_visualize_grid_maps_a_constant_tile_to_zero():
    grid = visualize_grid(np.full((1, 2, 2, 3), 7.0))
    np.testing.assert_array_equal(grid, np.zeros((2, 2, 3)))


# ----------------------------------------------------------------------------
# Sandwich layers (seed row 8): need reference.fast_layers and the fast_ext build
# ----------------------------------------------------------------------------

def _layer_utils():
    """reference.layer_utils, or a skip saying why the fast layers do not import."""
    try:
        importlib.import_module("reference.fast_layers")
    except ImportError as exc:
        pytest.skip(f"reference.fast_layers does not import (fast_ext not built yet?): {exc}")
    return importlib.import_module("reference.layer_utils")


def _seed_conv_relu_pool_case():
    # The seed's cell, draw for draw.
    np.random.seed(231)
    x = np.random.randn(2, 3, 16, 16)
    w = np.random.randn(3, 3, 3, 3)
    b = np.random.randn(3,)
    dout = np.random.randn(2, 3, 8, 8)
    conv_param = {"stride": 1, "pad": 1}
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    return {"x": x, "w": w, "b": b}, dout, (conv_param, pool_param), "conv_relu_pool"


def _seed_conv_relu_case():
    np.random.seed(231)
    x = np.random.randn(2, 3, 8, 8)
    w = np.random.randn(3, 3, 3, 3)
    b = np.random.randn(3,)
    dout = np.random.randn(2, 3, 8, 8)
    conv_param = {"stride": 1, "pad": 1}
    return {"x": x, "w": w, "b": b}, dout, (conv_param,), "conv_relu"


def _affine_relu_case():
    rng = np.random.default_rng(13)
    inputs = {"x": rng.standard_normal((2, 3, 4)), "w": rng.standard_normal((12, 10)), "b": rng.standard_normal(10)}
    return inputs, rng.standard_normal((2, 10)), (), "affine_relu"


SANDWICH_CASES = {"conv_relu_pool": _seed_conv_relu_pool_case, "conv_relu": _seed_conv_relu_case,
                  "affine_relu": _affine_relu_case}
SANDWICH_CHECKS = [(sandwich, wrt) for sandwich in SANDWICH_CASES for wrt in ("x", "w", "b")]


@pytest.mark.parametrize("sandwich, wrt", SANDWICH_CHECKS,
                         ids=[f"{sandwich}-d{wrt}" for sandwich, wrt in SANDWICH_CHECKS])
def test_sandwich_backward_matches_numerical_gradient(sandwich, wrt, np_random_seed_231):
    layer_utils = _layer_utils()
    inputs, dout, params, name = SANDWICH_CASES[sandwich]()
    forward = getattr(layer_utils, f"{name}_forward")
    backward = getattr(layer_utils, f"{name}_backward")

    def run(_):
        return forward(inputs["x"], inputs["w"], inputs["b"], *params)[0]

    _, cache = forward(inputs["x"], inputs["w"], inputs["b"], *params)
    analytic = dict(zip("xwb", backward(dout, cache)))
    numerical = eval_numerical_gradient_array(run, inputs[wrt], dout)

    # The seed expects "about 1e-8 or less"; the finite differences' own error
    # sits right there (9.6e-9 in the published notebook, 1.04e-8 with another
    # BLAS summation order), so "about" is read as within a factor of 5.
    assert rel_error(numerical, analytic[wrt]) < 5e-8
