"""``Solver``: trains a classification model with minibatch gradient descent.

The model is any object with

- ``model.params``: a dict from parameter names to arrays;
- ``model.loss(X, y)``: returns ``(loss, grads)``, grads keyed like params, when
  labels are given (training), and class scores ``(N, C)`` when ``y`` is None.

Example::

    solver = Solver(model, data, update_rule='adam',
                    optim_config={'learning_rate': 1e-3},
                    num_epochs=10, batch_size=100, print_every=100)
    solver.train()
    solver.best_val_acc, solver.loss_history   # model.params now hold the best weights

Minibatches are drawn with replacement through ``np.random``; seed it with
``np.random.seed`` for repeatable runs.
"""

import pickle
import time

import numpy as np

from reference import optim


def _said(key, **fields):
    """A line of the training log in the course's language: the harness's message ``key``.

    The language is the one the harness speaks in this process (``--lang`` in a
    pytest run), else the course's setting (``CONVGRADER_LANG``, a Russian
    locale, the project's ``convgrader_lang``: Russian in the student release).
    """
    from convgrader import language
    from convgrader.messages import render
    from convgrader.paths import PROJECT

    code = language.current()
    if code == language.ENGLISH:
        try:
            code = language.choose(None, language.configured_in(PROJECT))
        except ValueError:
            code = language.ENGLISH
    return render(key, fields, code)


def _format_seconds(seconds):
    """Short human-readable duration: '12.3 s' below 90 s, else '9 min'."""
    if seconds < 90:
        return _said("seconds_short", value=seconds)
    return _said("minutes_short", value=seconds / 60)


