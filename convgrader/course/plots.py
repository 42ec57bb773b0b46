"""The ``plots`` command: train ThreeLayerConvNet on a small set and save its pictures.

``python -m convgrader plots [--impl student_impl] [--out DIR] [--data digits|cifar10]``
repeats the overfitting run of the notebook (100 training images, 15 epochs,
batch 50, Adam with learning rate 1e-3, weight_scale 1e-2, ``np.random.seed(231)``)
and writes two PNG files into ``--out``:

- ``loss_accuracy.png``: the loss of every iteration and the training and
  validation accuracy of every epoch;
- ``first_layer_filters.png``: the first-layer filters ``W1`` as a grid of images.

``--data digits`` (the default) needs nothing but scikit-learn; ``--data cifar10``
needs CIFAR-10 (``python -m convgrader download-cifar10``). More images and fewer
epochs (``--num-train 49000 --epochs 1``) give the notebook's one-epoch run instead.
"""

import sys
from pathlib import Path

import numpy as np

from convgrader.assignment import MODEL_CLASS

LOSS_ACCURACY_PNG = "loss_accuracy.png"
FILTERS_PNG = "first_layer_filters.png"


def load_data(name, num_train):
    """Training set cut to ``num_train`` images, plus the validation set.

    Raises
    ------
    reference.data_utils.CIFAR10NotFoundError
        For ``cifar10`` when the data set is not on this machine.
    """
    if name == "digits":
        from convgrader.course.datasets import get_digits_data

        data = get_digits_data()
    else:
        from reference.data_utils import get_CIFAR10_data

        data = get_CIFAR10_data()
    return {"X_train": data["X_train"][:num_train], "y_train": data["y_train"][:num_train],
            "X_val": data["X_val"], "y_val": data["y_val"]}


def train(impl, data, num_epochs, quiet=False):
    """Train a fresh ``impl.ThreeLayerConvNet`` like the notebook's overfitting run.

    Returns
    -------
    solver : reference.solver.Solver, after training (its model holds the best weights)
    """
    from tqdm import tqdm

    from reference.solver import Solver

    np.random.seed(231)
    model = impl.get(MODEL_CLASS)(input_dim=data["X_train"].shape[1:], weight_scale=1e-2)
    with tqdm(desc="training", unit="it", disable=quiet, file=sys.stderr) as bar:
        def progress(iteration, num_iterations, loss):
            bar.total = num_iterations
            bar.set_postfix(loss=f"{loss:.3f}", refresh=False)
            bar.update(1)

        solver = Solver(model, data, num_epochs=num_epochs, batch_size=50, update_rule="adam",
                        optim_config={"learning_rate": 1e-3}, verbose=False, progress=progress)
        solver.train()
    return solver


def save_loss_accuracy(solver, path, title):
    """Loss per iteration above, training and validation accuracy per epoch below."""
    import matplotlib.pyplot as plt

    figure, (loss_axes, accuracy_axes) = plt.subplots(2, 1, figsize=(8, 7), constrained_layout=True)
    figure.suptitle(title)
    loss_axes.plot(np.arange(1, len(solver.loss_history) + 1), solver.loss_history, "o", markersize=3)
    loss_axes.set_title("Потери на минибатчах")
    loss_axes.set_xlabel("Итерация")
    loss_axes.set_ylabel("Потери")
    loss_axes.grid(alpha=0.3)

    epochs = np.arange(len(solver.train_acc_history))
    accuracy_axes.plot(epochs, solver.train_acc_history, "-o", label="обучающая выборка")
    accuracy_axes.plot(epochs, solver.val_acc_history, "-o", label="валидационная выборка")
    accuracy_axes.set_title("Точность после каждой эпохи")
    accuracy_axes.set_xlabel("Эпоха")
    accuracy_axes.set_ylabel("Точность")
    accuracy_axes.set_ylim(0, 1.02)
    accuracy_axes.legend(loc="lower right")
    accuracy_axes.grid(alpha=0.3)
    figure.savefig(path, dpi=100)
    plt.close(figure)


def save_filters(weights, path, title):
    """The filters ``weights`` (F, C, HH, WW) as one grid image, each tile stretched to 0..255."""
    import matplotlib.pyplot as plt

    from reference.vis_utils import visualize_grid

    tiles = weights.transpose(0, 2, 3, 1)
    grid = visualize_grid(tiles).astype("uint8")
    if grid.shape[2] == 1:
        grid = grid[:, :, 0]
    figure, axes = plt.subplots(figsize=(5, 5.4), constrained_layout=True)
    axes.imshow(grid, cmap="gray", interpolation="nearest")
    axes.set_title(title)
    axes.axis("off")
    figure.savefig(path, dpi=100)
    plt.close(figure)


def make_plots(impl, out, data_name="digits", num_train=100, num_epochs=15, quiet=False):
    """Train, then write both PNG files into ``out``.

    Returns
    -------
    solver, paths : the trained Solver and the two files written
    """
    import matplotlib

    matplotlib.use("Agg")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    data = load_data(data_name, num_train)
    solver = train(impl, data, num_epochs, quiet=quiet)
    description = (f"ThreeLayerConvNet ({impl.label}), {data_name}: {len(data['y_train'])} "
                   f"обучающих изображений, {num_epochs} эпох")
    paths = out / LOSS_ACCURACY_PNG, out / FILTERS_PNG
    save_loss_accuracy(solver, paths[0], description)
    weights, note = solver.model.params["W1"], ""
    if data_name == "digits":
        # The digits are gray (three equal channels), so a filter acts through the
        # sum of its channels; their differences are untrained noise from the init.
        weights, note = weights.sum(axis=1, keepdims=True), " (сумма по каналам)"
    save_filters(weights, paths[1], f"Фильтры первого слоя{note}\n{impl.label}, {data_name}")
    return solver, paths


def register(commands):
    parser = commands.add_parser("plots", help="train on a small set and save loss/accuracy and filter plots",
                                 description=__doc__.split("\n\n")[0])
    parser.add_argument("--impl", default="student_impl",
                        help="student_impl (default), reference, or a folder laid out like student_impl/")
    parser.add_argument("--out", default="plots", help="folder for the PNG files (default: %(default)s)")
    parser.add_argument("--data", choices=("digits", "cifar10"), default="digits",
                        help="training images: scikit-learn digits (default) or CIFAR-10")
    parser.add_argument("--num-train", type=int, default=100, help="training images (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=15, help="epochs (default: %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def run(args, extra):
    from convgrader.running.implementation import ImplementationUnavailable, resolve
    from reference.data_utils import CIFAR10NotFoundError

    try:
        impl = resolve(args.impl)
        solver, paths = make_plots(impl, args.out, args.data, args.num_train, args.epochs, args.quiet)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except CIFAR10NotFoundError as error:
        print(f"error: {error}\nOr run: python -m convgrader download-cifar10", file=sys.stderr)
        return 2
    except (ImplementationUnavailable, NotImplementedError) as error:
        print(f"error: ThreeLayerConvNet of {args.impl} cannot be trained yet: {error}", file=sys.stderr)
        return 1
    print(f"final training accuracy {solver.train_acc_history[-1]:.2f}, "
          f"validation accuracy {solver.val_acc_history[-1]:.2f}")
    for path in paths:
        print(f"saved {path}")
    return 0