class Solver:
    """Minibatch training loop with accuracy tracking and best-model selection.

    Parameters
    ----------
    model : object with ``params`` and ``loss(X, y=None)`` (see the module docstring)
    data : dict
        ``X_train`` (N_train, ...), ``y_train`` (N_train,), ``X_val`` (N_val, ...),
        ``y_val`` (N_val,).
    update_rule : str or callable, default 'sgd'
        A rule name in :mod:`reference.optim`, or a function with its signature.
    optim_config : dict, optional
        Hyperparameters handed to the update rule; each parameter gets its own copy
        (the rule keeps per-parameter state in it).
    lr_decay : float, default 1.0
        ``learning_rate`` is multiplied by this after every epoch.
    batch_size : int, default 100
    num_epochs : int, default 10
    num_train_samples : int or None, default 1000
        Training samples used to measure training accuracy (None: all).
    num_val_samples : int or None, default None
        Validation samples used to measure validation accuracy (None: all).
    checkpoint_name : str, optional
        When given, ``<checkpoint_name>_epoch_<e>.pkl`` is written after every epoch.
    print_every : int, default 10
        Print the loss every this many iterations.
    verbose : bool, default True
    progress : callable, optional
        Called after every iteration as ``progress(iteration, num_iterations, loss)``.

    Attributes
    ----------
    loss_history : list of float, one per iteration
    train_acc_history, val_acc_history : list of float, at the start and after every epoch
    best_val_acc : float
    best_params : dict, copies of the parameters with the best validation accuracy
    timing_after_seconds : float
        Once training has run this long, iteration messages also show the elapsed
        time and an estimate of the time left.
    """

    timing_after_seconds = 5.0

    def __init__(self, model, data, **kwargs):
        self.model = model
        self.X_train = data["X_train"]
        self.y_train = data["y_train"]
        self.X_val = data["X_val"]
        self.y_val = data["y_val"]

        self.update_rule = kwargs.pop("update_rule", "sgd")
        self.optim_config = kwargs.pop("optim_config", {})
        self.lr_decay = kwargs.pop("lr_decay", 1.0)
        self.batch_size = kwargs.pop("batch_size", 100)
        self.num_epochs = kwargs.pop("num_epochs", 10)
        self.num_train_samples = kwargs.pop("num_train_samples", 1000)
        self.num_val_samples = kwargs.pop("num_val_samples", None)
        self.checkpoint_name = kwargs.pop("checkpoint_name", None)
        self.print_every = kwargs.pop("print_every", 10)
        self.verbose = kwargs.pop("verbose", True)
        self.progress = kwargs.pop("progress", None)
        if kwargs:
            raise TypeError(f"Unrecognized Solver arguments: {', '.join(sorted(kwargs))}")

        if isinstance(self.update_rule, str):
            rule = getattr(optim, self.update_rule, None)
            if self.update_rule.startswith("_") or not callable(rule):
                raise ValueError(f"Invalid update_rule {self.update_rule!r}: not a rule in reference.optim")
            self.update_rule = rule
        elif not callable(self.update_rule):
            raise TypeError("update_rule must be a name in reference.optim or a callable")

        self._reset()

    def _reset(self):
        """Fresh bookkeeping and per-parameter optimizer state."""
        self.epoch = 0
        self.best_val_acc = 0
        self.best_params = {}
        self.loss_history = []
        self.train_acc_history = []
        self.val_acc_history = []
        self.optim_configs = {name: dict(self.optim_config) for name in self.model.params}

    def _step(self):
        """One gradient update on a minibatch drawn with replacement."""
        num_train = self.X_train.shape[0]
        batch = np.random.choice(num_train, self.batch_size)
        loss, grads = self.model.loss(self.X_train[batch], self.y_train[batch])
        self.loss_history.append(float(loss))

        for name, value in self.model.params.items():
            next_value, next_config = self.update_rule(value, grads[name], self.optim_configs[name])
            self.model.params[name] = next_value
            self.optim_configs[name] = next_config

    def _save_checkpoint(self):
        if self.checkpoint_name is None:
            return
        checkpoint = {
            "model": self.model,
            "update_rule": self.update_rule,
            "lr_decay": self.lr_decay,
            "optim_config": self.optim_config,
            "batch_size": self.batch_size,
            "num_train_samples": self.num_train_samples,
            "num_val_samples": self.num_val_samples,
            "epoch": self.epoch,
            "loss_history": self.loss_history,
            "train_acc_history": self.train_acc_history,
            "val_acc_history": self.val_acc_history,
        }
        filename = f"{self.checkpoint_name}_epoch_{self.epoch}.pkl"
        if self.verbose:
            print(_said("solver_checkpoint", filename=filename))
        with open(filename, "wb") as f:
            pickle.dump(checkpoint, f)

    def check_accuracy(self, X, y, num_samples=None, batch_size=100):
        """Fraction of samples whose highest score is the correct class.

        Parameters
        ----------
        X : ndarray, (N, ...)
        y : ndarray of int, (N,)
        num_samples : int, optional
            Measure on a random subset of this many samples (drawn with ``np.random``).
        batch_size : int
            Samples scored per call to ``model.loss``.

        Returns
        -------
        acc : float
        """
        if num_samples is not None and X.shape[0] > num_samples:
            subset = np.random.choice(X.shape[0], num_samples)
            X, y = X[subset], y[subset]

        predictions = [
            np.argmax(self.model.loss(X[start:start + batch_size]), axis=1)
            for start in range(0, X.shape[0], batch_size)
        ]
        return float(np.mean(np.concatenate(predictions) == y))

    def _iteration_message(self, iteration, num_iterations, elapsed):
        message = _said("solver_iteration", iteration=iteration, total=num_iterations, loss=self.loss_history[-1])
        if elapsed >= self.timing_after_seconds:
            time_left = elapsed / iteration * (num_iterations - iteration)
            message += _said("solver_time", elapsed=_format_seconds(elapsed), left=_format_seconds(time_left))
        return message

    def train(self):
        """Run the optimization, then load the best validation parameters into the model."""
        num_train = self.X_train.shape[0]
        iterations_per_epoch = max(num_train // self.batch_size, 1)
        num_iterations = self.num_epochs * iterations_per_epoch
        start_time = time.perf_counter()

        for t in range(num_iterations):
            self._step()
            iteration = t + 1
            if self.progress is not None:
                self.progress(iteration, num_iterations, self.loss_history[-1])
            if self.verbose and t % self.print_every == 0:
                elapsed = time.perf_counter() - start_time
                print(self._iteration_message(iteration, num_iterations, elapsed))

            epoch_end = iteration % iterations_per_epoch == 0
            if epoch_end:
                self.epoch += 1
                for config in self.optim_configs.values():
                    if "learning_rate" in config:
                        config["learning_rate"] *= self.lr_decay

            # The first iteration gives a baseline for the accuracy curves.
            if t == 0 or epoch_end or iteration == num_iterations:
                self._record_accuracies()

        self.model.params = {name: value.copy() for name, value in self.best_params.items()}

    def _record_accuracies(self):
        train_acc = self.check_accuracy(self.X_train, self.y_train, num_samples=self.num_train_samples)
        val_acc = self.check_accuracy(self.X_val, self.y_val, num_samples=self.num_val_samples)
        self.train_acc_history.append(train_acc)
        self.val_acc_history.append(val_acc)
        self._save_checkpoint()

        if self.verbose:
            print(_said("solver_epoch", epoch=self.epoch, epochs=self.num_epochs, train=train_acc, val=val_acc))

        if val_acc > self.best_val_acc or not self.best_params:
            self.best_val_acc = val_acc
            self.best_params = {name: value.copy() for name, value in self.model.params.items()}
